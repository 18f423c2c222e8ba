"""Safe arithmetic over parameters: parsed with :mod:`ast`, checked against an allow-list.

A tree file may write a probability or a payoff as ``1 - p_oil`` or ``min(a, b)``. The text
is parsed with :func:`ast.parse`, every syntax node is checked against a short allow-list, and
the checked tree is turned into nested Python closures over numpy operations. User text is
never passed to ``eval``, ``exec`` or ``compile``: a file can never run code.

Grammar: numbers, parameter names, ``+ - * / **``, unary ``-``/``+``, parentheses and calls of
the functions in :data:`FUNCTIONS`. Values are ``numpy.float64`` scalars or 1-D arrays of
draws; every operation is elementwise.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from decision.core.errors import InputError
from decision.core.suggest import did_you_mean

__all__ = [
    "Expression",
    "FUNCTIONS",
    "MAX_EXPRESSION_LENGTH",
    "compile_expression",
    "constant",
]

#: Longest expression text accepted, in characters.
MAX_EXPRESSION_LENGTH = 1000
#: Deepest nesting of operations accepted in one expression.
MAX_EXPRESSION_DEPTH = 200
#: Draws per block when evaluating over many draws: intermediate results stay in cache.
BLOCK = 16_384


def _minimum(*args):
    return functools.reduce(np.minimum, args)


def _maximum(*args):
    return functools.reduce(np.maximum, args)


def _clip(x, low, high):
    return np.minimum(np.maximum(x, low), high)


def _logit(p):
    from scipy import special  # imported on first use: keeps the command line quick

    return special.logit(p)


def _expit(x):
    from scipy import special

    return special.expit(x)


#: Functions an expression may call: name -> (function, fewest arguments, most arguments).
FUNCTIONS: dict[str, tuple[Callable, int, int | None]] = {
    "min": (_minimum, 2, None),
    "max": (_maximum, 2, None),
    "clip": (_clip, 3, 3),
    "abs": (np.abs, 1, 1),
    "exp": (np.exp, 1, 1),
    "log": (np.log, 1, 1),
    "log10": (np.log10, 1, 1),
    "sqrt": (np.sqrt, 1, 1),
    "floor": (np.floor, 1, 1),
    "ceil": (np.ceil, 1, 1),
    "logit": (_logit, 1, 1),
    "expit": (_expit, 1, 1),
}

_BINARY = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.true_divide,
    ast.Pow: np.power,
}


def _fresh(node: ast.AST) -> bool:
    """Return whether the node's result is a new array (or a scalar) the parent may overwrite."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd):
        return _fresh(node.operand)
    return isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Call))


_BINARY_SYMBOL = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
}
_GRAMMAR = "numbers, parameter names, + - * / **, parentheses and the functions " + ", ".join(
    FUNCTIONS
)

Value = np.float64 | np.ndarray


@dataclass(frozen=True, eq=False)
class Expression:
    """A checked expression, ready to evaluate over parameter draws.

    Attributes
    ----------
    text
        The expression as written in the file.
    names
        The parameter names it reads.
    key
        A canonical form (whitespace-insensitive), used to evaluate each distinct
        expression once per pass.
    constant
        Its value when it reads no parameter, else ``None``.
    """

    text: str
    names: frozenset[str]
    key: str
    constant: float | None
    _function: Callable[[Mapping[str, Value]], Value]
    operations: int = 0

    def __call__(self, env: Mapping[str, Value]) -> Value:
        """Evaluate over ``env`` (name -> scalar or array of draws); never warns."""
        if self.constant is not None:
            return np.float64(self.constant)
        with np.errstate(all="ignore"):
            if self.operations > 1:
                used = {name: env[name] for name in self.names}
                sizes = [np.shape(v)[0] for v in used.values() if np.ndim(v) == 1]
                if sizes and sizes[0] > 2 * BLOCK:
                    return self._blockwise(used, sizes[0])
            return self._function(env)

    def _blockwise(self, env: Mapping[str, Value], n: int) -> np.ndarray:
        # Several operations over long arrays: one block at a time, so that intermediate
        # results stay in cache and each input is read from memory once.
        out = np.empty(n)
        for start in range(0, n, BLOCK):
            block = slice(start, start + BLOCK)
            out[block] = self._function(
                {name: v[block] if np.ndim(v) == 1 else v for name, v in env.items()}
            )
        return out

    def __repr__(self) -> str:
        """Show the expression's text."""
        return f"Expression({self.text!r})"


def constant(value: float) -> Expression:
    """Make an expression that is the number ``value``."""
    number = float(value)
    return Expression(
        repr(number), frozenset(), f"Constant({number!r})", number, lambda env: np.float64(number)
    )


class _Rejected(Exception):
    """Internal: the expression is outside the grammar; message says why."""


