"""The observation ledger: the analysts' append-only record of what monitoring has shown.

The ledger is one CSV file in the format of :mod:`decision.observations` (so the models
read it directly with :func:`decision.observations.load_observations`), kept in the
analysis workspace and reviewed in git. Analysts may edit it by hand; programs add to
it only through :func:`add_observation`, which never rewrites or loses an earlier entry.

File
----
UTF-8 CSV, header ``date,actor,kind,value,source,confidence,note,published`` (the optional
columns ``confidence``, ``note`` and ``published`` may be absent from a hand-made file;
columns in any order),
one observation per line, rows in non-decreasing date order. Values, kinds and errors
are those of :mod:`decision.observations`. Row numbers count CSV lines with the header
as row 1, so the first observation is row 2.

Ledger rules (on top of the observations format)
------------------------------------------------
Two rows are about the **same event** when they have the same ``date``, ``actor`` and
``kind``, except that

* two ``suspected_export`` rows are the same event only if their sources are the same
  (several independent reports of exports on one day are allowed), and
* two ``enforcement_step`` rows whose notes both name a scheduled step (``[step-id]``
  anywhere in the note, see :func:`step_tags`) are the same event only if they name a
  common step (two different steps may be assessed on one day).

Sources are compared ignoring case, leading/trailing blanks and repeated blanks.
``confidence``, ``note`` and ``published`` are not compared. For a pair of rows about the
same event:

* **duplicate**: same ``value`` and same source. Refused.
* **contradictory**: a different ``value`` (whatever the sources): the DPRK both
  accepting and refusing the freeze on one day, a step both met and missed, two different
  missile counts for one day (``missile_launch`` is the day's total), two trade levels
  for one date. Refused: decide which is right and correct the file by hand.
* **repeated report**: same ``value`` from a different source. Refused, because the
  models count rows (two rows for one step would count it twice): keep one row and, to
  cite both, edit its ``source`` by hand to ``"first; second"``.

:func:`validate_ledger` applies the same rules to the whole file (reporting the later
row of the first offending pair), so a hand edit that breaks them is caught too.

Adding
------
:func:`add_observation` takes an exclusive lock (``<ledger>.lock``, :mod:`filelock`),
re-reads and validates the whole file, checks the new row, and writes the old content
unchanged plus one new line to a temporary file in the same folder, fsyncs it and moves
it over the ledger (:func:`decision.core.atomic.atomic_path`). A process killed at any
instant leaves either the old file or the new one, never a half line. Each earlier line
stays byte-identical; the only normalisations are a final newline added to a last line
that lacks one and blank lines after the last row dropped.

The ledger is append-only in date order: an observation dated before the last row is
refused unless ``insert_late=True``, which inserts the new line after every row dated on
or before it. Every existing line is still kept byte-identical (git shows a one-line
addition), but the lines after the insertion point move down one row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import filelock
import pandas as pd

from decision.core.atomic import atomic_write_bytes
from decision.core.dates import is_month
from decision.core.errors import DecisionError, InputError
from decision.core.provenance import sha256_file
from decision.core.tables import read_csv_bytes, read_text_csv
from decision.observations import ACTORS, COLUMNS, KINDS, validate_observations

__all__ = [
    "LOCK_TIMEOUT",
    "add_observation",
    "list_observations",
    "validate_ledger",
    "ledger_months",
    "latest_month",
    "ledger_sha256",
    "step_tags",
]

#: Seconds :func:`add_observation` waits for another writer's lock before giving up.
LOCK_TIMEOUT = 60.0

_FIRST_ROW = 2  # the header is row 1
_STEP_TAG = re.compile(r"\[([A-Za-z0-9][A-Za-z0-9_.\-]*)\]")


def step_tags(note: Any) -> tuple[str, ...]:
    """The scheduled-step ids named in a note as ``[step-id]`` (letters, digits, ``_.-``)."""
    if note is None or (isinstance(note, float) and pd.isna(note)):
        return ()
    return tuple(dict.fromkeys(_STEP_TAG.findall(str(note))))


def ledger_sha256(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of the ledger file's bytes, for run records."""
    try:
        return sha256_file(path)
    except FileNotFoundError:
        raise InputError(
            "file not found: expected an observation ledger (CSV)", file=str(path)
        ) from None


