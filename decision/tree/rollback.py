"""Vectorized rollback of a tree over N parameter draws (the engine behind ``evaluate``).

Every node value is a numpy array of shape ``(N,)`` (or a scalar when it is the same in
every draw). One recursive pass computes two values per node:

* **informed** (per draw): every decision takes the best option *in that draw*, as a
  decision maker who knew the parameters would;
* **expected** (the reported policy): every decision takes the option with the highest
  expected value (or expected utility) *across draws*, weighted by the probability, in each
  draw, of reaching the node (Bayesian updating on the path), and passes that option's
  per-draw values upward.

The arithmetic of a pass is one of three classes with the same methods. :class:`LinearMath`
rolls back expected values. Under an exponential utility :class:`DisutilityMath` rolls back
in utility space: a node's value is its expected disutility ``D = E exp(-x / R)`` of the
payoffs from the node on, an edge with payoff ``c`` multiplies by ``exp(-c / R)`` (one
exponential per payoff, none per node), a chance node is ``sum_i p_i exp(-c_i / R) D_i``
and the best option has the smallest ``D``; certainty equivalents ``-R log D`` are taken
only where a value is reported. It needs, along every path, the payoffs' largest absolute
values over the draws to add up to at most :data:`DISUTILITY_SPAN` risk tolerances, so that
no product of such factors overflows or underflows; when a tree exceeds that,
:func:`decision.tree.evaluate` rolls it back again with :class:`ExponentialMath`, which
works on certainty equivalents in log space (``CE = -R log sum_i p_i exp(-(c_i + CE_i) / R)``,
shifted per draw), slower but safe for any payoffs. By the delta property both are exactly
the rollback of expected utility of the total path payoff.

A pass evaluates the tree's expressions together, each shared part once
(:mod:`decision.tree.subexpressions`). The pass behind :func:`decision.tree.evaluate` runs,
over many draws, as a compiled program one block of draws at a time
(:mod:`decision.tree.blockwise`); the others (display values, recorded option values,
conditioning for EVPI) walk the tree as described above.
"""

from __future__ import annotations

import functools
import math
import weakref
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from decision.core.errors import InputError
from decision.tree.expressions import BLOCK, Expression
from decision.tree.model import Node, Tree
from decision.tree.parameters import _all_finite
from decision.tree.subexpressions import SharedEvaluation

__all__ = [
    "PROBABILITY_TOLERANCE",
    "BELIEF_TOLERANCE",
    "DISUTILITY_SPAN",
    "LinearMath",
    "DisutilityMath",
    "ExponentialMath",
    "OutOfRange",
    "RollbackPass",
    "math_for",
]

#: Outcome probabilities of a chance node must sum to 1 within this, in every draw.
PROBABILITY_TOLERANCE = 1e-6
#: Instances of one uncertainty must imply the same probability within this (see evpi).
BELIEF_TOLERANCE = 1e-6
#: :class:`DisutilityMath` is used when the payoffs along every path add up to at most this
#: many risk tolerances in absolute value (exp(350) is about 1e152: products of such factors
#: and of probabilities down to 1e-150 stay normal floating-point numbers).
DISUTILITY_SPAN = 350.0

Value = np.float64 | np.ndarray


def _is_scalar(x) -> bool:
    return not isinstance(x, np.ndarray) or x.ndim == 0


#: The value of a terminal node of a single-attribute tree (linear or log-space
#: arithmetic); ``_add`` skips adding it.
ZERO = np.float64(0.0)
#: The disutility of a terminal node of a single-attribute tree; ``_times`` skips it.
ONE = np.float64(1.0)


def _add(c, v):
    """``c + v`` where either may be ``None`` or :data:`ZERO` (nothing to add)."""
    if c is None or c is ZERO:
        return v
    return c if v is None or v is ZERO else c + v


def _times(a, b):
    """Multiply ``a * b``, either of which may be ``None`` or :data:`ONE` (nothing to do)."""
    if a is None or a is ONE:
        return b
    return a if b is None or b is ONE else a * b


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    # einsum's own loop: no BLAS threads to oversubscribe a shared machine.
    return float(np.einsum("i,i->", a, b))


def _mean(x) -> float:
    return float(x) if _is_scalar(x) else float(np.mean(x))


def _log(x: float) -> float:
    """``log x`` for ``x >= 0`` (``-inf`` at 0; NaN stays NaN)."""
    return -math.inf if x == 0 else math.log(x)


def _logsumexp_draws(a, n: int) -> float:
    """``log(sum over n draws of exp(a))``; a scalar stands for n equal draws."""
    if _is_scalar(a):
        return float(a) + math.log(n)
    top = float(np.max(a))
    if top == -np.inf:
        return -np.inf
    with np.errstate(all="ignore"):
        return top + math.log(float(np.sum(np.exp(a - top))))


