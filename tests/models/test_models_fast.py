"""The two models on fake posteriors: names, shapes, as-of handling and monitoring updates.

Fake sampling draws from the prior with a fixed seed, so two models that differ only in their
monitoring data share the same hyperparameter draws: the closed-form conditionals computed
from them can be compared draw by draw.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from decision.models import ChinaFollowThroughModel, DPRKComplianceModel


def _obs(rows):
    return pd.DataFrame(rows, columns=["date", "actor", "kind", "value", "source", "confidence"])


def test_dprk_headline_quantities(fake_sampling, tiny_sampler):
    fit = DPRKComplianceModel(sampler=tiny_sampler).fit(use_cache=False)
    draws = fit.headline_draws()
    assert set(draws) == set(DPRKComplianceModel.headline)
    for name in ("p_accept", "p_hold_monitoring", "p_hold_after", "p_dprk_complies"):
        assert np.all((draws[name] >= 0) & (draws[name] <= 1)), name
    assert np.all(draws["launches_prevented_per_month"] > 0)
    np.testing.assert_allclose(
        draws["p_dprk_complies"],
        draws["p_accept"] * draws["p_hold_monitoring"] * draws["p_hold_after"],
        rtol=1e-6,
    )


def test_dprk_as_of_limits_agreements_and_launches():
    early = DPRKComplianceModel(as_of="2017-08-20").data
    late = DPRKComplianceModel(as_of="2023-01-01").data
    assert len(early["agreement_months"]) == 4
    assert len(late["agreement_months"]) == 5
    assert len(early["missiles"]) == 12 * 5 + 7  # 2012-01 .. 2017-07
    assert np.isinf(early["agreement_upper"]).all()  # every earlier agreement was breached


def test_dprk_moratorium_is_censored_while_it_holds():
    data = DPRKComplianceModel(as_of="2019-01-01").data
    censored = ~np.isinf(data["agreement_upper"])
    assert censored.sum() == 1
    assert data["agreement_months"][censored][0] == pytest.approx(8.4, abs=0.2)


def test_detected_launch_sets_hold_probability_to_zero(fake_sampling, tiny_sampler):
    obs = _obs([("2017-09-14", "DPRK", "missile_launch", 1, "synthetic", 1.0)])
    fit = DPRKComplianceModel(sampler=tiny_sampler, as_of="2017-10-31", observations=obs).fit(
        use_cache=False
    )
    assert np.all(fit.draws("p_hold_monitoring") == 0)
    assert np.all(fit.draws("p_dprk_complies") == 0)


def test_quiet_months_raise_the_hold_probability(fake_sampling, tiny_sampler):
    kwargs = {"sampler": tiny_sampler}
    before = DPRKComplianceModel(as_of="2017-08-20", **kwargs).fit(use_cache=False)
    during = DPRKComplianceModel(as_of="2017-12-31", **kwargs).fit(use_cache=False)
    # Same prior draws; surviving 4 quiet months can only raise the conditional probability
    # that the testing freeze lasts the window (the Weibull survival ratio S(6)/S(4) >= S(6)).
    assert np.all(during.draws("p_hold_monitoring") >= before.draws("p_hold_monitoring") - 1e-12)


def test_china_level_probabilities_sum_to_one(fake_sampling, tiny_sampler):
    fit = ChinaFollowThroughModel(sampler=tiny_sampler).fit(use_cache=False)
    levels = sum(fit.draws(f"p_level_{n}") for n in ("low", "partial", "full"))
    np.testing.assert_allclose(levels, 1.0, atol=1e-9)
    np.testing.assert_array_equal(fit.draws("p_china_follows_through"), fit.draws("p_level_full"))


def test_china_met_steps_raise_follow_through(fake_sampling, tiny_sampler):
    met = _obs(
        [
            (f"2017-{m:02d}-28", "China", "enforcement_step", 1, "synthetic", 1.0)
            for m in (9, 10, 11)
        ]
    )
    missed = met.assign(value=0)
    kwargs = {"sampler": tiny_sampler, "as_of": "2017-12-31"}
    base = ChinaFollowThroughModel(**kwargs).fit(use_cache=False).draws("p_china_follows_through")
    up = ChinaFollowThroughModel(observations=met, **kwargs).fit(use_cache=False)
    down = ChinaFollowThroughModel(observations=missed, **kwargs).fit(use_cache=False)
    assert np.all(up.draws("p_china_follows_through") >= base - 1e-12)
    assert np.all(down.draws("p_china_follows_through") <= base + 1e-12)
    assert up.draws("p_china_follows_through").mean() > base.mean()


def test_china_recency_weights_favour_recent_episodes():
    data = ChinaFollowThroughModel(as_of="2017-08-20", settings={"half_life_years": 2.0}).data
    assert np.all((data["weights"] > 0) & (data["weights"] <= 1))
    assert data["weights"].max() > 0.4  # the most recent episode, shared by its two rows


def test_china_bad_cutpoints_are_rejected():
    from decision.core.errors import InputError

    with pytest.raises(InputError, match="level_cutpoints"):
        ChinaFollowThroughModel(settings={"level_cutpoints": [0.8, 0.4]})
