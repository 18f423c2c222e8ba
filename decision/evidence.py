"""The evidence tables shipped in ``decision/data``: loading, validation and as-of filtering.

This is the one module that reads evidence. Every table is a CSV file inside the package
(located with :mod:`importlib.resources`); each is validated on load against a pandera
schema, and every loader limits its answer to what was public on an ``as_of`` date
(default :data:`decision.core.config.DEFAULT_AS_OF`, the day of the proposal, 2017-08-20).

Tables (see ``decision/data/README.md`` for definitions, units and sources)
----------------------------------------------------------------------------
``launches_monthly``  DPRK ballistic-missile launches per month (CNS database).
``nuclear_tests``     DPRK nuclear tests with magnitude and yield ranges.
``agreements``        Earlier DPRK agreements and the first public breach of each.
``unsc_resolutions``  UN Security Council sanctions resolutions on the DPRK.
``china_enforcement`` China's enforcement of each sanctions commitment (analyst coding).
``trade_annual``      China-DPRK goods trade by year.
``trade_monthly``     China-DPRK goods trade for single months and half-years.
``exercises``         US-ROK combined exercises.
``dprk_offers``       Freeze or moratorium offers to the DPRK, its own offers, and its answers.
``china_obligations`` China's votes on, refusals of and implementation of enforcement obligations.
``dprk_transfers``    Documented DPRK nuclear and missile technology transfers.

As-of rules
-----------
Every table has a ``published`` column: the date the row's fact became public. A row is
returned only when ``published <= as_of`` (``as_of`` is inclusive: what was public by the
end of that day). Table by table, ``published`` is:

* ``launches_monthly``: the month's last day (launches are public the day they happen, so a
  month's count is complete at its end; the partial last month, the database's date).
* ``nuclear_tests``, ``unsc_resolutions``: the event's own date.
* ``agreements``: the day the agreement was signed or took effect; a breach after ``as_of``
  counts as not yet happened (breaches were public the day they happened). The loader adds
  ``observed`` (bool; False = censored), ``duration_months`` (to the breach, or to ``as_of``
  if censored) and ``months_to_breach`` (NaN if censored), with months = days / 30.4375. On
  a censored row the breach fields and notes are blanked and ``partial_compliance_first``
  is <NA>, because they describe later events.
* ``china_enforcement``: when the evidence behind the coding was public.
* ``trade_annual``, ``trade_monthly``: when the figure was released (or a stated rule).
* ``exercises``: when the row's status was public.
* ``dprk_offers``: when the DPRK's answer was public.
* ``china_obligations``, ``dprk_transfers``: when the record was public.

Errors
------
Bad input raises :class:`decision.core.errors.InputError` naming the file, the row and the
field. Row numbers count CSV lines with the header as row 1, so the first data row is
row 2 (the number a spreadsheet shows). Problems are reported one at a time, the first
one in this order: a missing column, an unexpected column, a cell of the wrong form
(blank, not a number, not a date, not an allowed value) in row order, then a value or
cross-field check in row order.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
from collections.abc import Callable, Iterable
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from decision.core.config import DEFAULT_AS_OF
from decision.core.dates import parse_date
from decision.core.errors import InputError
from decision.core.tables import (
    Col,
    TableSpec,
    between,
    blank_or,
    col_check,
    ge,
    increasing,
    is_missing,
    months_consecutive,
    nondecreasing,
    read_text_csv,
    row_check,
    unique,
    validate_table,
)

__all__ = [
    "NAMES",
    "DAYS_PER_MONTH",
    "load",
    "launches_monthly",
    "nuclear_tests",
    "agreements",
    "unsc_resolutions",
    "china_enforcement",
    "trade_annual",
    "trade_monthly",
    "exercises",
    "dprk_offers",
    "china_obligations",
    "dprk_transfers",
    "OFFER_TYPES",
    "NUCLEAR_TESTS_COMPLETE_THROUGH",
    "data_hash",
    "sources",
    "describe",
    "data_path",
    "Coverage",
    "coverage",
]

#: Days in an average month; durations in months are days / DAYS_PER_MONTH.
DAYS_PER_MONTH = 30.4375

#: Bump when a loader's computation changes, so cached posteriors are invalidated.
_HASH_VERSION = "decision.evidence/2"

#: Separator between several sources in one ``source`` cell.
SOURCE_SEPARATOR = "; "

#: The nuclear-test table is complete through this day: the CSIS database shows no DPRK
#: nuclear test after 2017-09-03 up to August 2026, so a month up to here with no row had
#: no test (nuclear tests are detected seismically and public the same day).
NUCLEAR_TESTS_COMPLETE_THROUGH = dt.date(2026, 7, 31)

#: Offer types of ``dprk_offers`` (see decision/data/README.md for the coding).
OFFER_TYPES = ("freeze_for_freeze", "freeze_plus_pressure", "aid_for_freeze")

# ---------------------------------------------------------------------------
# The tables
# ---------------------------------------------------------------------------

_SOURCE = Col("source")
_NOTES = Col("notes", required=False)
_PUBLISHED = Col("published", "date")
_JUDGMENT = Col("coding", choices=("analyst judgment",))


def _published_after(*fields: str) -> pa.Check:
    """Row check: ``published`` on or after each of ``fields`` (blank fields pass)."""

    def fn(d: pd.DataFrame) -> pd.Series:
        ok = pd.Series(True, index=d.index)
        for field in fields:
            ok &= blank_or(d["published"] >= d[field], d[field])
        return ok

    return row_check("published", f"expected published on or after {' and '.join(fields)}", fn)


LAUNCHES = TableSpec(
    "launches_monthly",
    (
        Col(
            "month",
            "month",
            checks=(
                col_check(
                    months_consecutive,
                    "expected months in order, each one month after the previous row",
                ),
            ),
        ),
        Col("missiles", "int", checks=(ge(0, "a count"),)),
        Col("launch_days", "int", checks=(between(0, 31, "a count of days"),)),
        Col("long_range_missiles", "int", checks=(ge(0, "a count"),)),
        _PUBLISHED,
        _SOURCE,
        _NOTES,
    ),
    row_checks=(
        row_check(
            "launch_days",
            "expected launch_days <= missiles",
            lambda d: d["launch_days"] <= d["missiles"],
        ),
        row_check(
            "launch_days",
            "expected launch_days 0 exactly when missiles is 0",
            lambda d: d["launch_days"].eq(0) == d["missiles"].eq(0),
        ),
        row_check(
            "long_range_missiles",
            "expected long_range_missiles <= missiles",
            lambda d: d["long_range_missiles"] <= d["missiles"],
        ),
        row_check(
            "published",
            "expected published within the month or after it",
            lambda d: d["published"] >= pd.to_datetime(d["month"] + "-01", format="%Y-%m-%d"),
        ),
    ),
    date_field="month",
)

NUCLEAR = TableSpec(
    "nuclear_tests",
    (
        Col(
            "test_number",
            "int",
            checks=(
                col_check(
                    lambda s: pd.Series(s.to_numpy() == np.arange(1, len(s) + 1), index=s.index),
                    "expected test numbers 1, 2, 3, ... in row order",
                ),
            ),
        ),
        Col("date", "date", checks=(increasing("date"),)),
        Col("magnitude_mb_low", "float", checks=(between(0, 10, "a body-wave magnitude"),)),
        Col("magnitude_mb_high", "float", checks=(between(0, 10, "a body-wave magnitude"),)),
        Col("yield_kt_low", "float", required=False, checks=(ge(0, "a yield in kt"),)),
        Col("yield_kt_high", "float", checks=(ge(0, "a yield in kt"),)),
        Col("yield_note"),
        _PUBLISHED,
        _SOURCE,
        _NOTES,
    ),
    row_checks=(
        row_check(
            "magnitude_mb_high",
            "expected magnitude_mb_high >= magnitude_mb_low",
            lambda d: d["magnitude_mb_high"] >= d["magnitude_mb_low"],
        ),
        row_check(
            "yield_kt_high",
            "expected yield_kt_high >= yield_kt_low",
            lambda d: blank_or(d["yield_kt_high"] >= d["yield_kt_low"], d["yield_kt_low"]),
        ),
        _published_after("date"),
    ),
    date_field="date",
)

#: What testing an agreement froze: ``none`` (a facilities freeze or a political
#: commitment), ``missiles``, ``nuclear``, or ``missiles_and_nuclear``.
TESTING_FREEZES = ("none", "missiles", "nuclear", "missiles_and_nuclear")

AGREEMENTS = TableSpec(
    "agreements",
    (
        Col("agreement", checks=(unique("agreement"),)),
        Col("signed", "date", checks=(nondecreasing("signed-date"),)),
        Col("commitment"),
        Col("testing_freeze", choices=TESTING_FREEZES),
        Col("breach_date", "date", required=False),
        Col("breach_event", required=False),
        Col("breach_rationale"),
        Col("partial_compliance_first", "bool"),
        _PUBLISHED,
        _SOURCE,
        _NOTES,
    ),
    row_checks=(
        row_check(
            "breach_date",
            "expected breach_date after signed",
            lambda d: blank_or(d["breach_date"] > d["signed"], d["breach_date"]),
        ),
        row_check(
            "breach_event",
            "expected a breach_event when breach_date is given",
            lambda d: d["breach_date"].isna() | d["breach_event"].notna(),
        ),
        _published_after("signed"),
        row_check(
            "published",
            "expected published before breach_date",
            lambda d: blank_or(d["published"] < d["breach_date"], d["breach_date"]),
        ),
    ),
    date_field="signed",
)

UNSC = TableSpec(
    "unsc_resolutions",
    (
        Col("resolution", "int", checks=(increasing("resolution number"),)),
        Col("adopted", "date", checks=(nondecreasing("adoption-date"),)),
        Col("trigger"),
        Col("measures"),
        _PUBLISHED,
        _SOURCE,
        _NOTES,
    ),
    row_checks=(_published_after("adopted"),),
    date_field="adopted",
)

EXTENTS = (0.0, 0.25, 0.5, 0.75, 1.0)

CHINA = TableSpec(
    "china_enforcement",
    (
        Col(
            "episode",
            checks=(
                unique("episode id"),
                col_check(
                    lambda s: s.str.fullmatch(r"[a-z0-9_]+").astype(bool),
                    "expected an id of lower-case letters, digits and underscores",
                ),
            ),
        ),
        Col("commitment"),
        Col("commitment_date", "date", checks=(nondecreasing("commitment-date"),)),
        Col("measure_type", choices=("unsc_resolution", "china_unilateral")),
        Col("related_to", required=False),
        Col("enforced", choices=("full", "partial", "none")),
        Col(
            "extent",
            "float",
            checks=(col_check(lambda s: s.isin(EXTENTS), "expected one of 0, 0.25, 0.5, 0.75, 1"),),
        ),
        Col("lag_months", "float", required=False, checks=(ge(0, "a lag in months"),)),
        Col("evidence"),
        _PUBLISHED,
        _SOURCE,
        _JUDGMENT,
        Col("rationale"),
        _NOTES,
    ),
    row_checks=(
        _published_after("commitment_date"),
        row_check(
            "extent",
            "expected extent 1 for full, 0 for none, 0.25-0.75 for partial",
            lambda d: pd.Series(
                np.where(
                    d["enforced"] == "full",
                    d["extent"] == 1.0,
                    np.where(
                        d["enforced"] == "none",
                        d["extent"] == 0.0,
                        (d["extent"] > 0) & (d["extent"] < 1),
                    ),
                ),
                index=d.index,
            ),
        ),
        row_check(
            "lag_months",
            "expected lag_months blank exactly when enforced is none",
            lambda d: d["lag_months"].isna() == (d["enforced"] == "none"),
        ),
        row_check(
            "related_to",
            "expected related_to to name an episode in an earlier row",
            lambda d: (
                d["related_to"].isna()
                | pd.Series(
                    [r in set(d["episode"].iloc[:i]) for i, r in enumerate(d["related_to"])],
                    index=d.index,
                )
            ),
        ),
    ),
    date_field="commitment_date",
)

#: Statistical series of ``trade_annual``: each row's figures all come from one of them.
TRADE_SERIES = ("KOTRA", "China customs (GACC)", "ITC/WTO")

TRADE_ANNUAL = TableSpec(
    "trade_annual",
    (
        Col("year", "int", checks=(nondecreasing("year"), between(1950, 2100, "a year"))),
        Col("series", choices=TRADE_SERIES),
        Col("total_usd_m", "float", required=False, checks=(ge(0, "US$ millions"),)),
        Col("china_exports_usd_m", "float", required=False, checks=(ge(0, "US$ millions"),)),
        Col("china_imports_usd_m", "float", required=False, checks=(ge(0, "US$ millions"),)),
        Col("share_of_dprk_trade", "float", required=False, checks=(between(0, 1, "a share"),)),
        _PUBLISHED,
        _SOURCE,
        _NOTES,
    ),
    row_checks=(
        row_check(
            "published",
            "expected published after the end of the year",
            lambda d: d["published"].dt.year > d["year"],
        ),
        row_check(
            "series",
            "expected each (year, series) only once",
            lambda d: ~d.duplicated(["year", "series"]),
        ),
        row_check(
            "total_usd_m",
            "expected at least one of total_usd_m, china_exports_usd_m, china_imports_usd_m",
            lambda d: (
                d[["total_usd_m", "china_exports_usd_m", "china_imports_usd_m"]].notna().any(axis=1)
            ),
        ),
    ),
    date_field="year",
)

TRADE_MONTHLY = TableSpec(
    "trade_monthly",
    (
        Col("period_start", "date", checks=(nondecreasing("period_start"),)),
        Col("period_end", "date"),
        Col("flow", choices=("total", "china_exports", "china_imports")),
        Col("value_usd_m", "float", required=False, checks=(ge(0, "US$ millions"),)),
        Col(
            "yoy_change_pct",
            "float",
            required=False,
            checks=(
                col_check(lambda s: s > -100, "expected a year-on-year change > -100 (per cent)"),
            ),
        ),
        _PUBLISHED,
        _SOURCE,
        _NOTES,
    ),
    row_checks=(
        row_check(
            "period_end",
            "expected period_end on or after period_start",
            lambda d: d["period_end"] >= d["period_start"],
        ),
        row_check(
            "published",
            "expected published after period_end",
            lambda d: d["published"] > d["period_end"],
        ),
        row_check(
            "value_usd_m",
            "expected value_usd_m or yoy_change_pct (or both)",
            lambda d: d["value_usd_m"].notna() | d["yoy_change_pct"].notna(),
        ),
        row_check(
            "flow",
            "expected each (period_start, period_end, flow) only once",
            lambda d: ~d.duplicated(["period_start", "period_end", "flow"]),
        ),
    ),
    date_field="period_start",
)

_SEASON_ORDER = {"spring": 0, "summer": 1}

EXERCISES = TableSpec(
    "exercises",
    (
        Col("year", "int", checks=(between(1950, 2100, "a year"),)),
        Col("season", choices=("spring", "summer")),
        Col("exercise"),
        Col("kind", choices=("command-post", "field", "computer-simulated")),
        Col("start", "date", required=False),
        Col("end", "date", required=False),
        Col("status", choices=("held", "scaled down", "postponed", "suspended", "replaced")),
        Col("us_personnel", "int", required=False, checks=(ge(0, "a head count"),)),
        Col("rok_personnel", "int", required=False, checks=(ge(0, "a head count"),)),
        _PUBLISHED,
        _SOURCE,
        _NOTES,
    ),
    row_checks=(
        row_check(
            "year",
            "expected rows in order of year, then season (spring before summer)",
            lambda d: _nondecreasing_key(d["year"] * 2 + d["season"].map(_SEASON_ORDER)),
        ),
        row_check(
            "start",
            "expected start in the row's year",
            lambda d: blank_or(d["start"].dt.year == d["year"], d["start"]),
        ),
        row_check(
            "end",
            "expected end on or after start",
            lambda d: blank_or(d["end"] >= d["start"], d["end"], d["start"]),
        ),
        _published_after("start", "end"),
    ),
    date_field="published",
)

_ID = col_check(
    lambda s: s.str.fullmatch(r"[a-z0-9_]+").astype(bool),
    "expected an id of lower-case letters, digits and underscores",
)

DPRK_OFFERS = TableSpec(
    "dprk_offers",
    (
        Col("offer_id", checks=(unique("offer id"), _ID)),
        Col("offer_date", "date", checks=(nondecreasing("offer-date"),)),
        Col("offered_by"),
        Col("offer_type", choices=OFFER_TYPES),
        Col("description"),
        Col("dprk_response", choices=("accepted", "refused", "proposed")),
        Col("response_date", "date"),
        _PUBLISHED,
        Col("in_model", "bool"),
        _SOURCE,
        _JUDGMENT,
        Col("rationale"),
        _NOTES,
    ),
    row_checks=(
        row_check(
            "response_date",
            "expected response_date on or after offer_date",
            lambda d: d["response_date"] >= d["offer_date"],
        ),
        _published_after("response_date"),
    ),
    date_field="offer_date",
)

CHINA_OBLIGATIONS = TableSpec(
    "china_obligations",
    (
        Col("record_id", checks=(unique("record id"), _ID)),
        Col("date", "date", checks=(nondecreasing("date"),)),
        Col(
            "record_type",
            choices=("unsc_vote", "declined_draft", "implementation_notice", "china_proposal"),
        ),
        Col("obligation"),
        Col("china_response", choices=("accepted", "declined", "implemented", "proposed")),
        Col("related_to", required=False),
        _PUBLISHED,
        Col("in_acceptance", "bool"),
        _SOURCE,
        _JUDGMENT,
        Col("rationale"),
        _NOTES,
    ),
    row_checks=(
        _published_after("date"),
        row_check(
            "china_response",
            "expected accepted for a unsc_vote, declined for a declined_draft, implemented for "
            "an implementation_notice and proposed for a china_proposal",
            lambda d: (
                d["china_response"]
                == d["record_type"].map(
                    {
                        "unsc_vote": "accepted",
                        "declined_draft": "declined",
                        "implementation_notice": "implemented",
                        "china_proposal": "proposed",
                    }
                )
            ),
        ),
        row_check(
            "in_acceptance",
            "expected in_acceptance true only for a unsc_vote or a declined_draft",
            lambda d: ~d["in_acceptance"] | d["record_type"].isin(["unsc_vote", "declined_draft"]),
        ),
    ),
    date_field="date",
)

DPRK_TRANSFERS = TableSpec(
    "dprk_transfers",
    (
        Col("transfer_id", checks=(unique("transfer id"), _ID)),
        Col("recipient"),
        Col("item", choices=("nuclear", "missile")),
        Col("description"),
        Col("began", "date"),
        Col("ended", "date", required=False),
        _PUBLISHED,
        Col("evidence_grade", choices=("official", "un_panel", "press_report")),
        Col("in_model", "bool"),
        _SOURCE,
        _JUDGMENT,
        Col("rationale"),
        _NOTES,
    ),
    row_checks=(
        row_check(
            "ended",
            "expected ended on or after began",
            lambda d: blank_or(d["ended"] >= d["began"], d["ended"]),
        ),
        _published_after("began"),
    ),
    date_field="began",
)


def _nondecreasing_key(key: pd.Series) -> pd.Series:
    prev = key.cummax().shift(1)
    return ~(key < prev)


_SPECS: dict[str, TableSpec] = {
    s.name: s
    for s in (
        LAUNCHES,
        NUCLEAR,
        AGREEMENTS,
        UNSC,
        CHINA,
        TRADE_ANNUAL,
        TRADE_MONTHLY,
        EXERCISES,
        DPRK_OFFERS,
        CHINA_OBLIGATIONS,
        DPRK_TRANSFERS,
    )
}

#: The evidence tables, in the order used by :func:`describe` and :func:`data_hash`.
NAMES: tuple[str, ...] = tuple(_SPECS)


# ---------------------------------------------------------------------------
# As-of filters
# ---------------------------------------------------------------------------


def _published(df: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    return df[df["published"] <= as_of]


def _filter_agreements(df: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    out = df[df["published"] <= as_of].copy()
    observed = (out["breach_date"].notna() & (out["breach_date"] <= as_of)).astype(bool)
    end = out["breach_date"].where(observed, as_of)
    duration = (end - out["signed"]).dt.days / DAYS_PER_MONTH
    censored = ~observed
    out["partial_compliance_first"] = out["partial_compliance_first"].astype("boolean")
    if censored.any():
        out.loc[censored, "breach_date"] = pd.NaT
        out.loc[censored, "breach_event"] = np.nan
        out.loc[censored, "breach_rationale"] = (
            f"censored: no breach public by {as_of.date().isoformat()}"
        )
        out.loc[censored, "notes"] = np.nan
        out.loc[censored, "partial_compliance_first"] = pd.NA
    out["observed"] = observed
    out["duration_months"] = duration.astype("float64")
    out["months_to_breach"] = duration.where(observed).astype("float64")
    return out


_FILTERS: dict[str, Callable[[pd.DataFrame, pd.Timestamp], pd.DataFrame]] = {
    name: (_filter_agreements if name == "agreements" else _published) for name in _SPECS
}


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------

_CACHE: dict[tuple, pd.DataFrame] = {}


def _spec(name: str) -> TableSpec:
    try:
        return _SPECS[name]
    except KeyError:
        raise InputError(
            f"unknown evidence table {name!r} (expected one of: {', '.join(NAMES)})", field="name"
        ) from None


def data_path(name: str) -> Path:
    """Path of the packaged CSV file for table ``name``."""
    resource = files("decision").joinpath("data", _spec(name).filename)
    with as_file(resource) as path:
        return Path(path)


def _validated(spec: TableSpec, path: str | os.PathLike | None) -> pd.DataFrame:
    if path is None:
        target, file = data_path(spec.name), spec.filename
    else:
        target, file = Path(path), str(path)
    try:
        stat = target.stat()
        key = (spec.name, str(target.resolve()), stat.st_mtime_ns, stat.st_size)
    except OSError:
        key = None
    if key is not None and key in _CACHE:
        return _CACHE[key].copy()
    frame = validate_table(read_text_csv(target, file=file), spec, file=file)
    if key is not None:
        _CACHE[key] = frame
    return frame.copy()


def load(
    name: str, *, as_of: dt.date | str = DEFAULT_AS_OF, path: str | os.PathLike | None = None
) -> pd.DataFrame:
    """Load evidence table ``name`` as known on ``as_of``.

    Parameters
    ----------
    name
        One of :data:`NAMES`.
    as_of
        A date or ``"YYYY-MM-DD"``; rows not public by then are left out (see the
        module docstring for each table's rule).
    path
        Read this CSV instead of the packaged file (same format); for tests and
        for checking edited copies.

    Raises
    ------
    InputError
        Unknown table, bad ``as_of``, or a file that fails validation.
    """
    spec = _spec(name)
    when = pd.Timestamp(parse_date(as_of))
    frame = _validated(spec, path)
    return _FILTERS[name](frame, when).reset_index(drop=True)


def launches_monthly(
    as_of: dt.date | str = DEFAULT_AS_OF, *, path: str | os.PathLike | None = None
) -> pd.DataFrame:
    """DPRK ballistic-missile launches per month, for months complete by ``as_of``."""
    return load("launches_monthly", as_of=as_of, path=path)


def nuclear_tests(
    as_of: dt.date | str = DEFAULT_AS_OF, *, path: str | os.PathLike | None = None
) -> pd.DataFrame:
    """DPRK nuclear tests on or before ``as_of``."""
    return load("nuclear_tests", as_of=as_of, path=path)


def agreements(
    as_of: dt.date | str = DEFAULT_AS_OF, *, path: str | os.PathLike | None = None
) -> pd.DataFrame:
    """Earlier DPRK agreements with ``observed``, ``duration_months``, ``months_to_breach``."""
    return load("agreements", as_of=as_of, path=path)


def unsc_resolutions(
    as_of: dt.date | str = DEFAULT_AS_OF, *, path: str | os.PathLike | None = None
) -> pd.DataFrame:
    """UN Security Council sanctions resolutions adopted on or before ``as_of``."""
    return load("unsc_resolutions", as_of=as_of, path=path)


def china_enforcement(
    as_of: dt.date | str = DEFAULT_AS_OF, *, path: str | os.PathLike | None = None
) -> pd.DataFrame:
    """China's enforcement episodes whose evidence was published by ``as_of``."""
    return load("china_enforcement", as_of=as_of, path=path)


def trade_annual(
    as_of: dt.date | str = DEFAULT_AS_OF, *, path: str | os.PathLike | None = None
) -> pd.DataFrame:
    """China-DPRK annual trade figures published by ``as_of`` (one row per year and series)."""
    return load("trade_annual", as_of=as_of, path=path)


def trade_monthly(
    as_of: dt.date | str = DEFAULT_AS_OF, *, path: str | os.PathLike | None = None
) -> pd.DataFrame:
    """China-DPRK monthly and half-year trade figures public by ``as_of``."""
    return load("trade_monthly", as_of=as_of, path=path)


def exercises(
    as_of: dt.date | str = DEFAULT_AS_OF, *, path: str | os.PathLike | None = None
) -> pd.DataFrame:
    """US-ROK combined exercises whose status was public by ``as_of``."""
    return load("exercises", as_of=as_of, path=path)


def dprk_offers(
    as_of: dt.date | str = DEFAULT_AS_OF, *, path: str | os.PathLike | None = None
) -> pd.DataFrame:
    """Freeze or moratorium offers whose DPRK answer was published by ``as_of``."""
    return load("dprk_offers", as_of=as_of, path=path)


def china_obligations(
    as_of: dt.date | str = DEFAULT_AS_OF, *, path: str | os.PathLike | None = None
) -> pd.DataFrame:
    """China's record on enforcement obligations (votes, refusals, notices) by ``as_of``."""
    return load("china_obligations", as_of=as_of, path=path)


def dprk_transfers(
    as_of: dt.date | str = DEFAULT_AS_OF, *, path: str | os.PathLike | None = None
) -> pd.DataFrame:
    """Documented DPRK nuclear and missile technology transfers published by ``as_of``."""
    return load("dprk_transfers", as_of=as_of, path=path)


# ---------------------------------------------------------------------------
# Summaries
# ---------------------------------------------------------------------------


def _canonical_csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, lineterminator="\n", date_format="%Y-%m-%d")