def _by_blocks(combine, n: int, probs: Sequence, payoffs: Sequence, values: Sequence):
    """``combine(probs, payoffs, values, n)``, one block of draws at a time when n is large."""
    parts = (probs, payoffs, values)
    if n <= 2 * BLOCK or all(x is None or _is_scalar(x) for part in parts for x in part):
        return combine(probs, payoffs, values, n)
    out = np.empty(n)
    for start in range(0, n, BLOCK):
        block = slice(start, start + BLOCK)
        sliced = [[x if x is None or _is_scalar(x) else x[block] for x in part] for part in parts]
        out[block] = combine(*sliced, min(BLOCK, n - start))
    return out


def _certainty_equivalent_of_masses(R: float, masses: Sequence[float]) -> float:
    """``-R log sum_k exp(m_k)`` for log-disutility shares ``m_k`` (``-inf`` ones left out)."""
    finite = [m for m in masses if m != -np.inf]
    top = max(finite)
    return -R * (top + math.log(sum(math.exp(m - top) for m in finite)))


class _Accumulator:
    """A running sum of per-draw terms that writes into arrays it owns, never its inputs."""

    def __init__(self, n: int):
        self.n = n
        self.total = None
        self.owned = False
        self.scratch = None

    def buffer(self) -> np.ndarray:
        """Return an array of ``n`` to compute the next term in (handed back by :meth:`add`)."""
        if self.scratch is None:
            self.scratch = np.empty(self.n)
        return self.scratch

    def add(self, term) -> None:
        """Add ``term`` (a scalar, an input array, or the array from :meth:`buffer`)."""
        fresh = term is self.scratch
        total = self.total
        if total is None:
            self.total, self.owned = term, fresh
        elif _is_scalar(term) and _is_scalar(total):
            self.total = total + term
        elif self.owned:
            np.add(total, term, out=total)
        elif fresh:
            np.add(term, total, out=term)
            self.total, self.owned = term, True
        else:
            self.total, self.owned = total + term, True
        if fresh:
            self.scratch = None

    def result(self, empty):
        return empty if self.total is None else self.total


class LinearMath:
    """Expected values: weights are reach probabilities ``r``; an edge adds its payoff."""

    is_linear = True
    #: True when :meth:`edge` returns the payoff itself.
    edge_is_payoff = True
    #: The value of a terminal node when nothing is added at the end of a path.
    unit = ZERO

    def __init__(self, n: int):
        self.n = n

    def initial(self, belief=None):
        """Return the weight at the root: 1, or the probability ``belief`` of an outcome."""
        return np.float64(1.0) if belief is None else belief

    def edge(self, c):
        """Return what an edge with payoff ``c`` does to the values below it (adds ``c``)."""
        return c

    def along(self, e, v):
        """Return the value ``v`` of a child seen across edge ``e``."""
        return _add(e, v)

    def down(self, weight, p, e):
        """Return a child's weight: the reach probability, times ``p`` on a chance edge."""
        if p is None:
            return weight
        if _is_scalar(weight) and weight == 1.0:
            return p
        return weight * p

    def combine(self, probs: Sequence, payoffs: Sequence, values: Sequence):
        """``sum_i p_i (c_i + v_i)`` per draw.

        Over many draws the sum is taken one block of draws at a time, so that each input
        is read from memory once and the intermediate results stay in cache.
        """
        return _by_blocks(self._combine, self.n, probs, payoffs, values)

    @staticmethod
    def _combine(probs: Sequence, payoffs: Sequence, values: Sequence, n: int):
        total = _Accumulator(n)
        for p, c, v in zip(probs, payoffs, values, strict=True):
            c = None if c is ZERO else c
            v = None if v is ZERO else v
            if c is None and v is None:
                continue
            if _is_scalar(p) and (c is None or _is_scalar(c)) and (v is None or _is_scalar(v)):
                total.add(p * _add(c, v))
                continue
            scratch = total.buffer()
            if c is None or v is None:
                np.multiply(p, v if c is None else c, out=scratch)
            else:
                np.add(c, v, out=scratch)
                np.multiply(scratch, p, out=scratch)
            total.add(scratch)
        return total.result(ZERO)

    def best(self, values: Sequence):
        """Per draw, the value of the best of ``values``."""
        return functools.reduce(np.maximum, values)

    def best_index(self, values: np.ndarray) -> np.ndarray:
        """Per draw (row of ``values``, draws x options), the index of the best option."""
        return np.argmax(values, axis=1)

    def scores(self, weight, values: Sequence) -> list[float]:
        """:meth:`score` of each of ``values`` under one ``weight``."""
        if _is_scalar(weight):
            return [_mean(v) for v in values]
        total = float(np.sum(weight))
        if not total > 0:
            return [_mean(v) for v in values]
        return [float(v) if _is_scalar(v) else _dot(weight, v) / total for v in values]

    def score(self, weight, values) -> float:
        """Return the expected value given the node is reached (reach-weighted mean)."""
        return self.scores(weight, [values])[0]

    def mass(self, weight, values) -> float:
        """``mean over draws of weight * value``: a weighted share of the expected value."""
        if _is_scalar(weight) and _is_scalar(values):
            return float(weight) * float(values)
        if _is_scalar(weight):
            return float(weight) * float(np.mean(values))
        if _is_scalar(values):
            return float(values) * float(np.mean(weight))
        return _dot(weight, values) / self.n

    def from_masses(self, masses: Sequence[float]) -> float:
        """Return the value whose weighted shares are ``masses``."""
        return float(sum(masses))

    def average(self, values) -> float:
        """Return the value of a per-draw value before the draws are known."""
        return _mean(values)

    def report(self, values):
        """Per-draw values in payoff units (expected values are already)."""
        return values

    def check_span(self, tree: Tree, spans: Mapping, terminal_span: float) -> None:
        """Any payoffs are fine for expected values."""


