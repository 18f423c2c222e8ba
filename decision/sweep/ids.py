"""Stable identities: canonical JSON of a sweep's inputs and hashes of it.

Scenario ids, fit keys, the sweep's hash and part-file names are SHA-256 hashes of canonical
JSON (sorted keys, no spaces), so that the same inputs give the same id in every run.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["canonical_json", "digest"]


def canonical_json(obj: Any) -> str:
    """Write ``obj`` as JSON with sorted keys and no spaces (anything else as ``str``)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def digest(obj: Any, length: int = 64) -> str:
    """Hash text, or the canonical JSON of anything else: the first ``length`` hex digits."""
    text = obj if isinstance(obj, str) else canonical_json(obj)
    return hashlib.sha256(text.encode()).hexdigest()[:length]