def data_hash(as_of: dt.date | str = DEFAULT_AS_OF, *, names: Iterable[str] | None = None) -> str:
    """SHA-256 (hex) of the tables as filtered at ``as_of``; a cache key for posteriors.

    The hash depends only on the filtered data (and a format version), so two ``as_of``
    dates that reveal the same rows give the same hash.
    """
    chosen = sorted(set(NAMES if names is None else names))
    digest = hashlib.sha256(_HASH_VERSION.encode())
    for name in chosen:
        frame = load(name, as_of=as_of)
        digest.update(f"\n## {name}\n".encode())
        digest.update(_canonical_csv(frame).encode("utf-8"))
    return digest.hexdigest()


def sources(name: str, *, path: str | os.PathLike | None = None) -> list[str]:
    """Distinct sources cited in table ``name`` (all rows), in order of first use.

    A cell citing several sources separates them with ``"; "``.
    """
    frame = _validated(_spec(name), path)
    seen: dict[str, None] = {}
    for cell in frame["source"]:
        for part in str(cell).split(SOURCE_SEPARATOR):
            part = part.strip()
            if part:
                seen.setdefault(part, None)
    return list(seen)


def _fmt(value: Any) -> str | None:
    if is_missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value)


def describe(as_of: dt.date | str = DEFAULT_AS_OF) -> pd.DataFrame:
    """One row per table: file, rows (at ``as_of``), first and last date, sources count."""
    records = []
    for name in NAMES:
        spec = _SPECS[name]
        frame = load(name, as_of=as_of)
        col = frame[spec.date_field] if spec.date_field else pd.Series(dtype=object)
        col = col.dropna()
        records.append(
            {
                "file": spec.filename,
                "rows": len(frame),
                "first": _fmt(col.min()) if len(col) else None,
                "last": _fmt(col.max()) if len(col) else None,
                "sources": len(sources(name)),
            }
        )
    return pd.DataFrame.from_records(records, columns=["file", "rows", "first", "last", "sources"])