class DisutilityMath:
    """Exponential utility ``u(x) = 1 - exp(-x / R)`` rolled back in utility space.

    A node's value is the expected disutility ``D = E exp(-x / R)`` of the payoffs ``x``
    from the node to the end of the path, per draw; the weight of a node is
    ``r exp(-a / R)``, the probability of reaching it times the disutility of the payoff
    ``a`` accumulated on the way, so that a later decision maximizes the expected utility of
    the whole path. Values are turned into certainty equivalents ``-R log D`` only by
    :meth:`score`, :meth:`average` and :meth:`report`. Valid while every path's payoffs add
    up to at most :data:`DISUTILITY_SPAN` risk tolerances (see :meth:`check_span`).
    """

    is_linear = False
    edge_is_payoff = False
    unit = ONE

    def __init__(self, n: int, risk_tolerance: float):
        self.n = n
        self.R = float(risk_tolerance)

    def initial(self, belief=None):
        """Return the weight at the root: 1, or the probability ``belief`` of an outcome."""
        return ONE if belief is None else belief

    def edge(self, c):
        """``exp(-c / R)``: the factor an edge with payoff ``c`` applies below it."""
        if c is None:
            return None
        with np.errstate(over="ignore", under="ignore"):
            if _is_scalar(c):
                return np.exp(np.float64(c) * (-1.0 / self.R))
            out = np.multiply(c, -1.0 / self.R)
            return np.exp(out, out=out)

    def along(self, e, v):
        """Return the disutility ``e * v`` of a child's value ``v`` across edge ``e``."""
        return _times(e, v)

    def down(self, weight, p, e):
        """Return a child's weight: times ``p`` and the edge's disutility ``e``."""
        for factor in (p, e):
            if factor is None or (_is_scalar(factor) and factor == 1.0):
                continue
            weight = factor if _is_scalar(weight) and weight == 1.0 else weight * factor
        return weight

    def combine(self, probs: Sequence, payoffs: Sequence, values: Sequence):
        """``sum_i p_i e_i D_i`` per draw (``e_i = exp(-c_i / R)``), block by block."""
        return _by_blocks(self._combine, self.n, probs, payoffs, values)

    @staticmethod
    def _combine(probs: Sequence, edges: Sequence, values: Sequence, n: int):
        total = _Accumulator(n)
        for p, e, d in zip(probs, edges, values, strict=True):
            if _is_scalar(p) and p == 0:
                continue  # never reached, whatever its payoff
            scalar = 1.0
            arrays = []
            for x in (p, e, d):
                if x is None or x is ONE:
                    continue
                if _is_scalar(x):
                    scalar *= float(x)
                else:
                    arrays.append(x)
            if not arrays:
                total.add(np.float64(scalar))
                continue
            if scalar == 1.0 and len(arrays) == 1:
                total.add(arrays[0])
                continue
            scratch = total.buffer()
            if scalar == 1.0:
                np.multiply(arrays[0], arrays[1], out=scratch)
                rest = arrays[2:]
            else:
                np.multiply(arrays[0], scalar, out=scratch)
                rest = arrays[1:]
            for x in rest:
                np.multiply(scratch, x, out=scratch)
            total.add(scratch)
        return total.result(np.float64(0.0))

    def best(self, values: Sequence):
        """Per draw, the smallest disutility (the best option)."""
        return functools.reduce(np.minimum, values)

    def best_index(self, values: np.ndarray) -> np.ndarray:
        """Return, per draw (row), the index of the smallest disutility."""
        return np.argmin(values, axis=1)

    def _ce(self, mean_disutility: float) -> float:
        return -self.R * _log(mean_disutility)

    def scores(self, weight, values: Sequence) -> list[float]:
        """Certainty equivalent of each of ``values`` given the node is reached."""
        if not _is_scalar(weight):
            total = float(np.sum(weight))
            if total > 0:
                return [
                    self._ce(float(v) if _is_scalar(v) else _dot(weight, v) / total) for v in values
                ]
        return [self._ce(_mean(v)) for v in values]

    def score(self, weight, values) -> float:
        """Return the certainty equivalent of ``values`` given the node is reached."""
        return self.scores(weight, [values])[0]

    def mass(self, weight, values) -> float:
        """``log mean over draws of weight * D`` (a log-disutility share)."""
        if _is_scalar(weight):
            return _log(float(weight)) + _log(_mean(values))
        if _is_scalar(values):
            return _log(float(values)) + _log(float(np.mean(weight)))
        return _log(_dot(weight, values) / self.n)

    def from_masses(self, masses: Sequence[float]) -> float:
        """Return the certainty equivalent of the log-disutility shares ``masses``."""
        return _certainty_equivalent_of_masses(self.R, masses)

    def average(self, values) -> float:
        """Return the certainty equivalent of per-draw values before the draws are known."""
        return self._ce(_mean(values))

    def report(self, values):
        """Per-draw certainty equivalents ``-R log D``."""
        with np.errstate(divide="ignore"):
            out = np.log(values)
        if _is_scalar(out):
            return np.float64(-self.R * out)
        return np.multiply(out, -self.R, out=out)

    def check_span(self, tree: Tree, spans: Mapping, terminal_span: float) -> None:
        """Raise :class:`OutOfRange` when some path's payoffs may exceed the valid span.

        ``spans`` maps a branch to the largest absolute payoff it had in a draw (branches
        not evaluated are left out); ``terminal_span`` is that of the terminal offset.
        """
        limit = DISUTILITY_SPAN * self.R
        memo: dict[str, float] = {}

        def widest(node: Node) -> float:
            if node.kind == "terminal":
                return terminal_span
            if node.path not in memo:
                memo[node.path] = max(
                    spans.get(branch.path, 0.0) + widest(branch.node) for branch in node.branches
                )
            return memo[node.path]

        if not widest(tree.root) <= limit:  # also when NaN
            raise OutOfRange(f"payoffs span more than {DISUTILITY_SPAN:g} risk tolerances")


