"""DPRK compliance: will the DPRK accept a testing freeze, hold it, and how much testing does it stop?

The model joins four pieces of evidence.

* **Survival of earlier agreements.** Months from signing to the first public breach of a
  testing or freeze commitment follow a Weibull distribution; agreements still standing on
  ``as_of`` are right-censored.
* **The monitored freeze.** From the monitoring start, each month without a detected missile
  launch or nuclear test is survival; a detected test in month *k* is a breach within month *k*
  (interval-censored). Testing compliance is independently verifiable, so detection is certain.
* **Covert exports.** Nuclear-technology exports are only partly observable: each month of a
  freeze carries an export with probability ``export_rate`` and an export is detected with
  probability ``export_detection``. A suspected export with ``confidence`` *c* enters as soft
  evidence (likelihood *c* for "detected", *1 - c* for "not").
* **The launch record.** Missiles per month follow a negative binomial whose log rate walks from
  year to year; the rate for the coming year is the baseline a freeze would prevent, and a
  binomial share of it is long-range.

Headline quantities (all per posterior draw): ``p_accept``, ``p_hold_monitoring`` (the freeze
holds through the monitoring window, given what monitoring has seen), ``p_hold_after`` (it then
holds through the next exercise cycle after a scale-down), ``p_dprk_complies`` (the product of the
three), ``p_hold_new_freeze`` (a fresh freeze holds through the window: what history alone says),
``launches_prevented_per_month`` and ``long_range_prevented_per_month``, and, for a freeze that
breaks, the expected share of the period it held before the breach: ``breach_fraction_monitoring``
(within the monitoring window, given what monitoring has seen: a breach seen in month *k* held
for *k - 1/2* months) and ``breach_fraction_after`` (within the next cycle).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from decision import evidence
from decision.models.base import BayesianModel
from decision.models.monitoring import MonitoringRecord, monitoring_record

__all__ = ["DPRKComplianceModel"]


class DPRKComplianceModel(BayesianModel):
    """Bayesian model of DPRK acceptance of, and compliance with, a testing freeze.

    Default priors (override any entry through ``priors=``):

    ``breach_shape`` : lognormal(mu, sigma) on the Weibull shape. Centred on 1 (a constant
        breach hazard); below 1 means breaches come early if at all.
    ``breach_scale`` : lognormal(mu, sigma) on the Weibull scale in months; ``mu = log 24``
        (two years), wide enough to admit the 2.5-week Leap Day deal and the 8-year Agreed
        Framework.
    ``accept`` : beta(alpha, beta) on the probability that the DPRK accepts a testing freeze
        offered for a suspension of exercises. Analyst judgment: it accepted freezes tied to
        concessions in 1994, 2005, 2007 and 2012 but had not taken up "double suspension" by
        Aug 2017; mean 0.4, weak.
    ``export_rate`` : beta on the monthly probability of a covert nuclear-technology export
        during a freeze (judgment; mean 0.1).
    ``export_detection`` : beta on the probability that such an export is detected in the month
        (judgment: exports are only partly observable; mean 0.25).
    ``launch_rate_init`` : normal(mu, sigma) on the log missiles per month in the first year.
    ``launch_rate_drift`` : half-normal(sigma) on the year-to-year change of the log rate.
    ``launch_dispersion`` : gamma(alpha, beta) on the negative-binomial shape.
    ``long_range_share`` : beta on the share of missiles that are long-range.
    """

    name: ClassVar[str] = "dprk_compliance"
    default_priors: ClassVar[dict[str, Any]] = {
        "breach_shape": {"mu": 0.0, "sigma": 0.5},
        "breach_scale": {"mu": math.log(24.0), "sigma": 1.0},
        "accept": {"alpha": 2.0, "beta": 3.0},
        "export_rate": {"alpha": 1.0, "beta": 9.0},
        "export_detection": {"alpha": 2.0, "beta": 6.0},
        "launch_rate_init": {"mu": 0.0, "sigma": 1.5},
        "launch_rate_drift": {"sigma": 0.75},
        "launch_dispersion": {"alpha": 2.0, "beta": 1.0},
        "long_range_share": {"alpha": 1.0, "beta": 1.0},
    }
    headline: ClassVar[tuple[str, ...]] = (
        "p_accept",
        "p_hold_monitoring",
        "p_hold_after",
        "p_dprk_complies",
        "p_hold_new_freeze",
        "launches_prevented_per_month",
        "long_range_prevented_per_month",
        "breach_fraction_monitoring",
        "breach_fraction_after",
    )
    free_vars: ClassVar[tuple[str, ...]] = (
        "breach_shape",
        "breach_scale",
        "p_accept",
        "export_rate",
        "export_detection",
        "log_rate_init",
        "rate_drift",
        "rate_steps",
        "launch_dispersion",
        "long_range_share",
    )

    @classmethod
    def default_settings(cls) -> dict[str, Any]:
        """``monitoring_months``: the window before the spring exercises (6, per the proposal);
        ``after_months``: how long the freeze must then hold for the scale-down to pay (12: one
        exercise cycle); ``monitoring_start``: first day of monitoring; ``through``: last day of
        monitoring data to use (default: ``as_of``).
        """
        return {
            "monitoring_months": 6,
            "after_months": 12,
            "monitoring_start": "2017-09-01",
            "through": None,
        }

    def prepare_data(self) -> dict[str, Any]:
        agreements = evidence.agreements(as_of=self.as_of)
        launches = evidence.launches_monthly(as_of=self.as_of)
        years = launches["month"].str.slice(0, 4).astype(int).to_numpy()
        record: MonitoringRecord = monitoring_record(self.observations, self.settings, self.as_of)
        duration = agreements["duration_months"].to_numpy(dtype=float)
        observed = agreements["observed"].to_numpy(dtype=bool)
        return {
            "agreement_months": duration,
            "agreement_upper": np.where(observed, np.inf, duration),
            "launch_year_index": years - years.min(),
            "n_years": int(years.max() - years.min() + 1),
            "missiles": launches["missiles"].to_numpy(dtype=int),
            "long_range": launches["long_range_missiles"].to_numpy(dtype=int),
            "months_monitored": record.months_monitored,
            "breach_month": record.dprk_breach_month,
            "export_confidence": record.export_confidence_by_month,
            "accept_outcomes": record.dprk_accept_outcomes,
        }

    def derived(self, posterior) -> dict[str, Any]:
        """Expected share of a period held before a breach, from the Weibull per draw."""
        import xarray as xr

        k = posterior["breach_shape"].values[..., None]
        lam = posterior["breach_scale"].values[..., None]
        horizon = float(self.settings["monitoring_months"])
        after = float(self.settings["after_months"])
        m = float(self.data["months_monitored"])
        breach = self.data["breach_month"]

        def held_share(start: float, length: float) -> np.ndarray:
            grid = np.linspace(start, start + length, 201)
            surv = np.exp(-((grid / lam) ** k))
            gap = surv[..., 0] - surv[..., -1]
            area = np.trapezoid(surv - surv[..., -1:], grid, axis=-1)
            share = np.where(gap > 1e-12, area / np.maximum(gap, 1e-300) / length, 0.5)
            return np.clip(share, 0.0, 1.0)

        if breach is not None:
            monitoring = np.full(k.shape[:-1], min((breach - 0.5) / horizon, 1.0))
        elif m >= horizon:
            monitoring = np.ones(k.shape[:-1])
        else:
            monitoring = (m + held_share(m, horizon - m) * (horizon - m)) / horizon
        start = max(horizon, m)
        dims = posterior["breach_shape"].dims
        coords = posterior["breach_shape"].coords
        return {
            "breach_fraction_monitoring": xr.DataArray(monitoring, dims=dims, coords=coords),
            "breach_fraction_after": xr.DataArray(
                held_share(start, after), dims=dims, coords=coords
            ),
        }

    def build(self):
        import pymc as pm
        import pytensor.tensor as pt

        p, d, s = self.priors, self.data, self.settings
        horizon = float(s["monitoring_months"])
        after = float(s["after_months"])
        m = float(d["months_monitored"])
        with pm.Model(
            coords={
                "agreement": np.arange(len(d["agreement_months"])),
                "year": np.arange(d["n_years"]),
                "month": np.arange(len(d["missiles"])),
            }
        ) as model:
            shape = pm.LogNormal("breach_shape", **p["breach_shape"])
            scale = pm.LogNormal("breach_scale", **p["breach_scale"])

            def survival(t):
                return pt.exp(-((t / scale) ** shape))

            pm.Censored(
                "agreement_duration",
                pm.Weibull.dist(alpha=shape, beta=scale),
                lower=None,
                upper=d["agreement_upper"],
                observed=d["agreement_months"],
                dims="agreement",
            )
            breach_month = d["breach_month"]
            if breach_month is not None:
                pm.Potential(
                    "monitored_breach",
                    pt.log(survival(breach_month - 1.0) - survival(float(breach_month))),
                )
            elif m > 0:
                pm.Potential("monitored_survival", pt.log(survival(m)))

            p_accept = pm.Beta("p_accept", **p["accept"])
            if len(d["accept_outcomes"]):
                pm.Bernoulli("freeze_accepted", p=p_accept, observed=d["accept_outcomes"])

            export_rate = pm.Beta("export_rate", **p["export_rate"])
            detection = pm.Beta("export_detection", **p["export_detection"])
            q = export_rate * detection
            conf = np.asarray(d["export_confidence"], dtype=float)
            clean_past = 1.0
            if conf.size:
                pm.Potential("export_reports", pt.sum(pt.log(conf * q + (1 - conf) * (1 - q))))
                # P(no export in a monitored month | what was reported that month)
                clean_past = pt.prod(
                    (1 - export_rate) * (1 - conf) / (conf * q + (1 - conf) * (1 - q))
                )

            log_rate_init = pm.Normal("log_rate_init", **p["launch_rate_init"])
            drift = pm.HalfNormal("rate_drift", **p["launch_rate_drift"])
            steps = pm.Normal("rate_steps", 0.0, 1.0, shape=d["n_years"])  # last one: next year
            log_rate = log_rate_init + pt.concatenate([pt.zeros(1), pt.cumsum(steps[:-1])]) * drift
            pm.Deterministic("log_rate", log_rate, dims="year")
            dispersion = pm.Gamma("launch_dispersion", **p["launch_dispersion"])
            pm.NegativeBinomial(
                "missiles",
                mu=pt.exp(log_rate[d["launch_year_index"]]),
                alpha=dispersion,
                observed=d["missiles"],
                dims="month",
            )
            share = pm.Beta("long_range_share", **p["long_range_share"])
            pm.Binomial(
                "long_range", n=d["missiles"], p=share, observed=d["long_range"], dims="month"
            )

            start = max(horizon, m)
            if breach_month is not None:
                p_hold_monitoring = pt.zeros(())
            else:
                tests_hold = survival(start) / survival(m) if m > 0 else survival(start)
                p_hold_monitoring = (
                    tests_hold * clean_past * (1 - export_rate) ** max(horizon - m, 0.0)
                )
            p_hold_monitoring = pm.Deterministic("p_hold_monitoring", p_hold_monitoring)
            p_hold_after = pm.Deterministic(
                "p_hold_after",
                survival(start + after) / survival(start) * (1 - export_rate) ** after,
            )
            accepted = d["accept_outcomes"]
            p_accept_now = p_accept if not len(accepted) else float(accepted[-1])
            pm.Deterministic("p_dprk_complies", p_accept_now * p_hold_monitoring * p_hold_after)
            pm.Deterministic("p_hold_new_freeze", survival(horizon) * (1 - export_rate) ** horizon)
            next_rate = pt.exp(log_rate[-1] + drift * steps[-1])
            pm.Deterministic("launches_prevented_per_month", next_rate)
            pm.Deterministic("long_range_prevented_per_month", next_rate * share)
        return model
