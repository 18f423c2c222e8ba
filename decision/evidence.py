"""The evidence tables shipped in ``decision/data``: loading, validation and as-of filtering.

This is the one module that reads evidence. Every table is a CSV file inside the package
(located with :mod:`importlib.resources`); each is validated on load against a pandera
schema, and every loader limits its answer to what was public on an ``as_of`` date
(default :data:`decision.config.DEFAULT_AS_OF`, the day of the proposal, 2017-08-20).

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

As-of rules
-----------
* ``launches_monthly``: only complete months that end before ``as_of``.
* ``nuclear_tests``: ``date <= as_of``; ``unsc_resolutions``: ``adopted <= as_of``.
* ``agreements``: ``signed <= as_of``; a breach after ``as_of`` counts as not yet happened.
  The loader adds ``observed`` (bool; False = censored), ``duration_months`` (to the
  breach, or to ``as_of`` if censored) and ``months_to_breach`` (NaN if censored), with
  months = days / 30.4375. On a censored row the breach fields and notes are blanked
  and ``partial_compliance_first`` is <NA>, because they describe later events.
* ``china_enforcement``: ``evidence_date <= as_of``.
* ``trade_annual``, ``trade_monthly``: ``available_from <= as_of``.
* ``exercises``: ``known_from <= as_of``.

Errors
------
Bad input raises :class:`decision.errors.InputError` naming the file, the row and the
field. Row numbers count CSV lines with the header as row 1, so the first data row is
row 2 (the number a spreadsheet shows). Problems are reported one at a time, the first
one in this order: a missing column, an unexpected column, a cell of the wrong form
(blank, not a number, not a date, not an allowed value) in row order, then a value or
cross-field check in row order.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors

from decision.config import DEFAULT_AS_OF, parse_date
from decision.errors import InputError

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
    "data_hash",
    "sources",
    "describe",
    "data_path",
    "schema_errors_to_input_error",
]

#: Days in an average month; durations in months are days / DAYS_PER_MONTH.
DAYS_PER_MONTH = 30.4375

#: First data row number: the header is row 1.
FIRST_DATA_ROW = 2

#: Bump when a loader's computation changes, so cached posteriors are invalidated.
_HASH_VERSION = "decision.evidence/1"

#: Separator between several sources in one ``source`` cell.
SOURCE_SEPARATOR = "; "

#: Largest CSV file read (evidence, observations, ledgers), in bytes: a ledger of monthly
#: observations is a few kilobytes, so a file this large is a mistake, refused before parsing.
MAX_CSV_BYTES = 16 * 2**20


# ---------------------------------------------------------------------------
# Table specifications (shared with decision.observations)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Col:
    """One CSV column.

    ``kind`` is one of ``str``, ``int``, ``float``, ``date`` (YYYY-MM-DD), ``month``
    (YYYY-MM) or ``bool`` (true/false). ``required`` means a blank cell is an error;
    ``optional`` means the whole column may be absent (it is then added, blank).
    ``checks`` are pandera checks run on the typed column.
    """

    name: str
    kind: str = "str"
    required: bool = True
    choices: tuple[str, ...] | None = None
    checks: tuple[pa.Check, ...] = ()
    optional: bool = False


@dataclass(frozen=True)
class TableSpec:
    """A CSV table: its columns and its cross-field (row) checks."""

    name: str
    columns: tuple[Col, ...]
    row_checks: tuple[pa.Check, ...] = ()
    date_field: str | None = None

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def col_check(fn: Callable[[pd.Series], Any], expected: str) -> pa.Check:
    """A vectorised check on one typed column; ``expected`` reads 'expected ...'."""
    return pa.Check(fn, error=expected)


def row_check(field: str, expected: str, fn: Callable[[pd.DataFrame], pd.Series]) -> pa.Check:
    """A check across columns that returns one bool per row; failures name ``field``."""
    return pa.Check(fn, error=f"@{field}: {expected}")


_DTYPE_CHECK = re.compile(r"^(?:coerce_)?dtype\('?(.*?)'?\)$")
_WIDE_ERROR = re.compile(r"^@(?P<field>[^:]+): (?P<expected>.*)$", re.S)

_FORMAT_EXPECTED = {
    "int": "expected a whole number",
    "float": "expected a number",
    "date": "expected a date as YYYY-MM-DD",
    "month": "expected a month as YYYY-MM",
    "bool": "expected true or false",
}
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except (TypeError, ValueError):
        return False


def _is_whole(text: str) -> bool:
    return _is_number(text) and float(text).is_integer()


def _is_date(text: str) -> bool:
    if not _DATE_RE.match(str(text)):
        return False
    try:
        dt.date.fromisoformat(str(text))
    except ValueError:
        return False
    return True


_FORMAT_TEST: dict[str, Callable[[str], bool]] = {
    "int": _is_whole,
    "float": _is_number,
    "date": _is_date,
    "month": lambda t: bool(_MONTH_RE.match(str(t))),
    "bool": lambda t: str(t).lower() in {"true", "false"},
}


def _text_schema(spec: TableSpec) -> pa.DataFrameSchema:
    """Phase 1: columns present, blanks only where allowed, every cell of the right form."""
    columns = {}
    for col in spec.columns:
        checks = []
        if col.kind in _FORMAT_TEST:
            test = _FORMAT_TEST[col.kind]
            checks.append(
                pa.Check(
                    lambda s, test=test: s.map(test).astype(bool), error=_FORMAT_EXPECTED[col.kind]
                )
            )
        if col.choices is not None:
            allowed = set(col.choices)
            checks.append(
                pa.Check(
                    lambda s, allowed=allowed: s.isin(allowed),
                    error="expected one of: " + ", ".join(col.choices),
                )
            )
        columns[col.name] = pa.Column(nullable=not col.required, checks=checks)
    return pa.DataFrameSchema(columns, strict=True)


def _typed_schema(spec: TableSpec) -> pa.DataFrameSchema:
    """Phase 2: value checks on typed columns and checks across columns."""
    columns = {c.name: pa.Column(nullable=True, checks=list(c.checks)) for c in spec.columns}
    return pa.DataFrameSchema(columns, checks=list(spec.row_checks), strict=False)


def _convert(df: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Turn validated text columns into their types."""
    out = pd.DataFrame(index=df.index)
    for col in spec.columns:
        s = df[col.name]
        if col.kind == "int":
            num = pd.to_numeric(s)
            out[col.name] = num.astype("int64") if col.required else num.astype("Int64")
        elif col.kind == "float":
            out[col.name] = pd.to_numeric(s).astype("float64")
        elif col.kind == "date":
            out[col.name] = pd.to_datetime(s, format="%Y-%m-%d").astype("datetime64[ns]")
        elif col.kind == "bool":
            mapped = s.str.lower().map({"true": True, "false": False})
            out[col.name] = mapped.astype("bool") if col.required else mapped.astype("boolean")
        else:
            out[col.name] = s.astype("str") if col.required else s
    return out


