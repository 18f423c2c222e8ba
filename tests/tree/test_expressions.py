"""The safe expression evaluator: the grammar it accepts and everything it refuses."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decision.core.errors import InputError
from decision.tree.expressions import FUNCTIONS, MAX_EXPRESSION_LENGTH, compile_expression

NAMES = ["a", "b", "p_oil"]


def run(text, **env):
    expr = compile_expression(text, NAMES + list(env), what="payoff", field="root/x")
    return expr(
        {k: np.asarray(v, dtype=float) if np.ndim(v) else np.float64(v) for k, v in env.items()}
    )


def test_numbers_names_operators_and_functions():
    assert float(run("1 - p_oil", p_oil=0.25)) == 0.75
    assert float(run("0.6 * p_oil / b", p_oil=0.25, b=0.3)) == pytest.approx(0.5)
    assert float(run("-a ** 2", a=3)) == -9
    assert float(run("+a", a=3)) == 3
    assert float(run("min(a, b)", a=2, b=5)) == 2
    assert float(run("max(a, b, 7)", a=2, b=5)) == 7
    assert float(run("clip(a, 0, 1)", a=3)) == 1
    assert float(run("sqrt(a) + exp(0) + log(1) + abs(-2) + floor(1.5) + ceil(1.2)", a=4)) == 8
    assert float(run("expit(logit(0.3))")) == pytest.approx(0.3)
    assert float(run("log10(1000)")) == pytest.approx(3)
    assert float(run("1e3")) == 1000


def test_elementwise_over_draws_and_inputs_not_mutated():
    draws = np.array([0.1, 0.2, 0.3])
    before = draws.copy()
    out = run("(1 - p_oil) * 2 - p_oil", p_oil=draws)
    np.testing.assert_allclose(out, (1 - before) * 2 - before)
    out = run("-(p_oil * 2)", p_oil=draws)
    np.testing.assert_allclose(out, -2 * before)
    out = run("min(p_oil, 0.15) + max(p_oil, a)", p_oil=draws, a=0.25)
    np.testing.assert_allclose(out, np.minimum(before, 0.15) + np.maximum(before, 0.25))
    np.testing.assert_array_equal(draws, before)


def test_constant_expressions_are_folded():
    expr = compile_expression("2 * (3 + 4)", [])
    assert expr.constant == 14
    assert expr.names == frozenset()
    assert compile_expression(0.5, []).constant == 0.5
    assert (
        compile_expression(" a +  b ", ["a", "b"]).key == compile_expression("a+b", ["a", "b"]).key
    )


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("__import__('os').system('echo hi')", "attribute access '__import__('os').system'"),
        ("__import__('os')", "function '__import__' is not allowed"),
        ("().__class__", "attribute access"),
        ("a.real", "attribute access"),
        ("open('x')", "function 'open' is not allowed"),
        ("eval('1')", "function 'eval' is not allowed"),
        ("(lambda: 1)()", "only the functions"),
        ("[1, 2][0]", "not allowed"),
        ("a if b else 1", "not allowed"),
        ("a < b", "comparison"),
        ("a and b", "not allowed"),
        ("a % 2", "operator '%'"),
        ("a // 2", "operator '//'"),
        ("a @ b", "operator '@'"),
        ("~a", "only unary minus"),
        ("'text'", "not a number"),
        ("True", "not a number"),
        ("1j", "not a number"),
        ("min(a=1, b=2)", "positional"),
        ("min(*a)", "positional"),
        ("exp(a, b)", "exp() takes 1 argument"),
        ("min(a)", "at least 2"),
        ("exp", "is a function"),
        ("p_oill + 1", "undefined parameter 'p_oill' (did you mean 'p_oil'?)"),
        ("import os", "cannot be parsed"),
        ("a = 1", "cannot be parsed"),
        ("1 +", "cannot be parsed"),
        ("f'{a}'", "not allowed"),
        ("x := 1", "cannot be parsed"),
    ],
)
def test_rejected_expressions_name_the_offending_token_and_node(text, fragment):
    with pytest.raises(InputError) as info:
        compile_expression(text, NAMES, what="payoff", file="t.yaml", field="root/drill")
    message = str(info.value)
    assert fragment in message
    assert "t.yaml" in message and "root/drill" in message
    assert info.value.field == "root/drill"


def test_limits_on_length_and_depth():
    with pytest.raises(InputError, match="longer than"):
        compile_expression("1+" * MAX_EXPRESSION_LENGTH + "1", [])
    with pytest.raises(InputError, match="nested|parse"):
        compile_expression("-" * 400 + "1", [])
    with pytest.raises(InputError, match="too large"):
        compile_expression("1" * 400, [])
    with pytest.raises(InputError, match="empty"):
        compile_expression("   ", [])
    with pytest.raises(InputError, match="number or an expression"):
        compile_expression(True, [])
    with pytest.raises(InputError, match="finite"):
        compile_expression(float("nan"), [])


def test_huge_power_gives_infinity_not_a_hang():
    with pytest.raises(InputError, match="not a finite number"):
        compile_expression("10 ** 10 ** 10", [])
    expr = compile_expression("a ** 1000", ["a"])
    assert expr({"a": np.float64(10)}) == np.inf


def test_function_table_is_fixed():
    assert set(FUNCTIONS) == {
        "min",
        "max",
        "clip",
        "abs",
        "exp",
        "log",
        "log10",
        "sqrt",
        "floor",
        "ceil",
        "logit",
        "expit",
    }


_leaf = st.one_of(st.sampled_from(["a", "b"]), st.integers(min_value=1, max_value=9).map(str))
_expression = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        inner.map(lambda e: f"-{e}"),
        st.tuples(inner, inner).map(lambda t: f"min({t[0]}, {t[1]})"),
        st.tuples(inner, inner).map(lambda t: f"max({t[0]}, {t[1]})"),
    ),
    max_leaves=12,
)


@settings(max_examples=80, deadline=None)
@given(_expression, st.floats(0.5, 5), st.floats(0.5, 5))
def test_agrees_with_python_arithmetic_elementwise(text, a, b):
    # Python's own evaluation, in a test only, as the reference.
    functions = {"__builtins__": {}, "min": min, "max": max}
    reference = eval(text, functions, {"a": a, "b": b})  # noqa: S307
    expr = compile_expression(text, ["a", "b"])
    a_draws = np.array([a, a + 1.0])
    with np.errstate(all="ignore"):
        scalar = float(expr({"a": np.float64(a), "b": np.float64(b)}))
        vector = np.broadcast_to(expr({"a": a_draws, "b": np.float64(b)}), (2,))
        reference_2 = eval(
            text,
            {"__builtins__": {}, "min": min, "max": max},  # noqa: S307
            {"a": a + 1.0, "b": b},
        )
    if math.isfinite(reference) and abs(reference) < 1e12:
        assert scalar == pytest.approx(reference, rel=1e-9, abs=1e-9)
        assert float(vector[0]) == pytest.approx(reference, rel=1e-9, abs=1e-9)
    if math.isfinite(reference_2) and abs(reference_2) < 1e12:
        assert float(vector[1]) == pytest.approx(reference_2, rel=1e-9, abs=1e-9)
    np.testing.assert_array_equal(a_draws, [a, a + 1.0])
