"""Threshold analysis: exact switching values by root finding."""

from __future__ import annotations

import numpy as np
import pytest

from decision.sensitivity import thresholds
from decision.sensitivity.thresholds import NO_SWITCH
from decision.tree import load_tree


def goferbroke_threshold_tree():
    # Drill: 700 p - 100 (1 - p) = 800 p - 100; sell: 90 - c. With c = 0 the switch is
    # p = 190 / 800 = 0.2375. c (0 to 5) moves the value of selling but at p = 0.25 drilling
    # (100) always beats selling (85 to 90): no switch within c's range.
    return load_tree(
        {
            "name": "Goferbroke threshold",
            "parameters": {
                "p_oil": {"distribution": "beta", "alpha": 2.5, "beta": 7.5, "range": [0.1, 0.45]},
                "c": {"distribution": "uniform", "low": 0, "high": 5},
            },
            "root": {
                "type": "decision",
                "name": "Drill or sell",
                "options": {
                    "drill": {
                        "type": "chance",
                        "name": "Oil",
                        "outcomes": {
                            "oil": {"probability": "p_oil", "payoff": 700},
                            "dry": {"probability": "1 - p_oil", "payoff": -100},
                        },
                    },
                    "sell": {"payoff": "90 - c"},
                },
            },
        }
    )


def test_hand_computed_switching_point():
    tree = goferbroke_threshold_tree()
    # c at its base case 2.5: 800 p - 100 = 87.5 -> p = 187.5 / 800
    table = thresholds(tree, n=200, seed=1, ranges={"c": (0.0, 5.0)})
    row = table[table["parameter"] == "p_oil"].iloc[0]
    assert row["threshold"] == pytest.approx(187.5 / 800, abs=1e-10)
    assert (row["from_option"], row["to_option"]) == ("sell", "drill")
    no = table[table["parameter"] == "c"].iloc[0]
    assert np.isnan(no["threshold"]) and no["note"] == NO_SWITCH
    assert no["from_option"] == "drill"
    fixed_c = thresholds(
        tree, n=200, seed=1, parameters=["p_oil"], ranges={"p_oil": (0.1, 0.45)}, config={"grid": 5}
    )
    assert fixed_c["threshold"].iloc[0] == pytest.approx(187.5 / 800, abs=1e-10)


def test_a_third_option_inside_a_grid_cell_is_found():
    # A = 10 x, B = 4, C = 6 - 6 x on [0, 1]: C -> B at x = 1/3, B -> A at x = 0.4. On the
    # grid 0, 0.5, 1 the cell [0, 0.5] goes straight from C to A; the root of C - A (0.375)
    # has B on top, so the cell is split there.
    tree = load_tree(
        {
            "parameters": {"x": {"distribution": "uniform", "low": 0, "high": 1}},
            "root": {
                "type": "decision",
                "name": "D",
                "options": {
                    "A": {"payoff": "10 * x"},
                    "B": {"payoff": 4},
                    "C": {"payoff": "6 - 6 * x"},
                },
            },
        }
    )
    table = thresholds(tree, n=100, seed=1, ranges={"x": (0, 1)}, grid=3)
    assert list(table["threshold"]) == pytest.approx([1 / 3, 0.4], abs=1e-10)
    assert list(zip(table["from_option"], table["to_option"], strict=True)) == [
        ("C", "B"),
        ("B", "A"),
    ]


def test_others_at_draws_and_korea_synthetic(korea_case, synthetic_supplied):
    n = len(synthetic_supplied["p_accept_f4f"])
    table = thresholds(
        korea_case.tree,
        supplied=synthetic_supplied,
        n=n,
        seed=3,
        parameters=["p_china_accepts", "s_readiness", "p_level_full"],
        grid=9,
    )
    assert set(table["parameter"]) == {"p_china_accepts", "s_readiness", "p_level_full"}
    switched = table.dropna(subset=["threshold"])
    for _, row in switched.iterrows():
        assert row["low"] <= row["threshold"] <= row["high"]
        assert row["from_option"] != row["to_option"]
    assert table.attrs["base_optimal"] in korea_case.tree.root.labels


def test_smallest_switches_name_the_nearest_threshold_or_none():
    from decision.sensitivity import smallest_switches, thresholds

    tree = {
        "name": "synthetic three-way",
        "parameters": {
            "a": {"distribution": "uniform", "low": 0.0, "high": 10.0},
            "b": {"distribution": "uniform", "low": 0.0, "high": 10.0},
        },
        "root": {
            "type": "decision",
            "name": "D",
            "options": {
                "x": {"payoff": 5.0},
                "y": {"payoff": "a - 2"},  # optimal when a > 7 (base a = 5)
                "z": {"payoff": "b - 10"},  # never optimal: at most 0 < 5
            },
        },
    }
    table = thresholds(tree, n=4000, seed=1, ranges={"a": (0, 10), "b": (0, 10)})
    table.attrs["base_optimal"] = "x"
    found = smallest_switches(table, ["y", "z"])
    assert found.loc["y", "parameter"] == "a"
    assert found.loc["y", "threshold"] == pytest.approx(7.0, abs=1e-6)
    assert found.loc["z", "parameter"] == ""
    assert "no single input" in found.loc["z", "note"]