class ExponentialMath:
    """Certainty equivalents under ``u(x) = 1 - exp(-x / R)`` in log space; weights are logs.

    The weight of a node is ``log r - c / R``: the log of the probability of reaching it
    plus the (scaled) payoff accumulated on the way, so that the choice at a later decision
    maximizes the expected utility of the whole path. Slower than :class:`DisutilityMath`
    (logs and exponentials at every chance node) but valid for any payoffs.
    """

    is_linear = False
    edge_is_payoff = True
    unit = ZERO

    def __init__(self, n: int, risk_tolerance: float):
        self.n = n
        self.R = float(risk_tolerance)

    def initial(self, belief=None):
        """Return the log weight at the root: 0, or ``log belief``."""
        if belief is None:
            return np.float64(0.0)
        with np.errstate(divide="ignore"):
            return np.log(belief)

    def edge(self, c):
        """Return the payoff itself (values are certainty equivalents)."""
        return c

    def along(self, e, v):
        """Return a child's certainty equivalent ``v`` plus the edge's payoff ``e``."""
        return _add(e, v)

    def down(self, weight, p, c):
        """Return a child's log weight: plus ``log p``, minus ``c / R``."""
        with np.errstate(divide="ignore"):
            if p is not None and not (_is_scalar(p) and p == 1.0):
                weight = weight + np.log(p)
        return weight if c is None else weight - c / self.R

    def combine(self, probs: Sequence, payoffs: Sequence, values: Sequence):
        """``-R log sum_i p_i exp(-(c_i + v_i) / R)`` per draw, stably, block by block."""
        return _by_blocks(self._combine, self.n, probs, payoffs, values)

    def _combine(self, probs: Sequence, payoffs: Sequence, values: Sequence, n: int):
        xs, ps = [], []
        for p, c, v in zip(probs, payoffs, values, strict=True):
            if _is_scalar(p) and p == 0:
                continue
            xs.append(_add(c, v))
            ps.append(p)
        floor = functools.reduce(
            np.minimum,
            [
                x if _is_scalar(p) else np.where(p > 0, x, np.inf)
                for p, x in zip(ps, xs, strict=True)
            ],
        )
        total = None
        with np.errstate(over="ignore", under="ignore"):
            for p, x in zip(ps, xs, strict=True):
                term = p * np.exp((floor - x) / self.R)
                total = term if total is None else total + term
            return floor - self.R * np.log(total)

    def best(self, values: Sequence):
        """Return, per draw, the largest certainty equivalent."""
        return functools.reduce(np.maximum, values)

    def best_index(self, values: np.ndarray) -> np.ndarray:
        """Return, per draw (row), the index of the largest certainty equivalent."""
        return np.argmax(values, axis=1)

    def scores(self, weight, values: Sequence) -> list[float]:
        """Return :meth:`score` of each of ``values`` under one ``weight``."""
        return [self.score(weight, v) for v in values]

    def score(self, weight, values) -> float:
        """Certainty equivalent given the node is reached."""
        if _is_scalar(values) and _is_scalar(weight):
            return float(values)
        base = _logsumexp_draws(weight, self.n)
        if base == -np.inf:
            weight, base = np.float64(0.0), math.log(self.n)
        return -self.R * (_logsumexp_draws(weight - values / self.R, self.n) - base)

    def mass(self, weight, values) -> float:
        """``log mean over draws of exp(weight - value / R)`` (a log-disutility share)."""
        return _logsumexp_draws(weight - values / self.R, self.n) - math.log(self.n)

    def from_masses(self, masses: Sequence[float]) -> float:
        """Return the certainty equivalent of the log-disutility shares ``masses``."""
        return _certainty_equivalent_of_masses(self.R, masses)

    def average(self, values) -> float:
        """Return the certainty equivalent of per-draw values before the draws are known."""
        return self.score(np.float64(0.0), values)

    def report(self, values):
        """Return per-draw values in payoff units (certainty equivalents already)."""
        return values

    def check_span(self, tree: Tree, spans: Mapping, terminal_span: float) -> None:
        """Any payoffs are fine in log space."""


