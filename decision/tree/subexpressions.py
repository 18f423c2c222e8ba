"""Evaluate the expressions of one rollback pass together, each shared part once.

The probabilities and payoffs of a tree are expressions over the same parameter draws, and
they share parts: with ``revenue * upside - cost`` as one payoff and
``discount * revenue * upside * 1.2`` as another, ``revenue * upside`` is the same array.
:class:`SharedEvaluation` turns all the expressions of a pass into one graph of array
operations:

* sums and products are flattened (``a - (b - c)`` is the sum ``a - b + c``) and their array
  terms put in one order, so that equal sums and products are one node of the graph
  whatever their order in the text;
* the terms that are the same in every draw (numbers, fixed parameters) are combined first,
  as numbers: ``discount * revenue * upside * 1.2`` is ``1.08 * (revenue * upside)``, and
  multiplying by 1 or adding 0 costs nothing;
* a node is computed once, kept while a later reader still needs it, and an intermediate
  result nobody else reads is overwritten in place by the next operation.

The results equal those of :class:`~decision.tree.expressions.Expression` (which the other
callers keep using) up to floating-point reassociation: terms are added or multiplied in
another order, so they may differ in the last bits.
"""

from __future__ import annotations

import ast
import weakref
from collections import Counter
from collections.abc import Mapping

import numpy as np

from decision.tree.expressions import FUNCTIONS, Expression

__all__ = ["SharedEvaluation"]

_FORMS: weakref.WeakKeyDictionary[Expression, tuple] = weakref.WeakKeyDictionary()


def _form(expr: Expression) -> tuple:
    """Return the expression as nested tuples, sums and products flattened (cached)."""
    form = _FORMS.get(expr)
    if form is None:
        # The text was checked against the grammar when the expression was compiled.
        form = _FORMS[expr] = _normal(ast.parse(expr.text, mode="eval").body)
    return form


def _terms(form: tuple, sign: int) -> list:
    if form[0] == "sum":
        return [(sign * s, f) for s, f in form[1]]
    return [(sign, form)]


def _normal(node: ast.AST) -> tuple:
    if isinstance(node, ast.Constant):
        return ("number", float(node.value))
    if isinstance(node, ast.Name):
        return ("name", node.id)
    if isinstance(node, ast.UnaryOp):
        operand = _normal(node.operand)
        return operand if isinstance(node.op, ast.UAdd) else ("sum", tuple(_terms(operand, -1)))
    if isinstance(node, ast.BinOp):
        left, right = _normal(node.left), _normal(node.right)
        if isinstance(node.op, (ast.Add, ast.Sub)):
            sign = 1 if isinstance(node.op, ast.Add) else -1
            return ("sum", tuple(_terms(left, 1) + _terms(right, sign)))
        if isinstance(node.op, ast.Mult):
            factors = [
                f for part in (left, right) for f in (part[1] if part[0] == "product" else (part,))
            ]
            return ("product", tuple(factors))
        return ("divide" if isinstance(node.op, ast.Div) else "power", left, right)
    if isinstance(node, ast.Call):
        return ("call", node.func.id, tuple(_normal(a) for a in node.args))
    raise TypeError(f"unexpected syntax {type(node).__name__}")  # excluded by the grammar


def _key(operation):
    """``operation`` with its numbers tagged: node 1 and the number 1.0 are not equal."""
    if isinstance(operation, tuple):
        return tuple(_key(part) for part in operation)
    if isinstance(operation, np.float64):
        return ("number", float(operation))
    return operation


def _is_array(x) -> bool:
    return not isinstance(x, np.float64)


#: Graphs kept in a cache (one per pattern of which parameters are fixed, and their values):
#: evaluating a tree again reuses its graph.
GRAPHS_KEPT = 16


