"""DPRK compliance: acceptance of a testing freeze, holding it, and what it stops.

The model joins six pieces of evidence, each from a cited table in ``decision/data``:

* **Answers to offers** (``dprk_offers``). Each offer is coded by type: ``freeze_for_freeze``
  (an exercise suspension for a testing freeze), ``freeze_plus_pressure`` (a conditional or
  partial arrangement tied to inspections or sanctions) or ``aid_for_freeze``; the DPRK's
  answer is 1 when it accepted or itself proposed the trade, 0 when it refused. On the logit
  scale the acceptance of type *t* is a shared ``accept_willingness`` plus an offer-type shift
  ``accept_shift_<t>``: the two offers of the case are accepted separately but the
  acceptances are correlated through the shared willingness.
* **Survival of earlier agreements** (``agreements``). Months from signing to the first
  public breach follow a Weibull distribution (``breach_shape``, ``breach_scale``);
  agreements still standing on ``as_of`` are right-censored.
* **The monitored freeze** (:mod:`decision.models.monitoring`: the launch and nuclear-test
  tables merged with the ledger, as published by the cutoff). The DPRK's answer to the
  monitored offer (setting ``monitored_offer``) is an explicit ``freeze_accepted`` row, or,
  without one, **testing inside the window is read as a refusal**: a DPRK that tests before
  accepting anything is not freezing, so the test is evidence about acceptance (a 0 for the
  monitored offer), not a breach of a freeze it never accepted. Only a test on or after an
  acceptance is a breach; it is dated against the freeze's start in whatever month it falls
  (inside the window it ends the window; after the window it ends the next cycle).
  Complete, observed months under an accepted freeze without a test are survival. Months
  with no record are "not reported" and never count as survival.
* **Covert exports** (``dprk_transfers``). Documented nuclear-technology transfer episodes
  (setting ``export_scope``) that began between ``export_record_start`` and ``as_of`` minus
  ``export_documentation_lag_years`` are a Poisson count with rate
  ``export_documented_rate`` a month. Only a share ``export_documented_share`` of transfers is
  ever documented (a **judgment**), so the monthly probability that an export happens is
  ``export_rate = 1 - exp(-export_documented_rate / export_documented_share)``; an export is
  detected in time to end the deal with probability ``export_detection`` (a **judgment**).
  Suspected exports in the ledger enter as soft evidence (likelihood *c* for "detected").
* **The launch record** (``launches_monthly``). Missiles per period (setting
  ``launch_period_months``: quarters by default) follow a negative binomial whose mean is the
  period's monthly rate times its status-quo months; the log rate walks from period to period,
  and long-range missiles are a binomial share whose logit walks the same way. Only
  status-quo months enter: months under a holding freeze (an agreement of
  ``agreements.csv`` that froze missile tests, up to its first launch or breach, and the
  months of an accepted monitored freeze before its breach) are left out, so a freeze that
  works never lowers the rate it is credited with preventing.
* **Nuclear tests** (``nuclear_tests``). Tests are Poisson with rate ``nuclear_rate`` a month
  over the status-quo months from ``nuclear_record_start`` (freeze months left out the same
  way).

Quantities the decision tree reads (all per posterior draw; ``derived`` computes them):

``p_accept_freeze_for_freeze``, ``p_accept_freeze_plus_pressure``
    Acceptance of each offer type as the tree's branch probability: 1 or 0 in every draw
    once the DPRK's answer to that offer is observed (the monitored offer only), otherwise
    the latent propensity ``accept_propensity_<type>``. ``p_accept`` is the monitored offer's
    (by default ``p_accept_freeze_plus_pressure``), kept for trees that use one name.
``p_hold_monitoring``, ``p_hold_after``
    Visible compliance: no detected test and no detected export through the monitoring
    window, and then through the next exercise cycle (``after_months``) given it held the
    window, both given what monitoring has seen. A breach inside the window makes both 0; a
    breach after it makes ``p_hold_after`` 0 and leaves ``p_hold_monitoring`` (held).
``p_undetected_export_monitoring``, ``p_undetected_export_after``
    Probability of at least one undetected export during the window (the next cycle) given
    that it looked clean: the tree charges covert exports without ending the deal.
``p_dprk_complies``
    ``p_accept_freeze_plus_pressure * p_hold_monitoring * p_hold_after`` (monitored offer).
``p_accepts_and_holds_monitoring``
    The DPRK accepts the monitored offer and visibly holds the freeze through the window:
    about 0 once it tested before accepting.
``p_hold_new_freeze``
    A fresh freeze visibly holds the window: what history alone says.
``launches_prevented_per_month``, ``long_range_prevented_per_month``
    The status-quo launch rate for the coming year (missiles a month: the mean of the walk's
    next twelve months after the last status-quo month), and its long-range part.
``nuclear_tests_prevented_per_month``
    The status-quo rate of nuclear tests a month.
``breach_fraction_monitoring``, ``breach_fraction_after``
    For a freeze that visibly breaks, the expected share of the window (the next cycle) it
    held before the break (a breach seen in month *k* of the freeze held *k - 1/2* months).
``export_rate``
    The monthly export probability (also a latent variable of the model).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from decision import evidence
from decision.core.dates import parse_date
from decision.core.errors import InputError
from decision.evidence import DAYS_PER_MONTH
from decision.models.base import BayesianModel, dataset_like, pad_to_capacity
from decision.models.monitoring import (
    FreezeStatus,
    MonitoringRecord,
    freeze_months_mask,
    freeze_status,
    monitoring_record,
)

__all__ = ["DPRKComplianceModel"]

OFFER_TYPES = evidence.OFFER_TYPES
_TREE_OFFERS = ("freeze_for_freeze", "freeze_plus_pressure")


class DPRKComplianceModel(BayesianModel):
    """Bayesian model of DPRK acceptance of, and compliance with, a testing freeze.

    Default priors (override any entry through ``priors=``); judgments say so:

    ``breach_shape`` : lognormal(mu, sigma) on the Weibull shape. Centred on 1 (a constant
        breach hazard); below 1 means breaches come early if at all.
    ``breach_scale`` : lognormal(mu, sigma) on the Weibull scale in months; ``mu = log 24``
        (two years), wide enough to admit the 6-week Leap Day deal and the 8-year Agreed
        Framework.
    ``accept_willingness`` : normal(mu, sigma) on the logit of the DPRK's shared willingness
        to accept a freeze offer. Weakly informative (judgment): sigma 1.5 puts 90% of the
        prior probability between about 0.08 and 0.92.
    ``accept_shift_freeze_for_freeze``, ``accept_shift_aid_for_freeze`` : normal(0, 1) on the
        logit shift of each offer type from the shared willingness (judgment: no reason to
        centre them away from it; a shift of 1 multiplies the odds by 2.7).
    ``accept_shift_freeze_plus_pressure`` : normal(-0.5, 1) (judgment): a conditional,
        partial and deferred scale-down while sanctions tighten is a worse trade for the DPRK
        than an immediate suspension, so the prior shift is negative (odds x 0.6), wide.
    ``export_documented_rate`` : gamma(alpha, beta) on documented transfer episodes a month.
        Weak (judgment): mean 0.5/12, about one documented episode in two years.
    ``export_documented_share`` : beta(2, 2) on the share of transfers ever documented
        (judgment, no data: most transfers are covert; centred on one half, wide).
    ``export_detection`` : beta(2, 6) on the probability that an export is detected in time to
        end the deal (judgment: exports are only partly observable; mean 0.25).
    ``launch_rate_init`` : normal(mu, sigma) on the log missiles per month in the first period.
    ``launch_rate_drift`` : half-normal(sigma) on the period-to-period change of the log rate
        (sigma 0.5 a quarter, weak: launch campaigns start and stop within a year).
    ``launch_dispersion`` : gamma(alpha, beta) on the negative-binomial shape.
    ``long_range_share`` : beta on the share of missiles that are long-range in the first
        period.
    ``long_range_drift`` : half-normal(sigma) on the period-to-period change of the logit of
        that share (sigma 0.5, weak: the mix moved from short-range salvoes to IRBM and ICBM
        tests in 2016-17 and back in 2019-20).
    ``nuclear_rate`` : gamma(1, 12) on nuclear tests a month (weak, judgment: mean one a year).
    """

    name: ClassVar[str] = "dprk_compliance"
    default_priors: ClassVar[dict[str, Any]] = {
        "breach_shape": {"mu": 0.0, "sigma": 0.5},
        "breach_scale": {"mu": math.log(24.0), "sigma": 1.0},
        "accept_willingness": {"mu": 0.0, "sigma": 1.5},
        "accept_shift_freeze_for_freeze": {"mu": 0.0, "sigma": 1.0},
        "accept_shift_freeze_plus_pressure": {"mu": -0.5, "sigma": 1.0},
        "accept_shift_aid_for_freeze": {"mu": 0.0, "sigma": 1.0},
        "export_documented_rate": {"alpha": 0.5, "beta": 12.0},
        "export_documented_share": {"alpha": 2.0, "beta": 2.0},
        "export_detection": {"alpha": 2.0, "beta": 6.0},
        "launch_rate_init": {"mu": 0.0, "sigma": 1.5},
        "launch_rate_drift": {"sigma": 0.5},
        "launch_dispersion": {"alpha": 2.0, "beta": 1.0},
        "long_range_share": {"alpha": 1.0, "beta": 1.0},
        "long_range_drift": {"sigma": 0.5},
        "nuclear_rate": {"alpha": 1.0, "beta": 12.0},
    }
    #: Prior key -> (variable whose prior it is, family), for prior-sensitivity analysis.
    prior_variables: ClassVar[dict[str, tuple[str, str]]] = {
        "breach_shape": ("breach_shape", "lognormal"),
        "breach_scale": ("breach_scale", "lognormal"),
        "accept_willingness": ("accept_willingness", "normal"),
        **{f"accept_shift_{t}": (f"accept_shift_{t}", "normal") for t in OFFER_TYPES},
        "export_documented_rate": ("export_documented_rate", "gamma"),
        "export_documented_share": ("export_documented_share", "beta"),
        "export_detection": ("export_detection", "beta"),
        "launch_rate_init": ("log_rate_init", "normal"),
        "launch_rate_drift": ("rate_drift", "halfnormal"),
        "launch_dispersion": ("launch_dispersion", "gamma"),
        "long_range_share": ("long_range_share_init", "beta"),
        "long_range_drift": ("long_range_drift", "halfnormal"),
        "nuclear_rate": ("nuclear_rate", "gamma"),
    }
    headline: ClassVar[tuple[str, ...]] = (
        "p_accept",
        "p_accept_freeze_for_freeze",
        "p_accept_freeze_plus_pressure",
        "accept_propensity_freeze_for_freeze",
        "accept_propensity_freeze_plus_pressure",
        "p_hold_monitoring",
        "p_hold_after",
        "p_undetected_export_monitoring",
        "p_undetected_export_after",
        "p_dprk_complies",
        "p_accepts_and_holds_monitoring",
        "p_hold_new_freeze",
        "export_rate",
        "launches_prevented_per_month",
        "long_range_prevented_per_month",
        "nuclear_tests_prevented_per_month",
        "breach_fraction_monitoring",
        "breach_fraction_after",
    )
    free_vars: ClassVar[tuple[str, ...]] = (
        "breach_shape",
        "breach_scale",
        "accept_willingness",
        *(f"accept_z_{t}" for t in OFFER_TYPES),
        "export_documented_rate",
        "export_documented_share",
        "export_detection",
        "log_rate_init",
        "rate_drift",
        "rate_steps",
        "launch_dispersion",
        "long_range_share_init",
        "long_range_drift",
        "long_range_steps",
        "nuclear_rate",
    )

    #: Sizes of the padded model (:meth:`build` with ``padded=True``): earlier agreements
    #: (5 in 2017, 6 from 2018), months of the launch record from its first (2012-01: 16
    #: years, so to 2027; the walk's periods and the observed launch periods, at most one per
    #: walk period, follow), offers with an answer (11 in August 2017, 14 in 2023; the
    #: monitored offer is one more) and export reports inside an accepted freeze.
    capacities: ClassVar[dict[str, int]] = {
        "agreements": 16,
        "launch_months": 192,
        "offers": 32,
        "export_reports": 48,
    }

    @classmethod
    def default_settings(cls) -> dict[str, Any]:
        """Return the settings and their defaults.

        ``monitoring_months``: the window before the spring exercises (6, per the proposal);
        ``after_months``: how long the freeze must then hold for the scale-down to pay (12:
        one exercise cycle); ``monitoring_start``: first day of monitoring; ``through``: last
        day of monitoring data to use (default: ``as_of``); ``monitored_offer``: the offer
        type the ledger's ``freeze_accepted`` rows answer (the proposal monitored is
        freeze-plus-pressure); ``export_scope``: ``nuclear`` (the proposal's condition:
        exports of nuclear technology) or ``nuclear_and_missile``; ``export_record_start``:
        start of the transfer record (1990-01-01); ``export_documentation_lag_years``: years
        a transfer typically takes to become public (3, judgment: the Syrian reactor took
        about 7, the Libyan uranium about 3), the end of the record's exposure before
        ``as_of``; ``nuclear_record_start``: start of the nuclear-test record (2012-01-01,
        judgment: the launch record's start and Kim Jong Un's first full year);
        ``launch_period_months``: the step of the launch rate's random walk and the period
        whose launches are one negative-binomial count (3: a quarter; 1, 2, 3, 4, 6 or 12. The
        backtest chose quarters: a yearly walk with months drawn independently around it gave
        50% intervals that held only 38% of six-month launch totals, 2013-2020; see
        docs/backtest.md).
        """
        return {
            "monitoring_months": 6,
            "after_months": 12,
            "monitoring_start": "2017-09-01",
            "through": None,
            "monitored_offer": "freeze_plus_pressure",
            "export_scope": "nuclear",
            "export_record_start": "1990-01-01",
            "export_documentation_lag_years": 3.0,
            "nuclear_record_start": "2012-01-01",
            "launch_period_months": 3,
        }

    # -- data -------------------------------------------------------------------------------
    def prepare_data(self) -> dict[str, Any]:
        """Load the evidence and the monitoring record as of ``as_of``."""
        s = self.settings
        if s["monitored_offer"] not in _TREE_OFFERS:
            raise InputError(
                f"expected one of: {', '.join(_TREE_OFFERS)}, got {s['monitored_offer']!r}",
                field=f"{self.name}.settings.monitored_offer",
            )
        if s["export_scope"] not in ("nuclear", "nuclear_and_missile"):
            raise InputError(
                f"expected nuclear or nuclear_and_missile, got {s['export_scope']!r}",
                field=f"{self.name}.settings.export_scope",
            )
        period = s["launch_period_months"]
        if period not in (1, 2, 3, 4, 6, 12):
            raise InputError(
                f"expected 1, 2, 3, 4, 6 or 12 (months in a step of the launch-rate walk), "
                f"got {period!r}",
                field=f"{self.name}.settings.launch_period_months",
            )
        period = int(period)
        window = int(s["monitoring_months"])
        record: MonitoringRecord = monitoring_record(self.observations, s, self.as_of)
        freeze: FreezeStatus = freeze_status(record, window)
        self.monitoring, self.freeze = record, freeze
        agreements = evidence.agreements(as_of=self.as_of)
        launches = evidence.launches_monthly(as_of=self.as_of)
        nuclear = evidence.nuclear_tests(as_of=self.as_of)

        monitored_span = None
        if freeze.accepted == 1:
            first = _label(record.start, freeze.start_month)
            end = None if freeze.breach_month is None else _label(record.start, freeze.breach_month)
            monitored_span = (first, end)
        launch_months = launches["month"].to_numpy(dtype=str)
        launch_spans = _freeze_spans(agreements, launches, nuclear, kind="missiles")
        if monitored_span:
            launch_spans.append(monitored_span)
        keep = ~freeze_months_mask(launch_months, launch_spans)
        kept = launches[keep]
        periods = _period_numbers(kept["month"], period)

        nuclear_months, nuclear_count = _nuclear_exposure(
            nuclear,
            start=parse_date(s["nuclear_record_start"], field="nuclear_record_start"),
            as_of=self.as_of,
            spans=[
                *_freeze_spans(agreements, launches, nuclear, kind="nuclear"),
                *([monitored_span] if monitored_span else []),
            ],
        )

        offers = evidence.dprk_offers(as_of=self.as_of)
        offers = offers[offers["in_model"]]
        outcomes = offers["dprk_response"].isin(["accepted", "proposed"]).astype(int).tolist()
        types = [OFFER_TYPES.index(t) for t in offers["offer_type"]]
        monitored_type = OFFER_TYPES.index(s["monitored_offer"])
        if freeze.accepted is not None:
            outcomes.append(int(freeze.accepted))
            types.append(monitored_type)

        transfers = evidence.dprk_transfers(as_of=self.as_of)
        items = ("nuclear",) if s["export_scope"] == "nuclear" else ("nuclear", "missile")
        record_start = pd.Timestamp(
            parse_date(s["export_record_start"], field="export_record_start")
        )
        lag = float(s["export_documentation_lag_years"])
        record_end = pd.Timestamp(self.as_of) - pd.Timedelta(days=365.25 * lag)
        in_window = (
            transfers["in_model"]
            & transfers["item"].isin(items)
            & (transfers["began"] >= record_start)
            & (transfers["began"] <= record_end)
        )
        exposure = max((record_end - record_start).days / DAYS_PER_MONTH, 1.0)

        duration = agreements["duration_months"].to_numpy(dtype=float)
        observed = agreements["observed"].to_numpy(dtype=bool)
        in_freeze = [
            (k, c)
            for k, c in record.export_reports
            if freeze.accepted == 1
            and k >= freeze.start_month
            and (freeze.breach_month is None or k < freeze.breach_month)
        ]
        return {
            "agreement_months": duration,
            "agreement_upper": np.where(observed, np.inf, duration),
            "launch_months": kept["month"].tolist(),
            "launch_period_index": (periods - periods.min()).astype(int),
            "n_periods": int(periods.max() - periods.min() + 1),
            "periods_ahead": 12 // period,
            "first_launch_period": int(periods.min()),
            "missiles": kept["missiles"].to_numpy(dtype=int),
            "long_range": kept["long_range_missiles"].to_numpy(dtype=int),
            **_period_totals(kept, periods - periods.min()),
            "launch_freeze_months": launches.loc[~keep, "month"].tolist(),
            "nuclear_exposure_months": float(nuclear_months),
            "nuclear_tests_in_exposure": int(nuclear_count),
            "offer_outcomes": np.asarray(outcomes, dtype=int),
            "offer_type_index": np.asarray(types, dtype=int),
            "offer_ids": [
                *offers["offer_id"],
                *(["monitored"] if freeze.accepted is not None else []),
            ],
            "transfer_episodes": int(in_window.sum()),
            "transfer_exposure_months": float(exposure),
            "monitored_offer_index": monitored_type,
            "monitored_accepted": -1 if freeze.accepted is None else int(freeze.accepted),
            "acceptance_reason": freeze.reason,
            "freeze_start_month": int(freeze.start_month),
            "breach_month": 0 if freeze.breach_month is None else int(freeze.breach_month),
            "clean_months": int(freeze.clean_months),
            "months_monitored": int(record.months_monitored),
            "export_report_months": np.asarray([k for k, _ in in_freeze], dtype=int),
            "export_report_confidence": np.asarray([c for _, c in in_freeze], dtype=float),
        }

    def monitoring_status(self) -> pd.DataFrame:
        """Return the monitoring record's per-month, per-kind status (observed / not reported)."""
        return self.monitoring.status_frame()

    def answer_text(self) -> str:
        """Say in words what is known of the DPRK's answer to the monitored offer."""
        offer = self.settings["monitored_offer"].replace("_", "-")
        f = self.freeze
        if f.accepted is None:
            return f"no answer to the {offer} offer observed yet"
        if f.accepted == 0 and f.reason == "tests before any acceptance":
            return (
                f"refused the {offer} offer: it tested before accepting anything, which is read "
                "as a refusal, not as a breach"
            )
        if f.accepted == 0:
            return f"refused the {offer} offer (ledger)"
        if f.breach_month is None:
            return (
                f"accepted the {offer} offer; {f.clean_months} complete month(s) of the freeze "
                "observed without a test"
            )
        return f"accepted the {offer} offer, then breached it in month {f.breach_age} of the freeze"

    # -- model ------------------------------------------------------------------------------
    def launch_period_capacity(self) -> int:
        """Return the padded model's number of walk periods (``launch_months`` long, any phase)."""
        period = int(self.settings["launch_period_months"])
        return -(-self.capacities["launch_months"] // period) + 1

    def _arrays(self, padded: bool) -> dict[str, Any]:
        """Return the data arrays of :meth:`build`, padded to :attr:`capacities` if asked.

        Padding: an agreement of one month, uncensored (masked); a launch period of one
        status-quo month with no missiles, on the walk's first period (the negative binomial's
        log density is taken out again, the binomial's with no missiles is 0); an offer refused
        of the first type (taken out again); an export report with confidence 0 (masked). The
        masks are 1 for real entries. Observed launch periods have the walk's capacity
        (:meth:`launch_period_capacity`): there is at most one per walk period.
        """
        d = self.data
        arrays = {
            "agreement_months": np.asarray(d["agreement_months"], dtype=float),
            "agreement_upper": np.asarray(d["agreement_upper"], dtype=float),
            "observed_periods": np.asarray(d["observed_periods"], dtype=int),
            "period_months": np.asarray(d["period_months"], dtype=float),
            "period_missiles": np.asarray(d["period_missiles"], dtype=int),
            "period_long_range": np.asarray(d["period_long_range"], dtype=int),
            "offer_type_index": np.asarray(d["offer_type_index"], dtype=int),
            "offer_outcomes": np.asarray(d["offer_outcomes"], dtype=int),
            "export_report_confidence": np.asarray(d["export_report_confidence"], dtype=float),
        }
        if not padded:
            return arrays
        where = f"{self.name}.capacities"
        n_periods = self.launch_period_capacity()
        cap = {**self.capacities, "launch_periods": n_periods}
        if d["n_periods"] > n_periods:
            raise InputError(
                f"the launch record spans {d['n_periods']} walk periods, more than the padded "
                f"model's {n_periods}: raise the capacity",
                field=f"{where}.launch_months",
            )
        fills = {
            "agreement_months": ("agreements", 1.0),
            "agreement_upper": ("agreements", np.inf),
            "observed_periods": ("launch_periods", 0),
            "period_months": ("launch_periods", 1.0),
            "period_missiles": ("launch_periods", 0),
            "period_long_range": ("launch_periods", 0),
            "offer_type_index": ("offers", 0),
            "offer_outcomes": ("offers", 0),
            "export_report_confidence": ("export_reports", 0.0),
        }
        masks = {}
        for key, (capacity, fill) in fills.items():
            # Launch periods are bounded by the walk's periods, checked above.
            field = f"{where}.{'launch_months' if capacity == 'launch_periods' else capacity}"
            arrays[key], masks[capacity] = pad_to_capacity(
                arrays[key], cap[capacity], fill, field=field
            )
        arrays["masks"] = masks
        return arrays

    def build(self, *, padded: bool = False):
        """Return the ``pymc.Model`` (likelihood terms and the latent variables).

        ``padded=True``: the model of :meth:`BayesianModel.build` padded to
        :attr:`capacities` (one structure for every ``as_of``, ledger and prior). Its walks
        have ``launch_period_capacity()`` periods; the steps after the data's last period
        and its ``periods_ahead`` are draws from the walk's prior that no datum or output
        depends on.
        """
        import pymc as pm
        import pytensor.tensor as pt

        p, d = self.priors, self.data
        x = self._arrays(padded)
        n_periods = self.launch_period_capacity() if padded else d["n_periods"]

        with pm.Model(
            coords={
                "agreement": np.arange(len(x["agreement_months"])),
                "period": np.arange(n_periods),
                "ahead": np.arange(d["periods_ahead"]),
                # The walk periods with status-quo months (padded: positions, the padding
                # repeats period 0).
                "launch_period": (
                    np.arange(len(x["observed_periods"])) if padded else x["observed_periods"]
                ),
                "offer": np.arange(len(x["offer_outcomes"])),
                "export_report": np.arange(len(x["export_report_confidence"])),
            }
        ) as model:
            masks = {k: pm.Data(f"{k}_mask", v) for k, v in x.get("masks", {}).items()}

            def take_out_padding(name: str, rv, capacity: str):
                """Subtract the padded entries' log density (padded model only)."""
                if padded:
                    (logp,) = model.logp(vars=[rv], sum=False)
                    pm.Potential(f"{name}_padding", -pt.sum((1.0 - masks[capacity]) * logp))

            def hyper(key: str, par: str):
                return pm.Data(f"prior_{key}_{par}", float(p[key][par]))

            shape = pm.LogNormal(
                "breach_shape", mu=hyper("breach_shape", "mu"), sigma=hyper("breach_shape", "sigma")
            )
            scale = pm.LogNormal(
                "breach_scale", mu=hyper("breach_scale", "mu"), sigma=hyper("breach_scale", "sigma")
            )

            def log_survival(t):
                return -((pt.maximum(t, 1e-9) / scale) ** shape)

            agreement_months = pm.Data("agreement_months", x["agreement_months"], dims="agreement")
            agreement_upper = pm.Data("agreement_upper", x["agreement_upper"], dims="agreement")
            if padded:
                # The censored Weibull's log density written out: PyMC's form takes the
                # survival as log1mexp(log1mexp(-(t/scale)**shape)), whose gradient is NaN
                # where (t/scale)**shape is large, also in the branch an entry does not use;
                # with the data as arguments (not constants) nothing rewrites it away.
                z = agreement_months / scale
                censored = pt.ge(agreement_months, agreement_upper)
                log_density = pt.switch(
                    censored,
                    -(z**shape),
                    pt.log(shape) - pt.log(scale) + (shape - 1.0) * pt.log(z) - z**shape,
                )
                pm.Potential("agreement_duration", pt.sum(masks["agreements"] * log_density))
            else:
                pm.Censored(
                    "agreement_duration",
                    pm.Weibull.dist(alpha=shape, beta=scale),
                    lower=None,
                    upper=agreement_upper,
                    observed=agreement_months,
                    dims="agreement",
                )
            # The monitored freeze: a breach in month k of the freeze, or survival of its
            # clean months. Dummy values keep both branches finite when unused.
            breach_age = d["breach_month"] - d["freeze_start_month"] + 1
            is_breach = pm.Data("monitored_is_breach", float(d["breach_month"] > 0))
            age = pm.Data("monitored_breach_age", float(max(breach_age, 1)))
            clean = pm.Data("monitored_clean_months", float(d["clean_months"]))
            breach_logp = pt.log(
                pt.maximum(pt.exp(log_survival(age - 1.0)) - pt.exp(log_survival(age)), 1e-300)
            )
            pm.Potential(
                "monitored_freeze",
                is_breach * breach_logp + (1.0 - is_breach) * log_survival(clean),
            )

            willingness = pm.Normal(
                "accept_willingness",
                mu=hyper("accept_willingness", "mu"),
                sigma=hyper("accept_willingness", "sigma"),
            )
            shifts = []
            for t in OFFER_TYPES:
                key = f"accept_shift_{t}"
                z = pm.Normal(f"accept_z_{t}", 0.0, 1.0)
                shifts.append(pm.Deterministic(key, hyper(key, "mu") + hyper(key, "sigma") * z))
            shift = pt.stack(shifts)
            offer_outcomes = pm.Data("offer_outcomes", x["offer_outcomes"], dims="offer")
            responses = pm.Bernoulli(
                "offer_responses",
                logit_p=willingness
                + shift[pm.Data("offer_type_index", x["offer_type_index"], dims="offer")],
                observed=offer_outcomes,
                dims="offer",
            )
            take_out_padding("offer_responses", responses, "offers")
            for i, t in enumerate(OFFER_TYPES):
                if t in _TREE_OFFERS:
                    pm.Deterministic(
                        f"accept_propensity_{t}", pm.math.invlogit(willingness + shift[i])
                    )

            documented = pm.Gamma(
                "export_documented_rate",
                alpha=hyper("export_documented_rate", "alpha"),
                beta=hyper("export_documented_rate", "beta"),
            )
            pm.Poisson(
                "documented_transfers",
                mu=documented * pm.Data("transfer_exposure_months", d["transfer_exposure_months"]),
                observed=pm.Data("transfer_episodes", d["transfer_episodes"]),
            )
            share = pm.Beta(
                "export_documented_share",
                alpha=hyper("export_documented_share", "alpha"),
                beta=hyper("export_documented_share", "beta"),
            )
            export_rate = pm.Deterministic("export_rate", 1.0 - pt.exp(-documented / share))
            detection = pm.Beta(
                "export_detection",
                alpha=hyper("export_detection", "alpha"),
                beta=hyper("export_detection", "beta"),
            )
            q = export_rate * detection
            conf = pm.Data(
                "export_report_confidence", x["export_report_confidence"], dims="export_report"
            )
            report_logp = pt.log(conf * q + (1 - conf) * (1 - q))
            if padded:
                report_logp = masks["export_reports"] * report_logp
            pm.Potential("export_reports", pt.sum(report_logp))

            log_rate_init = pm.Normal(
                "log_rate_init",
                mu=hyper("launch_rate_init", "mu"),
                sigma=hyper("launch_rate_init", "sigma"),
            )
            # One walk over the observed periods and the twelve months after them (the tree's
            # "coming year"); the last steps are free of data, drawn from the walk.
            n_all = n_periods + d["periods_ahead"]
            if padded:  # the coming year starts after the data's last period
                seen = pm.Data("launch_periods_seen", np.int64(d["n_periods"]))
                ahead = seen + pt.arange(d["periods_ahead"])
            else:
                ahead = slice(n_periods, None)
            drift = pm.HalfNormal("rate_drift", sigma=hyper("launch_rate_drift", "sigma"))
            steps = pm.Normal("rate_steps", 0.0, 1.0, shape=n_all - 1)
            log_rate = log_rate_init + pt.concatenate([pt.zeros(1), pt.cumsum(steps)]) * drift
            pm.Deterministic("log_rate", log_rate[:n_periods], dims="period")
            pm.Deterministic("log_rate_ahead", log_rate[ahead], dims="ahead")
            dispersion = pm.Gamma(
                "launch_dispersion",
                alpha=hyper("launch_dispersion", "alpha"),
                beta=hyper("launch_dispersion", "beta"),
            )
            # Counts are modelled per period, not per month: launches cluster in campaigns of
            # a few months (lag-1 autocorrelation of monthly counts 0.41, 2012-2022), which
            # independent monthly draws around one rate cannot show.
            period_index = pm.Data(
                "observed_period_index", x["observed_periods"], dims="launch_period"
            )
            exposure = pm.Data("period_status_quo_months", x["period_months"], dims="launch_period")
            missiles = pm.Data("missiles_observed", x["period_missiles"], dims="launch_period")
            missiles_rv = pm.NegativeBinomial(
                "missiles",
                mu=pt.exp(log_rate[period_index]) * exposure,
                alpha=dispersion,
                observed=missiles,
                dims="launch_period",
            )
            take_out_padding("missiles", missiles_rv, "launch_periods")
            share_init = pm.Beta(
                "long_range_share_init",
                alpha=hyper("long_range_share", "alpha"),
                beta=hyper("long_range_share", "beta"),
            )
            share_drift = pm.HalfNormal(
                "long_range_drift", sigma=hyper("long_range_drift", "sigma")
            )
            share_steps = pm.Normal("long_range_steps", 0.0, 1.0, shape=n_all - 1)
            logit_share = pt.log(share_init) - pt.log1p(-share_init)
            share = pm.math.sigmoid(
                logit_share + pt.concatenate([pt.zeros(1), pt.cumsum(share_steps)]) * share_drift
            )
            pm.Deterministic("long_range_share", share[:n_periods], dims="period")
            pm.Deterministic("long_range_share_ahead", share[ahead], dims="ahead")
            # A padded period has no missiles: its binomial term is 0.
            pm.Binomial(
                "long_range",
                n=missiles,
                p=share[period_index],
                observed=pm.Data(
                    "long_range_observed", x["period_long_range"], dims="launch_period"
                ),
                dims="launch_period",
            )
            nuclear_rate = pm.Gamma(
                "nuclear_rate",
                alpha=hyper("nuclear_rate", "alpha"),
                beta=hyper("nuclear_rate", "beta"),
            )
            pm.Poisson(
                "nuclear_test_count",
                mu=nuclear_rate * pm.Data("nuclear_exposure_months", d["nuclear_exposure_months"]),
                observed=pm.Data("nuclear_tests_in_exposure", d["nuclear_tests_in_exposure"]),
            )
        return model

    # -- quantities for the tree -----------------------------------------------------------
    def derived(self, posterior, *, prior: bool = False) -> dict[str, Any]:
        """Compute the tree's quantities per draw (see the module docstring).

        Parameters
        ----------
        posterior
            An xarray dataset of draws (``chain``, ``draw``). Quantities whose inputs are
            missing from it are skipped, so a partial dataset (synthetic draws) works.
        prior
            Compute what the priors alone imply: no monitoring record and no observed
            answer condition the quantities (for the prior side of the prior-vs-posterior
            table).
        """
        d, s = self.data, self.settings
        like = dataset_like(posterior)
        has = set(posterior.data_vars)
        out: dict[str, Any] = {}
        W, A = float(s["monitoring_months"]), float(s["after_months"])
        if prior:
            accepted, start_month, breach_month, clean = -1, 1, 0, 0
            reports: list[tuple[int, float]] = []
        else:
            accepted = d["monitored_accepted"]
            start_month, breach_month = d["freeze_start_month"], d["breach_month"]
            clean = d["clean_months"] if accepted == 1 else 0
            reports = list(
                zip(d["export_report_months"], d["export_report_confidence"], strict=False)
            )
        if accepted != 1:  # hold probabilities are conditional on accepting: a fresh freeze
            start_month, breach_month, clean, reports = 1, 0, 0, []

        for t in _TREE_OFFERS:
            name = f"accept_propensity_{t}"
            if name in has:
                value = np.asarray(posterior[name].values, dtype=float)
                if accepted >= 0 and t == s["monitored_offer"]:
                    value = np.full_like(value, float(accepted))
                out[f"p_accept_{t}"] = like(value)
        if f"p_accept_{s['monitored_offer']}" in out:
            out["p_accept"] = out[f"p_accept_{s['monitored_offer']}"].copy()

        if {"breach_shape", "breach_scale"} <= has:
            k = np.asarray(posterior["breach_shape"].values, dtype=float)[..., None]
            lam = np.asarray(posterior["breach_scale"].values, dtype=float)[..., None]
            exports = {"export_rate", "export_detection"} <= has
            if exports:
                r = np.asarray(posterior["export_rate"].values, dtype=float)[..., None]
                q = r * np.asarray(posterior["export_detection"].values, dtype=float)[..., None]
            else:  # a partial dataset: the breach fractions from the Weibull alone
                r = q = np.zeros_like(k)
            holds = _holds(k, lam, r, q, W, A, start_month, breach_month, clean, reports, like)
            if not exports:
                holds = {key: v for key, v in holds.items() if key.startswith("breach_fraction")}
            out.update(holds)
            if f"p_accept_{s['monitored_offer']}" in out and "p_hold_monitoring" in out:
                complies = (
                    out[f"p_accept_{s['monitored_offer']}"].values
                    * out["p_hold_monitoring"].values
                    * out["p_hold_after"].values
                )
                out["p_dprk_complies"] = like(complies)
                out["p_accepts_and_holds_monitoring"] = like(
                    out[f"p_accept_{s['monitored_offer']}"].values * out["p_hold_monitoring"].values
                )
        if "log_rate_ahead" in has:
            # The coming year: the mean rate over the walk's next twelve months.
            ahead = np.exp(np.asarray(posterior["log_rate_ahead"].values, dtype=float))
            out["launches_prevented_per_month"] = like(ahead.mean(axis=-1))
            if "long_range_share_ahead" in has:
                share = np.asarray(posterior["long_range_share_ahead"].values, dtype=float)
                out["long_range_prevented_per_month"] = like((ahead * share).mean(axis=-1))
        if "nuclear_rate" in has:
            out["nuclear_tests_prevented_per_month"] = like(
                np.asarray(posterior["nuclear_rate"].values, dtype=float)
            )
        return out


def _holds(k, lam, r, q, W, A, start_month, breach_month, clean, reports, like) -> dict:
    """Visible-compliance probabilities, undetected exports and breach fractions per draw."""

    def log_s(t):
        return -((np.maximum(t, 0.0) / lam) ** k)

    def visible(t):  # no detected test or export through freeze age t
        return np.exp(log_s(t) + t * np.log1p(-q))

    def held_share(t0: float, t1: float) -> np.ndarray:
        grid = np.linspace(t0, t1, 201)
        surv = visible(grid)
        gap = surv[..., 0] - surv[..., -1]
        area = np.trapezoid(surv - surv[..., -1:], grid, axis=-1)
        share = np.where(gap > 1e-12, area / np.maximum(gap, 1e-300) / (t1 - t0), 0.5)
        return np.clip(share, 0.0, 1.0)

    shape = k.shape[:-1]
    a_w = W - start_month + 1.0  # freeze age at the window's end
    a_a = a_w + A  # and at the end of the next cycle
    breach_age = breach_month - start_month + 1 if breach_month else None
    q1, r1 = q[..., 0], r[..., 0]
    by_age = {int(m - start_month + 1): float(c) for m, c in reports}

    def export_factor(ages) -> np.ndarray:
        out = np.ones(shape)
        for age in ages:
            c = by_age.get(int(age))
            if c is None:
                out = out * (1 - q1)
            else:
                out = out * (1 - c) * (1 - q1) / (c * q1 + (1 - c) * (1 - q1))
        return out

    window_ages = range(1, int(a_w) + 1)
    after_ages = range(int(a_w) + 1, int(a_a) + 1)
    tests_window = np.ones(shape)
    tests_after = np.ones(shape)
    if breach_age is not None and breach_age <= a_w:
        hold_monitoring = np.zeros(shape)
        hold_after = np.zeros(shape)
        fraction_monitoring = np.full(shape, min((breach_age - 0.5) / W, 1.0))
        fraction_after = held_share(a_w, a_a)
    elif breach_age is not None and breach_age <= a_a:
        hold_monitoring = export_factor(window_ages)
        hold_after = np.zeros(shape)
        fraction_monitoring = np.ones(shape)
        fraction_after = np.full(shape, min((breach_age - a_w - 0.5) / A, 1.0))
    else:
        if breach_age is None:
            seen = float(min(clean, a_w))
            tests_window = np.exp(log_s(a_w) - log_s(seen))[..., 0]
            after_from = float(max(a_w, clean))
            tests_after = (
                np.exp(log_s(a_a) - log_s(after_from))[..., 0] if after_from < a_a else tests_after
            )
        hold_monitoring = tests_window * export_factor(window_ages)
        hold_after = tests_after * export_factor(after_ages)
        seen = float(min(clean, a_w))
        if breach_age is None and seen < a_w:
            fraction_monitoring = (seen + held_share(seen, a_w) * (a_w - seen)) / W
        else:
            fraction_monitoring = np.ones(shape)
        after_from = float(max(a_w, clean))
        if breach_age is None and after_from < a_a:
            fraction_after = (
                after_from - a_w + held_share(after_from, a_a) * (a_a - after_from)
            ) / A
        else:
            fraction_after = np.ones(shape)
    clean_ratio = (1 - r1) / np.maximum(1 - q1, 1e-300)
    return {
        "p_hold_monitoring": like(np.clip(hold_monitoring, 0.0, 1.0)),
        "p_hold_after": like(np.clip(hold_after, 0.0, 1.0)),
        "p_undetected_export_monitoring": like(1 - clean_ratio**a_w),
        "p_undetected_export_after": like(1 - clean_ratio**A),
        "p_hold_new_freeze": like(np.exp(log_s(W))[..., 0] * (1 - q1) ** W),
        "breach_fraction_monitoring": like(np.clip(fraction_monitoring, 0.0, 1.0)),
        "breach_fraction_after": like(np.clip(fraction_after, 0.0, 1.0)),
    }


def _period_totals(kept: pd.DataFrame, index: np.ndarray) -> dict[str, np.ndarray]:
    """Sum the status-quo months' launches per walk period (periods with such months only)."""
    frame = pd.DataFrame(
        {
            "period": index,
            "missiles": kept["missiles"].to_numpy(dtype=int),
            "long_range": kept["long_range_missiles"].to_numpy(dtype=int),
        }
    )
    totals = frame.groupby("period").agg(
        months=("missiles", "size"), missiles=("missiles", "sum"), long_range=("long_range", "sum")
    )
    return {
        "observed_periods": totals.index.to_numpy(dtype=int),
        "period_months": totals["months"].to_numpy(dtype=float),
        "period_missiles": totals["missiles"].to_numpy(dtype=int),
        "period_long_range": totals["long_range"].to_numpy(dtype=int),
    }


def _period_numbers(months: pd.Series, period: int) -> np.ndarray:
    """Return the walk's period of each ``YYYY-MM`` month, counted from year 0."""
    year = months.str.slice(0, 4).astype(int).to_numpy()
    month = months.str.slice(5, 7).astype(int).to_numpy()
    return (year * 12 + month - 1) // period


def _label(start, k: int) -> str:
    total = start.year * 12 + start.month - 1 + k - 1
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


def _freeze_spans(agreements, launches, nuclear, *, kind: str) -> list[tuple[str, str | None]]:
    """Months under a holding freeze of ``kind`` (``missiles`` or ``nuclear``): [first, end).

    A freeze runs from the month it was signed to the month of its first test of that kind
    after signing or of its breach, whichever is first; that month itself is status quo.
    """
    covers = (
        ("missiles", "missiles_and_nuclear")
        if kind == "missiles"
        else (
            "nuclear",
            "missiles_and_nuclear",
        )
    )
    spans = []
    for row in agreements.itertuples(index=False):
        if row.testing_freeze not in covers:
            continue
        first = pd.Timestamp(row.signed).strftime("%Y-%m")
        ends = []
        if bool(row.observed) and pd.notna(row.breach_date):
            ends.append(pd.Timestamp(row.breach_date).strftime("%Y-%m"))
        if kind == "missiles":
            later = launches[(launches["month"] >= first) & (launches["missiles"] > 0)]
            if len(later):
                ends.append(str(later["month"].iloc[0]))
        else:
            later = nuclear[nuclear["date"] >= pd.Timestamp(row.signed)]
            if len(later):
                ends.append(pd.Timestamp(later["date"].iloc[0]).strftime("%Y-%m"))
        spans.append((first, min(ends) if ends else None))
    return spans


def holding_freezes(as_of) -> dict[str, float]:
    """Return the age in months, on ``as_of``, of each kind of freeze holding then.

    Keys are ``missiles`` and ``nuclear``; a kind is present only if a freeze of
    ``agreements.csv`` public on ``as_of`` covers it and has not yet ended (no test of that
    kind since its signing, no breach), by the evidence public on ``as_of``: the months the
    model leaves out of its status-quo rates (see :func:`_freeze_spans`).
    """
    agreements = evidence.agreements(as_of=as_of)
    launches = evidence.launches_monthly(as_of=as_of)
    nuclear = evidence.nuclear_tests(as_of=as_of)
    day = pd.Timestamp(as_of)
    out: dict[str, float] = {}
    for kind in ("missiles", "nuclear"):
        for first, end in _freeze_spans(agreements, launches, nuclear, kind=kind):
            if end is None:
                start = pd.Timestamp(first + "-01")
                age = (day - start).days / DAYS_PER_MONTH
                out[kind] = max(out.get(kind, 0.0), age)
    return out


def _nuclear_exposure(nuclear, *, start, as_of, spans) -> tuple[int, int]:
    """Status-quo months of the nuclear record (complete by ``as_of``) and tests in them."""
    last_complete = (pd.Timestamp(as_of) + pd.Timedelta(days=1)).to_period("M") - 1
    coverage = pd.Timestamp(evidence.NUCLEAR_TESTS_COMPLETE_THROUGH).to_period("M")
    last = min(last_complete, coverage)
    first = pd.Timestamp(start).to_period("M")
    if last < first:
        return 0, 0
    months = np.array([str(p) for p in pd.period_range(first, last, freq="M")])
    status_quo = months[~freeze_months_mask(months, spans)]
    tested = nuclear["date"].dt.strftime("%Y-%m").to_numpy(dtype=str)
    return len(status_quo), int(np.isin(tested, status_quo).sum())
