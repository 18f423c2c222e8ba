"""What monitoring has shown, month by month: the evidence tables merged with the ledger.

The monitoring window starts on ``settings['monitoring_start']`` (month 1 is the month that
contains it) and is read up to a cutoff: ``settings['through']`` if set, else ``as_of``, and
never later than ``as_of``. Only what was **published** by the cutoff is used.

Sources, kind by kind:

* ``missile_launch``: the monthly launch table (``launches_monthly``, CNS) for every month
  whose count is published by the cutoff, plus launches in the ledger (which can report a
  launch in the running month before the table's count for that month is complete). A month
  is *observed* when the table has its count or the ledger reports a launch in it.
* ``nuclear_test``: the nuclear-test table (complete through
  :data:`decision.evidence.NUCLEAR_TESTS_COMPLETE_THROUGH`; tests are public the day they
  happen) plus ledger rows. A month is observed when it is complete by the cutoff and inside
  the table's coverage, or when a test was seen in it.
* ``suspected_export``, ``enforcement_step``, ``trade_level``: the ledger only. A month with
  no row is *not reported*: it is never read as compliance.

The DPRK's answer to the monitored offer (:func:`freeze_status`): an explicit
``freeze_accepted`` row in the ledger (the latest published one), or, when there is none and
the DPRK tested inside the window, an implied refusal: testing before any acceptance is
evidence that the DPRK is not freezing (it refused), not a breach of a freeze it never
accepted. Only a test on or after an acceptance is a breach.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from decision.core.dates import complete_months, month_end, month_index, parse_date

__all__ = [
    "NOT_REPORTED",
    "OBSERVED",
    "STATUS_KINDS",
    "FreezeStatus",
    "MonitoringRecord",
    "freeze_months_mask",
    "freeze_status",
    "monitoring_record",
    "month_index",
]

#: Status of a kind in a month: seen (with or without an event), or nothing on record.
OBSERVED = "observed"
NOT_REPORTED = "not reported"

#: The kinds that have a status every month (acceptance is an event, not a monthly report).
STATUS_KINDS = ("missile_launch", "nuclear_test", "suspected_export", "enforcement_step")


def _month_label(start: dt.date, k: int) -> str:
    """``YYYY-MM`` of monitoring month ``k`` (1-based)."""
    total = start.year * 12 + start.month - 1 + k - 1
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


def _month_last_day(start: dt.date, k: int) -> dt.date:
    """Last day of monitoring month ``k`` (1-based)."""
    return month_end(_month_label(start, k))


@dataclasses.dataclass(frozen=True)
class MonitoringRecord:
    """What monitoring has shown, indexed by month from the monitoring start.

    Attributes
    ----------
    start, cutoff
        First day of monitoring and the last day whose publications are used.
    months_monitored
        Complete months from the start up to the cutoff.
    test_dates
        Dates of the DPRK's detected missile launches and nuclear tests in the window
        (tables and ledger, published by the cutoff), sorted.
    test_months
        Distinct months (1-based) with a detected test.
    tests_observed_through
        Last month (1-based) up to which every month is observed for both missile launches
        and nuclear tests (0 if none): survival of a freeze can be read only that far.
    accept_events
        ``(date, value)`` of the ledger's ``freeze_accepted`` rows, in published order.
    export_reports
        ``(month, confidence)`` of suspected exports: the highest confidence in each month.
    china_accept_outcomes
        0/1 outcomes of ``accepts_proposal`` rows, in published order.
    steps_met, steps_missed
        China's scheduled steps observed met and missed (``enforcement_step`` rows).
    trade_levels
        China's trade reductions as fractions of the scheduled target (``trade_level`` rows).
    status
        One row per month and kind of :data:`STATUS_KINDS`: ``month`` (``YYYY-MM``), ``kind``,
        ``status`` (:data:`OBSERVED` or :data:`NOT_REPORTED`), ``events`` (count seen that
        month) and ``source`` (where the status comes from).
    """

    start: dt.date
    cutoff: dt.date
    months_monitored: int
    test_dates: tuple[dt.date, ...]
    test_months: tuple[int, ...]
    tests_observed_through: int
    accept_events: tuple[tuple[dt.date, int], ...]
    export_reports: tuple[tuple[int, float], ...]
    china_accept_outcomes: tuple[int, ...]
    steps_met: int
    steps_missed: int
    trade_levels: tuple[float, ...]
    status: pd.DataFrame = dataclasses.field(compare=False, repr=False)

    @property
    def dprk_accept_outcomes(self) -> tuple[int, ...]:
        """0/1 values of the ledger's ``freeze_accepted`` rows (explicit answers only)."""
        return tuple(v for _, v in self.accept_events)

    def status_frame(self) -> pd.DataFrame:
        """Return the per-month, per-kind status table (a copy)."""
        return self.status.copy()