class _Graph:
    """The operations computing a set of expressions, given which names are numbers."""

    def __init__(self, expressions: Mapping[Expression, int], env: Mapping):
        self.env = env
        self.operations: list[tuple] = []
        self.ids: dict[tuple, int] = {}
        self.references: Counter = Counter()
        self.exposed: set[int] = set()
        self.lowered: dict[tuple, object] = {}
        self.roots: dict[str, object] = {}
        with np.errstate(all="ignore"):
            for expr, reads in expressions.items():
                root = self.roots.get(expr.key)
                if root is None:
                    root = self.roots[expr.key] = self._lower(_form(expr))
                if _is_array(root):
                    self.references[root] += reads
                    self.exposed.add(root)
        del self.env, self.ids, self.lowered  # needed while building only

    def _node(self, operation: tuple) -> int:
        """Return the id of ``operation`` (an existing one when an equal one was seen)."""
        key = _key(operation)
        node = self.ids.get(key)
        if node is None:
            node = self.ids[key] = len(self.operations)
            self.operations.append(operation)
            for child in _children(operation):
                self.references[child] += 1
        return node

    def _lower(self, form: tuple):
        """``form`` as a ``numpy.float64`` (same in every draw) or a node id."""
        done = self.lowered.get(form)
        if done is not None:
            return done
        kind = form[0]
        if kind == "number":
            out = np.float64(form[1])
        elif kind == "name":
            value = self.env[form[1]]
            out = np.float64(value) if np.ndim(value) == 0 else self._node(("input", form[1]))
        elif kind == "sum":
            out = self._sum([(sign, self._lower(f)) for sign, f in form[1]])
        elif kind == "product":
            sign, factors = 1, []
            for factor in form[1]:
                if factor[0] == "sum" and len(factor[1]) == 1 and factor[1][0][0] < 0:
                    sign, factor = -sign, factor[1][0][1]  # -a * b is -(a * b)
                factors.append(self._lower(factor))
            out = self._product(factors, sign)
        elif kind in ("divide", "power"):
            a, b = self._lower(form[1]), self._lower(form[2])
            if _is_array(a) or _is_array(b):
                out = self._node((kind, a, b))
            else:
                out = np.float64(np.true_divide(a, b) if kind == "divide" else np.power(a, b))
        else:
            args = tuple(self._lower(f) for f in form[2])
            if any(_is_array(a) for a in args):
                out = self._node(("call", form[1], args))
            else:
                out = np.float64(FUNCTIONS[form[1]][0](*args))
        self.lowered[form] = out
        return out

    def _sum(self, terms: list):
        constant = np.float64(0.0)
        arrays = []
        for sign, x in terms:
            if _is_array(x):
                arrays.append((sign, x))
            else:
                constant = constant + x if sign > 0 else constant - x
        if not arrays:
            return constant
        arrays.sort()
        if len(arrays) == 1:
            sign, x = arrays[0]
            if constant == 0:
                return x if sign > 0 else self._node(("negative", x))
            return self._node(("offset", constant, sign, x))
        part = self._node(("sum", tuple(arrays)))
        return part if constant == 0 else self._node(("offset", constant, 1, part))

    def _product(self, factors: list, sign: int):
        constant = np.float64(sign)
        arrays = []
        for x in factors:
            if _is_array(x):
                arrays.append(x)
            else:
                constant = constant * x
        if not arrays:
            return constant
        arrays.sort()
        part = arrays[0] if len(arrays) == 1 else self._node(("product", tuple(arrays)))
        return part if constant == 1 else self._node(("scale", constant, part))


def _graph(expressions: Mapping[Expression, int], env: Mapping, cache: dict | None) -> _Graph:
    """Return the graph of ``expressions`` for ``env``'s pattern of numbers (from ``cache``)."""
    if cache is None:
        return _Graph(expressions, env)
    names = cache.get("names")
    if names is None:
        names = cache["names"] = sorted({name for expr in expressions for name in expr.names})
    # repr: -0.0 and 0.0 are equal numbers but not the same constant (1 / x).
    pattern = tuple(repr(float(v)) if np.ndim(v) == 0 else None for v in (env[n] for n in names))
    graph = cache.get(pattern)
    if graph is None:
        if len(cache) > GRAPHS_KEPT:
            del cache[next(key for key in cache if key != "names")]  # the oldest
        graph = cache[pattern] = _Graph(expressions, env)
    return graph


