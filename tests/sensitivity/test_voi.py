"""EVPI and EVPPI: known answers, bounds, agreement with nested Monte Carlo."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from decision.core.errors import InputError
from decision.sensitivity import evpi, evppi, evppi_bruteforce
from decision.sensitivity.voi import regression_voi
from decision.tree import evaluate, load_tree


def exact_evppi_p(alpha=2.0, beta=3.0) -> float:
    # E[max(0, 100 p - 40)] for p ~ beta(alpha, beta), minus max(0, E[100 p - 40]):
    # 100 E[p; p > 0.4] - 40 P(p > 0.4) = 100 m (1 - I_0.4(alpha + 1, beta)) - 40 (1 - I_0.4(..))
    m = alpha / (alpha + beta)
    upper = 100 * m * stats.beta.sf(0.4, alpha + 1, beta) - 40 * stats.beta.sf(0.4, alpha, beta)
    return upper - max(0.0, 100 * m - 40)


def one_parameter_tree(utility=None):
    spec = {
        "name": "one uncertain parameter",
        "parameters": {"p": {"distribution": "beta", "alpha": 2, "beta": 3}},
        "root": {
            "type": "decision",
            "name": "D",
            "options": {
                "a": {"payoff": "100 * p - 40"},
                "b": {"payoff": "15 * sqrt(p)"},
                "c": {"payoff": 2},
            },
        },
    }
    if utility:
        spec["utility"] = utility
    return load_tree(spec)


@pytest.mark.parametrize("utility", [None, {"type": "exponential", "risk_tolerance": 40}])
def test_evppi_of_the_only_uncertain_parameter_equals_evpi(utility):
    result = evaluate(one_parameter_tree(utility), n=5000, seed=1)
    table = evppi(result)
    assert list(table.index) == ["p"]
    total = evpi(result)
    assert total > 1
    assert total == pytest.approx(result.evpi_parameters(), rel=1e-9)
    assert table.loc["p", "evppi"] == pytest.approx(total, rel=2e-3)
    assert table.attrs["evpi"] == pytest.approx(total)


def test_evppi_lies_between_0_and_evpi(small_tree):
    result = evaluate(small_tree, n=5000, seed=2)
    table = evppi(result, groups={"both": ["p", "q"]})
    total = table.attrs["evpi"]
    assert (table["evppi"] >= 0).all()
    assert (table["evppi"] <= total + 2 * table["se"]).all()
    assert table.loc["both", "evppi"] == pytest.approx(total, rel=0.03)  # the group is all


def test_regression_agrees_with_nested_monte_carlo_and_the_closed_form(small_tree):
    result = evaluate(small_tree, n=10000, seed=3)
    table = evppi(result, ["p"])
    brute = evppi_bruteforce(small_tree, ["p"], n_outer=3000, n_inner=2000, seed=4)
    exact = exact_evppi_p()
    reg, se = table.loc["p", "evppi"], table.loc["p", "se"]
    assert se > 0 and brute["se"] > 0
    assert abs(reg - brute["evppi"]) < 3 * np.hypot(se, brute["se"])
    assert abs(reg - exact) < 3 * se
    assert abs(brute["evppi"] - exact) < 3 * brute["se"] + 0.05  # + inner-loop bias


@pytest.mark.parametrize("method", ["gam", "gp", "ols"])
def test_every_method_gives_a_sensible_estimate(small_tree, method):
    result = evaluate(small_tree, n=3000, seed=5)
    table = evppi(result, ["p"], groups={"pq": ["p", "q"]}, method=method)
    assert table.loc["p", "evppi"] == pytest.approx(exact_evppi_p(), abs=0.8)
    assert table.loc["pq", "evppi"] == pytest.approx(table.attrs["evpi"], rel=0.08)
    assert method in table.loc["p", "method"]
    assert json.loads(table.attrs["config"])["method"] == method


def test_errors(small_tree):
    result = evaluate(small_tree, n=200, seed=1)
    with pytest.raises(InputError, match="unknown parameter"):
        evppi(result, ["x"])
    with pytest.raises(InputError, match="unknown regression method"):
        evppi(result, ["p"], method="spline")
    with pytest.raises(InputError, match="at most 3 inputs"):
        regression_voi(
            np.zeros((10, 2)), np.random.default_rng(0).normal(size=(10, 4)), method="gam"
        )
    with pytest.raises(InputError, match="distribution parameters"):
        evppi_bruteforce(
            load_tree(
                {
                    "parameters": {"c": 1, "p": {"distribution": "uniform", "low": 0, "high": 1}},
                    "root": {
                        "type": "decision",
                        "name": "D",
                        "options": {"a": {"payoff": "c * p"}, "b": {}},
                    },
                }
            ),
            ["c"],
        )


def test_korea_case_synthetic_evppi(korea_case, synthetic_supplied):
    n = len(synthetic_supplied["p_accept"])
    result = evaluate(korea_case.tree, n=n, seed=6, supplied=synthetic_supplied)
    groups = korea_case.parameter_groups()
    table = evppi(
        result,
        ["p_accept", "p_level_full", "w_readiness", "v_long_range"],
        groups={k: groups[k] for k in ("China model (posterior)", "attribute weights")},
    )
    total = table.attrs["evpi"]
    assert total <= table.attrs["evpi_all_decisions"] + 1e-12
    assert (table["evppi"] >= 0).all()
    assert (table["evppi"] <= total + 3 * table["se"] + 1e-9).all()
    assert table.loc["attribute weights", "method"] == "gp"
