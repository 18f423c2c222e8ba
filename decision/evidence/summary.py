"""What the evidence holds, for people: each table's size, date range and sources."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pandas as pd

from decision.core.config import DEFAULT_AS_OF
from decision.core.tables import is_missing
from decision.evidence.loading import load, read_validated
from decision.evidence.schemas import NAMES, SOURCE_SEPARATOR, SPECS

__all__ = ["describe", "sources"]


def sources(name: str, *, path: str | os.PathLike | None = None) -> list[str]:
    """Distinct sources cited in table ``name`` (all rows), in order of first use.

    A cell citing several sources separates them with ``"; "``
    (:data:`~decision.evidence.schemas.SOURCE_SEPARATOR`).
    """
    frame = read_validated(name, path)
    seen: dict[str, None] = {}
    for cell in frame["source"]:
        for part in str(cell).split(SOURCE_SEPARATOR):
            part = part.strip()
            if part:
                seen.setdefault(part, None)
    return list(seen)


def _fmt(value: Any) -> str | None:
    """Show a cell as text: a date as YYYY-MM-DD, a blank as None."""
    if is_missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value)


def describe(as_of: dt.date | str = DEFAULT_AS_OF) -> pd.DataFrame:
    """One row per table: file, rows (at ``as_of``), first and last date, sources count."""
    records = []
    for name in NAMES:
        spec = SPECS[name]
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