def text_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Text form of a frame (as if read from CSV): strings, stripped, blanks as NaN."""
    out = pd.DataFrame(index=pd.RangeIndex(len(df)))
    for name in df.columns:
        s = df[name].reset_index(drop=True)
        if pd.api.types.is_datetime64_any_dtype(s):
            text = s.dt.strftime("%Y-%m-%d")
        else:
            text = s.astype(object).map(_cell_text)
        text = text.astype(object).map(lambda v: None if _is_missing(v) or v == "" else v)
        out[str(name).strip()] = pd.Series(text, dtype="str")
    return out


def _cell_text(value: Any) -> str | None:
    """One cell as stripped text (dates as YYYY-MM-DD), or None if blank."""
    if value is None or _is_missing(value):
        return None
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def schema_errors_to_input_error(
    exc: SchemaErrors | SchemaError,
    *,
    file: str | None,
    columns: Sequence[str] = (),
    data: pd.DataFrame | None = None,
) -> InputError:
    """Return the first failure in a pandera error as an :class:`InputError`.

    Row numbers are ``index + 2`` (header = row 1), so ``data`` must have a 0-based
    RangeIndex in file order. Order: missing column, unexpected column, then failures by
    row number (earliest first) and, within a row, by column order. ``columns`` is the
    schema's column order (used for the message and for ties); ``data`` supplies the
    offending value for cross-field checks.
    """
    order = {name: i for i, name in enumerate(columns)}
    expected_cols = ", ".join(columns)
    best: tuple | None = None
    records = _failure_records(exc)
    if not records:
        return InputError(" ".join(str(exc).split()) or "invalid table", file=file)
    for rec in records:
        check = str(rec.get("check"))
        column = rec.get("column")
        column = None if _is_missing(column) else str(column)
        value = rec.get("failure_case")
        index = rec.get("index")
        row = None if index is None or _is_missing(index) else int(index) + FIRST_DATA_ROW
        if check == "column_in_dataframe":
            field = str(value)
            key = (0, 0, order.get(field, len(order)))
            item = (key, f"missing column (expected columns: {expected_cols})", None, field)
        elif check == "column_in_schema":
            field = str(value)
            key = (1, 0, 0)
            item = (key, f"unexpected column (expected only: {expected_cols})", None, field)
        else:
            wide = _WIDE_ERROR.match(check)
            if wide:
                field, expected = wide.group("field"), wide.group("expected")
                shown = _value_at(data, row, field)
                message = expected if shown is None else f"{expected}, got {shown}"
            elif check == "not_nullable":
                field, message = column, "expected a value, got a blank cell"
            else:
                field = column
                dtype = _DTYPE_CHECK.match(check)
                expected = (
                    f"expected type {dtype.group(1)}"
                    if dtype
                    else check
                    if check.startswith("expected")
                    else f"expected {check}"
                )
                message = (
                    f"{expected} (failed: {value})"
                    if row is None
                    else f"{expected}, got {_show(value)}"
                )
            key = (2, row if row is not None else math.inf, order.get(field, len(order)))
            item = (key, message, row, field)
        if best is None or item[0] < best[0]:
            best = item
    assert best is not None
    _, message, row, field = best
    return InputError(message, file=file, row=row, field=field)


def _failure_records(exc: SchemaErrors | SchemaError) -> list[dict[str, Any]]:
    """Failure cases as dicts with keys check, column, failure_case, index."""
    if isinstance(exc, SchemaErrors):
        cases = exc.failure_cases
        return cases.to_dict("records") if isinstance(cases, pd.DataFrame) else []
    check = getattr(exc, "check", None)
    check = getattr(check, "error", None) or str(check) if check is not None else None
    column = getattr(getattr(exc, "schema", None), "name", None)
    cases = exc.failure_cases
    if isinstance(cases, pd.DataFrame) and "failure_case" in cases:
        return [
            {
                "check": check or "failed check",
                "column": column,
                "failure_case": r.get("failure_case"),
                "index": r.get("index"),
            }
            for r in cases.to_dict("records")
        ]
    return [
        {
            "check": check or " ".join(str(exc).split()),
            "column": column,
            "failure_case": cases,
            "index": None,
        }
    ]


def _value_at(data: pd.DataFrame | None, row: int | None, field: str) -> str | None:
    if data is None or row is None or field not in data.columns:
        return None
    pos = row - FIRST_DATA_ROW
    if not 0 <= pos < len(data):
        return None
    return _show(data[field].iloc[pos])


def _show(value: Any) -> str:
    if _is_missing(value):
        return "a blank cell"
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return repr(value.strftime("%Y-%m-%d"))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return repr(str(int(value)))
    return repr(str(value))


def validate_table(text: pd.DataFrame, spec: TableSpec, *, file: str | None) -> pd.DataFrame:
    """Validate a text frame (0-based index in file order) and return it typed.

    Raises
    ------
    InputError
        The first failure, naming ``file``, the row (header = row 1) and the field.
    """
    text = text.reset_index(drop=True)
    for col in spec.columns:
        if col.optional and col.name not in text.columns:
            text[col.name] = pd.Series([None] * len(text), dtype="str")
    names = spec.column_names
    try:
        _text_schema(spec).validate(text, lazy=True)
    except (SchemaErrors, SchemaError) as exc:
        raise schema_errors_to_input_error(exc, file=file, columns=names, data=text) from None
    typed = _convert(text[names], spec)
    try:
        _typed_schema(spec).validate(typed, lazy=True)
    except (SchemaErrors, SchemaError) as exc:
        raise schema_errors_to_input_error(exc, file=file, columns=names, data=typed) from None
    return typed


def read_csv_bytes(path: str | os.PathLike, *, file: str) -> bytes:
    """The bytes of a CSV file, at most :data:`MAX_CSV_BYTES` (else an :class:`InputError`).

    ``FileNotFoundError`` and other ``OSError`` pass through for the caller's message.
    """
    with open(path, "rb") as fh:
        data = fh.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        raise InputError(
            f"file is more than the limit of {MAX_CSV_BYTES // 2**20} MB for a "
            "CSV file; nothing was read",
            file=file,
        )
    return data


def read_text_csv(path: str | os.PathLike, *, file: str) -> pd.DataFrame:
    """Read a CSV as text: every cell a stripped string, blank cells as NaN.

    Blank lines are kept as blank rows so row numbers match the file; blank lines at
    the end are dropped. A file larger than :data:`MAX_CSV_BYTES` is refused.
    """
    import io

    source = path
    try:
        if isinstance(path, (str, os.PathLike)):
            source = io.BytesIO(read_csv_bytes(path, file=file))
        raw = pd.read_csv(
            source,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            encoding="utf-8",
        )
    except FileNotFoundError:
        raise InputError("file not found: expected an existing CSV file", file=file) from None
    except IsADirectoryError:
        raise InputError("is a folder: expected a CSV file", file=file) from None
    except pd.errors.EmptyDataError:
        raise InputError("file is empty: expected a header row", file=file) from None
    except pd.errors.ParserError as exc:
        detail = " ".join(str(exc).split())
        line = re.search(r"line (\d+)", detail)
        raise InputError(
            f"cannot parse as CSV ({detail}): expected comma-separated rows "
            "with the header's number of fields",
            file=file,
            row=int(line.group(1)) if line else None,
        ) from None
    except UnicodeDecodeError:
        raise InputError("cannot decode: expected UTF-8 text", file=file) from None
    text = text_frame(raw)
    blank = text.isna().all(axis=1).to_numpy()
    keep = len(blank)
    while keep > 0 and blank[keep - 1]:
        keep -= 1
    return text.iloc[:keep].reset_index(drop=True)


# ---------------------------------------------------------------------------
# Check helpers
# ---------------------------------------------------------------------------


def _ge(v: float, what: str = "a value") -> pa.Check:
    return col_check(lambda s: s >= v, f"expected {what} >= {v:g}")


def _between(lo: float, hi: float, what: str = "a value") -> pa.Check:
    return col_check(lambda s: (s >= lo) & (s <= hi), f"expected {what} between {lo:g} and {hi:g}")


def _nondecreasing(what: str) -> pa.Check:
    def fn(s: pd.Series) -> pd.Series:
        prev = s.cummax().shift(1)
        return ~(s < prev)

    return col_check(fn, f"expected rows in {what} order (not earlier than the previous row)")


def _increasing(what: str) -> pa.Check:
    def fn(s: pd.Series) -> pd.Series:
        prev = s.cummax().shift(1)
        return ~(s <= prev)

    return col_check(fn, f"expected {what} to increase from row to row")


def _unique(what: str) -> pa.Check:
    return col_check(lambda s: ~s.duplicated(), f"expected each {what} only once")


def _months_consecutive(s: pd.Series) -> pd.Series:
    stamp = pd.to_datetime(s + "-01", format="%Y-%m-%d")
    idx = pd.Series(stamp.dt.year * 12 + stamp.dt.month, index=s.index)
    step = idx.diff()
    return step.isna() | step.eq(1)


def _blank_or(cond: pd.Series, *cols: pd.Series) -> pd.Series:
    missing = pd.Series(False, index=cond.index)
    for c in cols:
        missing |= c.isna()
    return (missing | cond.fillna(False)).astype(bool)


# ---------------------------------------------------------------------------
# The eight tables
# ---------------------------------------------------------------------------

_SOURCE = Col("source")
_NOTES = Col("notes", required=False)

LAUNCHES = TableSpec(
    "launches_monthly",
    (
        Col(
            "month",
            "month",
            checks=(
                col_check(
                    _months_consecutive,
                    "expected months in order, each one month after the previous row",
                ),
            ),
        ),
        Col("missiles", "int", checks=(_ge(0, "a count"),)),
        Col("launch_days", "int", checks=(_between(0, 31, "a count of days"),)),
        Col("long_range_missiles", "int", checks=(_ge(0, "a count"),)),
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
        Col("date", "date", checks=(_increasing("date"),)),
        Col("magnitude_mb_low", "float", checks=(_between(0, 10, "a body-wave magnitude"),)),
        Col("magnitude_mb_high", "float", checks=(_between(0, 10, "a body-wave magnitude"),)),
        Col("yield_kt_low", "float", required=False, checks=(_ge(0, "a yield in kt"),)),
        Col("yield_kt_high", "float", checks=(_ge(0, "a yield in kt"),)),
        Col("yield_note"),
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
            lambda d: _blank_or(d["yield_kt_high"] >= d["yield_kt_low"], d["yield_kt_low"]),
        ),
    ),
    date_field="date",
)

AGREEMENTS = TableSpec(
    "agreements",
    (
        Col("agreement", checks=(_unique("agreement"),)),
        Col("signed", "date", checks=(_nondecreasing("signed-date"),)),
        Col("commitment"),
        Col("breach_date", "date", required=False),
        Col("breach_event", required=False),
        Col("breach_rationale"),
        Col("partial_compliance_first", "bool"),
        _SOURCE,
        _NOTES,
    ),
    row_checks=(
        row_check(
            "breach_date",
            "expected breach_date after signed",
            lambda d: _blank_or(d["breach_date"] > d["signed"], d["breach_date"]),
        ),
        row_check(
            "breach_event",
            "expected a breach_event when breach_date is given",
            lambda d: d["breach_date"].isna() | d["breach_event"].notna(),
        ),
    ),
    date_field="signed",
)

UNSC = TableSpec(
    "unsc_resolutions",
    (
        Col("resolution", "int", checks=(_increasing("resolution number"),)),
        Col("adopted", "date", checks=(_nondecreasing("adoption-date"),)),
        Col("trigger"),
        Col("measures"),
        _SOURCE,
        _NOTES,
    ),
    date_field="adopted",
)

EXTENTS = (0.0, 0.25, 0.5, 0.75, 1.0)

CHINA = TableSpec(
    "china_enforcement",
    (
        Col(
            "episode",
            checks=(
                _unique("episode id"),
                col_check(
                    lambda s: s.str.fullmatch(r"[a-z0-9_]+").astype(bool),
                    "expected an id of lower-case letters, digits and underscores",
                ),
            ),
        ),
        Col("commitment"),
        Col("commitment_date", "date", checks=(_nondecreasing("commitment-date"),)),
        Col("measure_type", choices=("unsc_resolution", "china_unilateral")),
        Col("related_to", required=False),
        Col("enforced", choices=("full", "partial", "none")),
        Col(
            "extent",
            "float",
            checks=(col_check(lambda s: s.isin(EXTENTS), "expected one of 0, 0.25, 0.5, 0.75, 1"),),
        ),
        Col("lag_months", "float", required=False, checks=(_ge(0, "a lag in months"),)),
        Col("evidence"),
        Col("evidence_date", "date"),
        _SOURCE,
        Col("coding", choices=("analyst judgment",)),
        Col("rationale"),
        _NOTES,
    ),
    row_checks=(
        row_check(
            "evidence_date",
            "expected evidence_date on or after commitment_date",
            lambda d: d["evidence_date"] >= d["commitment_date"],
        ),
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

TRADE_ANNUAL = TableSpec(
    "trade_annual",
    (
        Col("year", "int", checks=(_increasing("year"), _between(1950, 2100, "a year"))),
        Col("total_usd_m", "float", required=False, checks=(_ge(0, "US$ millions"),)),
        Col("china_exports_usd_m", "float", required=False, checks=(_ge(0, "US$ millions"),)),
        Col("china_imports_usd_m", "float", required=False, checks=(_ge(0, "US$ millions"),)),
        Col("share_of_dprk_trade", "float", required=False, checks=(_between(0, 1, "a share"),)),
        Col("available_from", "date"),
        _SOURCE,
        _NOTES,
    ),
    row_checks=(
        row_check(
            "available_from",
            "expected available_from after the end of the year",
            lambda d: d["available_from"].dt.year > d["year"],
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
        Col("period_start", "date", checks=(_nondecreasing("period_start"),)),
        Col("period_end", "date"),
        Col("flow", choices=("total", "china_exports", "china_imports")),
        Col("value_usd_m", "float", required=False, checks=(_ge(0, "US$ millions"),)),
        Col(
            "yoy_change_pct",
            "float",
            required=False,
            checks=(
                col_check(lambda s: s > -100, "expected a year-on-year change > -100 (per cent)"),
            ),
        ),
        Col("available_from", "date"),
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
            "available_from",
            "expected available_from on or after period_end",
            lambda d: d["available_from"] >= d["period_end"],
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
        Col("year", "int", checks=(_between(1950, 2100, "a year"),)),
        Col("season", choices=("spring", "summer")),
        Col("exercise"),
        Col("kind", choices=("command-post", "field", "computer-simulated")),
        Col("start", "date", required=False),
        Col("end", "date", required=False),
        Col("status", choices=("held", "scaled down", "postponed", "suspended", "replaced")),
        Col("us_personnel", "int", required=False, checks=(_ge(0, "a head count"),)),
        Col("rok_personnel", "int", required=False, checks=(_ge(0, "a head count"),)),
        Col("known_from", "date"),
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
            lambda d: _blank_or(d["start"].dt.year == d["year"], d["start"]),
        ),
        row_check(
            "end",
            "expected end on or after start",
            lambda d: _blank_or(d["end"] >= d["start"], d["end"], d["start"]),
        ),
        row_check(
            "known_from",
            "expected known_from on or after start and end",
            lambda d: (
                _blank_or(d["known_from"] >= d["start"], d["start"])
                & _blank_or(d["known_from"] >= d["end"], d["end"])
            ),
        ),
    ),
    date_field="known_from",
)


def _nondecreasing_key(key: pd.Series) -> pd.Series:
    prev = key.cummax().shift(1)
    return ~(key < prev)


_SPECS: dict[str, TableSpec] = {
    s.name: s
    for s in (LAUNCHES, NUCLEAR, AGREEMENTS, UNSC, CHINA, TRADE_ANNUAL, TRADE_MONTHLY, EXERCISES)
}

#: The evidence tables, in the order used by :func:`describe` and :func:`data_hash`.
NAMES: tuple[str, ...] = tuple(_SPECS)


# ---------------------------------------------------------------------------
# As-of filters
# ---------------------------------------------------------------------------


def _filter_launches(df: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    month_start = pd.to_datetime(df["month"] + "-01", format="%Y-%m-%d")
    next_month = month_start + pd.offsets.MonthBegin(1)
    return df[next_month <= as_of]


def _by_column(column: str) -> Callable[[pd.DataFrame, pd.Timestamp], pd.DataFrame]:
    def fn(df: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
        return df[df[column] <= as_of]

    return fn


def _filter_agreements(df: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    out = df[df["signed"] <= as_of].copy()
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
    "launches_monthly": _filter_launches,
    "nuclear_tests": _by_column("date"),
    "agreements": _filter_agreements,
    "unsc_resolutions": _by_column("adopted"),
    "china_enforcement": _by_column("evidence_date"),
    "trade_annual": _by_column("available_from"),
    "trade_monthly": _by_column("available_from"),
    "exercises": _by_column("known_from"),
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
    """DPRK ballistic-missile launches per complete month before ``as_of``."""
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
    """China's enforcement episodes whose evidence was public by ``as_of``."""
    return load("china_enforcement", as_of=as_of, path=path)


def trade_annual(
    as_of: dt.date | str = DEFAULT_AS_OF, *, path: str | os.PathLike | None = None
) -> pd.DataFrame:
    """China-DPRK annual trade figures public by ``as_of``."""
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
    if _is_missing(value):
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