class SharedEvaluation:
    """The expressions of one pass over ``env`` as one graph; see the module docstring.

    Call it within ``numpy.errstate(all="ignore")``: like
    :class:`~decision.tree.expressions.Expression`, it never warns (a non-finite value is
    the caller's to check).

    Parameters
    ----------
    expressions
        Every expression the pass reads, with how many times it reads it (an upper bound:
        a value is let go after that many reads and computed again if read once more).
    env
        Parameter name -> ``numpy.float64`` (same in every draw) or array of draws.
    cache
        A dict kept with ``expressions`` (e.g. per tree) in which to keep their graphs.
    """

    def __init__(
        self, expressions: Mapping[Expression, int], env: Mapping, cache: dict | None = None
    ):
        graph = _graph(expressions, env, cache)
        self.env = env
        self.operations = graph.operations
        self.roots = graph.roots
        self.exposed = graph.exposed
        self.references = Counter(graph.references)
        self.values: dict[int, tuple[np.ndarray, bool]] = {}

    # ------------------------------------------------------------------ evaluation

    def release(self) -> None:
        """Let go of every value still kept (at the end of a pass)."""
        self.values.clear()

    def __call__(self, expr: Expression):
        """Return the value of ``expr``: a number, or an array the caller must not modify."""
        root = self.roots[expr.key]
        return self._take(root)[0] if _is_array(root) else root

    def _take(self, node: int) -> tuple[np.ndarray, bool]:
        """Return the node's value, and whether the caller may overwrite it (last reader)."""
        entry = self.values.get(node)
        if entry is None:
            entry = self.values[node] = self._compute(node)
        left = self.references[node] - 1
        self.references[node] = left
        if left > 0:
            return entry[0], False
        self.values.pop(node, None)
        return entry[0], entry[1] and node not in self.exposed

    def _operand(self, x) -> tuple:
        return self._take(x) if _is_array(x) else (x, False)

    def _computed(self, nodes) -> None:
        """Compute the operands of one operation before any of them is taken.

        Computing an operand may be the last read of a node that another operand is, and
        overwrite it in place: taken first, that operand would no longer count the pending
        read that keeps it from being overwritten.
        """
        for node in nodes:
            if _is_array(node) and node not in self.values:
                self.values[node] = self._compute(node)

    def _compute(self, node: int) -> tuple[np.ndarray, bool]:
        operation = self.operations[node]
        kind = operation[0]
        if kind == "input":
            return self.env[operation[1]], False
        if kind == "negative":
            x, free = self._take(operation[1])
            return np.negative(x, out=x if free else None), True
        if kind == "offset":
            constant, sign, child = operation[1:]
            x, free = self._take(child)
            function = np.add if sign > 0 else np.subtract
            return function(constant, x, out=x if free else None), True
        if kind == "scale":
            x, free = self._take(operation[2])
            return np.multiply(x, operation[1], out=x if free else None), True
        if kind == "sum":
            return self._reduce(operation[1]), True
        if kind == "product":
            return self._reduce([(1, x) for x in operation[1]], product=True), True
        if kind in ("divide", "power"):
            self._computed(operation[1:])
            (a, free_a), (b, free_b) = self._operand(operation[1]), self._operand(operation[2])
            out = a if free_a else (b if free_b else None)
            function = np.true_divide if kind == "divide" else np.power
            return function(a, b, out=out), True
        function = FUNCTIONS[operation[1]][0]
        self._computed(operation[2])
        return np.asarray(function(*(self._operand(a)[0] for a in operation[2])), dtype=float), True

    def _reduce(self, terms, product: bool = False) -> np.ndarray:
        """Sum (or product) of two or more arrays, positive terms first, in place when free."""
        ordered = [t for t in terms if t[0] > 0] + [t for t in terms if t[0] < 0]
        self._computed([node for _, node in ordered])
        total, owned = None, False
        for sign, node in ordered:
            x, free = self._take(node)
            if total is None:
                if sign > 0:
                    total, owned = x, free
                else:
                    total, owned = np.negative(x, out=x if free else None), True
                continue
            if product:
                function = np.multiply
            else:
                function = np.add if sign > 0 else np.subtract
            out = total if owned else (x if free else None)
            total, owned = function(total, x, out=out), True
        return total


def _children(operation: tuple) -> list[int]:
    kind = operation[0]
    if kind == "input":
        return []
    if kind in ("negative",):
        return [operation[1]]
    if kind == "offset":
        return [operation[3]]
    if kind == "scale":
        return [operation[2]]
    if kind == "sum":
        return [x for _, x in operation[1]]
    if kind == "product":
        return list(operation[1])
    if kind in ("divide", "power"):
        return [x for x in operation[1:] if _is_array(x)]
    return [x for x in operation[2] if _is_array(x)]
