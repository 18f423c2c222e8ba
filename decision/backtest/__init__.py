"""Backtest: score the models' forecasts against what happened, origin by origin.

=============  ===============================================================================
``origins``    Rolling origins (``YYYY-MM``), the day each is fitted as of, scored windows.
``truth``      What happened in a window after an origin, from the evidence tables.
``forecasts``  The models' posterior predictive at an origin and the simple baselines.
``scores``     Log score, CRPS, Brier, interval coverage, randomised PIT.
``replay``     The case re-analysed month by month with the evidence and ledger of the day.
``runner``     :func:`run_backtest` on Dask: one task per origin, resumable Parquet parts.
``summary``    Score tables, calibration and plain-words verdicts for the report.
=============  ===============================================================================

``decision backtest`` (:mod:`decision.cli.backtest`) is the command line,
``decision report backtest`` the report, ``docs/backtest.md`` the guide.
"""

from decision.backtest.forecasts import (
    BASELINES,
    FORECASTERS,
    History,
    ModelDraws,
    baseline_forecasts,
    fit_models_at,
    model_forecast,
    oracle_forecast,
)
from decision.backtest.origins import (
    as_of_for,
    origin_months,
    parse_every,
    parse_horizons,
    window_months,
)
from decision.backtest.replay import replay_month, replay_months
from decision.backtest.runner import BacktestSummary, backtest_origin, read_table, run_backtest
from decision.backtest.scores import crps, crps_from_samples, log_score, pit, score_all
from decision.backtest.truth import QUANTITIES, Outcome, outcomes

__all__ = [
    "BASELINES",
    "FORECASTERS",
    "QUANTITIES",
    "BacktestSummary",
    "History",
    "ModelDraws",
    "Outcome",
    "as_of_for",
    "backtest_origin",
    "baseline_forecasts",
    "crps",
    "crps_from_samples",
    "fit_models_at",
    "log_score",
    "model_forecast",
    "oracle_forecast",
    "origin_months",
    "outcomes",
    "parse_every",
    "parse_horizons",
    "pit",
    "read_table",
    "replay_month",
    "replay_months",
    "run_backtest",
    "score_all",
    "window_months",
]