class OutOfRange(Exception):
    """Internal: the payoffs are too large for :class:`DisutilityMath`; use log space."""


def math_for(tree: Tree, env: Mapping[str, Value], n: int, *, log_space: bool = False):
    """Return the arithmetic for the tree's utility (risk tolerance evaluated in ``env``).

    An exponential utility gets :class:`DisutilityMath`, or :class:`ExponentialMath` with
    ``log_space`` (for trees whose payoffs span too many risk tolerances).
    """
    if tree.utility.is_linear:
        return LinearMath(n)
    expr = tree.utility.risk_tolerance
    value = np.asarray(expr(env), dtype=float)
    if value.ndim and not np.all(value == value.flat[0]):
        raise InputError(
            f"risk_tolerance {expr.text!r} must be the same in every draw (it "
            f"ranges from {value.min():g} to {value.max():g})",
            file=tree.source,
            field="utility.risk_tolerance",
        )
    value = float(value.flat[0])
    if not (np.isfinite(value) and value > 0):
        raise InputError(
            f"risk_tolerance {expr.text!r} must be a finite number > 0, got {value:g}",
            file=tree.source,
            field="utility.risk_tolerance",
        )
    return ExponentialMath(n, value) if log_space else DisutilityMath(n, value)


_USES: weakref.WeakKeyDictionary[Tree, tuple] = weakref.WeakKeyDictionary()


def _expression_uses(tree: Tree) -> tuple[Counter, Counter, dict]:
    """How many times one rollback pass reads each expression, and each payoff (by key).

    The third item is where :class:`SharedEvaluation` keeps the tree's graphs.
    """
    if tree not in _USES:
        uses: Counter = Counter()
        payoffs: Counter = Counter()
        for node in tree.nodes.values():
            for branch in node.branches:
                if branch.probability is not None:
                    uses[branch.probability] += 1
                if isinstance(branch.payoff, Expression):
                    uses[branch.payoff] += 1
                    payoffs[branch.payoff.key] += 1
                elif branch.payoff is not None:
                    uses.update(branch.payoff.values())
        _USES[tree] = (
            Counter({e: k for e, k in uses.items() if e.constant is None}),
            payoffs,
            {},
        )
    return _USES[tree]


def _first_bad(mask) -> int | None:
    if _is_scalar(mask):
        return 0 if bool(mask) else None
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


def _at(x, i: int) -> float:
    return float(x) if _is_scalar(x) else float(x[i])


