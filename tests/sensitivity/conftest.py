"""Fixtures of the sensitivity tests: small trees with known answers, and the Korea case.

The Korea case comes with synthetic supplied draws (never real fits in the fast lane).
"""

from __future__ import annotations

import pytest

from decision.case import load_case
from decision.tree import load_tree


def small_spec() -> dict:
    """One root decision: a = 100 p - 40 + 30 (q - 1/2), b = 0; p ~ beta(2, 3), q ~ U(0, 1)."""
    return {
        "name": "small",
        "units": "points",
        "parameters": {
            "p": {"distribution": "beta", "alpha": 2, "beta": 3},
            "q": {"distribution": "uniform", "low": 0, "high": 1},
        },
        "root": {
            "type": "decision",
            "name": "D",
            "options": {
                "a": {"payoff": "100 * p - 40 + 30 * (q - 0.5)"},
                "b": {"payoff": 0},
            },
        },
    }


@pytest.fixture
def small_tree():
    return load_tree(small_spec())


@pytest.fixture(scope="session")
def korea_case():
    return load_case()


@pytest.fixture(scope="session")
def synthetic_fits_small():
    from decision.testing import synthetic_fits

    return synthetic_fits(1500, seed=11)


@pytest.fixture(scope="session")
def synthetic_supplied(korea_case, synthetic_fits_small):
    """Synthetic (not fitted) posterior draws of the Korea tree's supplied parameters."""
    return korea_case.supplied_draws(synthetic_fits_small)
