"""China: acceptance of the counter-proposal and cooperation on a scheduled plan.

**Enforcement record** (``china_enforcement``, an analyst coding). Each commitment episode's
coded extent (0, 1/4, 1/2, 3/4 or all of the commitment carried out) is one observation of a
latent extent drawn from China's enforcement population, a beta with mean
``cooperation_mean`` and concentration ``cooperation_concentration``. A coding in quarters is
an ordinal reading of that extent: code *j* means an extent within 1/8 of *j*/4, so each
episode enters once, as a categorical outcome with the beta's probability of its interval,
not as four Bernoulli trials (which would count one analyst coding as four observations).
Recent episodes weigh more: an episode's log-likelihood is multiplied by
``0.5 ** (age / half_life_years)`` (a discounted power prior), and rows that record the same
episode twice (a resolution and China's own implementing notice, linked by ``related_to``)
share one episode's weight.

**Status-quo enforcement.** The record is China carrying out UN obligations without any
deal, so the population mean is the status-quo path: ``status_quo_enforcement`` is the
expected share of an enforcement obligation China carries out without a deal (its
implementing notices came 9 to 34 days after adoption: ``data['status_quo_lag_days']``).
The tree credits the counter-proposal only with the increment over it.

**The scheduled plan.** The freeze-plus-pressure plan is a new episode with extent
``cooperation`` from the same population. Monitoring observes it step by step: a scheduled
step met or missed is a Bernoulli trial with probability ``cooperation``; a trade level
reaching a fraction *v* of its target counts as ``trade_step_weight`` steps, *v* of them
met. The tree branches on what is **observed**: the share of the ``scheduled_steps`` met at
the window's end, with the steps not yet reported predicted from ``cooperation``
(beta-binomial). ``cooperation`` itself is integrated out of the sampled model (no funnel)
and drawn from its closed-form conditional after sampling.

**Acceptance** (``china_obligations``). ``china_accept_propensity`` has a beta prior (a
judgment: ``accepts``); China's record of accepting or declining enforcement obligations put
to it (UNSC votes for, and stricter drafts declined) enters with weight
``acceptance_record_weight`` per row (a judgment: a vote on a UN resolution is related but
weaker evidence about a bilateral scheduled plan than a direct answer), and an observed
``accepts_proposal`` enters at full weight. The acceptance is modelled **independently of
the DPRK's willingness**: no episode in the evidence shows both China's answer and the
DPRK's answer to the same kind of offer, so a shared term would be a pure assumption; the
tree may still correlate them through its own judgments.

Quantities the tree reads, per draw:

``p_china_accepts``
    China accepts the counter-proposal: 1 or 0 in every draw once China's answer is observed
    (the latest ``accepts_proposal`` row), otherwise ``china_accept_propensity``.
``p_level_<name>``
    Probability that the observed share of scheduled steps met at the window's end is in
    each cooperation level (``level_names`` / ``level_cutpoints``); ``p_china_follows_through``
    is the top level's.
``status_quo_enforcement``
    Expected share of an obligation China carries out without a deal.
``cooperation``, ``cooperation_mean``
    The plan's latent extent and the population mean.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from decision import evidence
from decision.core.errors import InputError
from decision.models.base import BayesianModel, dataset_like, pad_to_capacity
from decision.models.monitoring import monitoring_record

__all__ = ["ChinaFollowThroughModel"]

#: Coded extents and the interval of true extents each code stands for.
CODES = (0.0, 0.25, 0.5, 0.75, 1.0)
CODE_EDGES = (0.125, 0.375, 0.625, 0.875)


class ChinaFollowThroughModel(BayesianModel):
    """Bayesian model of China's acceptance and of its cooperation on a scheduled plan.

    Default priors (override through ``priors=``):

    ``cooperation_mean`` : beta(alpha, beta) on China's enforcement propensity (the mean
        extent); beta(2, 2) is centred on one half and rules out neither extreme.
    ``cooperation_concentration`` : gamma(alpha, beta) on the beta concentration across
        episodes (mean 4: episodes differ a lot, as the 2016 coal loophole and the 2017 bans
        show).
    ``accepts`` : beta(alpha, beta) on China's propensity to accept the counter-proposal.
        Analyst judgment: it is built on China's own "double suspension" initiative, which
        China would find hard to reject outright (mean 0.6), but China fears a collapse of
        its buffer state.
    """

    name: ClassVar[str] = "china_follow_through"
    default_priors: ClassVar[dict[str, Any]] = {
        "cooperation_mean": {"alpha": 2.0, "beta": 2.0},
        "cooperation_concentration": {"alpha": 2.0, "beta": 0.5},
        "accepts": {"alpha": 3.0, "beta": 2.0},
    }
    prior_variables: ClassVar[dict[str, tuple[str, str]]] = {
        "cooperation_mean": ("cooperation_mean", "beta"),
        "cooperation_concentration": ("cooperation_concentration", "gamma"),
        "accepts": ("china_accept_propensity", "beta"),
    }
    free_vars: ClassVar[tuple[str, ...]] = (
        "cooperation_mean",
        "cooperation_concentration",
        "china_accept_propensity",
    )

    #: Sizes of the padded model (:meth:`build` with ``padded=True``): enforcement records
    #: (4 in 2017, 10 from 2020) and China's answers to the proposal in the ledger.
    capacities: ClassVar[dict[str, int]] = {"episodes": 32, "answers": 32}

    @classmethod
    def default_settings(cls) -> dict[str, Any]:
        """Return the settings and their defaults.

        ``half_life_years``: age at which an episode counts half (3 years);
        ``level_names``/``level_cutpoints``: cooperation levels the decision tree branches on
        (shares of scheduled steps met); ``trade_step_weight``: how many steps one trade
        observation counts for; ``scheduled_steps``: China's steps in the monitoring
        schedule (6, one a month); ``acceptance_record_weight``: weight of one row of China's
        record of accepting obligations, against a direct answer (0.25, judgment);
        ``monitoring_start``, ``through``: the monitoring window, as in the DPRK model.
        """
        return {
            "half_life_years": 3.0,
            "level_names": ["low", "partial", "full"],
            "level_cutpoints": [0.4, 0.8],
            "trade_step_weight": 1.0,
            "scheduled_steps": 6,
            "acceptance_record_weight": 0.25,
            "monitoring_start": "2017-09-01",
            "through": None,
        }

    @property
    def headline(self) -> tuple[str, ...]:  # type: ignore[override]
        """The quantities the tree reads and the report shows."""
        levels = tuple(f"p_level_{n}" for n in self.settings["level_names"])
        return (
            "p_china_accepts",
            "china_accept_propensity",
            *levels,
            "p_china_follows_through",
            "status_quo_enforcement",
            "cooperation",
            "cooperation_mean",
        )

    def prepare_data(self) -> dict[str, Any]:
        """Load the record, the obligations and the monitoring record as of ``as_of``."""
        s = self.settings
        cuts = list(s["level_cutpoints"])
        names = list(s["level_names"])
        if len(names) != len(cuts) + 1 or cuts != sorted(cuts) or not all(0 < c < 1 for c in cuts):
            raise InputError(
                "expected increasing cutpoints in (0, 1), one fewer than the level "
                f"names; got names {names} and cutpoints {cuts}",
                field=f"{self.name}.settings.level_cutpoints",
            )
        if not (isinstance(s["scheduled_steps"], int) and s["scheduled_steps"] >= 1):
            raise InputError(
                f"expected a whole number of steps >= 1, got {s['scheduled_steps']!r}",
                field=f"{self.name}.settings.scheduled_steps",
            )
        weight = float(s["acceptance_record_weight"])
        if not 0 <= weight <= 1:
            raise InputError(
                f"expected a weight between 0 and 1, got {weight!r}",
                field=f"{self.name}.settings.acceptance_record_weight",
            )
        record = evidence.china_enforcement(as_of=self.as_of)
        age_years = (
            pd.Timestamp(self.as_of) - record["commitment_date"]
        ).dt.days.to_numpy() / 365.25
        weights = 0.5 ** (np.clip(age_years, 0, None) / float(s["half_life_years"]))
        # A China measure that implements a resolution (``related_to``) is the same episode
        # seen twice: the rows of one episode share a single episode's weight.
        group = record["related_to"].fillna(record["episode"]).astype(str)
        weights = weights / group.map(group.value_counts()).to_numpy(dtype=float)
        codes = np.rint(record["extent"].to_numpy(dtype=float) * 4).astype(int)

        obligations = evidence.china_obligations(as_of=self.as_of)
        counted = obligations[obligations["in_acceptance"]]
        accepted = int((counted["china_response"] == "accepted").sum())
        declined = int((counted["china_response"] == "declined").sum())
        notices = obligations[obligations["record_type"] == "implementation_notice"]
        adopted = obligations.set_index("record_id")["date"]
        first_notice: dict[str, int] = {}  # days from adoption to China's first notice
        for row in notices.itertuples(index=False):
            if row.related_to in adopted.index:
                days = int((row.date - adopted[row.related_to]).days)
                first_notice[row.related_to] = min(first_notice.get(row.related_to, days), days)
        lags = list(first_notice.values())

        monitoring = monitoring_record(self.observations, s, self.as_of)
        w = float(s["trade_step_weight"])
        trade = np.clip(np.asarray(monitoring.trade_levels, dtype=float), 0.0, 1.0)
        outcomes = monitoring.china_accept_outcomes
        return {
            "codes": codes,
            "weights": weights,
            "record_accepted": accepted,
            "record_declined": declined,
            "status_quo_lag_days": lags,
            "steps_met": monitoring.steps_met + w * float(trade.sum()),
            "steps_missed": monitoring.steps_missed + w * float((1 - trade).sum()),
            "accept_outcomes": np.asarray(outcomes, dtype=int),
            "accept_observed": -1 if not outcomes else int(outcomes[-1]),
        }

    def build(self, *, padded: bool = False):
        """Return the ``pymc.Model``.

        ``padded=True``: padded to :attr:`capacities` (see :meth:`BayesianModel.build`): a
        padded episode has weight 0 (its log density is counted 1 + (0 - 1) = 0 times) and a
        padded answer's log density is taken out again.
        """
        import pymc as pm
        import pytensor.tensor as pt

        from decision.models.special import beta_cdf

        p, d, s = self.priors, self.data, self.settings
        codes_values = np.asarray(d["codes"], dtype=int)
        weight_values = np.asarray(d["weights"], dtype=float)
        answers = np.asarray(d["accept_outcomes"], dtype=int)
        if padded:
            cap, where = self.capacities, f"{self.name}.capacities"
            codes_values, _ = pad_to_capacity(
                codes_values, cap["episodes"], 0, field=f"{where}.episodes"
            )
            weight_values, _ = pad_to_capacity(
                weight_values, cap["episodes"], 0.0, field=f"{where}.episodes"
            )
            answers, answer_mask = pad_to_capacity(
                answers, cap["answers"], 0, field=f"{where}.answers"
            )
        with pm.Model(
            coords={
                "episode": np.arange(len(weight_values)),
                "code": list(CODES),
                "answer": np.arange(len(answers)),
            }
        ) as model:

            def hyper(key: str, par: str):
                return pm.Data(f"prior_{key}_{par}", float(p[key][par]))

            mean = pm.Beta(
                "cooperation_mean",
                alpha=hyper("cooperation_mean", "alpha"),
                beta=hyper("cooperation_mean", "beta"),
            )
            conc = pm.Gamma(
                "cooperation_concentration",
                alpha=hyper("cooperation_concentration", "alpha"),
                beta=hyper("cooperation_concentration", "beta"),
            )
            a, b = mean * conc, (1 - mean) * conc
            # The Beta CDF at each edge, differentiable under every NUTS backend.
            cdf = pt.stack([beta_cdf(a, b, edge) for edge in CODE_EDGES])
            edges = pt.concatenate([pt.zeros(1), cdf, pt.ones(1)])
            code_p = pt.maximum(edges[1:] - edges[:-1], 1e-12)
            codes = pm.Data("codes", codes_values, dims="episode")
            record = pm.Categorical(
                "enforcement_record", p=code_p / code_p.sum(), observed=codes, dims="episode"
            )
            # Discounting: the observed node contributes logp once; add (w - 1) * logp.
            logp = pm.logp(record, codes)
            weights = pm.Data("weights", weight_values, dims="episode")
            pm.Potential("recency_discount", pt.sum((weights - 1.0) * logp))
            # The plan's steps, with the plan's extent integrated out (beta-binomial kernel).
            met = pm.Data("steps_met", float(d["steps_met"]))
            missed = pm.Data("steps_missed", float(d["steps_missed"]))
            pm.Potential(
                "monitored_steps",
                pt.gammaln(a + met)
                + pt.gammaln(b + missed)
                - pt.gammaln(a + b + met + missed)
                - (pt.gammaln(a) + pt.gammaln(b) - pt.gammaln(a + b)),
            )
            propensity = pm.Beta(
                "china_accept_propensity",
                alpha=hyper("accepts", "alpha"),
                beta=hyper("accepts", "beta"),
            )
            weight = pm.Data("acceptance_record_weight", float(s["acceptance_record_weight"]))
            yes = pm.Data("record_accepted", float(d["record_accepted"]))
            no = pm.Data("record_declined", float(d["record_declined"]))
            pm.Potential(
                "acceptance_record",
                weight * (yes * pt.log(propensity) + no * pt.log1p(-propensity)),
            )
            outcomes = pm.Data("accept_outcomes", answers, dims="answer")
            accepted = pm.Bernoulli(
                "proposal_accepted", p=propensity, observed=outcomes, dims="answer"
            )
            if padded:
                pad = 1.0 - pm.Data("answers_mask", answer_mask)
                (logp,) = model.logp(vars=[accepted], sum=False)
                pm.Potential("proposal_accepted_padding", -pt.sum(pad * logp))
        return model

    def derived(self, posterior, *, prior: bool = False) -> dict[str, Any]:
        """Compute the tree's quantities per draw (see the module docstring).

        ``cooperation`` is drawn from its closed-form conditional beta with a generator
        seeded from the sampler seed, so a fit is reproducible. With ``prior=True`` no
        monitored step or answer conditions the result.
        """
        d, s = self.data, self.settings
        like = dataset_like(posterior)
        has = set(posterior.data_vars)
        out: dict[str, Any] = {}
        met = 0.0 if prior else float(d["steps_met"])
        missed = 0.0 if prior else float(d["steps_missed"])
        if {"cooperation_mean", "cooperation_concentration"} <= has:
            mean = np.asarray(posterior["cooperation_mean"].values, dtype=float)
            conc = np.asarray(posterior["cooperation_concentration"].values, dtype=float)
            a, b = mean * conc + met, (1 - mean) * conc + missed
            seed = int(self.sampler["random_seed"]) + (4 if prior else 3)
            out["cooperation"] = like(np.random.default_rng(seed).beta(a, b))
            out["status_quo_enforcement"] = like(mean)
            total = int(s["scheduled_steps"])
            observed = met + missed
            remaining = max(int(round(total - observed)), 0)
            x = np.arange(remaining + 1)
            from scipy import stats  # here, not at the top: a cached fit needs no SciPy

            pmf = stats.betabinom.pmf(x[:, None, None], remaining, a[None], b[None])
            share = (met + x) / max(total, observed)
            edges = [0.0, *s["level_cutpoints"], np.inf]
            for name, lo, hi in zip(s["level_names"], edges[:-1], edges[1:], strict=False):
                inside = ((share >= lo) & (share < hi)).astype(float)
                out[f"p_level_{name}"] = like(np.tensordot(inside, pmf, axes=(0, 0)))
            out["p_china_follows_through"] = out[f"p_level_{s['level_names'][-1]}"].copy()
        if "china_accept_propensity" in has:
            value = np.asarray(posterior["china_accept_propensity"].values, dtype=float)
            if not prior and d["accept_observed"] >= 0:
                value = np.full_like(value, float(d["accept_observed"]))
            out["p_china_accepts"] = like(value)
        return out
