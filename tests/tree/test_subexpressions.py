"""Shared evaluation of a pass's expressions: same values as one by one, shared parts once."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from decision.tree.expressions import compile_expression
from decision.tree.subexpressions import SharedEvaluation

NAMES = ("x", "y", "k", "m")  # x, y: arrays of draws; k, m: the same in every draw


def environment(n: int = 64, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "x": rng.uniform(0.5, 2.0, n),
        "y": rng.uniform(0.5, 2.0, n),
        "k": np.float64(1.5),
        "m": np.float64(0.75),
    }


def texts(depth: int):
    """Expressions of moderate size, Lipschitz where a rounding difference could be magnified.

    Flattened sums are added in another order, so a cancelling difference such as
    ``(x + y) - (x + y)`` may come out as 2e-16 instead of 0; ``sqrt`` would turn that into
    1e-8, hence ``sqrt(abs(t) + 1)``.
    """
    leaf = st.sampled_from(list(NAMES) + ["2", "0.5", "1"])
    if depth == 0:
        return leaf
    sub = texts(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(sub, st.sampled_from(["+", "-", "*"]), sub).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(sub, st.sampled_from(NAMES)).map(lambda t: f"({t[0]}) / {t[1]}"),
        sub.map(lambda t: f"-({t})"),
        st.tuples(st.sampled_from(["min", "max"]), sub, sub).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"
        ),
        sub.map(lambda t: f"sqrt(abs({t}) + 1)"),
        st.tuples(sub, sub, sub).map(lambda t: f"clip({t[0]}, {t[1]}, {t[2]})"),
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(texts(3), min_size=1, max_size=6), st.lists(st.integers(1, 3), min_size=6, max_size=6)
)
# Found by Hypothesis: computing a later operand ((-x) / x, and 1 - x * y) read a shared
# part for the last time and overwrote it in place while an earlier operand still held it.
@example(sources=["clip(-(x), -(sqrt(abs(x) + 1)), (-(x)) / x)"], reads=[1] * 6)
@example(sources=["max(x * y, 1 - x * y)"], reads=[1] * 6)
@example(sources=["x * y + (x * y) / y"], reads=[1] * 6)
def test_values_equal_evaluating_each_expression_alone(sources, reads):
    env = environment()
    before = {k: np.copy(v) for k, v in env.items()}
    expressions = [compile_expression(s, NAMES) for s in sources]
    counts = {e: r for e, r in zip(expressions, reads, strict=False)}
    shared = SharedEvaluation(counts, env)
    # Read every expression as often as announced, keeping every value read: a value
    # overwritten in place by a later operation would show up at the end.
    got = [(e, shared(e)) for e in expressions for _ in range(counts[e])]
    for expr, value in got:
        reference = expr(env)
        # Reassociation errs relative to the size of the terms added, which the expression
        # with every minus made a plus bounds (the leaves are positive).
        terms = compile_expression(expr.text.replace("-", "+"), NAMES)(env)
        scale = 1e-12 * max(1.0, float(np.max(np.abs(terms))))
        np.testing.assert_allclose(value, reference, rtol=1e-12, atol=scale, err_msg=expr.text)
    for name, array in env.items():  # the draws are never written to
        np.testing.assert_array_equal(array, before[name])
    shared.release()
    assert not shared.values


def test_shared_parts_are_one_operation_and_numbers_are_combined_first():
    known = ("revenue", "upside", "cost", "discount")
    env = {
        "revenue": np.linspace(1, 2, 5),
        "upside": np.linspace(2, 3, 5),
        "cost": np.linspace(0, 1, 5),
        "discount": np.float64(0.9),
    }
    sources = [
        "revenue * upside - cost",
        "discount * revenue * upside * 1.2",
        "upside * (revenue * 0.5) * discount",
        "revenue * 1 - cost",
    ]
    expressions = [compile_expression(s, known) for s in sources]
    shared = SharedEvaluation(dict.fromkeys(expressions, 1), env)
    kinds = [operation[0] for operation in shared.operations]
    # One product revenue * upside for three expressions; 0.9 * 1.2 and 0.5 * 0.9 are numbers
    # (two scalings of it); "* 1" is no operation.
    assert kinds.count("product") == 1
    assert kinds.count("scale") == 2
    assert kinds.count("sum") == 2  # revenue * upside - cost, revenue - cost
    values = {s: shared(e) for s, e in zip(sources, expressions, strict=True)}
    r, u, c = env["revenue"], env["upside"], env["cost"]
    np.testing.assert_allclose(values[sources[1]], 0.9 * r * u * 1.2, rtol=1e-15)
    np.testing.assert_allclose(values[sources[2]], u * (r * 0.5) * 0.9, rtol=1e-15)
    np.testing.assert_array_equal(values[sources[3]], r - c)


def test_expressions_of_numbers_only_are_numbers():
    env = {"k": np.float64(2.0), "x": np.arange(3.0)}
    expr = compile_expression("k * 3 + log(k)", ("k", "x"))
    shared = SharedEvaluation({expr: 1}, env)
    assert shared(expr) == pytest.approx(6 + np.log(2))
    assert isinstance(shared(expr), np.float64)
    assert shared.operations == []


@pytest.mark.parametrize(
    "order", [[0, 4, 3, 2, 1], [0, 1, 2, 4, 3], [0, 4, 1, 3, 2], [4, 0, 1, 2, 3]]
)
def test_a_value_handed_out_is_never_overwritten_by_a_later_operation(order):
    # "x * y" is both an expression read by the caller and a part of the others; after the
    # caller has read it, the last operation reading it (+ k, negation, * 2: each could
    # work in place) must not reuse its array.
    env = environment()
    sources = ["x * y", "x * y + k", "-(x * y)", "(x * y) * 2", "sqrt(x * y)"]
    expressions = [compile_expression(s, NAMES) for s in sources]
    shared = SharedEvaluation(dict.fromkeys(expressions, 1), env)
    got = {i: shared(expressions[i]) for i in order}
    for i, expr in enumerate(expressions):
        np.testing.assert_allclose(got[i], expr(env), rtol=1e-15, err_msg=expr.text)


@pytest.mark.parametrize(
    "text",
    ["(1 / x) / x", "x + (1 / x) / x", "(2 / y) / (x / y)", "(0 - x) ** 2 / x", "max(1, x) / x"],
)
def test_an_operation_on_a_number_is_not_taken_for_one_on_a_part(text):
    # Parts are numbered 0, 1, 2...: the number 1.0 divided by part 0 must not be confused
    # with part 1 divided by part 0.
    env = environment()
    expr = compile_expression(text, NAMES)
    np.testing.assert_allclose(SharedEvaluation({expr: 1}, env)(expr), expr(env), rtol=1e-15)
