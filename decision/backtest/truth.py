"""What happened after an origin: the observed value of every quantity a backtest scores.

Read from the evidence tables as public at the end of the evidence
(:func:`decision.evidence.coverage`), so the truth may use rows published long after the
origin (China's enforcement coding, for one); the forecasts never do.

Quantities
----------
``launches_all``, ``launches_long_range``
    Missiles launched in the window (``launches_monthly``: all, and long-range).
``nuclear_test``
    1 if the DPRK conducted a nuclear test in the window, else 0.
``agreement_breach``
    For every agreement standing at the origin (signed and public by then, no breach yet):
    1 if its first breach fell in the window, else 0. ``item`` is the agreement.
``china_lag_days``
    For every UN sanctions resolution adopted in the window whose enforcement by China is
    coded (``china_enforcement``): days from adoption to China's first implementing step
    (``lag_months`` x 30.4375, rounded). ``item`` is the episode.
``china_extent``
    For the same resolutions: the coded extent of China's enforcement in quarters (0 to 4).

A window is scored only when the evidence covers it: its last month must be complete by the
end of the launch record (:func:`last_complete_month`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools

import numpy as np
import pandas as pd

from decision import evidence
from decision.backtest.origins import as_of_for, window_months
from decision.evidence import DAYS_PER_MONTH

__all__ = [
    "COUNT_QUANTITIES",
    "EVENT_QUANTITIES",
    "QUANTITIES",
    "Outcome",
    "evidence_end",
    "last_complete_month",
    "outcomes",
    "standing_agreements",
]

#: Quantities scored as counts (whole numbers), as events (0/1), and all, in table order.
COUNT_QUANTITIES = ("launches_all", "launches_long_range", "china_lag_days", "china_extent")
EVENT_QUANTITIES = ("nuclear_test", "agreement_breach")
QUANTITIES = (
    "launches_all",
    "launches_long_range",
    "nuclear_test",
    "agreement_breach",
    "china_lag_days",
    "china_extent",
)


@dataclasses.dataclass(frozen=True)
class Outcome:
    """One observed value: a quantity (and item) over a window from an origin."""

    origin: str
    horizon: int
    quantity: str
    item: str
    observed: int


def evidence_end() -> dt.date:
    """Return the day the latest evidence row became public: nothing later is known."""
    return evidence.coverage().end


def last_complete_month() -> str:
    """Return the last month whose launch count is complete (its last day is published)."""
    table = _launches()
    end = table["published"] >= pd.to_datetime(table["month"] + "-01") + pd.offsets.MonthEnd(0)
    return str(table.loc[end, "month"].iloc[-1])


@functools.cache
def _launches() -> pd.DataFrame:
    return evidence.launches_monthly(as_of=evidence_end())


@functools.cache
def _nuclear() -> pd.DataFrame:
    return evidence.nuclear_tests(as_of=evidence_end())


@functools.cache
def _agreements() -> pd.DataFrame:
    return evidence.agreements(as_of=evidence_end())


@functools.cache
def _resolutions() -> pd.DataFrame:
    table = evidence.china_enforcement(as_of=evidence_end())
    return table[table["measure_type"] == "unsc_resolution"].reset_index(drop=True)


def standing_agreements(as_of: dt.date) -> pd.DataFrame:
    """Agreements public and not yet breached on ``as_of``, with their age in months."""
    table = evidence.agreements(as_of=as_of)
    standing = table[~table["observed"]]
    return standing[["agreement", "signed", "duration_months"]].reset_index(drop=True)


def outcomes(origin: str, horizon: int) -> list[Outcome]:
    """Return what happened in the ``horizon`` months from ``origin`` (empty if not covered).

    A window that runs past :func:`last_complete_month` is not scored: the tables cannot say
    what happened in its last months.
    """
    months = window_months(origin, horizon)
    if months[-1] > last_complete_month():
        return []
    first = pd.Timestamp(months[0] + "-01")
    last = pd.Timestamp(months[-1] + "-01") + pd.offsets.MonthEnd(0)
    out: list[Outcome] = []

    def add(quantity: str, value: int, item: str = "") -> None:
        out.append(Outcome(origin, int(horizon), quantity, item, int(value)))

    launches = _launches()
    inside = launches[launches["month"].isin(months)]
    add("launches_all", inside["missiles"].sum())
    add("launches_long_range", inside["long_range_missiles"].sum())
    tests = _nuclear()["date"]
    add("nuclear_test", ((tests >= first) & (tests <= last)).any())

    later = _agreements().set_index("agreement")
    for row in standing_agreements(as_of_for(origin)).itertuples(index=False):
        breach = later.loc[row.agreement, "breach_date"]
        add("agreement_breach", pd.notna(breach) and first <= breach <= last, row.agreement)

    resolutions = _resolutions()
    adopted = resolutions[
        (resolutions["commitment_date"] >= first) & (resolutions["commitment_date"] <= last)
    ]
    for row in adopted.itertuples(index=False):
        if pd.notna(row.lag_months):
            add("china_lag_days", int(np.rint(row.lag_months * DAYS_PER_MONTH)), row.episode)
        add("china_extent", int(np.rint(row.extent * 4)), row.episode)
    return out
