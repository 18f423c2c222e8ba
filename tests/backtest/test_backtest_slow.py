"""Slow lane: the backtest with real fits at default budgets on a few origins.

One Dask worker process: the fits and the scoring still run in a worker process, and the
lane's other pytest worker has the second core (two worker processes cost 104 CPU-seconds
here against 87 for one, in the same wall time). Several workers at once are tested on the
sweep, whose local cluster (``decision.sweep.runner.dask_client_for``) the backtest uses.
"""

from __future__ import annotations

import pytest

from decision.backtest import BASELINES, fit_models_at, read_table, run_backtest
from decision.backtest.runner import BACKTEST_SAMPLER_OVERRIDES
from decision.models import CONVERGENCE_THRESHOLDS

ORIGINS = ["2016-01", "2018-07", "2020-01"]


@pytest.mark.slow
def test_backtest_with_real_fits_converges_and_scores_every_forecaster(tmp_path):
    summary = run_backtest(
        ORIGINS, (6, 12), tmp_path, sampler={"cores": 1}, workers=1, progress=False
    )
    assert summary.ok and summary.computed == len(ORIGINS)
    table = read_table(summary.folder)
    model = table[table["forecaster"] == "model"]
    assert model["diagnostics_ok"].all(), model["flags"].dropna().unique()
    for origin in ORIGINS:  # served from the cache the run filled: the same fits
        _, fits = fit_models_at(origin, sampler=dict(BACKTEST_SAMPLER_OVERRIDES))
        for fit in fits.values():
            assert fit.from_cache
            assert {"prior", "posterior_predictive"}.isdisjoint(fit.idata.groups())
            d = fit.diagnostics
            assert d.max_r_hat <= CONVERGENCE_THRESHOLDS["r_hat"]
            assert d.min_ess_bulk >= CONVERGENCE_THRESHOLDS["ess_bulk"]
            assert d.divergences == 0
    launches = table[table["quantity"] == "launches_all"]
    assert set(launches["forecaster"]) == {"model", *BASELINES}
    assert launches.groupby(["origin", "horizon"]).size().eq(4).all()
    assert table["error"].isna().all()
