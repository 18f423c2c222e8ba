"""Slow lane: real NUTS fits with the default budget, convergence checks and known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from decision.models import ChinaFollowThroughModel, DPRKComplianceModel

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("model_cls", [DPRKComplianceModel, ChinaFollowThroughModel])
def test_default_fit_converges(model_cls):
    fit = model_cls().fit(use_cache=False)
    d = fit.diagnostics
    assert d.ok, d.flags
    assert d.max_r_hat <= 1.01 and d.min_ess_bulk >= 400 and d.divergences == 0


def test_china_acceptance_matches_the_beta_binomial_closed_form():
    # p_china_accepts has no pooling: its posterior is Beta(a + k, b + n - k) exactly.
    outcomes = [1, 1, 0, 1, 1, 1, 0]
    obs = pd.DataFrame(
        {
            "date": [f"2017-{9 + i // 4:02d}-{1 + i:02d}" for i in range(7)],
            "actor": "China",
            "kind": "accepts_proposal",
            "value": outcomes,
            "source": "synthetic test data",
            "confidence": 1.0,
        }
    )
    model = ChinaFollowThroughModel(as_of="2017-12-31", observations=obs)
    fit = model.fit(use_cache=False)
    a, b = model.priors["accepts"]["alpha"], model.priors["accepts"]["beta"]
    exact = stats.beta(a + sum(outcomes), b + len(outcomes) - sum(outcomes))
    draws = fit.draws("p_china_accepts")
    ess = float(fit.diagnostics.min_ess_bulk)
    # Tolerance: 4 Monte Carlo standard errors of the mean, from the fit's own ESS.
    assert abs(draws.mean() - exact.mean()) < 4 * exact.std() / np.sqrt(ess)
    assert draws.std() == pytest.approx(exact.std(), rel=0.1)
    for q in (0.05, 0.5, 0.95):
        assert np.quantile(draws, q) == pytest.approx(exact.ppf(q), abs=0.03)


def test_monitoring_updates_move_estimates_the_right_way():
    steps = pd.DataFrame(
        {
            "date": ["2017-09-28", "2017-10-28", "2017-11-28", "2017-12-28"],
            "actor": "China",
            "kind": "enforcement_step",
            "value": 1,
            "source": "synthetic test data",
            "confidence": 1.0,
        }
    )
    base = ChinaFollowThroughModel(as_of="2017-12-31").fit(use_cache=False)
    met = ChinaFollowThroughModel(as_of="2017-12-31", observations=steps).fit(use_cache=False)
    missed = ChinaFollowThroughModel(as_of="2017-12-31", observations=steps.assign(value=0)).fit(
        use_cache=False
    )
    mean = {
        k: f.draws("cooperation").mean()
        for k, f in {"base": base, "met": met, "missed": missed}.items()
    }
    assert mean["missed"] < mean["base"] < mean["met"]
