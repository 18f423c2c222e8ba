"""The rollback's arithmetic and engines agree on random trees.

Utility space agrees with log space, and the block-by-block pass with the recursive one, on
random trees whose later decisions depend on earlier draws.

Tolerances: the compared quantities are the same exact formulas computed in another order
(sums over blocks, products of exponentials instead of logs of sums), so they differ by
rounding only; with payoffs up to ~200 and risk tolerances from 15 they agree to ~1e-13
relative. The tests allow 1e-9 relative plus 1e-9 times the largest value, and compare
policies wherever the best option leads by more than that.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import decision.tree.evaluation as evaluation_module
from decision.core.errors import InputError
from decision.tree import blockwise, evaluate, load_tree
from decision.tree.rollback import DISUTILITY_SPAN, DisutilityMath, ExponentialMath, math_for

# The fixtures below set the engine on every call, so one instance serves every example.
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
PAYOFFS = ["a * 10", "b - 5 * p", "20", "-a", "min(a, b) * 3", "a * b - 2", "12 * p"]
PROBABILITIES = [("p", "1 - p"), ("0.3", "0.7"), ("p * 0.5", "p * 0.5", "1 - p"), ("q", "1 - q")]


@st.composite
def subtree(draw, depth: int, counter: list) -> dict:
    kind = draw(st.sampled_from(["terminal"] if depth == 0 else ["decision", "chance", "terminal"]))
    if kind == "terminal":
        return {}
    counter[0] += 1
    name = f"N{counter[0]}"
    if kind == "decision":
        options = {}
        for i in range(draw(st.integers(1, 3))):
            branch = draw(subtree(depth - 1, counter))
            if draw(st.booleans()):
                branch["payoff"] = draw(st.sampled_from(PAYOFFS))
            options[f"o{i}"] = branch
        return {"type": "decision", "name": name, "options": options}
    node = {"type": "chance", "name": name, "outcomes": {}}
    if depth >= 2 and draw(st.booleans()):
        node["uncertainty"] = "u"  # never below another instance: depth decreases
    for i, probability in enumerate(draw(st.sampled_from(PROBABILITIES))):
        branch = draw(subtree(depth - 1, counter))
        branch["probability"] = probability
        if draw(st.booleans()):
            branch["payoff"] = draw(st.sampled_from(PAYOFFS))
        node["outcomes"][f"e{i}"] = branch
    return node


@st.composite
def trees(draw, exponential=None) -> dict:
    counter = [0]
    root = draw(subtree(3, counter).filter(lambda node: node != {}))
    if exponential is None:
        exponential = draw(st.booleans())
    data = {
        "name": "random",
        "parameters": {name: {"supplied": True} for name in ("p", "q", "a", "b")},
        "root": root,
    }
    if exponential:
        data["utility"] = {
            "type": "exponential",
            "risk_tolerance": draw(st.sampled_from([15, 80, 500])),
        }
    for node in [n for n in _walk(root) if n.get("uncertainty") == "u"][1:]:
        del node["uncertainty"]  # one instance: EVPI of u is always defined
    return data


def _walk(node: dict):
    yield node
    for child in list(node.get("options", {}).values()) + list(node.get("outcomes", {}).values()):
        yield from _walk(child)


def draws(seed: int, n: int) -> dict:
    """Payoff drivers that depend on the probabilities: reach weights change the policy."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, 0.95, n)
    return {
        "p": p,
        "q": rng.uniform(0.05, 0.95, n),
        "a": rng.normal(2, 1, n) + 6 * (p > 0.5),
        "b": rng.normal(3, 2, n),
    }


@pytest.fixture
def engine(monkeypatch):
    """Switch the main pass between the recursive and the block-by-block engine."""

    def use(name: str, block: int = 7):
        if name == "blockwise":
            monkeypatch.setattr(blockwise, "MIN_DRAWS", 1)
            monkeypatch.setattr(blockwise, "BLOCK", block)
        else:
            monkeypatch.setattr(blockwise, "MIN_DRAWS", 10**9)

    return use


