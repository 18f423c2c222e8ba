"""The dates the evidence can speak for, and the check of an ``as_of`` date against them.

Before the first row of any table became public, or after the last one did, the tables
cannot say what was public; :meth:`Coverage.check` refuses such dates with an
:class:`~decision.core.errors.InputError` instead of letting the models read the missing
rows as evidence.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from decision.core.atomic import atomic_path
from decision.core.dates import parse_date
from decision.core.errors import InputError
from decision.evidence.asof import filter_as_of
from decision.evidence.loading import data_path, read_validated
from decision.evidence.schemas import NAMES, SPECS

__all__ = ["Coverage", "coverage"]

_EARLIEST_DAY = dt.date(1900, 1, 1)
_LATEST_DAY = dt.date(2200, 1, 1)

#: The last coverage found, by the data files' signatures.
_COVERAGE: dict[tuple, Coverage] = {}


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
        stored_path = _stored_path()  # hashes the files once for the read and the write
        stored = _stored_coverage(stored_path)
        if stored is not None:
            _COVERAGE.clear()
            _COVERAGE[key] = stored
            return stored
        rows = {}
        for name in NAMES:
            frame = read_validated(name)

            def shown(day: dt.date, name=name, frame=frame) -> int:
                return len(filter_as_of(name, frame, pd.Timestamp(day)))

            every = shown(_LATEST_DAY)
            if every == 0:
                continue
            rows[name] = {
                "file": SPECS[name].filename,
                "first": _first_day(lambda day, shown=shown: shown(day) > 0),
                "last": _first_day(lambda day, shown=shown, every=every: shown(day) >= every),
            }
        _COVERAGE.clear()
        _COVERAGE[key] = Coverage(pd.DataFrame.from_dict(rows, orient="index"))
        _store_coverage(rows, stored_path)
    return _COVERAGE[key]


def _stored_path() -> Path:
    """Return the cache file of the coverage of these data files under these rules.

    Named by the SHA-256 of every table's bytes and of the code that reads and dates them, so
    an edited table (or rule) is validated and dated again: a new process reads the dates
    instead of validating every table (about 1 s) to find them.
    """
    from decision.core.backend import cache_root

    digest = hashlib.sha256()
    code = Path(__file__).parent
    for path in [
        *(data_path(name) for name in NAMES),
        *(code / f for f in ("asof.py", "loading.py", "schemas.py", "coverage.py")),
    ]:
        digest.update(str(path.name).encode())
        digest.update(path.read_bytes() if path.exists() else b"missing")
    return cache_root() / "evidence" / f"coverage-{digest.hexdigest()[:32]}.json"


def _stored_coverage(path: Path) -> Coverage | None:
    """Return the coverage stored at ``path``, or None (none, or unreadable)."""
    try:
        rows = json.loads(path.read_text())
        frame = pd.DataFrame.from_dict(rows, orient="index")
        for column in ("first", "last"):
            frame[column] = [dt.date.fromisoformat(day) for day in frame[column]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return Coverage(frame)


def _store_coverage(rows: dict, path: Path) -> None:
    """Store ``rows`` at ``path`` for :func:`_stored_coverage`; if it cannot be written, skip."""
    text = json.dumps(
        {
            n: {**r, "first": r["first"].isoformat(), "last": r["last"].isoformat()}
            for n, r in rows.items()
        }
    )
    try:
        with atomic_path(path, suffix=".json") as tmp:
            tmp.write_text(text)
    except OSError:
        pass


def _file_signature(path: Path) -> tuple:
    """Return what identifies a version of the file at ``path`` (modification time, size)."""
    try:
        stat = path.stat()
    except OSError:
        return (str(path), None)
    return (str(path), stat.st_mtime_ns, stat.st_size)
