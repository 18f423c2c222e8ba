"""Results derived deterministically from their inputs, kept on disk across processes.

Some results cost a new process far more than they are worth computing again: an expert's
answers fitted as a distribution (:mod:`decision.elicitation.stored`), an evidence table
validated (:mod:`decision.evidence.loading`). Each depends only on its inputs, on the code that
derives it and on the versions of the libraries that code uses. :func:`stored` keeps such a
result in a file named by a hash of all of those (:func:`content_key`, with
:func:`code_fingerprint`), in the compile cache (:func:`decision.core.backend.compile_cache_dir`),
so that edited inputs, edited code or an upgraded library derive it afresh.

A file that cannot be read is derived again and rewritten; a folder that cannot be written is
skipped (the result is still returned). What fails to derive (an error) is never stored.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from decision.core.atomic import atomic_path
from decision.core.provenance import installed_versions

__all__ = ["code_fingerprint", "content_key", "stored"]

T = TypeVar("T")

#: What a reader raises for a file that is missing, truncated or not what it should be.
UNREADABLE = (OSError, ValueError, KeyError, TypeError)


def code_fingerprint(
    files: Iterable[str | os.PathLike], libraries: Iterable[str]
) -> dict[str, Any]:
    """Return the hash of ``files``' bytes and the installed versions of ``libraries``."""
    code = hashlib.sha256()
    for file in files:
        code.update(Path(file).read_bytes())
    return {"code": code.hexdigest(), "versions": installed_versions(libraries)}


def content_key(payload: Any) -> str:
    """Return the SHA-256 (hex) of ``payload`` written as canonical JSON."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def stored(
    path: Path,
    read: Callable[[Path], T],
    derive: Callable[[], T],
    write: Callable[[Path, T], None],
) -> T:
    """Return ``read(path)``, or ``derive()``'s result written to ``path`` for the next time.

    ``read`` raises one of :data:`UNREADABLE` for a file that is missing or not a valid
    result; ``write`` writes the result to the temporary path it is given, which replaces
    ``path`` once written in full.
    """
    try:
        return read(path)
    except UNREADABLE:
        pass
    value = derive()
    try:
        with atomic_path(path, suffix=path.suffix) as tmp:
            write(tmp, value)
    except OSError:
        pass  # a read-only or full cache: the result is still good
    return value
