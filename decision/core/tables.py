"""CSV tables validated with pandera: column specs, typed reading, errors that name the cell.

A :class:`TableSpec` lists a table's columns (:class:`Col`: kind, required or optional,
allowed values, value checks) and its cross-field row checks. :func:`read_text_csv` reads a
file as text (size-limited, blank lines kept so that row numbers match the file) and
:func:`validate_table` checks it in two phases (form of every cell, then values and rows) and
returns it typed. The first failure becomes one :class:`~decision.core.errors.InputError`
naming the file, the row (header = row 1) and the field. The evidence tables
(:mod:`decision.evidence`), the monitoring observations (:mod:`decision.observations`) and the
ledger are all read this way.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors

from decision.core.errors import InputError

__all__ = [
    "FIRST_DATA_ROW",
    "MAX_CSV_BYTES",
    "Col",
    "TableSpec",
    "between",
    "blank_or",
    "col_check",
    "ge",
    "increasing",
    "is_missing",
    "months_consecutive",
    "nondecreasing",
    "read_csv_bytes",
    "read_text_csv",
    "row_check",
    "schema_errors_to_input_error",
    "text_frame",
    "unique",
    "validate_table",
]

#: First data row number: the header is row 1.
FIRST_DATA_ROW = 2

#: Largest CSV file read (evidence, observations, ledgers), in bytes: a ledger of monthly
#: observations is a few kilobytes, so a file this large is a mistake, refused before parsing.
MAX_CSV_BYTES = 16 * 2**20


# ---------------------------------------------------------------------------
# Table specifications
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
        """File name of the table: its name with ``.csv``."""
        return f"{self.name}.csv"

    @property
    def column_names(self) -> list[str]:
        """Names of the columns, in file order."""
        return [c.name for c in self.columns]


def col_check(fn: Callable[[pd.Series], Any], expected: str) -> pa.Check:
    """Make a vectorised check on one typed column; ``expected`` reads 'expected ...'."""
    return pa.Check(fn, error=expected)


def row_check(field: str, expected: str, fn: Callable[[pd.DataFrame], pd.Series]) -> pa.Check:
    """Make a check across columns that returns one bool per row; failures name ``field``."""
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
        text = text.astype(object).map(lambda v: None if is_missing(v) or v == "" else v)
        out[str(name).strip()] = pd.Series(text, dtype="str")
    return out


def _cell_text(value: Any) -> str | None:
    """One cell as stripped text (dates as YYYY-MM-DD), or None if blank."""
    if value is None or is_missing(value):
        return None
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def is_missing(value: Any) -> bool:
    """Return whether ``value`` is a missing cell (None, NaN, NaT or NA); False when undecidable."""
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
        column = None if is_missing(column) else str(column)
        value = rec.get("failure_case")
        index = rec.get("index")
        row = None if index is None or is_missing(index) else int(index) + FIRST_DATA_ROW
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
    if is_missing(value):
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
    """Read the bytes of a CSV file, at most :data:`MAX_CSV_BYTES` (else an :class:`InputError`).

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


def ge(v: float, what: str = "a value") -> pa.Check:
    """Check that every value of the column is at least ``v``; ``what`` names the values."""
    return col_check(lambda s: s >= v, f"expected {what} >= {v:g}")


def between(lo: float, hi: float, what: str = "a value") -> pa.Check:
    """Check that every value of the column is in ``[lo, hi]``; ``what`` names the values."""
    return col_check(lambda s: (s >= lo) & (s <= hi), f"expected {what} between {lo:g} and {hi:g}")


def nondecreasing(what: str) -> pa.Check:
    """Check that no row's value is below an earlier row's; ``what`` names the order."""

    def fn(s: pd.Series) -> pd.Series:
        prev = s.cummax().shift(1)
        return ~(s < prev)

    return col_check(fn, f"expected rows in {what} order (not earlier than the previous row)")


def increasing(what: str) -> pa.Check:
    """Check that every row's value is above every earlier row's; ``what`` names the values."""

    def fn(s: pd.Series) -> pd.Series:
        prev = s.cummax().shift(1)
        return ~(s <= prev)

    return col_check(fn, f"expected {what} to increase from row to row")


def unique(what: str) -> pa.Check:
    """Check that no value of the column repeats; ``what`` names one value."""
    return col_check(lambda s: ~s.duplicated(), f"expected each {what} only once")


def months_consecutive(s: pd.Series) -> pd.Series:
    """Mark the ``YYYY-MM`` months that follow the previous row's by one month (and the first)."""
    stamp = pd.to_datetime(s + "-01", format="%Y-%m-%d")
    idx = pd.Series(stamp.dt.year * 12 + stamp.dt.month, index=s.index)
    step = idx.diff()
    return step.isna() | step.eq(1)


def blank_or(cond: pd.Series, *cols: pd.Series) -> pd.Series:
    """Mark the rows where ``cond`` holds or any of ``cols`` is blank (a missing ``cond`` fails).

    For a row check on fields that are optional: the condition applies only where they are filled.
    """
    missing = pd.Series(False, index=cond.index)
    for c in cols:
        missing |= c.isna()
    return (missing | cond.fillna(False)).astype(bool)