# ---------------------------------------------------------------------------
# Reading and validation
# ---------------------------------------------------------------------------


@dataclass
class _Ledger:
    """The current file: its text, where each row ends, its header and its typed rows."""

    text: str
    header: list[str]
    row_ends: list[int]  # character offset just after each data row's last line
    header_end: int
    frame: pd.DataFrame  # typed, index = row number
    newline: str


def _decode(data: bytes, file: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("cannot decode: expected UTF-8 text", file=file) from None


def _physical_lines(text: str) -> list[str]:
    """Lines with their endings (``\\n`` or ``\\r\\n``), as the CSV parser sees them."""
    return [line for line in re.split(r"(?<=\n)", text) if line]


def _record_ends(text: str) -> tuple[list[str], list[int]]:
    """The header fields and the character offset just after each record (header first)."""
    lines = _physical_lines(text)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    reader = csv.reader(iter(lines))
    header: list[str] = []
    ends: list[int] = []
    try:
        for i, record in enumerate(reader):
            if i == 0:
                header = [name.strip().lstrip("\ufeff").strip() for name in record]
            ends.append(offsets[reader.line_num])
    except csv.Error as exc:
        raise InputError(f"cannot parse as CSV ({exc})", row=reader.line_num) from None
    return header, ends


def _rule_key(row: Any) -> tuple:
    return (pd.Timestamp(row["date"]), row["actor"], row["kind"])


def _same_source(a: Any, b: Any) -> bool:
    return " ".join(str(a).split()).casefold() == " ".join(str(b).split()).casefold()


def _same_event(earlier: Any, new: Any) -> bool:
    if _rule_key(earlier) != _rule_key(new):
        return False
    if new["kind"] == "suspected_export":
        return _same_source(earlier["source"], new["source"])
    if new["kind"] == "enforcement_step":
        a, b = step_tags(earlier["note"]), step_tags(new["note"])
        if a and b and not set(a) & set(b):
            return False
    return True


def _describe(row: Any) -> str:
    value = float(row["value"])
    shown = str(int(value)) if value.is_integer() else repr(value)
    return f"{row['date']:%Y-%m-%d} {row['actor']} {row['kind']} = {shown} from {row['source']!r}"


def _conflict(earlier: Any, earlier_row: int, new: Any) -> str | None:
    """Why ``new`` may not sit beside ``earlier`` (row ``earlier_row``), or None."""
    if not _same_event(earlier, new):
        return None
    if float(earlier["value"]) != float(new["value"]):
        return (
            f"contradictory observation: row {earlier_row} records "
            f"{_describe(earlier)}; a different value ({_number_text(new['value'])} "
            f"from {new['source']!r}) for the same event is refused. Decide which is "
            "right and correct the ledger by hand, then run `decision observe validate`"
        )
    if _same_source(earlier["source"], new["source"]):
        return f"duplicate observation: row {earlier_row} already records {_describe(earlier)}"
    return (
        f"repeated report: row {earlier_row} already records {_describe(earlier)}; the "
        "models count one row per event, so a second row from another source is "
        f"refused. To cite both, edit row {earlier_row}'s source by hand to "
        f"'{earlier['source']}; {new['source']}'"
    )


def _records(frame: pd.DataFrame) -> list[tuple[int, dict[str, Any]]]:
    return list(zip((int(i) for i in frame.index), frame.to_dict("records")))


def _check_rules(frame: pd.DataFrame, file: str) -> None:
    """Raise on the first row (in file order) that breaks the ledger rules."""
    seen: dict[tuple, list[tuple[int, dict[str, Any]]]] = {}
    for row_number, row in _records(frame):
        earlier = seen.setdefault(_rule_key(row), [])
        for prev_number, prev in earlier:
            problem = _conflict(prev, prev_number, row)
            if problem:
                raise InputError(problem, file=file, row=row_number, field="value")
        earlier.append((row_number, row))


def _typed(text: str, file: str) -> pd.DataFrame:
    frame = validate_observations(read_text_csv(io.StringIO(text), file=file), file=file)
    frame.index = pd.RangeIndex(_FIRST_ROW, _FIRST_ROW + len(frame), name="row")
    return frame


def _parse(text: str, file: str, *, rules: bool = True) -> _Ledger:
    frame = _typed(text, file)
    if rules:
        _check_rules(frame, file)
    try:
        header, ends = _record_ends(text)
    except InputError as exc:
        raise InputError(exc.detail, file=file, row=exc.row) from None
    # Blank lines after the last row are records to csv but not rows to the validator.
    row_ends = ends[1 : 1 + len(frame)]
    newline = "\r\n" if text[: ends[0]].endswith("\r\n") else "\n"
    return _Ledger(
        text=text,
        header=header,
        row_ends=row_ends,
        header_end=ends[0],
        frame=frame,
        newline=newline,
    )


def _read(path: Path) -> _Ledger:
    file = str(path)
    try:
        data = read_csv_bytes(path, file=file)
    except FileNotFoundError:
        raise InputError(
            "file not found: expected an observation ledger (CSV); create one "
            "with `decision observe add`",
            file=file,
        ) from None
    except IsADirectoryError:
        raise InputError(
            "is a folder: expected an observation ledger (CSV file)", file=file
        ) from None
    return _parse(_decode(data, file), file)


def validate_ledger(path: str | os.PathLike) -> pd.DataFrame:
    """Validate the ledger file and return its observations.

    Checks the observations format (:func:`decision.observations.validate_observations`)
    and the ledger rules (no duplicate, contradictory or repeated rows; see the module
    docstring).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`decision.observations.COLUMNS` (``date`` datetime64, ``value`` and
        ``confidence`` float, blank confidence = 1), indexed by the file's row number
        (``row``; the first observation is row 2).

    Raises
    ------
    InputError
        The first problem, naming the file, the row and the field.
    """
    return _read(Path(path)).frame


def _parse_bound(value: Any, *, end: bool, field: str) -> pd.Timestamp:
    """A date, or a month ``YYYY-MM`` (its first day, or its last day if ``end``)."""
    if isinstance(value, (dt.date, pd.Timestamp)):
        return pd.Timestamp(value).normalize()
    text = str(value).strip()
    if is_month(text):
        first = pd.Timestamp(f"{text}-01")
        return (first + pd.offsets.MonthEnd(0)) if end else first
    try:
        return pd.Timestamp(dt.date.fromisoformat(text))
    except ValueError:
        raise InputError(
            f"expected a date as YYYY-MM-DD or a month as YYYY-MM, got {value!r}", field=field
        ) from None


def list_observations(
    path: str | os.PathLike,
    *,
    actor: str | None = None,
    kind: str | None = None,
    since: Any = None,
    until: Any = None,
) -> pd.DataFrame:
    """The ledger's observations, optionally filtered.

    Parameters
    ----------
    path
        The ledger file.
    actor, kind
        Keep only this actor (``DPRK`` or ``China``) / this kind.
    since, until
        Keep only rows dated on or after ``since`` / on or before ``until`` (inclusive).
        Each is a date (``YYYY-MM-DD``) or a month (``YYYY-MM``: its first day for
        ``since``, its last day for ``until``).

    Returns
    -------
    pandas.DataFrame
        As :func:`validate_ledger`, indexed by file row number.
    """
    if actor is not None and actor not in ACTORS:
        raise InputError(f"expected one of: {', '.join(ACTORS)}, got {actor!r}", field="actor")
    if kind is not None:
        allowed = KINDS[actor] if actor is not None else tuple(k for a in ACTORS for k in KINDS[a])
        if kind not in allowed:
            who = f"a {actor} kind" if actor is not None else "a kind"
            raise InputError(f"expected {who}: {', '.join(allowed)}, got {kind!r}", field="kind")
    frame = validate_ledger(path)
    keep = pd.Series(True, index=frame.index)
    if actor is not None:
        keep &= frame["actor"] == actor
    if kind is not None:
        keep &= frame["kind"] == kind
    if since is not None:
        keep &= frame["date"] >= _parse_bound(since, end=False, field="since")
    if until is not None:
        keep &= frame["date"] <= _parse_bound(until, end=True, field="until")
    return frame[keep]


def ledger_months(path: str | os.PathLike) -> list[str]:
    """The months (``YYYY-MM``, ascending) in which the ledger has observations."""
    frame = validate_ledger(path)
    return sorted(set(frame["date"].dt.strftime("%Y-%m")))


def latest_month(path: str | os.PathLike) -> str | None:
    """The month (``YYYY-MM``) of the ledger's last observation, or None if it has none."""
    months = ledger_months(path)
    return months[-1] if months else None


# ---------------------------------------------------------------------------
# Adding
# ---------------------------------------------------------------------------


def _number_text(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and pd.isna(value):
        return None
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, (int, float)):
        return _number_text(value)
    text = str(value).strip()
    return text or None


def _new_cells(
    date, actor, kind, value, source, confidence, note, published, file: str, row: int
) -> dict[str, str | None]:
    cells = {
        "date": _cell(date),
        "actor": _cell(actor),
        "kind": _cell(kind),
        "value": _cell(value),
        "source": _cell(source),
        "confidence": _cell(confidence),
        "note": _cell(note),
        "published": _cell(published),
    }
    for name, text in cells.items():
        if text is not None and any(ch in text for ch in "\r\n\x00"):
            raise InputError(
                "expected a single line of text (no line breaks)", file=file, row=row, field=name
            )
    return cells


def _format_line(header: list[str], cells: dict[str, str | None], newline: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline, quoting=csv.QUOTE_MINIMAL)
    writer.writerow([cells.get(name) or "" for name in header])
    return buffer.getvalue()


def _identity(frame: pd.DataFrame) -> list[tuple]:
    return [
        (
            pd.Timestamp(r["date"]).strftime("%Y-%m-%d"),
            r["actor"],
            r["kind"],
            float(r["value"]),
            r["source"],
            float(r["confidence"]),
            None if pd.isna(r["note"]) else r["note"],
            pd.Timestamp(r["published"]).strftime("%Y-%m-%d"),
        )
        for r in frame.to_dict("records")
    ]


def add_observation(
    path: str | os.PathLike,
    *,
    date: Any,
    actor: str,
    kind: str,
    value: Any,
    source: str,
    confidence: float | None = None,
    note: str | None = None,
    published: Any = None,
    create: bool = True,
    insert_late: bool = False,
    lock_timeout: float = LOCK_TIMEOUT,
) -> pd.Series:
    """Add one observation to the ledger, keeping every earlier line byte-identical.

    Under an exclusive lock on ``<path>.lock``: re-read and validate the current file,
    validate the new row, refuse a duplicate, contradictory or repeated entry (rules in
    the module docstring) and an out-of-order date, then replace the file atomically by
    its old content plus the new line.

    Parameters
    ----------
    path
        The ledger file.
    date
        The day of the event (``YYYY-MM-DD`` or a date).
    actor, kind, value, source, confidence, note
        The row's fields, as documented in :mod:`decision.observations`. To tie a China
        ``enforcement_step`` or ``trade_level`` to a scheduled step, put the step id in
        square brackets in the note (``"[cn-2017-10] customs data ..."``).
    published
        The day the observation became public (``YYYY-MM-DD``), on or after ``date``; leave
        it out when that is the day of the event (a launch, a test). A monthly figure dated
        at the end of the month measured is published later: give its release date, so
        that a cutoff before the release does not use it.
    create
        If the file does not exist (or is empty), create it with the full header; with
        ``create=False`` a missing file is an error.
    insert_late
        Allow a date earlier than the last row's: the line is inserted after the last row
        dated on or before it (existing lines unchanged, later ones move down a row).
        Without it such a date is refused.
    lock_timeout
        Seconds to wait for another writer.

    Returns
    -------
    pandas.Series
        The row added, typed as :func:`validate_ledger` returns it; its ``name`` is its
        row number in the file.

    Raises
    ------
    InputError
        The existing file is invalid (file, row, field), the new row is invalid, or it is
        a duplicate, contradictory, repeated or out-of-order entry. Nothing is written.
    DecisionError
        Another process held the lock for ``lock_timeout`` seconds.
    """
    path = Path(path)
    file = str(path)
    lock = filelock.FileLock(file + ".lock", timeout=lock_timeout)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise DecisionError(
            f"{file}: another process has held the ledger lock "
            f"({file}.lock) for {lock_timeout:g} s; try again later"
        ) from None
    try:
        return _add_locked(
            path,
            date=date,
            actor=actor,
            kind=kind,
            value=value,
            source=source,
            confidence=confidence,
            note=note,
            published=published,
            create=create,
            insert_late=insert_late,
        )
    finally:
        lock.release()


def _add_locked(
    path: Path,
    *,
    date,
    actor,
    kind,
    value,
    source,
    confidence,
    note,
    published,
    create,
    insert_late,
) -> pd.Series:
    file = str(path)
    exists = path.exists()
    old_bytes = read_csv_bytes(path, file=file) if exists and path.is_file() else b""
    if exists and not path.is_file():
        raise InputError("is not a file: expected an observation ledger (CSV file)", file=file)
    if not exists and not create:
        raise InputError(
            "file not found: expected an existing observation ledger (create=False)", file=file
        )
    if old_bytes.strip():
        ledger = _read(path)
    else:
        if exists and not create:
            raise InputError("file is empty: expected a header row (create=False)", file=file)
        header_line = ",".join(COLUMNS) + "\n"
        ledger = _Ledger(
            text=header_line,
            header=list(COLUMNS),
            row_ends=[],
            header_end=len(header_line),
            frame=_typed(header_line, file),
            newline="\n",
        )
        old_bytes = b""

    frame = ledger.frame
    row = _FIRST_ROW + len(frame)
    cells = _new_cells(date, actor, kind, value, source, confidence, note, published, file, row)
    for name in ("confidence", "note", "published"):
        if cells[name] is not None and name not in ledger.header:
            raise InputError(
                f"the ledger's header has no '{name}' column: add it to the "
                "header line by hand (a missing trailing cell reads as blank), "
                "or leave this field out",
                file=file,
                row=1,
                field=name,
            )
    one = pd.DataFrame({name: [cells[name]] for name in COLUMNS})
    try:
        new = validate_observations(one, file=file).iloc[0]
    except InputError as exc:
        raise InputError(
            f"new observation: {exc.detail}", file=file, row=row, field=exc.field
        ) from None

    # Conflicts first: a duplicate of an earlier row is reported as such, not as
    # out of order.
    key = _rule_key(new)
    for prev_number, prev in _records(frame):
        if _rule_key(prev) != key:
            continue
        problem = _conflict(prev, prev_number, new)
        if problem:
            raise InputError(f"{problem}; nothing written", file=file, row=row, field="value")

    position = len(frame)  # rows before the new one
    if len(frame) and new["date"] < frame["date"].iloc[-1]:
        last = frame.iloc[-1]
        if not insert_late:
            raise InputError(
                f"the ledger is append-only in date order: its last row (row {frame.index[-1]})"
                f" is dated {last['date']:%Y-%m-%d}, so an observation dated "
                f"{new['date']:%Y-%m-%d} cannot be appended. Either date it on or after "
                f"{last['date']:%Y-%m-%d} if that is when it happened, or insert it at its "
                "place: pass insert_late=True (`decision observe add --insert-late`), or "
                "edit the file by hand, put the line after the last row dated on or before "
                "it, and run `decision observe validate`",
                file=file,
                row=row,
                field="date",
            )
        position = int((frame["date"] <= new["date"]).sum())
        row = _FIRST_ROW + position

    text = ledger.text
    cut = ledger.row_ends[position - 1] if position else ledger.header_end
    before, after = text[:cut], text[cut:]
    if not before.endswith("\n"):
        before += ledger.newline
    if position == len(frame):
        after = ""  # only blank lines can follow the last row
    line = _format_line(ledger.header, cells, ledger.newline)
    new_text = before + line + after

    # Belt and braces: the exact text to be written must read back as the old rows with
    # the new one at its place; otherwise nothing is written.
    check = _parse(new_text, file, rules=False)  # the rules were checked row by row above
    expected = (
        _identity(frame.iloc[:position])
        + _identity(new.to_frame().T)
        + _identity(frame.iloc[position:])
    )
    if _identity(check.frame) != expected:
        raise InputError(
            "cannot add the line without changing how earlier rows read; check the file by hand",
            file=file,
        )

    data = new_text.encode("utf-8")
    if old_bytes and not data.startswith(text[:cut].encode("utf-8")):  # pragma: no cover
        raise InputError("internal error: earlier bytes would change; nothing written", file=file)
    atomic_write_bytes(path, data)  # keeps the file's mode; flushes the file and its folder
    added = check.frame.loc[row].copy()
    added.name = row
    return added
