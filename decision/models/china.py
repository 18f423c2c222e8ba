"""China follow-through: how far will China carry out a scheduled enforcement plan?

China's record is one row per commitment episode, coded (an analyst judgment, with rationale in
the data) as the share of the commitment it carried out: 0, 1/4, 1/2, 3/4 or all. Each episode's
share, in quarters, is beta-binomial around China's cooperation propensity ``cooperation_mean``
with concentration ``cooperation_concentration`` (how much episodes vary). Recent episodes
weigh more: an episode's log-likelihood is multiplied by ``0.5 ** (age / half_life_years)``
(a discounted power prior), so a 2006 episode counts for less than a 2017 one. Rows that
record the same episode twice (a resolution and China's own implementing measure, linked by
``related_to``) share one episode's weight.

The freeze-plus-pressure commitment is a new episode with extent ``cooperation`` drawn from the
same population. Monitoring observes it: each scheduled step met or missed is a Bernoulli trial
with probability ``cooperation``; a trade level reaching a fraction *v* of its target counts as
``trade_step_weight`` steps, *v* of them met.

Headline quantities, per posterior draw: ``cooperation`` (the extent, 0 to 1),
``p_china_follows_through`` (probability that the extent reaches ``full_threshold``, i.e. the plan
is met in full, given the propensity and what monitoring has seen), the probabilities of the
cooperation levels (``p_level_<name>``), and ``p_china_accepts`` (China accepts the counter-
proposal: a judgment prior, updated by ``accepts_proposal`` observations).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import xarray as xr
from scipy import stats

from decision import evidence
from decision.core.errors import InputError
from decision.models.base import BayesianModel
from decision.models.monitoring import monitoring_record

__all__ = ["ChinaFollowThroughModel"]


class ChinaFollowThroughModel(BayesianModel):
    """Bayesian model of the extent of China's cooperation on a scheduled enforcement plan.

    Default priors (override through ``priors=``):

    ``cooperation_mean`` : beta(alpha, beta) on China's cooperation propensity; beta(2, 2) is
        centred on one half and rules out neither extreme.
    ``cooperation_concentration`` : gamma(alpha, beta) on the beta concentration across episodes
        (mean 4: episodes differ a lot, as the 2016 coal loophole and the 2017 bans show).
    ``accepts`` : beta(alpha, beta) on the probability that China accepts the counter-proposal.
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
    free_vars: ClassVar[tuple[str, ...]] = (
        "cooperation_mean",
        "cooperation_concentration",
        "cooperation",
        "p_china_accepts",
    )

    @classmethod
    def default_settings(cls) -> dict[str, Any]:
        """``half_life_years``: age at which an episode counts half (3 years);
        ``level_names``/``level_cutpoints``: cooperation levels the decision tree branches on;
        ``full_threshold``: extent that counts as meeting the plan in full (the top level's
        lower bound); ``trade_step_weight``: how many steps one trade observation counts for.
        """
        return {
            "half_life_years": 3.0,
            "level_names": ["low", "partial", "full"],
            "level_cutpoints": [0.4, 0.8],
            "trade_step_weight": 1.0,
            "monitoring_start": "2017-09-01",
            "through": None,
        }

    @property
    def headline(self) -> tuple[str, ...]:  # type: ignore[override]
        levels = tuple(f"p_level_{n}" for n in self.settings["level_names"])
        return (
            "cooperation",
            "p_china_follows_through",
            *levels,
            "p_china_accepts",
            "cooperation_mean",
        )

    def prepare_data(self) -> dict[str, Any]:
        cuts = list(self.settings["level_cutpoints"])
        names = list(self.settings["level_names"])
        if len(names) != len(cuts) + 1 or cuts != sorted(cuts) or not all(0 < c < 1 for c in cuts):
            raise InputError(
                "expected increasing cutpoints in (0, 1), one fewer than the level "
                f"names; got names {names} and cutpoints {cuts}",
                field=f"{self.name}.settings.level_cutpoints",
            )
        record = evidence.china_enforcement(as_of=self.as_of)
        age_years = np.array(
            [(self.as_of - d).days / 365.25 for d in record["commitment_date"].map(_as_date)]
        )
        weights = 0.5 ** (np.clip(age_years, 0, None) / float(self.settings["half_life_years"]))
        # A China measure that implements a resolution (``related_to``) is the same episode
        # seen twice: the rows of one episode share a single episode's weight.
        group = record["related_to"].fillna(record["episode"]).astype(str)
        weights = weights / group.map(group.value_counts()).to_numpy(dtype=float)
        monitoring = monitoring_record(self.observations, self.settings, self.as_of)
        w = float(self.settings["trade_step_weight"])
        trade = np.clip(np.asarray(monitoring.trade_levels, dtype=float), 0.0, 1.0)
        return {
            "quarters_enforced": np.rint(record["extent"].to_numpy(dtype=float) * 4).astype(int),
            "weights": weights,
            "steps_met": monitoring.steps_met + w * float(trade.sum()),
            "steps_missed": monitoring.steps_missed + w * float((1 - trade).sum()),
            "accept_outcomes": monitoring.china_accept_outcomes,
        }

    def build(self):
        import pymc as pm
        import pytensor.tensor as pt

        p, d = self.priors, self.data
        with pm.Model(coords={"episode": np.arange(len(d["weights"]))}) as model:
            mean = pm.Beta("cooperation_mean", **p["cooperation_mean"])
            conc = pm.Gamma("cooperation_concentration", **p["cooperation_concentration"])
            a, b = mean * conc, (1 - mean) * conc
            record = pm.BetaBinomial(
                "enforcement_record",
                n=4,
                alpha=a,
                beta=b,
                observed=d["quarters_enforced"],
                dims="episode",
            )
            # Discounting: the observed node contributes logp once; add (w - 1) * logp.
            logp = pm.logp(record, d["quarters_enforced"])
            pm.Potential("recency_discount", pt.sum((d["weights"] - 1.0) * logp))
            cooperation = pm.Beta("cooperation", alpha=a, beta=b)
            met, missed = d["steps_met"], d["steps_missed"]
            if met + missed > 0:
                pm.Potential(
                    "monitored_steps", met * pt.log(cooperation) + missed * pt.log1p(-cooperation)
                )
            p_accepts = pm.Beta("p_china_accepts", **p["accepts"])
            if len(d["accept_outcomes"]):
                pm.Bernoulli("proposal_accepted", p=p_accepts, observed=d["accept_outcomes"])
        return model

    def derived(self, posterior) -> dict[str, Any]:
        """Level probabilities per draw from the conditional beta of the current episode."""
        d, s = self.data, self.settings
        mean = posterior["cooperation_mean"]
        conc = posterior["cooperation_concentration"]
        a = (mean * conc + d["steps_met"]).values
        b = ((1 - mean) * conc + d["steps_missed"]).values
        edges = [0.0, *s["level_cutpoints"], 1.0]
        out = {}
        for name, lo, hi in zip(s["level_names"], edges[:-1], edges[1:]):
            prob = stats.beta.cdf(hi, a, b) - stats.beta.cdf(lo, a, b)
            out[f"p_level_{name}"] = xr.DataArray(prob, dims=mean.dims, coords=mean.coords)
        out["p_china_follows_through"] = out[f"p_level_{s['level_names'][-1]}"].copy()
        return out


def _as_date(value):
    import pandas as pd

    return pd.Timestamp(value).date()
