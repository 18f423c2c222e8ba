"""The exercise calendar the case charges readiness against, read from ``exercises.csv``.

The regular US-ROK cycle has a spring season (Key Resolve, a command-post exercise, and Foal
Eagle, a field exercise) and a summer season (Ulchi Freedom Guardian). The events of the next
cycle are taken from the most recent season of each kind public at ``as_of`` whose exercises
were held as planned: what an analyst on that date would expect the next year's calendar to be.
"""

from __future__ import annotations

import datetime as dt

from decision import evidence

__all__ = ["calendar_inputs"]

#: Months (1-12) of each season, for placing events in the horizon.
SEASON_MONTHS = {"spring": 3, "summer": 8}


def calendar_inputs(as_of: dt.date) -> dict[str, float]:
    """Exercise events in the monitoring window and in the twelve months after it.

    The monitoring window runs six months from the models' monitoring start (September 2017,
    the month after the proposal); the twelve months after it follow. Each season's event count
    is that of its most recent year with held exercises of that season public at ``as_of``.
    """
    from decision.core.dates import parse_date
    from decision.models import DPRKComplianceModel

    table = evidence.exercises(as_of=as_of)
    held = table[table["status"] == "held"]
    counts = {}
    for season in SEASON_MONTHS:
        rows = held[held["season"] == season]
        if len(rows):
            latest = int(rows["year"].max())
            counts[season] = int((rows["year"] == latest).sum())
        else:
            counts[season] = 0
    start = parse_date(DPRKComplianceModel.default_settings()["monitoring_start"])
    window = _months(start, 6)
    after = _months(_shift(start, 6), 12)
    return {
        "n_events_window": float(sum(counts[s] for s, m in SEASON_MONTHS.items() if m in window)),
        "n_events_after": float(sum(counts[s] for s, m in SEASON_MONTHS.items() if m in after)),
    }


def _shift(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _months(start: dt.date, count: int) -> set[int]:
    return {_shift(start, k).month for k in range(count)}
