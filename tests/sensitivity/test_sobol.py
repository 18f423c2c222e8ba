"""Sobol indices with SALib: Ishigami known answer, an additive tree, the Korea case."""

from __future__ import annotations

import numpy as np
import pytest

from decision.core.errors import InputError
from decision.sensitivity import sobol, sobol_indices
from decision.tree import load_tree

# Ishigami (a = 7, b = 0.1): S1 = 0.3139, 0.4424, 0; ST = 0.5576, 0.4424, 0.2437.
ISHIGAMI_S1 = [0.3139, 0.4424, 0.0]
ISHIGAMI_ST = [0.5576, 0.4424, 0.2437]


def ishigami(X, a=7.0, b=0.1):
    return np.sin(X[:, 0]) + a * np.sin(X[:, 1]) ** 2 + b * X[:, 2] ** 4 * np.sin(X[:, 0])


def test_ishigami_indices_within_0_03():
    problem = {"names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    frame = sobol_indices(ishigami, problem, n_base=2**12, seed=1)
    np.testing.assert_allclose(frame["S1"], ISHIGAMI_S1, atol=0.03)
    np.testing.assert_allclose(frame["ST"], ISHIGAMI_ST, atol=0.03)


def test_additive_tree_margin():
    # margin = 3 x + y with x, y ~ U(0, 1): variances 9/12 and 1/12, so S1 = ST = 0.9, 0.1.
    tree = load_tree(
        {
            "parameters": {
                "x": {"distribution": "uniform", "low": 0, "high": 1},
                "y": {"distribution": "uniform", "low": 0, "high": 1},
            },
            "root": {
                "type": "decision",
                "name": "D",
                "options": {"a": {"payoff": "3 * x + y"}, "b": {"payoff": 0}},
            },
        }
    )
    frame = sobol(tree, n=100, seed=2, n_base=2**11, reference="a", comparator="b")
    assert list(frame.index) == ["x", "y"]
    np.testing.assert_allclose(frame["S1"], [0.9, 0.1], atol=0.02)
    np.testing.assert_allclose(frame["ST"], [0.9, 0.1], atol=0.02)
    assert frame.attrs["evaluations"] == 2**11 * 4
    ranged = sobol(tree, n=100, seed=2, n_base=2**10, space="range", reference="a", comparator="b")
    np.testing.assert_allclose(ranged["S1"], [0.9, 0.1], atol=0.03)


def test_n_base_must_be_a_power_of_two(small_tree):
    with pytest.raises(InputError, match="power of 2"):
        sobol(small_tree, n=100, seed=1, n_base=1000)


def test_korea_case_synthetic_sobol(korea_case, synthetic_supplied):
    n = len(synthetic_supplied["p_accept"])
    frame = sobol(
        korea_case.tree,
        supplied=synthetic_supplied,
        n=n,
        seed=3,
        n_base=2**8,
        joint=korea_case.supplied_by_model(),
        config={"num_resamples": 20},
    )
    assert {"dprk", "china"} <= set(frame.index)
    assert frame.loc["dprk", "kind"] == "joint draws"
    assert np.isfinite(frame[["S1", "ST"]]).all().all()
    assert (frame["ST"].diff().dropna() <= 1e-12).all()  # sorted by ST