@pytest.fixture
def log_space(monkeypatch):
    """Make evaluate use the log-space arithmetic for exponential utilities."""

    def use(enabled: bool):
        if enabled:
            monkeypatch.setattr(
                evaluation_module,
                "math_for",
                lambda tree, env, n, log_space=False: math_for(tree, env, n, log_space=True),
            )
        else:
            monkeypatch.setattr(evaluation_module, "math_for", math_for)

    return use


def summary(result) -> dict:
    """Every value a result reports, computed now (later passes included)."""
    out = {
        "value": result.value,
        "expected": result.expected,
        "policy": result.policy,
        "evpi_parameters": result.evpi_parameters(),
        "node_values": result.node_values,
        "node_totals": result.node_totals,
        "reach": result.reach_probabilities,
        "evpi": {name: result.evpi(name) for name in result.tree.uncertainties},
        "evpi_per_draw": {name: result.evpi_per_draw(name) for name in result.tree.uncertainties},
        "options_per_draw": {p: result.option_values[p].values for p in result.expected},
        "informed_per_draw": {p: result.informed_option_values[p].values for p in result.expected},
        "root_informed": np.broadcast_to(result._root_informed, (result.n,)),
        "root_expected": np.broadcast_to(result._root_expected, (result.n,)),
    }
    if result.tree.root.kind == "decision":
        out["probability_optimal"] = result.probability_optimal
    return out


def assert_same(one: dict, other: dict) -> None:
    scale = max([1.0] + [abs(v) for options in one["expected"].values() for v in options.values()])

    def close(x, y, where):
        if isinstance(x, dict):
            assert x.keys() == y.keys(), where
            for key in x:
                close(x[key], y[key], f"{where}/{key}")
        elif isinstance(x, np.ndarray):
            np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-9 * scale, err_msg=where)
        elif isinstance(x, str):
            assert x == y, where
        else:
            assert x == pytest.approx(y, rel=1e-9, abs=1e-9 * scale), where

    for key in ("value", "expected", "evpi_parameters", "node_values", "node_totals", "reach"):
        close(one[key], other[key], key)
    for key in ("evpi", "evpi_per_draw", "root_informed"):
        close(one[key], other[key], key)
    for path, option in one["policy"].items():
        options = one["expected"][path]
        runner_up = max([v for k, v in options.items() if k != option], default=-math.inf)
        if options[option] - runner_up > 1e-9 * scale:  # a clear best: both must take it
            assert other["policy"][path] == option, path
    if one["policy"] == other["policy"]:
        close(one["root_expected"], other["root_expected"], "root_expected")
        close(one["options_per_draw"], other["options_per_draw"], "options_per_draw")
        close(one["informed_per_draw"], other["informed_per_draw"], "informed_per_draw")
        if "probability_optimal" in one:
            close(one["probability_optimal"], other["probability_optimal"], "probability_optimal")


@SETTINGS
@given(trees(exponential=True), st.integers(0, 2**16), st.sampled_from([1, 9, 40]))
def test_utility_space_equals_log_space(engine, log_space, data, seed, n):
    tree = load_tree(data)
    engine("recursive")
    log_space(True)
    reference = evaluate(tree, draws=draws(seed, n))
    assert isinstance(reference._math, ExponentialMath)
    log_space(False)
    for name in ("recursive", "blockwise"):
        engine(name)
        result = evaluate(tree, draws=draws(seed, n))
        assert isinstance(result._math, DisutilityMath)
        assert_same(summary(reference), summary(result))


@SETTINGS
@given(trees(), st.integers(0, 2**16), st.sampled_from([1, 8, 41]), st.sampled_from([1, 4, 16]))
def test_blockwise_pass_equals_recursive_pass(engine, data, seed, n, block):
    tree = load_tree(data)
    engine("recursive")
    reference = summary(evaluate(tree, draws=draws(seed, n)))
    engine("blockwise", block)
    result = evaluate(tree, draws=draws(seed, n))
    assert result._main.root_expected is None  # the compiled pass ran
    assert_same(reference, summary(result))


