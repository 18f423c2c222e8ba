"""Monitoring observations: what each party was seen to do during the monitoring period.

The freeze-plus-pressure proposal calls for six months of monitoring of every party's
compliance before the spring exercises. Observations from that period are recorded in a
CSV file that the Bayesian models read through :func:`load_observations` and
:func:`summarise_monitoring`.

File format
-----------
UTF-8 CSV with a header row. Columns (any order):

``date``        required; the day of the event as ``YYYY-MM-DD`` (UTC where the source
                gives UTC). Rows must be in non-decreasing date order.
``actor``       required; exactly ``DPRK`` or ``China``. US/ROK actions are not
                observations: they are in the exercises table of :mod:`decision.evidence`.
``kind``        required; one of the kinds allowed for the actor (below).
``value``       required; a number whose meaning depends on the kind (below).
``source``      required, non-blank; who reported it.
``confidence``  optional column (blank = 1); the probability, from 0 to 1, that the
                report is true.
``note``        optional column; free text.
``published``   optional column (blank = ``date``); the day the observation became public,
                on or after ``date``. A launch or a nuclear test is public the day it
                happens; a monthly customs figure is published the following month, so
                its ``date`` is the last day of the month measured and ``published`` the
                day the figure was released. Cutoffs (``as_of``, ``--through``) filter on
                ``published``: a figure published after the cutoff is not used.

Kinds and values
----------------
=========  ====================  =====================================================
actor      kind                  value
=========  ====================  =====================================================
DPRK       ``missile_launch``    missiles launched that day: a whole number >= 1
DPRK       ``nuclear_test``      1
DPRK       ``suspected_export``  1 (a reported export of nuclear or missile technology;
                                 ``confidence`` = probability the report is true)
DPRK       ``freeze_accepted``   1 = publicly accepted the freeze, 0 = refused
China      ``enforcement_step``  1 = a scheduled enforcement step met, 0 = missed
China      ``trade_level``       achieved trade reduction as a fraction of the scheduled
                                 target reduction, >= 0 (e.g. 0.8; above 1 = beyond it)
China      ``accepts_proposal``  1 = China accepted the counter-proposal, 0 = rejected
=========  ====================  =====================================================

Errors name the file, the row (header = row 1, first data row = row 2) and the field:
missing or unexpected column, unknown actor, a kind not allowed for the actor, a bad
date, a date earlier than the previous row's, a value out of range for its kind, a
confidence outside [0, 1], a blank source.

Example: ``decision/data/observations_example.csv`` (real events, Sep 2017 - Feb 2018).
"""

from __future__ import annotations

import datetime as dt
import os
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from decision.core.atomic import atomic_write_text
from decision.core.dates import complete_months, month_index, parse_date
from decision.core.errors import InputError
from decision.core.tables import (
    Col,
    TableSpec,
    col_check,
    read_text_csv,
    row_check,
    text_frame,
    validate_table,
)

__all__ = [
    "ACTORS",
    "KINDS",
    "COLUMNS",
    "load_observations",
    "validate_observations",
    "empty_observations",
    "write_observations",
    "summarise_monitoring",
    "published_by",
    "example_path",
]

#: Allowed kinds for each actor.
KINDS: dict[str, tuple[str, ...]] = {
    "DPRK": ("missile_launch", "nuclear_test", "suspected_export", "freeze_accepted"),
    "China": ("enforcement_step", "trade_level", "accepts_proposal"),
}
ACTORS: tuple[str, ...] = tuple(KINDS)

#: Column order of a loaded observations frame.
COLUMNS: tuple[str, ...] = (
    "date",
    "actor",
    "kind",
    "value",
    "source",
    "confidence",
    "note",
    "published",
)


def _kind_check(actor: str):
    kinds = KINDS[actor]
    expected = f"expected a {actor} kind: " + ", ".join(kinds)
    return row_check("kind", expected, lambda d: (d["actor"] != actor) | d["kind"].isin(kinds))


def _value_check(kind: str, expected: str, ok):
    return row_check(
        "value",
        f"expected value for {kind}: {expected}",
        lambda d: (d["kind"] != kind) | ok(d["value"]),
    )


def _binary(v: pd.Series) -> pd.Series:
    return v.isin([0.0, 1.0])


def _nondecreasing_dates(s: pd.Series) -> pd.Series:
    prev = s.cummax().shift(1)
    return ~(s < prev)


