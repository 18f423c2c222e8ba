"""Reading the evidence: the packaged CSV files, validated, as known on an ``as_of`` date.

This is the one module that reads evidence files. Every table is a CSV file inside the
package (located with :mod:`importlib.resources`), validated on read against its definition
in :mod:`decision.evidence.schemas` and kept in memory while the file is unchanged. A table
validated once is also kept on disk, as Parquet in the compile cache's ``evidence/`` folder,
named by the file's bytes, the validating code and the versions of pandas, pandera, pyarrow
and numpy (:mod:`decision.core.stored`): a new process reads it instead of validating the same
bytes again (about 0.4 s a process for the packaged tables). Every
loader limits its answer to what was public on ``as_of`` (default
:data:`decision.core.config.DEFAULT_AS_OF`, the day of the proposal, 2017-08-20) by the
rules in :mod:`decision.evidence.asof`.

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

import datetime as dt
import functools
import os
from importlib.resources import as_file, files
from pathlib import Path

import pandas as pd

from decision.core import tables
from decision.core.backend import compile_cache_dir
from decision.core.config import DEFAULT_AS_OF
from decision.core.dates import parse_date
from decision.core.provenance import sha256_file
from decision.core.stored import code_fingerprint, content_key, stored
from decision.core.tables import MAX_CSV_BYTES, TableSpec, read_text_csv, validate_table
from decision.evidence import schemas
from decision.evidence.asof import filter_as_of
from decision.evidence.schemas import table_spec

__all__ = [
    "agreements",
    "china_enforcement",
    "china_obligations",
    "data_path",
    "dprk_offers",
    "dprk_transfers",
    "exercises",
    "launches_monthly",
    "load",
    "nuclear_tests",
    "read_validated",
    "trade_annual",
    "trade_monthly",
    "unsc_resolutions",
]

#: Validated tables by (name, file, modification time, size): re-read only when the file changes.
_CACHE: dict[tuple, pd.DataFrame] = {}

#: Version of the stored tables' layout; libraries a validated table depends on.
_FORMAT = 1
_LIBRARIES = ("pandas", "pandera", "pyarrow", "numpy")


def data_path(name: str) -> Path:
    """Path of the packaged CSV file for table ``name``."""
    resource = files("decision").joinpath("data", table_spec(name).filename)
    with as_file(resource) as path:
        return Path(path)


def read_validated(name: str, path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Return every row of table ``name``, validated and typed, whatever its date.

    Parameters
    ----------
    name
        One of :data:`~decision.evidence.schemas.NAMES`.
    path
        Read this CSV instead of the packaged file (same format).

    Raises
    ------
    InputError
        Unknown table, or a file that fails validation.
    """
    spec = table_spec(name)
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
    frame = _validated(spec, target, file, stat.st_size if key is not None else None)
    if key is not None:
        _CACHE[key] = frame
    return frame.copy()


@functools.cache
def _fingerprint() -> dict:
    """Return the validating code's hash and its libraries' versions (one per process)."""
    return code_fingerprint([schemas.__file__, tables.__file__], _LIBRARIES)


def _validated(spec: TableSpec, target: Path, file: str, size: int | None) -> pd.DataFrame:
    """Validate the table at ``target``, or read it as validated from the same bytes before."""

    def validate() -> pd.DataFrame:
        return validate_table(read_text_csv(target, file=file), spec, file=file)

    if size is None or size > MAX_CSV_BYTES:
        return validate()  # missing or too large: refused with the reason, never stored
    try:
        digest = sha256_file(target)
    except OSError:
        return validate()
    key = content_key({"format": _FORMAT, "table": spec.name, "sha256": digest, **_fingerprint()})
    return stored(
        compile_cache_dir() / "evidence" / f"{key}.parquet",
        pd.read_parquet,
        validate,
        lambda path, frame: frame.to_parquet(path),
    )


def load(
    name: str, *, as_of: dt.date | str = DEFAULT_AS_OF, path: str | os.PathLike | None = None
) -> pd.DataFrame:
    """Load evidence table ``name`` as known on ``as_of``.

    Parameters
    ----------
    name
        One of :data:`~decision.evidence.schemas.NAMES`.
    as_of
        A date or ``"YYYY-MM-DD"``; rows not public by then are left out (see
        :mod:`decision.evidence.asof` for each table's rule).
    path
        Read this CSV instead of the packaged file (same format); for tests and
        for checking edited copies.

    Raises
    ------
    InputError
        Unknown table, bad ``as_of``, or a file that fails validation.
    """
    table_spec(name)  # an unknown table is reported before a bad as_of
    when = pd.Timestamp(parse_date(as_of))
    frame = read_validated(name, path)
    return filter_as_of(name, frame, when).reset_index(drop=True)


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