LATER = {
    "parameters": {"q": {"supplied": True}, "a": {"supplied": True}},
    "root": {
        "type": "decision",
        "name": "Root",
        "options": {
            "go": {
                "type": "chance",
                "name": "C",
                "outcomes": {
                    "up": {
                        "probability": "q",
                        "payoff": "a * 10",
                        "type": "decision",
                        "name": "D",
                        "options": {"x": {"payoff": "a * 100"}, "y": {"payoff": 20}},
                    },
                    "down": {"probability": "1 - q", "payoff": 0},
                },
            },
            "stay": {"payoff": 1},
        },
    },
}


@pytest.mark.parametrize("name", ["recursive", "blockwise"])
@pytest.mark.parametrize("R", [None, 30.0])
def test_a_later_decision_weighs_draws_by_reach_and_earlier_payoffs(engine, name, R):
    # D is reached with probability q, after the payoff 10 a. Its options' values given it
    # is reached weigh each draw by q (and, under the exponential utility, by the
    # disutility exp(-10 a / R) of the payoff before it): where q is high, a is low here.
    rng = np.random.default_rng(0)
    q = rng.uniform(0, 1, 23)
    a = np.where(q > 0.5, 0.05, 0.5) + rng.uniform(0, 0.01, 23)
    data = dict(LATER, utility={"type": "exponential", "risk_tolerance": R}) if R else LATER
    engine(name)
    result = evaluate(load_tree(data), draws={"q": q, "a": a})
    if R is None:
        expected_x = np.sum(q * a * 100) / np.sum(q)
    else:
        weight = q * np.exp(-10 * a / R)
        expected_x = -R * np.log(np.sum(weight * np.exp(-a * 100 / R)) / np.sum(weight))
    assert result.expected["Root/go/C/up/D"]["x"] == pytest.approx(expected_x, rel=1e-12)
    assert result.expected["Root/go/C/up/D"]["y"] == pytest.approx(20, rel=1e-12)


def _gamble(win: float, loss: float) -> dict:
    return {
        "utility": {"type": "exponential", "risk_tolerance": 1},
        "root": {
            "type": "decision",
            "name": "D",
            "options": {
                "risky": {
                    "type": "chance",
                    "name": "C",
                    "outcomes": {
                        "win": {"probability": 0.5, "payoff": win},
                        "lose": {"probability": 0.5, "payoff": loss},
                    },
                },
                "sure": {"payoff": 0},
            },
        },
    }


@pytest.mark.parametrize("name", ["recursive", "blockwise"])
@pytest.mark.parametrize("loss, space", [(-300, DisutilityMath), (-400, ExponentialMath)])
def test_payoffs_spanning_many_risk_tolerances_are_rolled_back_in_log_space(
    engine, name, loss, space
):
    # With R = 1, a loss of 300 is within DISUTILITY_SPAN (350) risk tolerances of 0; one
    # of 400 is not, and exp(400) would be no safe float to multiply: log space then.
    assert 300 < DISUTILITY_SPAN < 400
    engine(name)
    result = evaluate(load_tree(_gamble(5, loss)), n=3)
    assert isinstance(result._math, space)
    # CE = -log(0.5 e^-5 + 0.5 e^-loss) = loss - log(0.5 + 0.5 e^(loss - 5)).
    exact = loss - math.log(0.5 + 0.5 * math.exp(loss - 5))
    assert result.options["risky"] == pytest.approx(exact, rel=1e-12)
    np.testing.assert_allclose(result.root_values_per_draw.sel(option="risky"), exact, rtol=1e-12)


@pytest.mark.parametrize("utility", [None, {"type": "exponential", "risk_tolerance": 50}])
def test_blockwise_pass_reports_errors_as_the_recursive_pass_does(engine, utility):
    data = dict(LATER, utility=utility) if utility else dict(LATER)
    n = 50
    q, a = np.linspace(0.1, 0.9, n), np.linspace(0, 1, n)
    errors = []
    for name in ("recursive", "blockwise"):
        engine(name, block=8)
        messages = []
        for bad in (
            {"q": np.where(np.arange(n) == 37, 1.5, q)},
            {"a": np.where(a > 0.9, 1e308, a)},
        ):
            with pytest.raises(InputError) as info:
                evaluate(load_tree(data), draws={"q": q, "a": a} | bad)
            messages.append(str(info.value))
        errors.append(messages)
    assert errors[0] == errors[1]
    assert "draw 37" in errors[0][0]
    assert "not a finite number" in errors[0][1]