SPEC = TableSpec(
    "observations",
    (
        Col(
            "date",
            "date",
            checks=(
                col_check(
                    _nondecreasing_dates,
                    "expected rows in date order (not earlier than the previous row)",
                ),
            ),
        ),
        Col("actor", choices=ACTORS),
        Col("kind"),
        Col("value", "float"),
        Col("source"),
        Col(
            "confidence",
            "float",
            required=False,
            optional=True,
            checks=(
                col_check(lambda s: (s >= 0) & (s <= 1), "expected a confidence between 0 and 1"),
            ),
        ),
        Col("note", required=False, optional=True),
        Col("published", "date", required=False, optional=True),
    ),
    row_checks=(
        row_check(
            "published",
            "expected published on or after date",
            lambda d: d["published"].isna() | (d["published"] >= d["date"]),
        ),
        _kind_check("DPRK"),
        _kind_check("China"),
        _value_check(
            "missile_launch",
            "a whole number of missiles >= 1",
            lambda v: (v >= 1) & (v == np.floor(v)),
        ),
        _value_check("nuclear_test", "1", lambda v: v == 1),
        _value_check("suspected_export", "1 (put the probability in confidence)", lambda v: v == 1),
        _value_check("freeze_accepted", "1 (accepted) or 0 (refused)", _binary),
        _value_check("enforcement_step", "1 (step met) or 0 (missed)", _binary),
        _value_check("trade_level", "a fraction of the target reduction >= 0", lambda v: v >= 0),
        _value_check("accepts_proposal", "1 (accepted) or 0 (rejected)", _binary),
    ),
    date_field="date",
)


def _finish(typed: pd.DataFrame) -> pd.DataFrame:
    out = typed.loc[:, list(COLUMNS)].copy()
    out["confidence"] = out["confidence"].fillna(1.0).astype("float64")
    out["published"] = out["published"].fillna(out["date"]).astype("datetime64[ns]")
    return out.reset_index(drop=True)


def validate_observations(df: pd.DataFrame, *, file: str = "observations") -> pd.DataFrame:
    """Validate an observations frame (as read, or built in memory) and return it typed.

    Row numbers in errors assume the frame's rows are the file's rows in order (first
    row = row 2). Returns columns :data:`COLUMNS`: ``date`` as datetime64, ``value`` and
    ``confidence`` as float (blank confidence = 1), the rest as strings.

    Raises
    ------
    InputError
        The first problem, naming ``file``, the row and the field.
    """
    return _finish(validate_table(text_frame(df), SPEC, file=file))


def load_observations(
    path: str | os.PathLike, *, as_of: dt.date | str | None = None
) -> pd.DataFrame:
    """Read and validate an observations CSV; drop rows published after ``as_of`` if given.

    The cutoff applies to ``published`` (which defaults to ``date``), so a customs figure
    for September released in October is not used as of 30 September.
    """
    file = str(path)
    frame = _finish(validate_table(read_text_csv(path, file=file), SPEC, file=file))
    if as_of is not None:
        frame = published_by(frame, as_of)
    return frame


def published_by(frame: pd.DataFrame, cutoff: dt.date | str) -> pd.DataFrame:
    """Keep the rows of a typed observations frame published on or before ``cutoff``."""
    when = pd.Timestamp(parse_date(cutoff, field="cutoff"))
    published = frame["published"] if "published" in frame else frame["date"]
    published = pd.to_datetime(published).fillna(pd.to_datetime(frame["date"]))
    return frame[published <= when].reset_index(drop=True)


def empty_observations() -> pd.DataFrame:
    """Return a valid observations frame with no rows (for "nothing observed yet")."""
    text = pd.DataFrame({name: pd.Series([], dtype="str") for name in COLUMNS})
    return _finish(validate_table(text, SPEC, file="observations"))


