"""Configuration dictionaries: documented defaults merged with user overrides."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from typing import Any

from decision.core.errors import InputError

__all__ = ["DEFAULT_AS_OF", "DEFAULT_SEED", "deep_merge"]

#: The day R. D. Williams's proposal was published (Lawfare, 20 Aug 2017).
DEFAULT_AS_OF = dt.date(2017, 8, 20)

#: The seed of every sampler and simulation unless the caller gives one. Report templates and
#: notebooks repeat it as a literal in their ``parameters`` cell (papermill needs literals);
#: ``tests/test_report.py`` keeps them equal.
DEFAULT_SEED = 20170820


def deep_merge(
    defaults: Mapping[str, Any], overrides: Mapping[str, Any] | None, *, where: str = "config"
) -> dict[str, Any]:
    """Return ``defaults`` updated by ``overrides``, recursively, without mutating either.

    Unknown keys are an error: a typo must not silently fall back to a default.

    Raises
    ------
    InputError
        If ``overrides`` names a key that ``defaults`` does not have.
    """
    merged = copy.deepcopy(dict(defaults))
    if overrides is not None and not isinstance(overrides, Mapping):
        raise InputError(f"expected a mapping, got {type(overrides).__name__}", field=where)
    for key, value in (overrides or {}).items():
        if key not in merged:
            known = ", ".join(sorted(merged))
            raise InputError(
                f"unknown key '{key}' (expected one of: {known})", field=f"{where}.{key}"
            )
        if isinstance(merged[key], Mapping):
            if not isinstance(value, Mapping):
                raise InputError(
                    f"expected a mapping, got {type(value).__name__}", field=f"{where}.{key}"
                )
            merged[key] = deep_merge(merged[key], value, where=f"{where}.{key}")
        else:
            merged[key] = copy.deepcopy(value)
    return merged
