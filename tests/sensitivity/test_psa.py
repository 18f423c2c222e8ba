"""Probabilistic sensitivity: value distributions, probability optimal, acceptability."""

from __future__ import annotations

import numpy as np
import pytest

from decision.sensitivity import acceptability, evpi, psa
from decision.tree import evaluate


def test_psa_summarises_the_result(small_tree):
    result = evaluate(small_tree, n=4000, seed=1)
    ds = psa(result)
    assert ds["values"].shape == (4000, 2)
    assert ds["expected"].values == pytest.approx([result.options["a"], result.options["b"]])
    assert float(ds["probability_optimal"].sum()) == pytest.approx(1.0)
    assert float(ds["evpi"]) == pytest.approx(result.evpi_parameters())
    assert float(ds["evpi"]) == pytest.approx(evpi(result))
    assert float(ds["probability_margin_negative"]) == pytest.approx(
        1 - result.probability_optimal[result.optimal], abs=1e-12
    )


def test_acceptability_matches_the_closed_form(small_tree):
    # With p fixed at x: a beats b when q > 1/2 - (100 x - 40) / 30, q ~ U(0, 1).
    grid = np.array([0.2, 0.35, 0.4, 0.45, 0.6])
    ds = acceptability(small_tree, "p", values=grid, n=20000, seed=2)
    exact = 1 - np.clip(0.5 - (100 * grid - 40) / 30, 0, 1)
    np.testing.assert_allclose(ds["probability_optimal"].sel(option="a"), exact, atol=0.015)
    np.testing.assert_allclose(ds["probability_optimal"].sum("option"), 1.0)
    np.testing.assert_allclose(ds["expected_value"].sel(option="a"), 100 * grid - 40, atol=0.3)
    assert list(ds["optimal"].values) == ["b", "b", "a", "a", "a"] or list(
        ds["optimal"].values
    ) == ["b", "b", "b", "a", "a"]


def test_korea_acceptability_over_the_readiness_weight(korea_case, synthetic_supplied):
    n = len(synthetic_supplied["p_accept_f4f"])
    ds = acceptability(
        korea_case.tree, "s_readiness", supplied=synthetic_supplied, n=n, seed=3, points=5
    )
    np.testing.assert_allclose(ds["probability_optimal"].sum("option"), 1.0)
    # Readiness counts against every scale-down: a heavier weight never helps them.
    quo = ds["probability_optimal"].sel(option="status quo").values
    assert np.all(np.diff(quo) >= -0.01)
    assert ds.attrs["parameter"] == "s_readiness"
