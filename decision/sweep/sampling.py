"""Sampled designs: points in [0, 1) mapped through each sampled key's distribution.

A sweep's ``sample`` section draws ``n`` points of a Latin hypercube (``lhs``: every margin is
stratified) or plain random points in the unit cube, one dimension per sampled key, and maps
each coordinate through the key's quantile function. The distributions are the tree engine's
own (:data:`decision.tree.parameters.DISTRIBUTIONS`: the same names, arguments and checks as a
tree file's ``distribution`` parameters); ``{values: [...]}`` picks one of the values, equally
likely; dates are spread uniformly over the days between two dates.

Errors are :class:`~decision.core.validation.KeyPathError` located below the sampled key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from decision.core.errors import InputError
from decision.core.suggest import did_you_mean
from decision.core.validation import KeyPathError
from decision.tree.parameters import DISTRIBUTIONS, DistributionParameter, parse_parameters

__all__ = [
    "DEFAULT_DISTRIBUTION",
    "METHODS",
    "days_between",
    "pick",
    "quantiles",
    "tree_distribution",
    "unit_points",
]

#: ``lhs``: a Latin hypercube (:class:`scipy.stats.qmc.LatinHypercube`); ``random``: plain
#: uniform random points.
METHODS = ("lhs", "random")
#: The distribution of a sampled key written ``{low: ..., high: ...}``.
DEFAULT_DISTRIBUTION = "uniform"
#: Unit points are kept this far inside (0, 1), where every quantile function is finite.
_EDGE = 1e-12


def unit_points(n: int, dimensions: int, seed: int, method: str) -> np.ndarray:
    """Draw ``n`` points in the unit cube of ``dimensions`` dimensions (rows are points).

    Parameters
    ----------
    n, dimensions
        Points and dimensions.
    seed
        Seed of the design.
    method
        One of :data:`METHODS`.
    """
    if method == "random":
        return np.random.default_rng(seed).random((n, dimensions))
    from scipy.stats import qmc

    try:
        sampler = qmc.LatinHypercube(d=dimensions, rng=seed)
    except TypeError:  # scipy < 1.15
        sampler = qmc.LatinHypercube(d=dimensions, seed=seed)
    return sampler.random(n)


def tree_distribution(spec: Mapping[str, Any]) -> DistributionParameter:
    """Read a sampled key's distribution as the tree engine reads a ``distribution`` parameter.

    Parameters
    ----------
    spec
        ``{distribution: name, <arguments>}``; without ``distribution``,
        :data:`DEFAULT_DISTRIBUTION` (``{low, high}``).

    Raises
    ------
    KeyPathError
        An unknown distribution, missing or unexpected arguments, or arguments the tree engine
        refuses (``low`` not below ``high``, ``sd`` not positive, ...), located below the key.
    """
    name = spec.get("distribution", DEFAULT_DISTRIBUTION)
    if not isinstance(name, str) or name not in DISTRIBUTIONS:
        raise KeyPathError(
            f"unknown distribution {name!r}{did_you_mean(str(name), DISTRIBUTIONS)} (expected "
            f"one of: {', '.join(DISTRIBUTIONS)}, or values: [...])",
            ("distribution",),
        )
    required, optional = DISTRIBUTIONS[name]
    arguments = [*required, *optional]
    extra = sorted(str(key) for key in spec if key != "distribution" and key not in arguments)
    if extra:
        raise KeyPathError(
            f"unexpected key(s) for {name}: {', '.join(extra)} (expected {', '.join(arguments)})",
            (),
        )
    for key in required:
        if key not in spec:
            raise KeyPathError(f"{name} needs '{key}' (expected {', '.join(arguments)})", ())
    try:
        # A mapping with 'distribution' parses as a DistributionParameter.
        return parse_parameters({"sampled": {**spec, "distribution": name}})["sampled"]
    except InputError as exc:
        below = (exc.field or "").removeprefix("parameters.sampled").lstrip(".")
        raise KeyPathError(exc.detail, (below,) if below else ()) from None


def quantiles(distribution: DistributionParameter, u: np.ndarray) -> np.ndarray:
    """Map unit points ``u`` through the distribution's quantile function."""
    return np.asarray(distribution.ppf(np.clip(u, _EDGE, 1 - _EDGE)), dtype=float)


def pick(values: Sequence[Any], u: np.ndarray) -> list[Any]:
    """Map unit points ``u`` to ``values``, each equally likely."""
    index = np.minimum((u * len(values)).astype(int), len(values) - 1)
    return [values[i] for i in index]


def days_between(low: dt.date, high: dt.date, u: np.ndarray) -> list[str]:
    """Map unit points ``u`` to the days from ``low`` to ``high`` (both included), ISO text."""
    days = (high - low).days + 1
    return [(low + dt.timedelta(days=int(min(x * days, days - 1)))).isoformat() for x in u]
