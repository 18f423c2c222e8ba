"""Helpers shared by the sensitivity modules: sources, seeds, settings, utility scale, margins.

Private: the public functions of :mod:`decision.sensitivity` document what they take.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from decision.core.config import deep_merge
from decision.core.errors import InputError
from decision.core.suggest import did_you_mean
from decision.tree import Tree, TreeResult, load_tree

__all__: list[str] = []


_CONTROLLER: list = []


def single_threaded():
    """Limit BLAS to one thread (a context manager).

    Threaded BLAS on a small, shared machine is much slower for the small dense problems
    here (a 300 x 300 Cholesky: 50 ms threaded, 0.5 ms on one thread). ``threadpoolctl``
    comes with PyMC; without it this does nothing.
    """
    import contextlib

    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl is a PyMC dependency
        return contextlib.nullcontext()
    if not _CONTROLLER:
        import numpy.linalg  # noqa: F401  (load BLAS before looking for it)
        import scipy.linalg  # noqa: F401

        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


def resolve_tree(source) -> tuple[Tree, TreeResult | None]:
    """Return a tree, and its evaluated result when given one (Tree, TreeResult, path, mapping)."""
    if isinstance(source, TreeResult):
        return source.tree, source
    if isinstance(source, Tree):
        return source, None
    return load_tree(source), None


def resolve_seed(seed) -> int:
    """Return an explicit integer seed: the one given, or a fresh one (recorded on the results)."""
    if seed is None:
        return int(np.random.SeedSequence().entropy % (2**63))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InputError(f"seed must be an integer, got {seed!r}", field="seed")
    return int(seed)


def settings(
    defaults: Mapping[str, Any], config: Mapping[str, Any] | None, where: str, **explicit
) -> dict[str, Any]:
    """``config`` merged over ``defaults``, then keyword arguments that are not ``None``."""
    merged = deep_merge(defaults, config, where=where)
    given = {k: v for k, v in explicit.items() if v is not None}
    return deep_merge(merged, given, where=where)


def record(obj, *, config: Mapping[str, Any], inputs: Mapping[str, Any]):
    """Record the settings and inputs on an xarray or pandas object's ``attrs`` (as JSON)."""
    obj.attrs["config"] = json.dumps(config, sort_keys=True, default=_plain)
    obj.attrs["inputs"] = json.dumps(inputs, sort_keys=True, default=_plain)
    return obj


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def root_labels(tree: Tree) -> list[str]:
    """Return the root decision's options; an error when the root is a chance node."""
    if tree.root.kind != "decision":
        raise InputError(
            "sensitivity analysis compares the options of a root decision; this "
            "tree's root is a chance node",
            file=tree.source,
            field=tree.root.path,
        )
    return list(tree.root.labels)


def check_option(tree: Tree, option: str | None, what: str) -> str | None:
    """``option`` if it is a root option (or ``None``)."""
    if option is None:
        return None
    labels = root_labels(tree)
    if option not in labels:
        raise InputError(
            f"{what} '{option}' is not a root option{did_you_mean(option, labels)}; "
            f"options: {', '.join(labels)}",
            file=tree.source,
            field=what,
        )
    return option


class UtilityScale:
    """Moves option values to and from the scale where they are averaged over draws.

    Linear utility: values are averaged as they are. Exponential utility with risk tolerance
    ``R``: per-draw certainty equivalents ``v`` are averaged as utilities ``-exp(-(v - c)/R)``
    (``c`` a shift for numerical range), and averages are turned back into certainty
    equivalents ``c - R log(-u)``: the tree's own rule for values across draws.
    """

    def __init__(self, tree: Tree, draws: Mapping[str, np.ndarray] | None = None):
        self.linear = tree.utility.is_linear
        self.R = None
        self.shift = 0.0
        if not self.linear:
            expr = tree.utility.risk_tolerance
            if expr.constant is not None:
                self.R = float(expr.constant)
            else:
                from decision.tree.parameters import _operand

                env = {k: _operand(np.asarray(v)) for k, v in (draws or {}).items()}
                self.R = float(np.asarray(expr(env), dtype=float).ravel()[0])

    def centre(self, values: np.ndarray) -> UtilityScale:
        """Set the shift to the mean of ``values`` (keeps exponentials in range)."""
        if not self.linear:
            finite = np.asarray(values, dtype=float)
            finite = finite[np.isfinite(finite)]
            self.shift = float(finite.mean()) if finite.size else 0.0
        return self

    def to_utility(self, values):
        values = np.asarray(values, dtype=float)
        if self.linear:
            return values
        return -np.exp(-(values - self.shift) / self.R)

    def from_utility(self, utility):
        utility = np.asarray(utility, dtype=float)
        if self.linear:
            return utility
        return self.shift - self.R * np.log(-utility)

    def derivative(self, utility) -> np.ndarray:
        """d(value)/d(utility) at ``utility`` (for the delta method)."""
        if self.linear:
            return np.ones_like(np.asarray(utility, dtype=float))
        return -self.R / np.asarray(utility, dtype=float)

    def average(self, values, axis=0):
        """Value of a lottery over draws along ``axis`` (mean, or CE of the mixture)."""
        values = np.asarray(values, dtype=float)
        if self.linear:
            return values.mean(axis=axis)
        from scipy.special import logsumexp

        n = values.shape[axis]
        return -self.R * (logsumexp(-values / self.R, axis=axis) - np.log(n))

    def weighted_average(self, values, weights, axis=0):
        """As :meth:`average` with normalised weights along ``axis``."""
        values = np.asarray(values, dtype=float)
        weights = np.asarray(weights, dtype=float)
        if self.linear:
            return (
                np.tensordot(weights, values, axes=([0], [axis]))
                if values.ndim > 1
                else float(weights @ values)
            )
        from scipy.special import logsumexp

        moved = np.moveaxis(values, axis, 0)
        shape = (-1,) + (1,) * (moved.ndim - 1)
        return -self.R * logsumexp(-moved / self.R, axis=0, b=weights.reshape(shape))

    def to_dict(self) -> dict[str, Any]:
        return (
            {"type": "linear"} if self.linear else {"type": "exponential", "risk_tolerance": self.R}
        )


def margin(
    values: np.ndarray, labels: Sequence[str], reference: str, comparator: str | None = None
) -> np.ndarray:
    """Decision margin along the last axis of ``values`` (..., options).

    ``reference`` minus the best other option, or minus ``comparator`` when one is named.
    Negative where the reference option is no longer the best.
    """
    labels = list(labels)
    ref = values[..., labels.index(reference)]
    if comparator is not None:
        return ref - values[..., labels.index(comparator)]
    others = [i for i, label in enumerate(labels) if label != reference]
    if not others:
        return np.zeros_like(ref)
    return ref - np.max(values[..., others], axis=-1)


def margin_description(reference: str, comparator: str | None) -> str:
    """Plain-words definition of the margin, for attrs and axis labels."""
    if comparator is None:
        return f"'{reference}' minus the best other option"
    return f"'{reference}' minus '{comparator}'"