# ---------------------------------------------------------------------------
# Coverage: the dates the evidence can speak for
# ---------------------------------------------------------------------------

_EARLIEST_DAY = dt.date(1900, 1, 1)
_LATEST_DAY = dt.date(2200, 1, 1)


@dataclasses.dataclass(frozen=True)
class Coverage:
    """The dates the evidence tables cover, and the check of an ``as_of`` date against them.

    Attributes
    ----------
    tables
        One row per table (index: table name): ``file``, ``first`` (the day its first row
        became public) and ``last`` (the day its last row did), as dates.
    """

    tables: pd.DataFrame

    @property
    def start(self) -> dt.date:
        """The day the earliest row of any table became public."""
        return min(self.tables["first"])

    @property
    def end(self) -> dt.date:
        """The day the latest row of any table became public: the evidence ends there."""
        return max(self.tables["last"])

    @property
    def start_file(self) -> str:
        """The file holding the earliest row."""
        return str(self.tables["file"][self.tables["first"] == self.start].iloc[0])

    @property
    def end_file(self) -> str:
        """The file holding the latest row."""
        return str(self.tables["file"][self.tables["last"] == self.end].iloc[0])

    def check(
        self,
        as_of: dt.date | str,
        *,
        field: str = "as_of",
        not_before: tuple[dt.date, str] | None = None,
    ) -> dt.date:
        """Return ``as_of`` as a date if the evidence covers it, else raise.

        Parameters
        ----------
        as_of
            The date an analysis is to be run as of.
        field
            What the user gave the date as (``--as-of``, ``-p as_of``), for the message.
        not_before
            A later lower bound and what it is, e.g. ``(proposal date, "the case's
            proposal")``: the question did not exist before it.

        Raises
        ------
        InputError
            For a date before the evidence starts or ``not_before``, or after the evidence
            ends: the tables cannot say what was public then, and the models would read the
            months without rows as evidence (an agreement with no recorded breach counted as
            kept, monitored months without a recorded breach as months a freeze held).
        """
        day = parse_date(as_of, field=field)
        if day > self.end:
            raise InputError(
                f"{day.isoformat()} is after the evidence ends: its latest row became public "
                f"on {self.end.isoformat()} ({self.end_file}), so nothing says what was public "
                f"later; use a date on or before {self.end.isoformat()}, or first add the newer "
                "evidence to decision/data/ (see decision/data/README.md)",
                field=field,
            )
        bounds = [
            (self.start, f"the evidence starts ({self.start.isoformat()}, {self.start_file})")
        ]
        if not_before is not None:
            bounds.append(not_before)
        bound, what = max(bounds, key=lambda pair: pair[0])
        if day < bound:
            raise InputError(
                f"{day.isoformat()} is before {what}; use a date on or after {bound.isoformat()}",
                field=field,
            )
        return day


