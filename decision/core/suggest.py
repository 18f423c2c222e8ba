"""'Did you mean ...?' hints for unknown names in user input."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["closest", "did_you_mean"]


def closest(word: object, candidates: Iterable[object], *, cutoff: float = 0.6) -> str | None:
    """Return the candidate most like ``word`` (difflib ratio at least ``cutoff``), or None."""
    match = difflib.get_close_matches(str(word), [str(c) for c in candidates], n=1, cutoff=cutoff)
    return match[0] if match else None


def did_you_mean(word: object, candidates: Iterable[object], *, cutoff: float = 0.6) -> str:
    """``" (did you mean 'x'?)"`` for the closest candidate, or ``""`` when none is close.

    Meant to follow the unknown name in an error message:
    ``f"unknown parameter '{name}'{did_you_mean(name, known)}"``.
    """
    match = closest(word, candidates, cutoff=cutoff)
    return f" (did you mean '{match}'?)" if match else ""
