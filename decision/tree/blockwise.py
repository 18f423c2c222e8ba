"""The main rollback pass as a list of array operations, run one block of draws at a time.

:class:`~decision.tree.rollback.RollbackPass` walks the tree with arrays of all N draws, so
that every intermediate result is a new array of N that has left the processor's cache
before it is read again. For the pass behind :func:`decision.tree.evaluate` (no display
values, no recorded option values, no conditioning on an uncertainty) this module instead

1. compiles the tree's expressions (each shared part once, see
   :mod:`decision.tree.subexpressions`) and its rollback into one list of numpy operations
   on buffers of :data:`BLOCK` draws, a buffer being reused as soon as its value has been
   read for the last time;
2. runs that list block by block, so that intermediate results stay in the cache and every
   parameter array is read from memory once;
3. finds the expected-value policy from sums accumulated over the blocks.

The policy needs, at each decision, the expected value of each option under the choices
below it, known only once every draw has been seen. It comes from sums that do not depend on
those choices. Let ``w_Y`` be the weight of decision ``Y`` in a draw (its reach probability;
in utility space times the disutility of the payoffs before it), the *local* value of option
``k`` its payoff and the subtree below it with every later decision counted as 0, and
``A(Y, k)`` the sum over draws of ``w_Y`` times that local value. Then the sum over draws of
``w_Y`` times option ``k``'s value is ``S(Y, k) = A(Y, k) + sum_Z S(Z, choice at Z)`` over the
first decisions ``Z`` below ``k``, because ``w_Y`` times the weight of the path from ``Y`` to
``Z`` is ``w_Z``; the score of the option is ``S(Y, k) / sum over draws of w_Y`` (in utility
space the certainty equivalent ``-R log`` of that). Bottom-up, each decision takes its best
option, as the recursive pass does.

When a check fails (a probability outside [0, 1] or not summing to 1, a payoff that is not
finite) or a decision is reached in no draw, :func:`run` returns ``None`` and the recursive
pass runs instead, to raise its precise error or apply its rule.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from decision.tree.expressions import FUNCTIONS, Expression
from decision.tree.model import Node

__all__ = ["BLOCK", "MIN_DRAWS", "run"]

#: Draws per block: a few dozen buffers of this many draws stay in the processor's cache.
BLOCK = 32_768
#: Fewest draws for which the compiled pass is used (below, compiling costs more than it saves).
MIN_DRAWS = 16_384

#: Instruction kinds.
_OPERATION, _LOAD, _STORE, _SUM, _DOT, _MIN, _MAX = range(7)


class _Register:
    """A value computed per block (a virtual register of the compiled program)."""

    __slots__ = ("id",)

    def __init__(self, number: int):
        self.id = number


#: The local value of a decision seen from above: counted through its own sums, so 0 here.
ABSENT = object()


#: Functions whose two operands may be swapped without changing a bit of the result.
_COMMUTATIVE = frozenset({np.add, np.multiply, np.maximum, np.minimum})


def _is_constant(x) -> bool:
    return not isinstance(x, _Register)


def _unary(name: str):
    """Return the numpy ufunc of a one-argument function of the expression grammar."""
    if name in ("logit", "expit"):
        from scipy import special  # imported on first use: keeps the command line quick

        return getattr(special, name)
    return FUNCTIONS[name][0]


class _Compiler:
    """Turn the main rollback pass of ``rollback`` into a program (see the module docstring)."""

    def __init__(self, rollback, policy: dict[str, int] | None = None):
        from decision.tree.rollback import ONE, ZERO, LinearMath

        self.rollback = rollback
        # With a policy, values only: each decision below the root takes its policy option
        # (the others are not computed), and no sums, checks or spans (the pass that found
        # the policy made them).
        self.tree = rollback.tree
        self.math = rollback.math
        self.linear = isinstance(rollback.math, LinearMath)
        self.ZERO, self.ONE = ZERO, ONE
        self.policy = policy
        self.code: list[tuple] = []
        self.done: dict[tuple, _Register] = {}
        self.registers = 0
        self.accumulators = 0
        self.nodes: dict[int, object] = {}
        self.inputs: dict[int, _Register] = {}
        self.payoffs: dict = {}
        self.checks: list[tuple[int, int, float, float]] = []
        self.checked: set = set()
        self.invalid = False
        self.span_accumulators: dict[str, object] = {}
        self.ranges: dict[int, tuple[int, int]] = {}
        self.masses: dict[tuple[str, int], list] = {}
        self.weight_sums: dict[str, list] = {}
        self.outputs: dict[str, list] = {}
        self.root_informed = None
        self.root_local: list = []

    # ------------------------------------------------------------------ emitting

    def register(self) -> _Register:
        self.registers += 1
        return _Register(self.registers - 1)

    def op(self, function, *args):
        """``function(*args)``: a number now when every argument is one, else an operation.

        An operation equal to one emitted before (same function, same operands, in either
        order for a commutative one) gives that one's result.
        """
        if all(_is_constant(a) for a in args):
            with np.errstate(all="ignore"):
                return np.float64(function(*args))
        operands = tuple(("r", a.id) if isinstance(a, _Register) else ("c", float(a)) for a in args)
        if function in _COMMUTATIVE:
            operands = tuple(sorted(operands))
        key = (function, operands)
        out = self.done.get(key)
        if out is None:
            out = self.done[key] = self.register()
            self.code.append((_OPERATION, function, args, out))
        return out

    def load(self, array: np.ndarray) -> _Register:
        """Read a full array of draws one block at a time (one load per program)."""
        register = self.inputs.get(id(array))
        if register is None:
            register = self.inputs[id(array)] = self.register()
            self.code.append((_LOAD, None, (array,), register))
        return register

    def accumulate(self, kind: int, *args) -> int:
        self.accumulators += 1
        self.code.append((kind, None, args, self.accumulators - 1))
        return self.accumulators - 1

    def store(self, value) -> object:
        """Keep a per-draw value of all blocks: an array of N (or the number itself)."""
        if _is_constant(value):
            return value
        out = np.empty(self.rollback.n)
        self.code.append((_STORE, None, (value, out), None))
        return out

    # --------------------------------------------------------------- expressions

    def value(self, expr: Expression):
        if expr.constant is not None:
            return np.float64(expr.constant)
        root = self.rollback.shared.roots[expr.key]
        return root if isinstance(root, np.float64) else self.node(root)

    def operand(self, x):
        return x if isinstance(x, np.float64) else self.node(x)

    def node(self, number: int):
        done = self.nodes.get(number)
        if done is None:
            done = self.nodes[number] = self._node(self.rollback.shared.operations[number])
        return done

    def _node(self, operation: tuple):
        # The same operations, in the same order, as SharedEvaluation._compute.
        kind = operation[0]
        if kind == "input":
            return self.load(self.rollback.env[operation[1]])
        if kind == "negative":
            return self.op(np.negative, self.node(operation[1]))
        if kind == "offset":
            constant, sign, child = operation[1:]
            return self.op(np.add if sign > 0 else np.subtract, constant, self.node(child))
        if kind == "scale":
            return self.op(np.multiply, self.node(operation[2]), operation[1])
        if kind in ("sum", "product"):
            terms = operation[1] if kind == "sum" else [(1, x) for x in operation[1]]
            ordered = [t for t in terms if t[0] > 0] + [t for t in terms if t[0] < 0]
            total = None
            for sign, child in ordered:
                x = self.node(child)
                if total is None:
                    total = x if sign > 0 else self.op(np.negative, x)
                elif kind == "product":
                    total = self.op(np.multiply, total, x)
                else:
                    total = self.op(np.add if sign > 0 else np.subtract, total, x)
            return total
        if kind in ("divide", "power"):
            function = np.true_divide if kind == "divide" else np.power
            return self.op(function, self.operand(operation[1]), self.operand(operation[2]))
        name, args = operation[1], [self.operand(a) for a in operation[2]]
        if name in ("min", "max"):
            function = np.minimum if name == "min" else np.maximum
            return functools.reduce(lambda a, b: self.op(function, a, b), args)
        if name == "clip":
            return self.op(np.minimum, self.op(np.maximum, args[0], args[1]), args[2])
        return self.op(_unary(name), args[0])

    # ------------------------------------------------------------------ the tree

    def edge(self, branch):
        """Return the branch's edge term: its payoff ``c``, or ``exp(-c / R)`` in utility space."""
        payoff = branch.payoff
        if payoff is None:
            return None
        key = payoff.key if isinstance(payoff, Expression) else ("attributes", branch.path)
        if self.linear:
            return self.payoff(payoff)
        if key not in self.payoffs:
            # exp(-c / R), the factor -1 / R joined to the payoff's own final factor when it
            # has one (c = k * x gives exp((-k / R) * x)); the span of c is |k| times x's.
            factor = -1.0 / self.math.R
            k, x = self.factored(payoff)
            if _is_constant(x):
                e, span = self.op(np.exp, np.float64(k * factor) * x), abs(float(k * x))
            else:
                e, span = self.op(np.exp, self.op(np.multiply, x, k * factor)), (k, x)
                if x.id not in self.ranges and self.policy is None:
                    self.ranges[x.id] = (self.accumulate(_MIN, x), self.accumulate(_MAX, x))
            self.payoffs[key] = (e, span)
        e, span = self.payoffs[key]
        self.span_accumulators[branch.path] = span
        return e

    def factored(self, payoff) -> tuple[np.float64, object]:
        """``(k, x)`` with ``k * x`` the payoff: its final factor apart, when it has one."""
        if isinstance(payoff, Expression) and payoff.constant is None:
            root = self.rollback.shared.roots[payoff.key]
            if not isinstance(root, np.float64):
                operation = self.rollback.shared.operations[root]
                if operation[0] == "scale":
                    return operation[1], self.node(operation[2])
                if operation[0] == "negative":
                    return np.float64(-1.0), self.node(operation[1])
        return np.float64(1.0), self.payoff(payoff)

    def payoff(self, payoff):
        """Return a payoff expression's value, or the weighted sum of a multi-attribute payoff."""
        if isinstance(payoff, Expression):
            return self.value(payoff)
        c = None
        for name, expr in payoff.items():
            weight = self.rollback.weights[name]
            weight = weight if np.ndim(weight) == 0 else self.load(weight)
            term = self.op(np.multiply, weight, self.value(expr))
            c = term if c is None else self.op(np.add, c, term)
        return c

    def probabilities(self, node: Node) -> list:
        from decision.tree.rollback import PROBABILITY_TOLERANCE

        probs = [self.value(b.probability) for b in node.branches]
        key = tuple(b.probability.key for b in node.branches)
        if key in self.checked or self.policy is not None:
            return probs
        self.checked.add(key)
        bounds = [(p, -1e-12, 1 + 1e-12) for p in probs]
        total = functools.reduce(lambda a, b: self.op(np.add, a, b), probs)
        bounds.append((total, 1 - PROBABILITY_TOLERANCE, 1 + PROBABILITY_TOLERANCE))
        for x, low, high in bounds:
            if _is_constant(x):
                self.invalid |= not low <= float(x) <= high
            else:
                self.checks.append((self.accumulate(_MIN, x), self.accumulate(_MAX, x), low, high))
        return probs

    def along(self, e, v):
        if v is ABSENT:  # 0: a payoff adds to it, a disutility factor keeps it 0
            return e if self.linear and e is not None else ABSENT
        if self.linear:
            if e is None or e is self.ZERO:
                return v
            return e if v is self.ZERO else self.op(np.add, e, v)
        if e is None or e is self.ONE:
            return v
        return e if v is self.ONE else self.op(np.multiply, e, v)

    def down(self, weight, p, e):
        factors = (p,) if self.linear else (p, e)
        for factor in factors:
            if factor is None or (_is_constant(factor) and factor == 1.0):
                continue
            is_one = _is_constant(weight) and weight == 1.0
            weight = factor if is_one else self.op(np.multiply, weight, factor)
        return weight

    def combine(self, probs, edges, values):
        """``sum_i p_i (c_i + v_i)`` or ``sum_i p_i e_i D_i`` (as the arithmetic's combine)."""
        total = None
        for p, e, v in zip(probs, edges, values, strict=True):
            term = self._term(p, e, v)
            if term is not None:
                total = term if total is None else self.op(np.add, total, term)
        return (self.ZERO if self.linear else np.float64(0.0)) if total is None else total

    def _term(self, p, e, v):
        if self.linear:
            c = None if e is self.ZERO else e
            v = None if v is self.ZERO or v is ABSENT else v
            if c is None and v is None:
                return None
            if c is None or v is None:
                return self.op(np.multiply, p, v if c is None else c)
            return self.op(np.multiply, self.op(np.add, c, v), p)
        if v is ABSENT or (_is_constant(p) and p == 0):
            return None
        scalar, arrays = 1.0, []
        for x in (p, e, v):
            if x is None or x is self.ONE:
                continue
            if _is_constant(x):
                scalar *= float(x)
            else:
                arrays.append(x)
        if not arrays:
            return np.float64(scalar)
        if scalar == 1.0 and len(arrays) == 1:
            return arrays[0]
        if scalar == 1.0:
            total, rest = self.op(np.multiply, arrays[0], arrays[1]), arrays[2:]
        else:
            total, rest = self.op(np.multiply, arrays[0], scalar), arrays[1:]
        for x in rest:
            total = self.op(np.multiply, total, x)
        return total

    def best(self, values):
        function = np.maximum if self.linear else np.minimum
        return functools.reduce(lambda a, b: self.op(function, a, b), values)

    def mass(self, weight, value) -> list:
        """Sum over draws of ``weight * value``, as terms ``(factor, accumulator or None)``.

        ``None`` stands for the number of draws (both constant).
        """
        if value is ABSENT:
            return []
        if _is_constant(weight) and _is_constant(value):
            return [(float(weight) * float(value), None)]
        if _is_constant(weight):
            return [(float(weight), self.accumulate(_SUM, value))]
        if _is_constant(value):
            return [(float(value), self.accumulate(_SUM, weight))]
        return [(1.0, self.accumulate(_DOT, weight, value))]

    def roll(self, node: Node, weight):
        """Emit the rollback of ``node``; returns its (informed, local) values."""
        if node.kind == "terminal":
            value = self.rollback.terminal
            if isinstance(value, np.ndarray) and value.ndim:  # an offset that varies by draw
                value = self.load(value)
            return value, value
        if node.kind == "chance":
            probs = self.probabilities(node)
            edges = [self.edge(b) for b in node.branches]
            informed, local = [], []
            for p, e, branch in zip(probs, edges, node.branches, strict=True):
                child = branch.node
                need = weight is not None and child.contains_decision  # None: values only
                child_weight = self.down(weight, p, e) if need else None
                vi, vl = self.roll(child, child_weight)
                informed.append(vi)
                local.append(vl)
            out_i = self.combine(probs, edges, informed)
            if all(a is b for a, b in zip(informed, local, strict=True)):
                return out_i, out_i
            return out_i, self.combine(probs, edges, local)
        path = node.path
        if self.policy is not None:
            return self.follow(node), ABSENT
        self.weight_sums[path] = self.mass(weight, np.float64(1.0))
        informed = []
        for k, branch in enumerate(node.branches):
            e = self.edge(branch)
            child = branch.node
            child_weight = self.down(weight, None, e) if child.contains_decision else None
            vi, vl = self.roll(child, child_weight)
            informed.append(self.along(e, vi))
            self.masses[(path, k)] = self.mass(weight, self.along(e, vl))
        forced = self.rollback.forced.get(path)
        out = informed[forced] if forced is not None else self.best(informed)
        if node is self.tree.root:
            self.outputs[path] = [self.store(v) for v in informed]
        return out, ABSENT

    def follow(self, node: Node):
        """Return the value of a decision taking its policy option (all options at the root)."""
        root = node is self.tree.root
        chosen = range(len(node.branches)) if root else [self.policy[node.path]]
        informed = {}
        for k in chosen:
            branch = node.branches[k]
            informed[k] = self.along(self.edge(branch), self.roll(branch.node, None)[0])
        if root:
            self.outputs[node.path] = [self.store(v) for v in informed.values()]
        return informed[self.policy[node.path]]

    def compile(self):
        root = self.tree.root
        informed, local = self.roll(root, self.math.initial())
        self.root_informed = self.store(informed)
        if root.kind == "chance" and self.policy is None:
            self.root_local = self.mass(np.float64(1.0), local)
        return self


