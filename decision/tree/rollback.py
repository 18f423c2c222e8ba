"""Vectorized rollback of a tree over N parameter draws (the engine behind ``evaluate``).

Every node value is a numpy array of shape ``(N,)`` (or a scalar when it is the same in
every draw). One recursive pass computes two values per node:

* **informed** (per draw): every decision takes the best option *in that draw*, as a
  decision maker who knew the parameters would;
* **expected** (the reported policy): every decision takes the option with the highest
  expected value (or expected utility) *across draws*, weighted by the probability, in each
  draw, of reaching the node (Bayesian updating on the path), and passes that option's
  per-draw values upward.

Under an exponential utility values are certainty equivalents (CE) in payoff units and
chance nodes combine them as ``CE = -R log sum_i p_i exp(-(c_i + CE_i) / R)``; by the delta
property this is exactly the rollback of expected utility of the total path payoff.
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

__all__ = [
    "PROBABILITY_TOLERANCE",
    "BELIEF_TOLERANCE",
    "LinearMath",
    "ExponentialMath",
    "RollbackPass",
    "math_for",
]

#: Outcome probabilities of a chance node must sum to 1 within this, in every draw.
PROBABILITY_TOLERANCE = 1e-6
#: Instances of one uncertainty must imply the same probability within this (see evpi).
BELIEF_TOLERANCE = 1e-6

Value = np.float64 | np.ndarray


def _is_scalar(x) -> bool:
    return np.ndim(x) == 0


#: The value of a terminal node of a single-attribute tree; ``_add`` skips adding it.
ZERO = np.float64(0.0)


def _add(c, v):
    """``c + v`` where either may be ``None`` or :data:`ZERO` (nothing to add)."""
    if c is None or c is ZERO:
        return v
    return c if v is None or v is ZERO else c + v


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    # einsum's own loop: no BLAS threads to oversubscribe a shared machine.
    return float(np.einsum("i,i->", a, b))


def _mean(x) -> float:
    return float(x) if _is_scalar(x) else float(np.mean(x))


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


class LinearMath:
    """Expected values: weights are reach probabilities ``r``."""

    is_linear = True

    def __init__(self, n: int):
        self.n = n

    def initial(self, belief=None):
        return np.float64(1.0) if belief is None else belief

    def down(self, weight, p, c):
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
        total = scratch = None
        for p, c, v in zip(probs, payoffs, values):
            c = None if c is ZERO else c
            v = None if v is ZERO else v
            if c is None and v is None:
                continue
            if _is_scalar(p) and (c is None or _is_scalar(c)) and (v is None or _is_scalar(v)):
                term = p * _add(c, v)
                if total is None or _is_scalar(total):
                    total = term if total is None else total + term
                else:
                    np.add(total, term, out=total)
                continue
            if scratch is None:
                scratch = np.empty(n)
            if c is None or v is None:
                np.multiply(p, v if c is None else c, out=scratch)
            else:
                np.add(c, v, out=scratch)
                np.multiply(scratch, p, out=scratch)
            if total is None:
                total, scratch = scratch, None
            elif _is_scalar(total):
                np.add(scratch, total, out=scratch)
                total, scratch = scratch, None
            else:
                np.add(total, scratch, out=total)
        return ZERO if total is None else total

    def score(self, weight, values) -> float:
        """Expected value given the node is reached (reach-weighted mean over draws)."""
        if _is_scalar(weight) or _is_scalar(values):
            if _is_scalar(values):
                return float(values)
            return float(np.mean(values))
        total = float(np.sum(weight))
        if not total > 0:
            return float(np.mean(values))
        return _dot(weight, values) / total

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
        return float(sum(masses))

    def average(self, values) -> float:
        """The value of a per-draw value before the draws are known."""
        return _mean(values)


class ExponentialMath:
    """Certainty equivalents under ``u(x) = 1 - exp(-x / R)``; weights are logs.

    The weight of a node is ``log r - c / R``: the log of the probability of reaching it
    plus the (scaled) payoff accumulated on the way, so that the choice at a later decision
    maximizes the expected utility of the whole path.
    """

    is_linear = False

    def __init__(self, n: int, risk_tolerance: float):
        self.n = n
        self.R = float(risk_tolerance)

    def initial(self, belief=None):
        if belief is None:
            return np.float64(0.0)
        with np.errstate(divide="ignore"):
            return np.log(belief)

    def down(self, weight, p, c):
        with np.errstate(divide="ignore"):
            if p is not None and not (_is_scalar(p) and p == 1.0):
                weight = weight + np.log(p)
        return weight if c is None else weight - c / self.R

    def combine(self, probs: Sequence, payoffs: Sequence, values: Sequence):
        """``-R log sum_i p_i exp(-(c_i + v_i) / R)`` per draw, stably, block by block."""
        return _by_blocks(self._combine, self.n, probs, payoffs, values)

    def _combine(self, probs: Sequence, payoffs: Sequence, values: Sequence, n: int):
        xs, ps = [], []
        for p, c, v in zip(probs, payoffs, values):
            if _is_scalar(p) and p == 0:
                continue
            xs.append(_add(c, v))
            ps.append(p)
        floor = functools.reduce(
            np.minimum, [x if _is_scalar(p) else np.where(p > 0, x, np.inf) for p, x in zip(ps, xs)]
        )
        total = None
        with np.errstate(over="ignore", under="ignore"):
            for p, x in zip(ps, xs):
                term = p * np.exp((floor - x) / self.R)
                total = term if total is None else total + term
            return floor - self.R * np.log(total)

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
        finite = [m for m in masses if m != -np.inf]
        top = max(finite)
        return -self.R * (top + math.log(sum(math.exp(m - top) for m in finite)))

    def average(self, values) -> float:
        return self.score(np.float64(0.0), values)


def math_for(tree: Tree, env: Mapping[str, Value], n: int):
    """The rollback arithmetic for the tree's utility (risk tolerance evaluated in ``env``)."""
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
    return ExponentialMath(n, value)


