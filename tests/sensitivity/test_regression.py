"""The regressions behind EVPPI: P-splines, tensor products, a Gaussian process, OLS."""

from __future__ import annotations

import numpy as np
import pytest

from decision.sensitivity.regression import fit_regressions, rank_scale


def test_rank_scale_is_uniform_and_handles_ties():
    u = rank_scale(np.array([3.0, 1.0, 2.0, 2.0]))
    np.testing.assert_allclose(u[:, 0], [0.875, 0.125, 0.5, 0.5])


@pytest.mark.parametrize("method", ["gam", "gp"])
def test_smooth_functions_are_recovered(method):
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(3000, 2))
    truth = np.sin(3 * x[:, 0]) + x[:, 1] ** 2
    y = truth + 0.3 * rng.standard_normal(3000)
    fit = fit_regressions(x, y, method=method)[0]
    assert np.sqrt(np.mean((fit.fitted - truth) ** 2)) < 0.05
    sims = fit.simulate(7, rng)
    assert sims.shape == (3000, 7)
    assert 0.2 < np.sqrt(fit.sigma2) < 0.4


def test_constant_responses_and_ols():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(500, 1))
    fits = fit_regressions(x, np.column_stack([np.full(500, 3.0), x[:, 0]]), method="ols")
    assert fits[0].method == "constant" and np.all(fits[0].fitted == 3.0)
    assert fits[1].method == "ols"
    # ranks, not values, are regressed on: a monotone x is fitted nearly but not exactly
    assert np.corrcoef(fits[1].fitted, x[:, 0])[0, 1] > 0.95