def _allocate(code: list[tuple], count: int) -> list[int]:
    """Map the program's registers to as few buffers as possible (reused after last read)."""
    last = {}
    for index, (_, _, args, _) in enumerate(code):
        for a in args:
            if isinstance(a, _Register):
                last[a.id] = index
    buffer_of = [-1] * count
    free: list[int] = []
    buffers = 0
    for index, (kind, _, args, out) in enumerate(code):
        ending = [a for a in args if isinstance(a, _Register) and last.get(a.id) == index]
        if isinstance(out, _Register):
            reusable = [a for a in ending if kind == _OPERATION]
            if reusable:  # elementwise: the result may overwrite an operand read last here
                buffer_of[out.id] = buffer_of[reusable[0].id]
                ending = [a for a in ending if a is not reusable[0]]
            elif free:
                buffer_of[out.id] = free.pop()
            else:
                buffer_of[out.id] = buffers
                buffers += 1
            if out.id not in last:  # never read (cannot happen for a useful program)
                free.append(buffer_of[out.id])
        seen = set()
        for a in ending:
            if a.id not in seen:
                seen.add(a.id)
                free.append(buffer_of[a.id])
    return buffer_of


def _bind(code, buffer_of, buffers):
    """Bind the program to buffers: rows ``(kind, callable or buffer, argument)``."""

    def cell(x):
        return buffers[buffer_of[x.id]] if isinstance(x, _Register) else x

    program = []
    for kind, function, args, out in code:
        if kind == _OPERATION:
            call = functools.partial(function, *[cell(a) for a in args], out=cell(out))
            program.append((kind, call, None))
        elif kind == _LOAD:
            program.append((kind, cell(out), args[0]))
        elif kind == _STORE:
            program.append((kind, cell(args[0]), args[1]))
        elif kind == _DOT:
            a, b = (cell(x) for x in args)
            program.append((kind, functools.partial(np.einsum, "i,i->", a, b), out))
        else:
            reduce = {_SUM: np.add.reduce, _MIN: np.minimum.reduce, _MAX: np.maximum.reduce}[kind]
            program.append((kind, functools.partial(reduce, cell(args[0])), out))
    return program


