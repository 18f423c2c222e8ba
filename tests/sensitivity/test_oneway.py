"""One-way sensitivity, tornado and spider tables."""

from __future__ import annotations

import json

import numpy as np
import pytest

from decision.core.errors import InputError
from decision.sensitivity import one_way, spider, tornado


def test_values_along_the_range_are_exact_at_the_base_case(small_tree):
    ds = one_way(small_tree, n=500, seed=1, points=5)
    x = ds["x"].sel(parameter="p").values
    # a = 100 p - 40 + 30 (q - 1/2) with q at its mean 1/2
    np.testing.assert_allclose(ds["value"].sel(parameter="p", option="a"), 100 * x - 40)
    np.testing.assert_allclose(ds["value"].sel(option="b"), 0.0)
    assert ds.attrs["reference"] == "a"  # at the base case a = 100 * 0.4 - 40 = 0 = b: first
    np.testing.assert_allclose(ds["margin"].sel(parameter="p"), 100 * x - 40)
    assert list(ds["position"].values) == [0, 0.25, 0.5, 0.75, 1]
    assert json.loads(ds.attrs["config"])["points"] == 5
    assert json.loads(ds.attrs["inputs"])["seed"] == 1


def test_others_at_their_draws_average_over_them(small_tree):
    ds = one_way(
        small_tree, n=4000, seed=2, points=3, others="draws", reference="a", comparator="b"
    )
    x = ds["x"].sel(parameter="p").values
    assert ds.attrs["others"] == "draws"
    got = ds["value"].sel(parameter="p", option="a").values
    np.testing.assert_allclose(got, 100 * x - 40, atol=1.0)  # 30 (mean q - 1/2) over draws
    assert ds.attrs["margin"] == "'a' minus 'b'"


def test_tornado_orders_by_swing_and_flags_switches(small_tree):
    table = tornado(one_way(small_tree, n=500, seed=3, points=7))
    assert list(table.index) == ["p", "q"]  # p swings 100 x its range, q 30 x 0.9
    assert table.loc["q", "swing"] == pytest.approx(30 * 0.9)
    assert table.loc["p", "switches"] and table.loc["q", "switches"]
    assert table.attrs["quantity"] == "margin"
    values_a = tornado(one_way(small_tree, n=500, seed=3, points=7), "a")
    assert values_a.loc["p", "at_high"] > values_a.loc["p", "at_low"]
    with pytest.raises(InputError, match="quantity must be"):
        tornado(one_way(small_tree, n=200, seed=3), "c")


def test_spider_is_in_normalised_units(small_tree):
    frame = spider(one_way(small_tree, n=500, seed=4, points=5))
    assert list(frame.index) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert list(frame.columns) == ["p", "q"]


def test_bad_options_are_errors(small_tree):
    with pytest.raises(InputError, match="not a root option"):
        one_way(small_tree, n=100, seed=1, reference="c")
    with pytest.raises(InputError, match="others must be"):
        one_way(small_tree, n=100, seed=1, others="median")
    with pytest.raises(InputError, match="unknown key"):
        one_way(small_tree, n=100, seed=1, config={"pionts": 3})


def test_korea_case_synthetic_one_way(korea_case, synthetic_supplied):
    n = len(synthetic_supplied["p_accept_f4f"])
    for others in ("mean", "draws"):
        ds = one_way(
            korea_case.tree,
            supplied=synthetic_supplied,
            n=n,
            seed=5,
            points=3,
            others=others,
            parameters=["p_accept_f4f", "p_level_full", "s_readiness"],
        )
        assert ds["value"].shape == (3, 3, 3)
        assert np.isfinite(ds["value"]).all() and np.isfinite(ds["margin"]).all()
        assert set(ds["optimal"].values.ravel()) <= set(ds.coords["option"].values)
