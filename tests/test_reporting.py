"""Report helpers: the prior-vs-posterior table of the case's supplied probabilities.

Fits are synthetic (decision.testing): draws shaped like posteriors, not fitted to evidence.
"""

from __future__ import annotations

import numpy as np
import pytest

from decision.case import load_case
from decision.case.scenario import Scenario
from decision.reporting import prior_posterior_table
from decision.testing import synthetic_fits

JUDGED = {
    "distribution": "beta",
    "alpha": 6,
    "beta": 4,
    "judgment": True,
    "description": "synthetic test judgment: China accepts",
    "rationale": "synthetic test data",
}


@pytest.fixture
def fits():
    return synthetic_fits(n=2000, seed=3)


def test_every_supplied_probability_has_a_row_with_its_source(fits):
    case = load_case()
    table = prior_posterior_table(fits, case)
    probabilities = [name for name in case.spec.supplied if not case.tree.parameters[name].units]
    assert list(table.index) == probabilities
    assert "launches_prevented_per_month" not in table.index  # a rate, not a probability
    for name, (model, variable) in case.spec.supplied.items():
        if name in table.index:
            assert table.loc[name, "source"] == f"{model} model: {variable}"
            mean = float(np.mean(fits[model].draws(variable)))
            assert table.loc[name, "posterior mean"] == pytest.approx(mean)
    assert table["prior mean"].isna().all()  # synthetic fits record no prior draws


def test_prior_side_and_shift_come_from_the_fits_prior_draws(fits):
    case = load_case()
    prior = np.random.default_rng(0).beta(2, 2, 2000)  # synthetic prior draws
    fits["china"].prior_draws = lambda name: prior if name == "p_china_accepts" else None
    row = prior_posterior_table(fits, case).loc["p_china_accepts"]
    assert row["prior mean"] == pytest.approx(prior.mean())
    assert row["prior 5%"] == pytest.approx(np.percentile(prior, 5))
    assert row["shift"] == pytest.approx(row["posterior mean"] - prior.mean())


def test_a_probability_set_by_judgment_is_labelled_judgment_with_its_range(fits):
    case = load_case(Scenario(name="synthetic-judgment", parameters={"p_china_accepts": JUDGED}))
    row = prior_posterior_table(fits, case).loc["p_china_accepts"]
    assert row["source"].startswith("judgment (90% range ")
    assert row["prior mean"] == row["posterior mean"] == pytest.approx(0.6)
    assert row["shift"] == 0
    assert row["prior 5%"] < 0.6 < row["prior 95%"]
    assert f"{row['prior 5%']:.2f} to {row['prior 95%']:.2f}" in row["source"]
