"""Known answers for the backtest's scores, with stated tolerances."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from decision.backtest import scores


def point_mass(at: int, size: int = 12) -> np.ndarray:
    pmf = np.zeros(size)
    pmf[at] = 1.0
    return pmf


def poisson(mean: float, size: int = 80) -> np.ndarray:
    pmf = stats.poisson.pmf(np.arange(size), mean)
    return pmf / pmf.sum()


@pytest.mark.parametrize(("at", "y"), [(3, 3), (3, 7), (5, 0), (0, 15)])
def test_crps_of_a_point_forecast_is_the_absolute_error(at, y):
    assert scores.crps(point_mass(at), y) == pytest.approx(abs(y - at), abs=1e-12)


@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.93])
@pytest.mark.parametrize("y", [0, 1])
def test_crps_of_an_event_is_its_brier_score(p, y):
    pmf = np.array([1 - p, p])
    assert scores.crps(pmf, y) == pytest.approx((p - y) ** 2, abs=1e-12)
    assert scores.brier(pmf, y) == pytest.approx((p - y) ** 2, abs=1e-12)


def test_crps_from_samples_of_a_fair_coin_is_a_quarter():
    assert scores.crps_from_samples([0, 1], 0) == pytest.approx(0.25, abs=1e-12)
    assert scores.crps_from_samples([0, 1], 1) == pytest.approx(0.25, abs=1e-12)


@pytest.mark.parametrize(("mean", "y"), [(1.0, 0), (4.0, 2), (12.0, 20)])
def test_exact_crps_matches_the_sample_form(mean, y):
    samples = np.random.default_rng(7).poisson(mean, 200_000)
    # Monte Carlo error of the sample form with 200,000 draws: well under 1% here.
    assert scores.crps(poisson(mean), y) == pytest.approx(
        scores.crps_from_samples(samples, y), rel=0.01
    )


def test_log_score_of_a_poisson():
    # log(exp(-2) 2^3 / 3!) = -1.71227...
    assert scores.log_score(poisson(2.0), 3) == pytest.approx(
        -2 + 3 * math.log(2) - math.log(6), abs=1e-9
    )


def test_log_score_of_a_ruled_out_outcome_is_floored():
    assert scores.log_score(point_mass(2), 5) == pytest.approx(math.log(scores.PMF_FLOOR))
    assert scores.log_score(point_mass(2, size=3), 40) == pytest.approx(math.log(scores.PMF_FLOOR))


def test_central_intervals_of_a_uniform():
    pmf = np.full(10, 0.1)
    assert scores.central_interval(pmf, 0.9) == (0, 9)
    assert scores.central_interval(pmf, 0.5) == (2, 7)
    assert scores.covered(pmf, 7, 0.5) and not scores.covered(pmf, 8, 0.5)


def test_randomised_pit_is_uniform_for_a_calibrated_forecast_and_not_for_a_biased_one():
    rng = np.random.default_rng(11)
    outcomes = rng.poisson(3.0, 4000)
    u = rng.uniform(size=outcomes.size)
    calibrated = [scores.pit(poisson(3.0), y, v) for y, v in zip(outcomes, u, strict=True)]
    biased = [scores.pit(poisson(9.0), y, v) for y, v in zip(outcomes, u, strict=True)]
    assert stats.kstest(calibrated, "uniform").pvalue > 0.01
    assert stats.kstest(biased, "uniform").pvalue < 1e-10
    assert np.mean(biased) < 0.2  # outcomes fall low in a forecast three times too high


def test_coverage_is_nominal_for_a_calibrated_forecast():
    outcomes = np.random.default_rng(3).poisson(20.0, 4000)
    pmf = poisson(20.0)
    share = np.mean([scores.covered(pmf, y, 0.9) for y in outcomes])
    # Discrete intervals hold at least their mass; 4000 draws: +-0.01 of 0.9 to 0.93.
    assert 0.89 <= share <= 0.94


def test_bad_forecasts_are_refused():
    with pytest.raises(ValueError, match="summing to 1"):
        scores.crps([0.5, 0.2], 0)
    with pytest.raises(ValueError, match="whole number"):
        scores.crps([0.5, 0.5], 1.5)
