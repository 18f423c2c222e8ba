"""The evidence tables' definitions: each CSV's columns, allowed values and row checks.

One :class:`~decision.core.tables.TableSpec` per file in ``decision/data`` (see
``decision/data/README.md`` for definitions, units and sources); the CSV framework they are
written in is :mod:`decision.core.tables`.

Tables
------
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

Every table has a ``published`` column (the day the row's fact became public) and a
``source`` column; :mod:`decision.evidence.asof` holds the rules that read ``published``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pandera.pandas as pa

from decision.core.errors import InputError
from decision.core.tables import (
    Col,
    TableSpec,
    between,
    blank_or,
    col_check,
    ge,
    increasing,
    months_consecutive,
    nondecreasing,
    row_check,
    unique,
)

__all__ = [
    "AGREEMENTS",
    "CHINA",
    "CHINA_OBLIGATIONS",
    "DPRK_OFFERS",
    "DPRK_TRANSFERS",
    "EXERCISES",
    "EXTENTS",
    "LAUNCHES",
    "NAMES",
    "NUCLEAR",
    "NUCLEAR_TESTS_COMPLETE_THROUGH",
    "OFFER_TYPES",
    "SOURCE_SEPARATOR",
    "SPECS",
    "TESTING_FREEZES",
    "TRADE_ANNUAL",
    "TRADE_MONTHLY",
    "TRADE_SERIES",
    "UNSC",
    "table_spec",
]

#: Separator between several sources in one ``source`` cell.
SOURCE_SEPARATOR = "; "

#: The nuclear-test table is complete through this day: the CSIS database shows no DPRK
#: nuclear test after 2017-09-03 up to August 2026, so a month up to here with no row had
#: no test (nuclear tests are detected seismically and public the same day).
NUCLEAR_TESTS_COMPLETE_THROUGH = dt.date(2026, 7, 31)

#: Offer types of ``dprk_offers`` (see decision/data/README.md for the coding).
OFFER_TYPES = ("freeze_for_freeze", "freeze_plus_pressure", "aid_for_freeze")


_SOURCE = Col("source")
_NOTES = Col("notes", required=False)
_PUBLISHED = Col("published", "date")
_JUDGMENT = Col("coding", choices=("analyst judgment",))
_ID = col_check(
    lambda s: s.str.fullmatch(r"[a-z0-9_]+").astype(bool),
    "expected an id of lower-case letters, digits and underscores",
)


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
            checks=(unique("episode id"), _ID),
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


def _nondecreasing_key(key: pd.Series) -> pd.Series:
    """Return True for each row whose ``key`` is not below any earlier row's."""
    prev = key.cummax().shift(1)
    return ~(key < prev)


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


#: The table definitions by table name.
SPECS: dict[str, TableSpec] = {
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

#: The evidence tables, in the order used by :func:`~decision.evidence.summary.describe` and
#: :func:`~decision.evidence.fingerprint.data_hash`.
NAMES: tuple[str, ...] = tuple(SPECS)


def table_spec(name: str) -> TableSpec:
    """Return the definition of evidence table ``name``.

    Raises
    ------
    InputError
        For a name that is not one of :data:`NAMES`.
    """
    try:
        return SPECS[name]
    except KeyError:
        raise InputError(
            f"unknown evidence table {name!r} (expected one of: {', '.join(NAMES)})", field="name"
        ) from None