@dataclasses.dataclass(frozen=True)
class FreezeStatus:
    """The DPRK's answer to the monitored offer and the freeze's record so far.

    Attributes
    ----------
    accepted
        1 accepted, 0 refused, ``None`` not known.
    reason
        ``"ledger"`` (an explicit ``freeze_accepted`` row), ``"tests before any
        acceptance"`` (an implied refusal) or ``None``.
    start_month
        Monitoring month (1-based) in which the freeze started: the month of the acceptance,
        at least 1 and at most the window's last month; 1 when no freeze was accepted.
    breach_month
        Monitoring month of the first detected test on or after the acceptance, or ``None``.
    clean_months
        Complete, fully observed months under the freeze without a detected test (counted
        from ``start_month``; 0 when no freeze was accepted).
    """

    accepted: int | None
    reason: str | None
    start_month: int
    breach_month: int | None
    clean_months: int

    @property
    def breach_age(self) -> int | None:
        """Month of the freeze (1 = its first month) in which the breach was seen."""
        return None if self.breach_month is None else self.breach_month - self.start_month + 1


def _empty_observations() -> pd.DataFrame:
    return pd.DataFrame(
        columns=["date", "actor", "kind", "value", "source", "confidence", "published"]
    )


def _window_rows(
    observations: pd.DataFrame | None, start: dt.date, cutoff: dt.date
) -> pd.DataFrame:
    obs = observations if observations is not None else _empty_observations()
    if not len(obs):
        return obs.assign(_date=pd.Series(dtype=object), _published=pd.Series(dtype=object))
    dates = pd.to_datetime(obs["date"])
    published = pd.to_datetime(obs["published"]) if "published" in obs else dates
    published = published.fillna(dates)
    obs = obs.assign(_date=dates.dt.date, _published=published.dt.date)
    keep = (obs["_date"] >= start) & (obs["_date"] <= cutoff) & (obs["_published"] <= cutoff)
    return obs[keep].sort_values("_published", kind="stable")