def compile_expression(
    source: str | int | float,
    known: Iterable[str] | Mapping,
    *,
    what: str = "expression",
    file=None,
    field=None,
) -> Expression:
    """Parse and check ``source`` and return an :class:`Expression`.

    Parameters
    ----------
    source
        The text (or a plain number) from the file.
    known
        The parameter names the expression may read.
    what
        What the expression is (``"probability"``, ``"payoff"``...), for messages.
    file, field
        Where it is, for :class:`~decision.core.errors.InputError`.

    Raises
    ------
    InputError
        For text that is not a number, a known name, or arithmetic in the grammar.
    """
    if isinstance(source, bool) or not isinstance(source, (str, int, float)):
        raise InputError(
            f"{what} must be a number or an expression, got {source!r}", file=file, field=field
        )
    if isinstance(source, (int, float)):
        try:
            number = float(source)
        except OverflowError:
            raise InputError(f"{what} {source!r} is too large", file=file, field=field) from None
        if not np.isfinite(number):
            raise InputError(f"{what} must be finite, got {source!r}", file=file, field=field)
        return constant(number)
    text = source.strip()
    if not text:
        raise InputError(f"{what} is empty", file=file, field=field)
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise InputError(
            f"{what} is longer than {MAX_EXPRESSION_LENGTH} characters", file=file, field=field
        )
    try:
        parsed = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise InputError(
            f"{what} {text!r} cannot be parsed ({exc.msg}); expected {_GRAMMAR}",
            file=file,
            field=field,
        ) from None
    except (ValueError, RecursionError, MemoryError):
        raise InputError(
            f"{what} {text!r} cannot be parsed; expected {_GRAMMAR}", file=file, field=field
        ) from None
    known = set(known)
    names: set[str] = set()
    try:
        _check_depth(parsed)
        function = _compile(parsed.body, text, known, names)
    except _Rejected as exc:
        raise InputError(f"{what} {text!r}: {exc}", file=file, field=field) from None
    key = ast.dump(parsed.body)
    operations = sum(
        isinstance(n, (ast.BinOp, ast.UnaryOp, ast.Call)) for n in ast.walk(parsed.body)
    )
    value = None
    if not names:
        with np.errstate(all="ignore"):
            value = float(function({}))
        if not np.isfinite(value):
            raise InputError(f"{what} {text!r} is not a finite number", file=file, field=field)
    return Expression(text, frozenset(names), key, value, function, operations)


def _check_depth(tree: ast.AST) -> None:
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_EXPRESSION_DEPTH:
            raise _Rejected(f"nested more than {MAX_EXPRESSION_DEPTH} levels deep")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _segment(text: str, node: ast.AST) -> str:
    return ast.get_source_segment(text, node) or type(node).__name__


def _compile(node: ast.AST, text: str, known: set[str], names: set[str]) -> Callable:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise _Rejected(f"'{_segment(text, node)}' is not a number; expected {_GRAMMAR}")
        try:
            number = np.float64(node.value)
        except OverflowError:
            raise _Rejected(f"number '{_segment(text, node)}' is too large") from None
        return lambda env: number
    if isinstance(node, ast.Name):
        name = node.id
        if name in FUNCTIONS:
            raise _Rejected(f"'{name}' is a function: call it, as in {name}(x)")
        if name not in known:
            raise _Rejected(f"undefined parameter '{name}'{did_you_mean(name, known)}")
        names.add(name)
        return lambda env: env[name]
    if isinstance(node, ast.BinOp):
        op = _BINARY.get(type(node.op))
        if op is None:
            symbol = _BINARY_SYMBOL.get(type(node.op), type(node.op).__name__)
            raise _Rejected(f"operator '{symbol}' is not allowed; expected {_GRAMMAR}")
        left = _compile(node.left, text, known, names)
        right = _compile(node.right, text, known, names)
        if _fresh(node.left):

            def binary(env):
                a, b = left(env), right(env)
                if isinstance(a, np.ndarray) and np.shape(b) in ((), a.shape):
                    return op(a, b, out=a)
                return op(a, b)

            return binary
        if _fresh(node.right):

            def binary(env):
                a, b = left(env), right(env)
                if isinstance(b, np.ndarray) and np.shape(a) in ((), b.shape):
                    return op(a, b, out=b)
                return op(a, b)

            return binary
        return lambda env: op(left(env), right(env))
    if isinstance(node, ast.UnaryOp):
        operand = _compile(node.operand, text, known, names)
        if isinstance(node.op, ast.USub):
            if _fresh(node.operand):

                def negative(env):
                    a = operand(env)
                    return np.negative(a, out=a) if isinstance(a, np.ndarray) else -a

                return negative
            return lambda env: -operand(env)
        if isinstance(node.op, ast.UAdd):
            return operand
        raise _Rejected(f"'{_segment(text, node)}': only unary minus and plus are allowed")
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute):
            raise _Rejected(f"attribute access '{_segment(text, node.func)}' is not allowed")
        if not isinstance(node.func, ast.Name):
            raise _Rejected(
                f"call '{_segment(text, node)}' is not allowed: only the functions "
                + ", ".join(FUNCTIONS)
                + " may be called, by name"
            )
        name = node.func.id
        if name not in FUNCTIONS:
            raise _Rejected(
                f"function '{name}' is not allowed{did_you_mean(name, FUNCTIONS)}; "
                "allowed functions: " + ", ".join(FUNCTIONS)
            )
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise _Rejected(
                f"'{_segment(text, node)}': functions take plain positional arguments only"
            )
        function, fewest, most = FUNCTIONS[name]
        count = len(node.args)
        if count < fewest or (most is not None and count > most):
            wanted = (
                f"{fewest}"
                if fewest == most
                else (f"at least {fewest}" if most is None else f"{fewest} to {most}")
            )
            raise _Rejected(f"{name}() takes {wanted} argument(s), got {count}")
        arguments = [_compile(a, text, known, names) for a in node.args]
        if count == 1:
            only = arguments[0]
            return lambda env: function(only(env))
        return lambda env: function(*(a(env) for a in arguments))
    if isinstance(node, ast.Attribute):
        raise _Rejected(f"attribute access '{_segment(text, node)}' is not allowed")
    if isinstance(node, ast.Compare):
        raise _Rejected(f"comparison '{_segment(text, node)}' is not allowed; use min, max or clip")
    raise _Rejected(
        f"'{_segment(text, node)}' ({type(node).__name__}) is not allowed; expected {_GRAMMAR}"
    )