def _first_day(is_public: Callable[[dt.date], bool]) -> dt.date:
    """Return the earliest day for which ``is_public`` holds (it must hold from that day on)."""
    low, high = _EARLIEST_DAY.toordinal(), _LATEST_DAY.toordinal()
    while low < high:
        middle = (low + high) // 2
        if is_public(dt.date.fromordinal(middle)):
            high = middle
        else:
            low = middle + 1
    return dt.date.fromordinal(low)


def coverage() -> Coverage:
    """Return when each evidence table's first and last rows became public.

    Found from the tables' own as-of rules (a row counts from the first ``as_of`` that
    returns it), so it follows whatever dates the tables carry. Computed once per version of
    the data files.
    """
    key = tuple(_file_signature(data_path(name)) for name in NAMES)
    if key not in _COVERAGE:
        rows = {}
        for name in NAMES:
            spec = _SPECS[name]
            frame = _validated(spec, None)

            def shown(day: dt.date, name=name, frame=frame) -> int:
                return len(_FILTERS[name](frame, pd.Timestamp(day)))

            every = shown(_LATEST_DAY)
            if every == 0:
                continue
            rows[name] = {
                "file": spec.filename,
                "first": _first_day(lambda day, shown=shown: shown(day) > 0),
                "last": _first_day(lambda day, shown=shown, every=every: shown(day) >= every),
            }
        _COVERAGE.clear()
        _COVERAGE[key] = Coverage(pd.DataFrame.from_dict(rows, orient="index"))
    return _COVERAGE[key]


_COVERAGE: dict[tuple, Coverage] = {}


def _file_signature(path: Path) -> tuple:
    try:
        stat = path.stat()
    except OSError:
        return (str(path), None)
    return (str(path), stat.st_mtime_ns, stat.st_size)
