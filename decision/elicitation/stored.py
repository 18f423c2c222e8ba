"""Fitted answers kept on disk, so that PreliZ runs once per distinct answer, not per process.

Reading an expert's answers as a distribution costs seconds in a new process (PreliZ's import
and the numba compilation of its distributions' functions) and milliseconds after. The result
depends only on the method, the answers, this package's fitting code and the versions of the
libraries that fit. Each spec is kept as a small JSON file in the compile cache
(:func:`decision.core.backend.compile_cache_dir`, beside the compiled model code: derived
deterministically from its inputs, never from sampling), named by a hash of all of those, so
an edited answer, an edited fitting module or an upgraded library is fitted afresh.

A file that cannot be read is fitted again and rewritten; a cache that cannot be written is
skipped (the fit is still returned).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from decision.core.backend import compile_cache_dir
from decision.core.stored import code_fingerprint, content_key, stored

__all__ = ["fit_key", "stored_fit", "stored_fits_dir"]

#: Version of the stored file's layout.
_FORMAT = 1
#: Libraries whose results a fitted spec depends on.
_LIBRARIES = ("preliz", "scipy", "pytensor", "numpy")


def stored_fits_dir() -> Path:
    """Return the folder of stored fits (``elicitation/`` in the compile cache)."""
    return compile_cache_dir() / "elicitation"


@functools.cache
def _fingerprint() -> dict[str, Any]:
    """Return the fitting code's hash and the fitting libraries' versions (one per process)."""
    from decision.elicitation import fitting, records

    # records: how percentile answers are read
    return code_fingerprint([fitting.__file__, records.__file__], _LIBRARIES)


def fit_key(method: str, distribution: str, answers: Mapping[str, float]) -> str:
    """Return the hash that names a fit of ``answers`` read by ``method`` as ``distribution``."""
    payload = {
        "format": _FORMAT,
        "method": method,
        "distribution": distribution,
        "answers": {key: float(value) for key, value in answers.items()},
        **_fingerprint(),
    }
    return content_key(payload)


def stored_fit(
    method: str,
    distribution: str,
    answers: Mapping[str, float],
    fit: Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    """Return the stored spec of these answers, or ``fit()``'s (stored for the next time).

    ``fit`` returns the tree spec (``{"distribution": ..., ...}``) and raises when the answers
    make no distribution; nothing is stored then.
    """

    def read(path: Path) -> dict[str, Any]:
        spec = json.loads(path.read_text(encoding="utf-8"))["spec"]
        if not isinstance(spec, dict) or spec.get("distribution") != distribution:
            raise ValueError(f"{path} holds no {distribution} spec")
        return spec

    def write(path: Path, spec: dict[str, Any]) -> None:
        text = json.dumps({"format": _FORMAT, "spec": spec}, sort_keys=True)
        path.write_text(text, encoding="utf-8")

    path = stored_fits_dir() / f"{fit_key(method, distribution, answers)}.json"
    return stored(path, read, fit, write)