def monitoring_record(
    observations: pd.DataFrame | None, settings: Mapping[str, Any], as_of: dt.date
) -> MonitoringRecord:
    """Merge the evidence tables and ``observations`` into the month-indexed record.

    Parameters
    ----------
    observations
        A ledger frame (:func:`decision.observations.load_observations`), or ``None``.
    settings
        ``monitoring_start`` and ``through`` (``None``: use ``as_of``).
    as_of
        Evidence date: nothing published later is used.
    """
    from decision import evidence

    start = parse_date(settings["monitoring_start"], field="monitoring_start")
    cutoff = parse_date(settings["through"], field="through") if settings.get("through") else as_of
    cutoff = min(cutoff, as_of)
    months = complete_months(start, cutoff)
    obs = _window_rows(observations, start, cutoff)

    def rows(actor: str, kind: str) -> pd.DataFrame:
        return obs[(obs["actor"] == actor) & (obs["kind"] == kind)] if len(obs) else obs

    # The tables, as published by the cutoff.
    launches = evidence.launches_monthly(as_of=cutoff)
    launch_months = {
        month_index(pd.Timestamp(f"{m}-01").date(), start): int(n)
        for m, n in zip(launches["month"], launches["missiles"], strict=False)
        if pd.Timestamp(f"{m}-01").date() >= start.replace(day=1)
    }
    nuclear = evidence.nuclear_tests(as_of=cutoff)
    nuclear_dates = [d.date() for d in nuclear["date"] if start <= d.date() <= cutoff]
    ledger_launch_dates = list(rows("DPRK", "missile_launch")["_date"])
    ledger_nuclear_dates = list(rows("DPRK", "nuclear_test")["_date"])

    # Months up to the running one if a test was seen in it.
    test_dates = sorted(set(nuclear_dates) | set(ledger_nuclear_dates) | set(ledger_launch_dates))
    ledger_launch_months: dict[int, int] = {}
    for d, n in zip(ledger_launch_dates, rows("DPRK", "missile_launch")["value"], strict=False):
        k = month_index(d, start)
        ledger_launch_months[k] = ledger_launch_months.get(k, 0) + int(n)
    table_launch_dates = [
        # The table counts launches by month: a launch known only from it is dated at the
        # month's last day (or the cutoff), so in the month of an acceptance it counts as
        # a breach unless the ledger gives its day.
        min(_month_last_day(start, k), cutoff)
        for k, n in launch_months.items()
        if n > 0 and k not in ledger_launch_months
    ]
    test_dates = sorted(set(test_dates) | set(table_launch_dates))
    test_months = sorted({month_index(d, start) for d in test_dates})
    last_month = max([months, *test_months]) if test_months else months
    coverage = evidence.NUCLEAR_TESTS_COMPLETE_THROUGH

    records = []
    observed_both = []
    table_nuclear_months = {month_index(d, start) for d in nuclear_dates}
    export_rows = rows("DPRK", "suspected_export")
    export_by_month: dict[int, float] = {}
    for _, row in export_rows.iterrows():
        k = month_index(row["_date"], start)
        conf = row.get("confidence", 1.0)
        conf = 1.0 if pd.isna(conf) else float(conf)
        export_by_month[k] = max(export_by_month.get(k, 0.0), conf)
    step_rows = pd.concat([rows("China", "enforcement_step"), rows("China", "trade_level")])
    step_months: dict[int, int] = {}
    for d in step_rows["_date"] if len(step_rows) else []:
        k = month_index(d, start)
        step_months[k] = step_months.get(k, 0) + 1
    for k in range(1, last_month + 1):
        label = _month_label(start, k)
        complete = k <= months
        last_day = _month_last_day(start, k)
        if k in launch_months:
            launch_status, launch_n, launch_src = OBSERVED, launch_months[k], "launches_monthly"
        elif k in ledger_launch_months:
            launch_status, launch_n, launch_src = OBSERVED, ledger_launch_months[k], "ledger"
        else:
            launch_status, launch_n, launch_src = NOT_REPORTED, 0, ""
        n_nuclear = len(
            {d for d in [*nuclear_dates, *ledger_nuclear_dates] if month_index(d, start) == k}
        )
        if n_nuclear:
            source = "nuclear_tests" if k in table_nuclear_months else "ledger"
            nuclear_status, nuclear_src = OBSERVED, source
        elif complete and last_day <= coverage:
            nuclear_status, nuclear_src = OBSERVED, "nuclear_tests"
        else:
            nuclear_status, nuclear_src = NOT_REPORTED, ""
        observed_both.append(launch_status == OBSERVED and nuclear_status == OBSERVED)
        export_status = OBSERVED if k in export_by_month else NOT_REPORTED
        step_status = OBSERVED if k in step_months else NOT_REPORTED
        export_src = "ledger" if k in export_by_month else ""
        step_src = "ledger" if k in step_months else ""
        records += [
            (label, "missile_launch", launch_status, launch_n, launch_src),
            (label, "nuclear_test", nuclear_status, n_nuclear, nuclear_src),
            (label, "suspected_export", export_status, int(k in export_by_month), export_src),
            (label, "enforcement_step", step_status, step_months.get(k, 0), step_src),
        ]
    through = 0
    for k, ok in enumerate(observed_both, start=1):
        if not ok or k > months:
            break
        through = k
    status = pd.DataFrame.from_records(
        records, columns=["month", "kind", "status", "events", "source"]
    )
    accept_rows = rows("DPRK", "freeze_accepted")
    steps = rows("China", "enforcement_step")["value"].astype(float) if len(obs) else []
    return MonitoringRecord(
        start=start,
        cutoff=cutoff,
        months_monitored=months,
        test_dates=tuple(test_dates),
        test_months=tuple(test_months),
        tests_observed_through=through,
        accept_events=tuple(
            (d, int(v)) for d, v in zip(accept_rows["_date"], accept_rows["value"], strict=False)
        )
        if len(accept_rows)
        else (),
        export_reports=tuple(sorted(export_by_month.items())),
        china_accept_outcomes=tuple(int(v) for v in rows("China", "accepts_proposal")["value"])
        if len(obs)
        else (),
        steps_met=int(sum(1 for v in steps if v >= 0.5)),
        steps_missed=int(sum(1 for v in steps if v < 0.5)),
        trade_levels=tuple(float(v) for v in rows("China", "trade_level")["value"])
        if len(obs)
        else (),
        status=status,
    )


def freeze_status(record: MonitoringRecord, window_months: int) -> FreezeStatus:
    """Read the DPRK's answer to the monitored offer and its freeze record (module doc).

    Parameters
    ----------
    record
        The monitoring record.
    window_months
        Length of the monitoring window (the freeze starts no later than its last month).
    """
    start = record.start
    if record.accept_events:
        accept_date, value = record.accept_events[-1]
        if value == 0:
            return FreezeStatus(0, "ledger", 1, None, 0)
        first = max(1, min(month_index(accept_date, start), window_months))
        later = [d for d in record.test_dates if d >= accept_date]
        breach = month_index(later[0], start) if later else None
        if breach is not None:
            breach = max(breach, first)
            return FreezeStatus(1, "ledger", first, breach, max(breach - first, 0))
        clean = max(record.tests_observed_through - first + 1, 0)
        return FreezeStatus(1, "ledger", first, None, clean)
    if record.test_dates:
        return FreezeStatus(0, "tests before any acceptance", 1, None, 0)
    return FreezeStatus(None, None, 1, None, 0)


def freeze_months_mask(months: np.ndarray, spans: list[tuple[str, str | None]]) -> np.ndarray:
    """Flag each ``YYYY-MM`` of ``months`` inside a freeze span ``[first, end)``.

    ``end`` is the first month *not* under the freeze (``None``: still under it).
    """
    mask = np.zeros(len(months), dtype=bool)
    for first, end in spans:
        inside = months >= first
        if end is not None:
            inside &= months < end
        mask |= inside
    return mask