def _number_text(value: float) -> str:
    if pd.isna(value):
        return ""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def write_observations(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Validate ``df`` and write it atomically in the documented CSV format."""
    frame = validate_observations(df, file=str(path))
    out = pd.DataFrame(
        {
            "date": frame["date"].dt.strftime("%Y-%m-%d"),
            "actor": frame["actor"],
            "kind": frame["kind"],
            "value": frame["value"].map(_number_text),
            "source": frame["source"],
            "confidence": frame["confidence"].map(_number_text),
            "note": frame["note"].fillna(""),
            "published": frame["published"].dt.strftime("%Y-%m-%d"),
        }
    )
    return atomic_write_text(path, out.to_csv(index=False, lineterminator="\n"))


def example_path() -> Path:
    """Path of the shipped example file ``decision/data/observations_example.csv``."""
    with as_file(files("decision").joinpath("data", "observations_example.csv")) as path:
        return Path(path)


def summarise_monitoring(
    df: pd.DataFrame, start: dt.date | str, through: dt.date | str, *, min_confidence: float = 0.0
) -> dict[str, Any]:
    """Summarise observations dated from ``start`` to ``through`` (inclusive) for the models.

    Only rows published by ``through`` count: a figure for a month inside the window that
    was released after ``through`` is left out.

    Months are calendar months: the month containing ``start`` is month 1 (so start
    monitoring on the first of a month). ``months_observed`` counts the months from
    month 1 whose last day is on or before ``through``.

    A missile launch or nuclear test counts as detected if its confidence is at least
    ``min_confidence`` (default 0: every recorded test counts); others are listed under
    ``unconfirmed_tests``. China's rows are counted whatever their confidence.

    Returns
    -------
    dict
        ``start``, ``through``, ``months_observed`` and two dicts:

        ``dprk``: ``first_test_month`` (int or None), ``first_test_date``,
        ``first_test_kind``, ``missiles`` (total), ``nuclear_tests`` (count),
        ``test_months`` (sorted distinct months with a detected test),
        ``unconfirmed_tests`` (list of {month, date, kind, confidence}),
        ``suspected_exports`` (list of {month, date, confidence}),
        ``freeze_accepted`` (latest value as bool, or None).

        ``china``: ``steps_met``, ``steps_missed``, ``trade_levels`` (values in date
        order), ``trade_level_months``, ``accepts_proposal`` (latest as bool, or None).
    """
    start_d = parse_date(start, field="start")
    through_d = parse_date(through, field="through")
    if through_d < start_d:
        raise InputError(
            f"expected through on or after start ({start_d.isoformat()}), "
            f"got {through_d.isoformat()}",
            field="through",
        )
    if not 0 <= float(min_confidence) <= 1:
        raise InputError(
            f"expected a probability between 0 and 1, got {min_confidence!r}",
            field="min_confidence",
        )
    frame = df if _is_typed(df) else validate_observations(df)
    window = published_by(frame, through_d)
    window = window[
        (window["date"] >= pd.Timestamp(start_d)) & (window["date"] <= pd.Timestamp(through_d))
    ]

    dprk: dict[str, Any] = {
        "first_test_month": None,
        "first_test_date": None,
        "first_test_kind": None,
        "missiles": 0,
        "nuclear_tests": 0,
        "test_months": [],
        "unconfirmed_tests": [],
        "suspected_exports": [],
        "freeze_accepted": None,
    }
    china: dict[str, Any] = {
        "steps_met": 0,
        "steps_missed": 0,
        "trade_levels": [],
        "trade_level_months": [],
        "accepts_proposal": None,
    }
    test_months: set[int] = set()
    for rec in window.to_dict("records"):
        day = rec["date"].date()
        month = month_index(day, start_d)
        kind, value, conf = rec["kind"], float(rec["value"]), float(rec["confidence"])
        if kind in ("missile_launch", "nuclear_test"):
            if conf < min_confidence:
                dprk["unconfirmed_tests"].append(
                    {"month": month, "date": day, "kind": kind, "confidence": conf}
                )
                continue
            if kind == "missile_launch":
                dprk["missiles"] += int(value)
            else:
                dprk["nuclear_tests"] += 1
            test_months.add(month)
            if dprk["first_test_month"] is None:
                dprk.update(first_test_month=month, first_test_date=day, first_test_kind=kind)
        elif kind == "suspected_export":
            dprk["suspected_exports"].append({"month": month, "date": day, "confidence": conf})
        elif kind == "freeze_accepted":
            dprk["freeze_accepted"] = value == 1
        elif kind == "enforcement_step":
            china["steps_met" if value == 1 else "steps_missed"] += 1
        elif kind == "trade_level":
            china["trade_levels"].append(value)
            china["trade_level_months"].append(month)
        elif kind == "accepts_proposal":
            china["accepts_proposal"] = value == 1
    dprk["test_months"] = sorted(test_months)
    months_observed = complete_months(start_d, through_d)
    return {
        "start": start_d,
        "through": through_d,
        "months_observed": months_observed,
        "dprk": dprk,
        "china": china,
    }


def _is_typed(df: pd.DataFrame) -> bool:
    return (
        list(df.columns) == list(COLUMNS)
        and pd.api.types.is_datetime64_any_dtype(df["date"])
        and pd.api.types.is_datetime64_any_dtype(df["published"])
        and not df["published"].isna().any()
        and pd.api.types.is_float_dtype(df["value"])
        and pd.api.types.is_float_dtype(df["confidence"])
        and not df["confidence"].isna().any()
    )
