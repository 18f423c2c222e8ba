"""The library on the Korea case, with synthetic (not fitted) posterior draws."""

from __future__ import annotations

import numpy as np
import pytest

from decision.sensitivity import evppi, one_way, tornado
from decision.testing import synthetic_fits, synthetic_supplied_draws
from decision.tree import evaluate


def test_groups_cover_the_supplied_parameters(korea_case):
    groups = korea_case.parameter_groups()
    supplied = [p for p in korea_case.spec.supplied if p in korea_case.tree.parameters]
    grouped = groups["DPRK model (posterior)"] + groups["China model (posterior)"]
    assert sorted(grouped) == sorted(supplied)
    assert groups["attribute weights"][0] == "w_readiness"
    for members in groups.values():
        assert all(m in korea_case.tree.parameters for m in members)
    assert sorted(sum(korea_case.supplied_by_model().values(), [])) == sorted(supplied)


def test_synthetic_fits_are_consistent_with_the_models(korea_case):
    fits = synthetic_fits(500, seed=1)
    levels = sum(fits["china"].draws(f"p_level_{k}") for k in ("low", "partial", "full"))
    np.testing.assert_allclose(levels, 1.0)
    dprk = fits["dprk"]
    np.testing.assert_allclose(
        dprk.draws("p_dprk_complies"),
        dprk.draws("p_accept") * dprk.draws("p_hold_monitoring") * dprk.draws("p_hold_after"),
    )
    assert fits["dprk"].inputs["synthetic"] is True
    draws = synthetic_supplied_draws(korea_case, 500, seed=1)
    assert set(draws) == {p for p in korea_case.spec.supplied if p in korea_case.tree.parameters}
    result = evaluate(korea_case.tree, n=500, seed=1, supplied=draws)
    assert result.optimal in korea_case.tree.root.labels


def test_tornado_of_the_case(korea_case, synthetic_supplied):
    n = len(synthetic_supplied["p_accept"])
    table = tornado(one_way(korea_case.tree, supplied=synthetic_supplied, n=n, seed=2, points=5))
    assert len(table) >= 30
    assert table["swing"].is_monotonic_decreasing
    assert np.isfinite(table[["at_low", "at_high", "swing"]]).all().all()


def test_evppi_of_every_parameter(korea_case, synthetic_supplied):
    n = len(synthetic_supplied["p_accept"])
    result = evaluate(korea_case.tree, n=n, seed=3, supplied=synthetic_supplied)
    table = evppi(result, config={"se_samples": 50})
    assert len(table) >= 30
    assert (table["evppi"] >= 0).all()
    assert (table["evppi"] <= table.attrs["evpi"] + 3 * table["se"] + 1e-9).all()
    assert table.attrs["evpi"] == pytest.approx(float(table.attrs["evpi"]))
