"""Counterfactual replay of the case: what the brief would have said, month by month.

For each month (by default September 2017 to June 2018) the case is analysed as of the
month's last day, with the evidence public then and the worked ledger
(``examples/monitoring-2017/observations.csv``) read as of the same day, exactly as
``decision monitor --through <month>`` does (:func:`decision.case.analyze`). One row per
month and strategy: the expected value, the probability that the strategy is optimal, the
recommendation and the contingent plan for the spring exercises.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from decision.core.dates import month_end, parse_month

__all__ = ["DEFAULT_REPLAY_MONTHS", "default_ledger", "replay_month", "replay_months"]

#: The replay's default months: the proposal's first monitoring window and the spring after.
DEFAULT_REPLAY_MONTHS = ("2017-09", "2018-06")


def default_ledger() -> Path:
    """Return the worked ledger of ``examples/monitoring-2017`` (in a source checkout)."""
    return Path(__file__).resolve().parents[2] / "examples" / "monitoring-2017" / "observations.csv"


def replay_months(first: str = DEFAULT_REPLAY_MONTHS[0], last: str = DEFAULT_REPLAY_MONTHS[1]):
    """Return the months from ``first`` to ``last`` as ``YYYY-MM``."""
    months = pd.period_range(parse_month(first), parse_month(last), freq="M")
    return [str(m) for m in months]


def replay_month(
    month: str,
    *,
    ledger: str | os.PathLike | None = None,
    scenario: str | None = None,
    sampler: Mapping[str, Any] | None = None,
    seed: int | None = None,
    use_cache: bool = True,
) -> list[dict[str, Any]]:
    """Analyse the case as of the end of ``month`` with the ledger published by then.

    Returns one row per strategy: ``month``, ``as_of``, ``strategy``, ``expected_value``,
    ``p_optimal``, ``recommendation``, ``plan`` (JSON: condition -> option),
    ``plan_share`` (JSON: condition -> share of draws), ``diagnostics_ok``, ``flags``,
    ``seconds``.
    """
    from decision.case import analyze
    from decision.core.config import DEFAULT_SEED
    from decision.observations import load_observations

    start = time.perf_counter()
    as_of = month_end(month)
    path = Path(ledger) if ledger is not None else default_ledger()
    observations = load_observations(path, as_of=as_of)
    analysis = analyze(
        scenario,
        as_of=as_of,
        observations=observations,
        sampler=sampler,
        seed=DEFAULT_SEED if seed is None else seed,
        use_cache=use_cache,
    )
    table = analysis.strategy_table()
    flags = [m for m in (f.flagged_message() for f in analysis.fits.values()) if m]
    seconds = time.perf_counter() - start
    return [
        {
            "scenario_id": month,
            "month": month,
            "as_of": as_of.isoformat(),
            "strategy": str(strategy),
            "expected_value": float(row["expected value"]),
            "p_optimal": float(row["probability optimal"]),
            "recommendation": analysis.recommendation,
            "plan": json.dumps(analysis.contingent_plan, sort_keys=True),
            "plan_share": json.dumps(
                {k: round(float(v), 4) for k, v in analysis.contingent_plan_probability.items()},
                sort_keys=True,
            ),
            "diagnostics_ok": all(f.diagnostics.ok for f in analysis.fits.values()),
            "flags": "; ".join(flags),
            "error": None,
            "seconds": seconds,
        }
        for strategy, row in table.iterrows()
    ]
