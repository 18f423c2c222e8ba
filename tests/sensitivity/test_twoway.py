"""Two-way sensitivity: the strategy region."""

from __future__ import annotations

import numpy as np
import pytest

from decision.core.errors import InputError
from decision.sensitivity import two_way


def test_region_follows_the_sign_of_the_margin(small_tree):
    ds = two_way(small_tree, "p", "q", n=300, seed=1, points=[11, 7])
    assert ds["value"].dims == ("p", "q", "option")
    p, q = np.meshgrid(ds.coords["p"].values, ds.coords["q"].values, indexing="ij")
    a = 100 * p - 40 + 30 * (q - 0.5)
    np.testing.assert_allclose(ds["value"].sel(option="a"), a)
    expected = np.where(a > 0, "a", np.where(a < 0, "b", "a"))
    assert (ds["optimal"].values == expected).all()
    assert ds.attrs["x"] == "p" and ds.attrs["base_x"] == pytest.approx(0.4)


def test_same_parameter_twice_is_an_error(small_tree):
    with pytest.raises(InputError, match="two different"):
        two_way(small_tree, "p", "p")


def test_korea_case_synthetic_region(korea_case, synthetic_supplied):
    n = len(synthetic_supplied["p_accept_f4f"])
    ds = two_way(
        korea_case.tree,
        "p_accept_f4f",
        "p_china_accepts",
        supplied=synthetic_supplied,
        n=n,
        seed=2,
        points=5,
    )
    assert ds["optimal"].shape == (5, 5)
    assert (ds["optimal_index"].values >= 0).all()
    linked = two_way(
        korea_case.tree,
        "p_level_low",
        "p_level_full",
        supplied=synthetic_supplied,
        n=n,
        seed=2,
        points=5,
        ranges={"p_level_low": (0, 0.9), "p_level_full": (0, 0.9)},
    )
    index = linked["optimal_index"].values
    low, full = np.meshgrid(
        linked.coords["p_level_low"], linked.coords["p_level_full"], indexing="ij"
    )
    assert ((index < 0) == (low + full > 1 + 1e-12)).all()  # infeasible where they exceed 1
