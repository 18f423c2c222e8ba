"""The parameter space: ranges, base case, linked probabilities, batched evaluation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from decision.core.errors import InputError
from decision.sensitivity.space import linked_probabilities, parameter_space
from decision.tree import evaluate, example_path, load_tree


def test_default_range_is_the_5th_to_95th_percentile(small_tree):
    space = parameter_space(small_tree, n=500, seed=1)
    assert space.names == ("p", "q")
    lo, hi = stats.beta(2, 3).ppf([0.05, 0.95])
    assert space.low["p"] == pytest.approx(lo) and space.high["p"] == pytest.approx(hi)
    assert space.range_source["p"] == "percentiles"
    assert space.base["p"] == pytest.approx(0.4) and space.base["q"] == pytest.approx(0.5)
    table = space.table()
    assert list(table.index) == ["p", "q"] and table.loc["q", "high"] == pytest.approx(0.95)


def test_range_metadata_and_argument_take_precedence():
    tree = load_tree(example_path("goferbroke_uncertain"))
    space = parameter_space(tree, n=200, seed=1, ranges={"p_fav_dry": (0.15, 0.25)})
    assert (space.low["p_oil"], space.high["p_oil"]) == (0.1, 0.45)
    assert space.range_source["p_oil"] == "metadata"
    assert space.range_source["p_fav_dry"] == "argument"
    off = parameter_space(tree, n=200, seed=1, config={"use_range_metadata": False})
    assert off.range_source["p_oil"] == "percentiles"


def test_supplied_ranges_come_from_the_draws(korea_case, synthetic_supplied):
    space = parameter_space(
        korea_case.tree,
        supplied=synthetic_supplied,
        n=len(synthetic_supplied["p_accept_f4f"]),
        seed=2,
    )
    draws = synthetic_supplied["p_accept_f4f"]
    assert space.low["p_accept_f4f"] == pytest.approx(np.percentile(draws, 5))
    assert space.base["p_accept_f4f"] == pytest.approx(draws.mean())
    # without supplied draws the supplied parameters sit at their defaults: not analysed
    bare = parameter_space(korea_case.tree, n=200, seed=2)
    assert "p_accept_f4f" not in bare.names and "s_readiness" in bare.names


def test_bad_names_and_missing_ranges_are_errors(small_tree):
    with pytest.raises(InputError, match="unknown parameter 'pp'"):
        parameter_space(small_tree, parameters=["pp"])
    fixed = load_tree(
        {
            "parameters": {"c": 3, "p": {"distribution": "uniform", "low": 0, "high": 1}},
            "root": {
                "type": "decision",
                "name": "D",
                "options": {"a": {"payoff": "c * p"}, "b": {}},
            },
        }
    )
    with pytest.raises(InputError, match="give it a range"):
        parameter_space(fixed, parameters=["c"], seed=1)
    assert parameter_space(fixed, parameters=["c"], ranges={"c": (1, 5)}, seed=1).low["c"] == 1


def test_cooperation_levels_are_linked(korea_case):
    linked = linked_probabilities(korea_case.tree)
    assert set(linked["p_level_low"]) == {"p_level_partial", "p_level_full"}
    assert "p_accept_f4f" not in linked  # its node reads p_accept_f4f and 1 - p_accept_f4f


def test_rows_equal_evaluating_each_deterministic_row():
    tree = load_tree(example_path("goferbroke_uncertain"))
    space = parameter_space(tree, n=300, seed=3)
    grid = np.array([0.1, 0.2, 0.3, 0.45])
    values = space.evaluate_rows({"p_oil": grid})
    for x, row in zip(grid, values, strict=True):
        single = evaluate(
            tree,
            draws={
                "p_oil": [x],
                "p_fav_oil": [space.base["p_fav_oil"]],
                "p_fav_dry": [space.base["p_fav_dry"]],
            },
        )
        assert row == pytest.approx([single.options[o] for o in space.options])


def test_blocks_match_separate_evaluations_with_and_without_later_decisions(small_tree):
    later = load_tree(example_path("goferbroke_uncertain"))
    for tree in (small_tree, later):
        space = parameter_space(tree, n=400, seed=4)
        name = space.names[0]
        grid = space.grid(name, 3)
        values, informed = space.evaluate_blocks({name: grid}, per_draw=True)
        assert informed.shape == (3, 400, len(space.options))
        for x, row in zip(grid, values, strict=True):
            draws = {k: v for k, v in space.draws.items() if k in space.base_names}
            single = evaluate(tree, draws=draws, overrides={name: x})
            assert row == pytest.approx([single.options[o] for o in space.options])


def test_linked_probabilities_are_rescaled_or_infeasible(korea_case, synthetic_supplied):
    space = parameter_space(
        korea_case.tree,
        supplied=synthetic_supplied,
        n=len(synthetic_supplied["p_accept_f4f"]),
        seed=5,
    )
    values = space.evaluate_rows({"p_level_low": [0.1, 0.9]})
    assert np.isfinite(values).all()  # the other two levels were rescaled to sum to 1
    both = space.evaluate_rows({"p_level_low": [0.7, 0.2], "p_level_full": [0.5, 0.3]})
    assert np.isnan(both[0]).all() and np.isfinite(both[1]).all()