def _execute(compiler: _Compiler, n: int, block: int) -> list[list[float]]:
    buffer_of = _allocate(compiler.code, compiler.registers)
    count = max(buffer_of, default=-1) + 1
    storage = np.empty((count, min(block, n)))
    results: list[list] = [[] for _ in range(compiler.accumulators)]
    programs = {}
    with np.errstate(all="ignore"):
        for start in range(0, n, block):
            stop = min(start + block, n)
            size = stop - start
            program = programs.get(size)
            if program is None:
                program = programs[size] = _bind(
                    compiler.code, buffer_of, [row[:size] for row in storage]
                )
            for kind, call, argument in program:
                if kind == _OPERATION:
                    call()
                elif kind == _LOAD:
                    np.copyto(call, argument[start:stop])
                elif kind == _STORE:
                    np.copyto(argument[start:stop], call)
                else:
                    results[argument].append(call())
    return results


def run(rollback):
    """Run the main pass of ``rollback`` block by block; ``None`` to use the recursive pass.

    Fills ``rollback.scores``, ``choice``, ``options_informed`` (root), ``root_value``,
    ``root_informed`` and ``spans``; raises :class:`~decision.tree.rollback.OutOfRange` as
    the recursive pass would.
    """
    compiler = _Compiler(rollback).compile()
    if compiler.invalid:
        return None
    n = rollback.n
    results = _execute(compiler, n, BLOCK)
    sums = [sum(map(float, r)) for r in results]  # Python floats: inf, never a warning
    for low_index, high_index, low, high in compiler.checks:
        if not (np.min(results[low_index]) >= low and np.max(results[high_index]) <= high):
            return None  # (NaN fails too)
    if not compiler.linear:
        for path, span in compiler.span_accumulators.items():
            if isinstance(span, tuple):
                k, x = span
                low, high = compiler.ranges[x.id]
                widest = np.max([-np.min(results[low]), np.max(results[high])])  # NaN stays
                span = abs(float(k)) * float(widest)
            rollback.spans[path] = float(span)
        rollback.math.check_span(rollback.tree, rollback.spans, rollback.terminal_span)

    def total(terms) -> float:
        return sum(f * (n if a is None else sums[a]) for f, a in terms)

    below: dict[int, list[Node]] = {}

    def decisions_below(node: Node) -> list[Node]:
        if node.kind == "decision":
            return [node]
        if id(node) not in below:
            below[id(node)] = [z for b in node.branches for z in decisions_below(b.node)]
        return below[id(node)]

    weighted: dict[str, float] = {}
    math_ = rollback.math

    def resolve(node: Node) -> float:
        """``S`` of the node's chosen option; fills scores and choice."""
        if node.path in weighted:
            return weighted[node.path]
        reach = total(compiler.weight_sums[node.path])
        sums_k = []
        for k, branch in enumerate(node.branches):
            s = total(compiler.masses[(node.path, k)])
            s += sum(resolve(z) for z in decisions_below(branch.node))
            sums_k.append(s)
        if not (reach > 0 and math.isfinite(reach) and all(map(math.isfinite, sums_k))):
            raise _Undecided
        if compiler.linear:
            scores = [s / reach for s in sums_k]
        else:
            scores = [math_.report(np.float64(s / reach)).item() for s in sums_k]
        forced = rollback.forced.get(node.path)
        choice = forced if forced is not None else int(np.argmax(scores))
        rollback.scores[node.path] = scores
        rollback.choice[node.path] = choice
        weighted[node.path] = sums_k[choice]
        return sums_k[choice]

    root = rollback.tree.root
    try:
        if root.kind == "decision":
            resolve(root)
            rollback.root_value = rollback.scores[root.path][rollback.choice[root.path]]
        else:
            mass = total(compiler.root_local) + sum(resolve(z) for z in decisions_below(root))
            if not math.isfinite(mass):
                raise _Undecided
            rollback.root_value = float(
                mass / n if compiler.linear else math_.report(np.float64(mass / n))
            )
        for node in rollback.tree.decision_nodes.values():  # those below no option chosen
            resolve(node)
    except _Undecided:
        return None
    if root.kind == "decision":
        rollback.options_informed[root.path] = compiler.outputs[root.path]
    return compiler.root_informed


class _Undecided(Exception):
    """Internal: a sum is not finite or a decision is reached in no draw."""


def policy_values(rollback):
    """Per-draw values under the policy ``rollback`` found: ``(root options, root)``.

    The root options' values (``None`` for a chance root) and the root's value, each an
    array of N or a number, in the arithmetic's terms; every decision below the root takes
    its option in ``rollback.choice``.
    """
    compiler = _Compiler(rollback, policy=dict(rollback.choice)).compile()
    _execute(compiler, rollback.n, BLOCK)
    return compiler.outputs.get(rollback.tree.root.path), compiler.root_informed