class RollbackPass:
    """One rollback over the tree for given draws.

    Parameters
    ----------
    tree, env, n
        The tree, parameter values (name -> scalar or array of ``n`` draws) and ``n``.
    arithmetic
        :class:`LinearMath`, :class:`DisutilityMath` or :class:`ExponentialMath`; node
        values, weights and the recorded option values are in its terms (see ``report``).
    forced
        Decision node path -> index of the option it is forced to take.
    condition
        ``(uncertainty, outcome label)``: every instance of the uncertainty takes that
        outcome and the chance nodes above instances are re-weighted by Bayes' rule.
    record
        Keep the per-draw option values of every decision node (else only the root's).
    track
        Also compute display values for every node (expected value given reached, reach
        probability, mean branch probabilities and payoffs).
    policy
        Decision node path -> index of the option taken in expectation (e.g. the policy of
        an earlier pass, so that display values follow it); the informed values still take
        the best option per draw.

    The pass behind :func:`decision.tree.evaluate` (none of ``condition``, ``record``,
    ``track``, ``policy``; many draws) runs as a compiled program one block of draws at a
    time (:mod:`decision.tree.blockwise`); it leaves the root's expected per-draw values to a
    later pass (``root_expected`` is ``None``).
    """

    def __init__(
        self,
        tree: Tree,
        env: Mapping[str, Value],
        n: int,
        arithmetic,
        *,
        forced: Mapping[str, int] | None = None,
        condition=None,
        record=False,
        track=False,
        policy: Mapping[str, int] | None = None,
    ):
        self.tree = tree
        self.env = env
        self.n = n
        self.math = arithmetic
        self.forced = dict(forced or {})
        self.condition = condition
        self.record = record
        self.track = track
        self.policy = dict(policy or {})
        #: The root's value, and its informed and expected values per draw (after ``run``).
        self.root_value: float | None = None
        self.root_informed = None
        self.root_expected = None
        #: True when the pass ran as a compiled program (:mod:`decision.tree.blockwise`).
        self.blockwise = False
        self.edges: dict = {}
        self.checked: set = set()
        self.spans: dict[str, float] = {}
        self.payoff_spans: dict[str, float] = {}
        self.beliefs: dict[str, tuple] = {}
        self.memo: dict[str, list] = {}
        self.scores: dict[str, list[float]] = {}
        self.choice: dict[str, int] = {}
        self.options_expected: dict[str, list] = {}
        self.options_informed: dict[str, list] = {}
        self.node_values: dict[str, float] = {}
        self.node_totals: dict[str, float] = {}
        self.reach: dict[str, float] = {}
        self.branch_probability: dict[str, float] = {}
        self.branch_payoff: dict[str, float] = {}
        uses, payoff_uses, graphs = _expression_uses(tree)
        self.shared = SharedEvaluation(uses, env, graphs)
        self.edge_uses = dict(payoff_uses)
        self.weights = self._attribute_weights()
        offset = self._terminal_offset()
        self.terminal_span = 0.0 if offset is None else float(np.max(np.abs(offset)))
        self.terminal = arithmetic.unit if offset is None else arithmetic.edge(offset)

    # ---------------------------------------------------------------- expressions

    def error(self, message: str, field: str) -> InputError:
        """Return an :class:`InputError` about ``field`` of the tree's file."""
        return InputError(message, file=self.tree.source, field=field)

    def value(self, expr: Expression) -> Value:
        """Evaluate ``expr`` over the draws (see :class:`SharedEvaluation`).

        Each distinct expression, and each part expressions share, is computed once per pass
        and kept only while later branches still need it, so that the memory held stays
        close to the arrays of the current path.
        """
        if expr.constant is not None:
            return np.float64(expr.constant)
        return self.shared(expr)

    def _finite(self, value, expr: Expression, what: str, field: str):
        if _is_scalar(value):
            if math.isfinite(value):
                return value
        elif _all_finite(value):
            return value
        bad = _first_bad(~np.isfinite(value))
        raise self.error(
            f"{what} {expr.text!r} is not a finite number (draw {bad}: {_at(value, bad)!r})", field
        )

    def _span(self, value) -> float:
        """Return the largest absolute value of a per-draw value (NaN if not finite)."""
        if _is_scalar(value):
            return abs(float(value))
        low, high = float(np.min(value)), float(np.max(value))
        return max(-low, high)

    def _attribute_weights(self) -> dict:
        weights = {}
        for name, attribute in self.tree.attributes.items():
            weight = self._finite(
                attribute.weight(self.env), attribute.weight, "weight", f"attributes.{name}"
            )
            if attribute.scale is not None:
                worst, best = attribute.scale
                weight = weight / (best - worst)
            weights[name] = weight
        return weights

    def _terminal_offset(self):
        offset = None
        for name, attribute in self.tree.attributes.items():
            if attribute.scale is None:
                continue
            term = -self.weights[name] * attribute.scale[0]
            offset = term if offset is None else offset + term
        return offset

    def payoff(self, branch):
        """Return the branch's (combined) payoff per draw and its edge term, or two ``None``."""
        payoff = branch.payoff
        if payoff is None:
            return None, None
        if isinstance(payoff, Expression):
            value = self.value(payoff)
            key = payoff.key
            if ("payoff", key) not in self.checked:
                self._finite(value, payoff, "payoff", branch.path)
                self.checked.add(("payoff", key))
            if self.math.edge_is_payoff:
                return value, value
            if key not in self.payoff_spans:
                self.payoff_spans[key] = self._span(value)
            self.spans[branch.path] = self.payoff_spans[key]
            return value, self._edge(key, value)
        total = None
        for name, expr in payoff.items():
            x = self._finite(self.value(expr), expr, f"payoff '{name}'", branch.path)
            term = self.weights[name] * x
            total = term if total is None else total + term
        if self.math.edge_is_payoff:
            return total, total
        self.spans[branch.path] = self._span(total)
        return total, self.math.edge(total)

    def _edge(self, key: str, value):
        """Return the edge term of a payoff, computed once per pass (see ``value``)."""
        if _is_scalar(value):
            return self.math.edge(value)
        edge = self.edges.get(key)
        if edge is None:
            edge = self.edges[key] = self.math.edge(value)
        left = self.edge_uses.get(key, 0) - 1
        self.edge_uses[key] = left
        if left <= 0:
            del self.edges[key]
        return edge

    def probabilities(self, node: Node) -> list:
        """Return the node's outcome probabilities per draw, checked in every draw."""
        if node.path in self.memo:
            return self.memo[node.path]
        probs = [self.value(b.probability) for b in node.branches]
        key = ("probabilities", tuple(b.probability.key for b in node.branches))
        if key in self.checked:
            return probs
        for branch, p in zip(node.branches, probs, strict=True):
            low, high = (p, p) if _is_scalar(p) else (np.min(p), np.max(p))
            if low >= -1e-12 and high <= 1 + 1e-12:  # False for NaN
                continue
            bad = _first_bad(~np.isfinite(p) | (p < -1e-12) | (p > 1 + 1e-12))
            if bad is not None:
                raise self.error(
                    f"probability of '{branch.label}' ({branch.probability.text}) is "
                    f"{_at(p, bad):g} in draw {bad}: probabilities must lie in [0, 1]",
                    node.path,
                )
        total = functools.reduce(lambda a, b: a + b, probs)
        low, high = (total, total) if _is_scalar(total) else (np.min(total), np.max(total))
        if low >= 1 - PROBABILITY_TOLERANCE and high <= 1 + PROBABILITY_TOLERANCE:
            self.checked.add(key)
            return probs
        bad = _first_bad(np.abs(total - 1.0) > PROBABILITY_TOLERANCE)
        if bad is not None:
            parts = ", ".join(
                f"{b.label}: {b.probability.text} = {_at(p, bad):.6g}"
                for b, p in zip(node.branches, probs, strict=True)
            )
            raise self.error(
                f"outcome probabilities sum to {_at(total, bad):.6g}, not 1, in "
                f"draw {bad} ({parts})",
                node.path,
            )
        self.checked.add(key)
        return probs

    # ------------------------------------------------------------------- the pass

    def run(self, weight=None):
        """Roll back from the root; returns ``(informed, expected)`` root values.

        Raises
        ------
        OutOfRange
            With :class:`DisutilityMath`, when the payoffs span too many risk tolerances.
        """
        if weight is None and self._blockwise():
            from decision.tree import blockwise

            informed = blockwise.run(self)
            if informed is not None:
                self.root_informed = informed
                self.blockwise = True
                return informed, None
            self.scores.clear()  # a check failed: the recursive pass says which
            self.choice.clear()
            self.spans.clear()
        if weight is None:
            weight = self.math.initial()
        reach = np.float64(1.0) if self.track else None
        try:
            # Expressions never warn (as Expression.__call__), nor does the arithmetic on
            # their values: the checks above raise for what is not finite.
            with np.errstate(all="ignore"):
                informed, expected = self.roll(self.tree.root, weight, reach, None)
        finally:  # let go of the evaluated expressions
            self.shared.release()
            self.edges.clear()
            self.memo.clear()
        self.math.check_span(self.tree, self.spans, self.terminal_span)
        self.root_informed, self.root_expected = informed, expected
        root = self.tree.root
        if root.kind == "decision":
            self.root_value = self.scores[root.path][self.choice[root.path]]
        else:
            self.root_value = self.math.average(expected)
        return informed, expected

    def _blockwise(self) -> bool:
        """Tell whether this pass runs as a compiled program (see the class docstring)."""
        from decision.tree import blockwise

        return (
            not (self.track or self.record or self.policy)
            and self.condition is None
            and self.n >= blockwise.MIN_DRAWS
            and isinstance(self.math, (LinearMath, DisutilityMath))
        )

    def roll(self, node: Node, weight, reach, acc):
        """Roll back ``node``; returns its (informed, expected) values."""
        if node.kind == "terminal":
            value = self.terminal
            if self.track:
                self._track(node, reach, weight, acc, value)
            return value, value
        if node.kind == "chance":
            return self.chance(node, weight, reach, acc)
        return self.decision(node, weight, reach, acc)

    def _track(self, node, reach, weight, acc, value):
        self.reach[node.path] = _mean(reach)
        if node.kind != "terminal":
            self.node_values[node.path] = self.math.score(weight, value)
        total = self.math.along(acc, value)
        self.node_totals[node.path] = self.math.score(self.math.initial(reach), total)

    def _track_branch(self, branch, p, c, reach):
        """Display means given the branch's parent node is reached (weights ``reach``)."""
        mean = LinearMath(self.n).score
        if p is not None:
            self.branch_probability[branch.path] = mean(reach, p)
        if c is not None:
            self.branch_payoff[branch.path] = mean(reach if p is None else reach * p, c)

    def chance(self, node: Node, weight, reach, acc):
        """Roll back a chance node (see :meth:`roll`)."""
        condition = self.condition
        along = self.math.along
        if condition is not None and node.uncertainty == condition[0]:
            branch = node.branches[node.labels.index(condition[1])]
            c, e = self.payoff(branch)
            child_weight = self.math.down(weight, None, e) if weight is not None else None
            if self.track:
                self._track_branch(branch, np.float64(1.0), c, reach)
                vi, ve = self.roll(branch.node, child_weight, reach, along(e, acc))
            else:
                vi, ve = self.roll(branch.node, child_weight, None, None)
            out_i, out_e = along(e, vi), (None if vi is ve else along(e, ve))
            out_e = out_i if out_e is None else out_e
            if self.track:
                self._track(node, reach, weight, acc, out_e)
            return out_i, out_e
        probs = self.probabilities(node)
        if node.path in self.beliefs:
            probs = self._conditioned(node, probs)
        payoffs, edges = zip(*[self.payoff(b) for b in node.branches], strict=True)
        informed, expected = [], []
        for p, c, e, branch in zip(probs, payoffs, edges, node.branches, strict=True):
            child = branch.node
            need = weight is not None and (child.contains_decision or self.track)
            child_weight = self.math.down(weight, p, e) if need else None
            if self.track:
                self._track_branch(branch, p, c, reach)
                vi, ve = self.roll(child, child_weight, reach * p, along(e, acc))
            else:
                vi, ve = self.roll(child, child_weight, None, None)
            informed.append(vi)
            expected.append(ve)
        out_i = self.math.combine(probs, edges, informed)
        if all(a is b for a, b in zip(informed, expected, strict=True)):
            out_e = out_i
        else:
            out_e = self.math.combine(probs, edges, expected)
        if self.track:
            self._track(node, reach, weight, acc, out_e)
        return out_i, out_e

    def decision(self, node: Node, weight, reach, acc):
        """Roll back a decision node and choose its option (see :meth:`roll`)."""
        informed, expected = [], []
        along = self.math.along
        for branch in node.branches:
            c, e = self.payoff(branch)
            need = branch.node.contains_decision or self.track
            child_weight = self.math.down(weight, None, e) if need else None
            if self.track:
                self._track_branch(branch, None, c, reach)
                vi, ve = self.roll(branch.node, child_weight, reach, along(e, acc))
            else:
                vi, ve = self.roll(branch.node, child_weight, None, None)
            vi_total = along(e, vi)
            informed.append(vi_total)
            expected.append(vi_total if vi is ve else along(e, ve))
        scores = self.math.scores(weight, expected)
        forced = self.forced.get(node.path)
        if forced is not None:
            choice = forced
        else:
            choice = self.policy.get(node.path, None)
            choice = int(np.argmax(scores)) if choice is None else choice
        self.scores[node.path] = scores
        self.choice[node.path] = choice
        if self.record or node is self.tree.root:
            self.options_expected[node.path] = expected
            self.options_informed[node.path] = informed
        out_e = expected[choice]
        if forced is not None:
            out_i = informed[choice]
        else:
            out_i = self.math.best(informed)
        if self.track:
            self._track(node, reach, weight, acc, out_e)
        return out_i, out_e

    # ------------------------------------------------------------ conditioning (EVPI)

    def prepare_condition(self) -> Value:
        """Compute the probability of the conditioning outcome at every node above an instance.

        Returns its probability at the root, per draw.
        """
        name, label = self.condition
        belief = self._belief(self.tree.root, name, label)
        if belief is None:
            raise self.error(f"no chance node is an instance of uncertainty '{name}'", name)
        return belief

    def _belief(self, node: Node, name: str, label: str):
        if node.kind == "terminal":
            return None
        if node.kind == "chance" and node.uncertainty == name:
            self.memo[node.path] = self.probabilities(node)
            return self.memo[node.path][node.labels.index(label)]
        children = [self._belief(b.node, name, label) for b in node.branches]
        defined = [(b, x) for b, x in zip(node.branches, children, strict=True) if x is not None]
        if not defined:
            return None
        if node.kind == "decision":
            first_branch, first = defined[0]
            for branch, other in defined[1:]:
                bad = _first_bad(np.abs(other - first) > BELIEF_TOLERANCE)
                if bad is not None:
                    raise self.error(
                        f"instances of uncertainty '{name}' give outcome '{label}' different "
                        f"probabilities under the options of this decision ({_at(first, bad):.6g} "
                        f"under '{first_branch.label}', {_at(other, bad):.6g} under "
                        f"'{branch.label}', draw {bad}); a decision cannot change an uncertain "
                        "event's probability, so EVPI is not defined",
                        node.path,
                    )
            return first
        probs = self.memo[node.path] = self.probabilities(node)
        numerator = denominator = None
        for p, x in zip(probs, children, strict=True):
            if x is None:
                continue
            numerator = p * x if numerator is None else numerator + p * x
            denominator = p if denominator is None else denominator + p
        with np.errstate(all="ignore"):
            belief = np.where(denominator > 0, numerator / denominator, defined[0][1])
        belief = belief[()] if belief.ndim == 0 else belief
        self.beliefs[node.path] = (belief, children)
        return belief

    def _conditioned(self, node: Node, probs: list) -> list:
        belief, children = self.beliefs[node.path]
        out = []
        with np.errstate(all="ignore"):
            for p, x in zip(probs, children, strict=True):
                if x is None:
                    out.append(p)
                else:
                    ratio = np.where(belief > 0, x / belief, 1.0)
                    out.append(p * (ratio[()] if ratio.ndim == 0 else ratio))
        return out
