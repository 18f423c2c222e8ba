"""The fingerprint of the evidence at a date: the posterior cache's key.

A fit depends on the evidence only through what :func:`~decision.evidence.loading.load`
returns at its ``as_of``, so the hash is taken over exactly that.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable

import pandas as pd

from decision.core.config import DEFAULT_AS_OF
from decision.evidence.loading import load
from decision.evidence.schemas import NAMES

__all__ = ["data_hash"]

#: Bump when a loader's computation changes, so cached posteriors are invalidated.
_HASH_VERSION = "decision.evidence/2"


def _canonical_csv(frame: pd.DataFrame) -> str:
    """Write ``frame`` as CSV in one fixed form (no index, LF line ends, ISO dates)."""
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
