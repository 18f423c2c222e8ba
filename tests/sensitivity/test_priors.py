"""Prior sensitivity by power-scaling."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from decision.models import MODELS
from decision.sensitivity import prior_sensitivity
from decision.sensitivity.priors import (
    PRIOR_VARIABLES,
    cjs_distance,
    power_scaled_hyperparameters,
    power_scaling_weights,
    prior_log_density,
)
from decision.testing import SHORT_SAMPLER


def test_every_prior_of_both_models_is_mapped():
    for key, model in MODELS.items():
        assert set(PRIOR_VARIABLES[key]) == set(model.default_priors)


@pytest.mark.parametrize(
    "family, params",
    [
        ("beta", {"alpha": 2.0, "beta": 3.0}),
        ("gamma", {"alpha": 2.0, "beta": 0.5}),
        ("normal", {"mu": 0.3, "sigma": 1.5}),
        ("halfnormal", {"sigma": 0.75}),
        ("lognormal", {"mu": np.log(24.0), "sigma": 1.0}),
    ],
)
@pytest.mark.parametrize("alpha", [0.5, 2.0])
def test_power_scaled_hyperparameters_are_exact(family, params, alpha):
    x = {
        "beta": np.linspace(0.05, 0.95, 9),
        "gamma": np.linspace(0.2, 9, 9),
        "normal": np.linspace(-2, 2, 9),
        "halfnormal": np.linspace(0.1, 2, 9),
        "lognormal": np.linspace(1, 80, 9),
    }[family]
    scaled = power_scaled_hyperparameters(family, params, alpha)
    gap = prior_log_density(family, scaled, x) - alpha * prior_log_density(family, params, x)
    np.testing.assert_allclose(gap, gap[0], atol=1e-9)  # p^alpha up to normalisation


def test_importance_weights_reproduce_the_power_scaled_prior():
    # Draws from the prior alone (a flat likelihood): the reweighted draws must follow the
    # power-scaled prior, beta(2, 3)^2 = beta(3, 5), mean 0.375.
    class PriorOnly:
        inputs = {"priors": {"accepts": {"alpha": 2.0, "beta": 3.0}}}

        def draws(self, name):
            return np.random.default_rng(1).beta(2, 3, 40000)

    w, k = power_scaling_weights(PriorOnly(), "china", "accepts", 2.0)
    draws = PriorOnly().draws("p_china_accepts")
    assert w @ draws == pytest.approx(stats.beta(3, 5).mean(), abs=0.003)
    assert k < 0.7
    assert cjs_distance(draws, w) > 0.02


def test_cjs_distance():
    x = np.random.default_rng(2).normal(size=4000)
    assert cjs_distance(x) == 0.0
    near = cjs_distance(x, np.exp(0.1 * x))
    far = cjs_distance(x, np.exp(1.0 * x))
    assert 0 < near < far <= 1


def test_korea_prior_sensitivity_synthetic(korea_case, synthetic_fits_small):
    ds = prior_sensitivity(
        synthetic_fits_small,
        case=korea_case,
        seed=3,
        priors=["china.accepts", "dprk.breach_shape", "dprk.accept_willingness"],
    )
    assert list(ds.coords["prior"].values) == [
        "china.accepts",
        "dprk.breach_shape",
        "dprk.accept_willingness",
    ]
    assert list(ds.coords["alpha"].values) == [0.5, 2.0]
    # a prior moves only its own model's quantities
    assert np.isnan(ds["cjs"].sel(prior="china.accepts", quantity="p_accept_f4f")).all()
    own = ds["cjs"].sel(prior="china.accepts", quantity="p_china_accepts").values
    assert (own > 0).all()
    np.testing.assert_array_equal(
        ds["recommendation_changes"], ds["optimal"] != ds.attrs["base_optimal"]
    )
    assert np.isfinite(ds["value"]).all()
    assert ds["reliable"].dtype == bool
    # weaker prior moves p_china_accepts towards the data-free draws: both directions shift
    shift = ds["shift_sd"].sel(prior="china.accepts", quantity="p_china_accepts").values
    assert np.sign(shift[0]) == -np.sign(shift[1])


@pytest.mark.slow
def test_refitting_with_a_power_scaled_prior(korea_case):
    from decision.models import fit_models

    sampler = dict(SHORT_SAMPLER)
    fits = fit_models(sampler=sampler, use_cache=False)
    ds = prior_sensitivity(
        fits, case=korea_case, priors=["china.accepts"], method="refit", config={"sampler": sampler}
    )
    importance = prior_sensitivity(fits, case=korea_case, priors=["china.accepts"])
    a = ds["mean"].sel(quantity="p_china_accepts").values
    b = importance["mean"].sel(quantity="p_china_accepts").values
    np.testing.assert_allclose(a, b, atol=0.03)
