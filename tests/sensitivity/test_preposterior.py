"""EVSI by Bayesian updating (importance reweighting), against closed forms and regression."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from decision.sensitivity import MonitoringStudy, evsi_reweighting, value_of_monitoring_preposterior
from decision.sensitivity.preposterior import systematic_resample
from decision.sensitivity.voi import regression_voi
from decision.testing import SHORT_SAMPLER
from decision.tree import evaluate, load_tree


def conjugate_tree():
    return load_tree(
        {
            "name": "conjugate",
            "parameters": {"p": {"supplied": True}},
            "root": {
                "type": "decision",
                "name": "D",
                "options": {"a": {"payoff": "100 * p - 35"}, "b": {"payoff": 0}},
            },
        }
    )


def exact_evsi(trials: int, alpha: float = 2.0, beta: float = 3.0) -> float:
    # p ~ beta(2, 3); k ~ binomial(trials, p): E[p | k] = (2 + k) / (5 + trials).
    k = np.arange(trials + 1)
    prob = stats.betabinom.pmf(k, trials, alpha, beta)
    after = np.maximum(0.0, 100 * (alpha + k) / (alpha + beta + trials) - 35)
    return float(prob @ after - max(0.0, 100 * alpha / (alpha + beta) - 35))


def test_systematic_resampling_follows_the_weights():
    idx = systematic_resample(np.array([0.5, 0.0, 0.25, 0.25]), 8, 0.5)
    assert list(idx) == [0, 0, 0, 0, 2, 2, 3, 3]


def test_reweighting_reproduces_the_conjugate_evsi():
    rng = np.random.default_rng(1)
    p = rng.beta(2, 3, 40000)
    result = evaluate(conjugate_tree(), n=p.size, seed=1, supplied={"p": p})
    k = np.arange(6)[:, None]
    likelihood = stats.binom.pmf(k, 5, p[None, :])
    ds = evsi_reweighting(result, likelihood)
    exact = exact_evsi(5)
    assert exact > 1
    assert float(ds["evsi"]) == pytest.approx(exact, rel=0.03)
    assert float(ds["evsi"]) == float(ds["evsi_held"])  # no later decisions
    np.testing.assert_allclose(
        ds["probability"], stats.betabinom.pmf(np.arange(6), 5, 2, 3), atol=0.005
    )
    # Strong et al. (2015): regress on one simulated outcome per draw
    simulated = rng.binomial(5, p)
    values = np.asarray(result.root_values_per_draw)
    reg = regression_voi(values, simulated, method="gam", seed=2)
    assert abs(reg["value"] - exact) < 3 * reg["se"] + 0.02 * exact
    # the study informs p only: its EVSI is below the EVPPI of p
    assert float(ds["evsi"]) < regression_voi(values, p, seed=3)["value"]


def test_monitoring_study_outcomes_are_a_distribution(synthetic_fits_small):
    study = MonitoringStudy()
    outcomes = study.outcomes()
    assert len(outcomes) == 7 * 7
    likelihood = study.likelihood(synthetic_fits_small)
    np.testing.assert_allclose(likelihood.sum(axis=0), 1.0, atol=1e-9)
    sims = study.simulate(synthetic_fits_small, np.random.default_rng(0))
    assert sims.shape == (1500, 2)
    assert set(np.unique(sims[:, 0])) <= set(range(1, 8))
    assert sims[:, 1].min() >= 0 and sims[:, 1].max() <= 6


def test_korea_value_of_monitoring_synthetic(korea_case, synthetic_fits_small):
    ds = value_of_monitoring_preposterior(synthetic_fits_small, case=korea_case, seed=4)
    assert float(ds["probability"].sum()) == pytest.approx(1.0)
    evsi, held = float(ds["evsi"]), float(ds["evsi_held"])
    assert evsi >= held - 1e-12 >= -1e-12
    assert evsi <= float(ds["evppi_model"]) + 3 * float(ds["evppi_model_se"]) + 1e-3
    assert abs(held - float(ds["evsi_regression"])) <= 3 * float(ds["evsi_regression_se"]) + 1e-3
    assert float(ds["evpi"]) >= float(ds["evppi_tree"]) - 3 * float(ds["evppi_tree_se"])
    assert float(ds["value_of_monitoring_in_tree"]) >= 0
    assert "breach_month" in ds.coords and "label" in ds.coords


@pytest.mark.slow
def test_value_of_monitoring_with_real_fits(korea_case):
    from decision.models import fit_models

    fits = fit_models(sampler=dict(SHORT_SAMPLER), use_cache=False)
    ds = value_of_monitoring_preposterior(fits, case=korea_case, seed=5)
    assert float(ds["probability"].sum()) == pytest.approx(1.0)
    assert float(ds["ess"].min()) > 50
    evsi = float(ds["evsi"])
    assert 0 <= evsi <= float(ds["evppi_model"]) + 3 * float(ds["evppi_model_se"]) + 1e-3
    assert (
        abs(float(ds["evsi_held"]) - float(ds["evsi_regression"]))
        <= 3 * float(ds["evsi_regression_se"]) + 2e-3
    )