_USES: weakref.WeakKeyDictionary[Tree, Counter] = weakref.WeakKeyDictionary()


def _expression_uses(tree: Tree) -> Counter:
    """How many times one rollback pass reads each expression (by key)."""
    if tree not in _USES:
        uses: Counter = Counter()
        for node in tree.nodes.values():
            for branch in node.branches:
                if branch.probability is not None:
                    uses[branch.probability.key] += 1
                if isinstance(branch.payoff, Expression):
                    uses[branch.payoff.key] += 1
                elif branch.payoff is not None:
                    uses.update(e.key for e in branch.payoff.values())
        _USES[tree] = uses
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
        :class:`LinearMath` or :class:`ExponentialMath`.
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
    ):
        self.tree = tree
        self.env = env
        self.n = n
        self.math = arithmetic
        self.forced = dict(forced or {})
        self.condition = condition
        self.record = record
        self.track = track
        self.cache: dict = {}
        self.checked: set = set()
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
        self.uses = dict(_expression_uses(tree))
        self.weights = self._attribute_weights()
        self.terminal = self._terminal_offset()

    # ---------------------------------------------------------------- expressions

    def error(self, message: str, field: str) -> InputError:
        return InputError(message, file=self.tree.source, field=field)

    def value(self, expr: Expression) -> Value:
        """Evaluate ``expr`` over the draws; each distinct expression once per pass.

        A result is kept only while later branches still need it (``uses``), so that the
        memory held stays close to the arrays of the current path.
        """
        if expr.constant is not None:
            return np.float64(expr.constant)
        key = expr.key
        result = self.cache.get(key)
        if result is None:
            result = expr(self.env)
            if not _is_scalar(result):
                result = np.asarray(result, dtype=float)
            self.cache[key] = result
        left = self.uses.get(key, 0) - 1
        self.uses[key] = left
        if left <= 0:
            del self.cache[key]
        return result

    def _finite(self, value, expr: Expression, what: str, field: str):
        if np.isfinite(value).all():
            return value
        bad = _first_bad(~np.isfinite(value))
        raise self.error(
            f"{what} {expr.text!r} is not a finite number (draw {bad}: {_at(value, bad)!r})", field
        )

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

    def payoff(self, branch) -> Value | None:
        payoff = branch.payoff
        if payoff is None:
            return None
        if isinstance(payoff, Expression):
            value = self.value(payoff)
            key = ("payoff", payoff.key)
            if key not in self.checked:
                self._finite(value, payoff, "payoff", branch.path)
                self.checked.add(key)
            return value
        total = None
        for name, expr in payoff.items():
            x = self._finite(self.value(expr), expr, f"payoff '{name}'", branch.path)
            term = self.weights[name] * x
            total = term if total is None else total + term
        return total

    def probabilities(self, node: Node) -> list:
        if node.path in self.memo:
            return self.memo[node.path]
        probs = [self.value(b.probability) for b in node.branches]
        key = ("probabilities", tuple(b.probability.key for b in node.branches))
        if key in self.checked:
            return probs
        for branch, p in zip(node.branches, probs):
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
                for b, p in zip(node.branches, probs)
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
        """Roll back from the root; returns ``(informed, expected)`` root values."""
        if weight is None:
            weight = self.math.initial()
        reach = np.float64(1.0) if self.track else None
        try:
            return self.roll(self.tree.root, weight, reach, None)
        finally:  # let go of the evaluated expressions
            self.cache.clear()
            self.memo.clear()

    def roll(self, node: Node, weight, reach, acc):
        if node.kind == "terminal":
            value = self.terminal if self.terminal is not None else ZERO
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
        self.node_totals[node.path] = self.math.score(self.math.initial(reach), _add(acc, value))

    def _track_branch(self, branch, p, c, reach):
        """Display means given the branch's parent node is reached (weights ``reach``)."""
        mean = LinearMath(self.n).score
        if p is not None:
            self.branch_probability[branch.path] = mean(reach, p)
        if c is not None:
            self.branch_payoff[branch.path] = mean(reach if p is None else reach * p, c)

    def chance(self, node: Node, weight, reach, acc):
        condition = self.condition
        if condition is not None and node.uncertainty == condition[0]:
            branch = node.branches[node.labels.index(condition[1])]
            c = self.payoff(branch)
            child_weight = self.math.down(weight, None, c) if weight is not None else None
            if self.track:
                self._track_branch(branch, np.float64(1.0), c, reach)
                vi, ve = self.roll(branch.node, child_weight, reach, _add(c, acc))
            else:
                vi, ve = self.roll(branch.node, child_weight, None, None)
            out_i, out_e = _add(c, vi), (None if vi is ve else _add(c, ve))
            out_e = out_i if out_e is None else out_e
            if self.track:
                self._track(node, reach, weight, acc, out_e)
            return out_i, out_e
        probs = self.probabilities(node)
        if node.path in self.beliefs:
            probs = self._conditioned(node, probs)
        payoffs = [self.payoff(b) for b in node.branches]
        informed, expected = [], []
        for p, c, branch in zip(probs, payoffs, node.branches):
            child = branch.node
            need = weight is not None and (child.contains_decision or self.track)
            child_weight = self.math.down(weight, p, c) if need else None
            if self.track:
                self._track_branch(branch, p, c, reach)
                vi, ve = self.roll(child, child_weight, reach * p, _add(c, acc))
            else:
                vi, ve = self.roll(child, child_weight, None, None)
            informed.append(vi)
            expected.append(ve)
        out_i = self.math.combine(probs, payoffs, informed)
        if all(a is b for a, b in zip(informed, expected)):
            out_e = out_i
        else:
            out_e = self.math.combine(probs, payoffs, expected)
        if self.track:
            self._track(node, reach, weight, acc, out_e)
        return out_i, out_e

    def decision(self, node: Node, weight, reach, acc):
        informed, expected = [], []
        for branch in node.branches:
            c = self.payoff(branch)
            need = branch.node.contains_decision or self.track
            child_weight = self.math.down(weight, None, c) if need else None
            if self.track:
                self._track_branch(branch, None, c, reach)
                vi, ve = self.roll(branch.node, child_weight, reach, _add(c, acc))
            else:
                vi, ve = self.roll(branch.node, child_weight, None, None)
            vi_total = _add(c, vi)
            informed.append(vi_total)
            expected.append(vi_total if vi is ve else _add(c, ve))
        scores = [self.math.score(weight, v) for v in expected]
        forced = self.forced.get(node.path)
        choice = forced if forced is not None else int(np.argmax(scores))
        self.scores[node.path] = scores
        self.choice[node.path] = choice
        if self.record or node is self.tree.root:
            self.options_expected[node.path] = expected
            self.options_informed[node.path] = informed
        out_e = expected[choice]
        if forced is not None:
            out_i = informed[choice]
        else:
            out_i = functools.reduce(np.maximum, informed)
        if self.track:
            self._track(node, reach, weight, acc, out_e)
        return out_i, out_e

    # ------------------------------------------------------------ conditioning (EVPI)

    def prepare_condition(self) -> Value:
        """Compute, for outcome ``label`` of uncertainty ``name``, its probability at every
        node above an instance; returns the probability at the root (per draw).
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
        defined = [(b, x) for b, x in zip(node.branches, children) if x is not None]
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
        for p, x in zip(probs, children):
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
            for p, x in zip(probs, children):
                if x is None:
                    out.append(p)
                else:
                    ratio = np.where(belief > 0, x / belief, 1.0)
                    out.append(p * (ratio[()] if ratio.ndim == 0 else ratio))
        return out