@pytest.mark.parametrize("name", ["recursive", "blockwise"])
def test_a_decision_reached_in_no_draw_is_scored_unweighted(engine, name):
    # q = 0 everywhere: D is never reached; its options are then compared by their plain
    # means over draws (a rule of the recursive pass the compiled one defers to).
    engine(name)
    n = 20
    a = np.linspace(0, 1, n)
    result = evaluate(load_tree(LATER), draws={"q": np.zeros(n), "a": a})
    assert result.expected["Root/go/C/up/D"]["x"] == pytest.approx(np.mean(a * 100))


FUNCTIONS_AND_ATTRIBUTES = {
    "parameters": {
        "p": {"supplied": True},
        "a": {"supplied": True},
        "b": {"supplied": True},
        "w": {"supplied": True},
    },
    "attributes": {
        "money": {"weight": "w", "scale": [-10, 30]},
        "time": {"weight": "1 - w", "scale": [12, 0]},
        "bonus": 0.05,
    },
    "root": {
        "type": "decision",
        "name": "D",
        "options": {
            "functions": {
                "payoff": {"money": "clip(a, 0, 5) * 2", "time": "floor(a * 3) / 3"},
                "type": "chance",
                "name": "C",
                "outcomes": {
                    "up": {
                        "probability": "expit(logit(p))",
                        "payoff": {"money": "log10(abs(b) + 1)", "bonus": "ceil(b)"},
                        "type": "decision",
                        "name": "Later",
                        "options": {
                            "x": {"payoff": {"money": "exp(a / 10) - sqrt(abs(b))"}},
                            "y": {"payoff": {"time": "max(a, b, 1)", "money": "min(a, b)"}},
                        },
                    },
                    "down": {"probability": "1 - expit(logit(p))", "payoff": {"time": "b ** 2"}},
                },
            },
            "plain": {"payoff": {"money": 4, "time": 3}},
        },
    },
}


@pytest.mark.parametrize("utility", [None, {"type": "exponential", "risk_tolerance": 0.4}])
def test_blockwise_pass_handles_every_function_and_attributes(engine, utility):
    # Every function of the grammar, attribute weights that differ between draws, scales
    # (a terminal offset that differs between draws) and an attribute without scale.
    data = dict(FUNCTIONS_AND_ATTRIBUTES, utility=utility) if utility else FUNCTIONS_AND_ATTRIBUTES
    rng = np.random.default_rng(4)
    n = 61
    values = {
        "p": rng.uniform(0.1, 0.9, n),
        "a": rng.normal(2, 2, n),
        "b": rng.normal(1, 2, n),
        "w": rng.uniform(0.2, 0.8, n),
    }
    engine("recursive")
    reference = summary(evaluate(load_tree(data), draws=values))
    engine("blockwise", block=16)
    result = evaluate(load_tree(data), draws=values)
    assert result._main.blockwise
    assert_same(reference, summary(result))


@pytest.mark.parametrize("utility", [None, {"type": "exponential", "risk_tolerance": 30}])
@pytest.mark.parametrize("force", [{"D": "x"}, {"Root": "stay"}, {"Root": "go", "D": "y"}])
def test_blockwise_pass_follows_forced_decisions(engine, utility, force):
    data = dict(LATER, utility=utility) if utility else LATER
    rng = np.random.default_rng(1)
    values = {"q": rng.uniform(0, 1, 30), "a": rng.uniform(0, 1, 30)}
    engine("recursive")
    reference = evaluate(load_tree(data), draws=values, force=force)
    engine("blockwise", block=8)
    result = evaluate(load_tree(data), draws=values, force=force)
    assert result._main.blockwise
    assert result.forced == reference.forced
    assert_same(summary(reference), summary(result))
