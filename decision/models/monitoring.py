"""Turn a monitoring-observations frame into the month-indexed record the models consume."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from decision.core.dates import parse_date

__all__ = ["MonitoringRecord", "monitoring_record", "month_index"]


def month_index(date: dt.date, start: dt.date) -> int:
    """1-based index of the month of ``date`` counted from the month of ``start``."""
    return (date.year - start.year) * 12 + date.month - start.month + 1


def _complete_months(start: dt.date, cutoff: dt.date) -> int:
    """Months from ``start`` whose last day is on or before ``cutoff``."""
    if cutoff < start:
        return 0
    months = month_index(cutoff, start)
    next_day = cutoff + dt.timedelta(days=1)
    return months if next_day.month != cutoff.month else months - 1


@dataclasses.dataclass(frozen=True)
class MonitoringRecord:
    """What monitoring has shown, indexed by month from the monitoring start.

    Attributes
    ----------
    months_monitored
        Complete months of monitoring up to the cutoff.
    dprk_breach_month
        Month (1-based) of the first detected missile launch or nuclear test, or ``None``.
    export_confidence_by_month
        One entry per monitored month: the highest confidence of a suspected export that
        month (0 when none was reported). Months after a detected breach are dropped.
    dprk_accept_outcomes, china_accept_outcomes
        0/1 outcomes of ``freeze_accepted`` and ``accepts_proposal`` observations.
    steps_met, steps_missed
        China's scheduled enforcement steps observed met and missed.
    trade_levels
        China's trade reductions as fractions of the scheduled target.
    """

    months_monitored: int
    dprk_breach_month: int | None
    export_confidence_by_month: tuple[float, ...]
    dprk_accept_outcomes: tuple[int, ...]
    china_accept_outcomes: tuple[int, ...]
    steps_met: int
    steps_missed: int
    trade_levels: tuple[float, ...]


def monitoring_record(
    observations: pd.DataFrame | None, settings: Mapping[str, Any], as_of: dt.date
) -> MonitoringRecord:
    """Summarise ``observations`` from ``settings['monitoring_start']`` to the cutoff.

    The cutoff is ``settings['through']`` if set, else ``as_of``; nothing after it is used.
    """
    start = parse_date(settings["monitoring_start"], field="monitoring_start")
    cutoff = parse_date(settings["through"], field="through") if settings.get("through") else as_of
    cutoff = min(cutoff, as_of)
    months = _complete_months(start, cutoff)
    obs = (
        observations
        if observations is not None
        else pd.DataFrame(columns=["date", "actor", "kind", "value", "confidence"])
    )
    if len(obs):
        dates = pd.to_datetime(obs["date"]).dt.date
        obs = obs.assign(_date=dates)
        obs = obs[(obs["_date"] >= start) & (obs["_date"] <= cutoff)]

    def rows(actor: str, kind: str) -> pd.DataFrame:
        if not len(obs):
            return obs
        return obs[(obs["actor"] == actor) & (obs["kind"] == kind)]

    tests = pd.concat([rows("DPRK", "missile_launch"), rows("DPRK", "nuclear_test")])
    breach = None
    if len(tests):
        breach = min(month_index(d, start) for d in tests["_date"])
        if breach > months:  # a breach in the running month still counts: it was seen
            months = breach
    horizon = breach - 1 if breach is not None else months
    export_conf = np.zeros(horizon)
    for _, row in rows("DPRK", "suspected_export").iterrows():
        k = month_index(row["_date"], start)
        if k <= horizon:
            conf = row.get("confidence", 1.0)
            conf = 1.0 if pd.isna(conf) else float(conf)
            export_conf[k - 1] = max(export_conf[k - 1], conf)
    steps = rows("China", "enforcement_step")["value"].astype(float) if len(obs) else []
    return MonitoringRecord(
        months_monitored=months,
        dprk_breach_month=breach,
        export_confidence_by_month=tuple(float(c) for c in export_conf),
        dprk_accept_outcomes=tuple(int(v) for v in rows("DPRK", "freeze_accepted")["value"])
        if len(obs)
        else (),
        china_accept_outcomes=tuple(int(v) for v in rows("China", "accepts_proposal")["value"])
        if len(obs)
        else (),
        steps_met=int(sum(1 for v in steps if v >= 0.5)),
        steps_missed=int(sum(1 for v in steps if v < 0.5)),
        trade_levels=tuple(float(v) for v in rows("China", "trade_level")["value"])
        if len(obs)
        else (),
    )
