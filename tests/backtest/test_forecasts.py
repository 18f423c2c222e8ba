"""The model forecast's launch walk and freeze mixture (synthetic draws, no sampling)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate

from decision.backtest import ModelDraws, model_forecast
from decision.backtest.forecasts import MEAN_FLOOR, History
from decision.backtest.truth import Outcome
from decision.models.dprk import holding_freezes

N = 4000


def synthetic_draws(
    *, freeze_ages=None, drift=0.0, breach_scale=24.0, share=0.25, dispersion=1e6
) -> ModelDraws:
    """Draws of a flat walk: 2 missiles a month, a constant long-range share (synthetic)."""
    ones = np.ones(N)
    logit = np.log(share / (1 - share))
    return ModelDraws(
        period_months=3,
        last_period=(2018 * 12 + 3 - 1) // 3,  # 2018 Q1
        log_rate_last=np.log(2.0) * ones,
        log_rate_ahead=np.log(2.0) * np.ones((N, 4)),
        drift=drift * ones,
        dispersion=dispersion * ones,  # 1e6: about Poisson
        logit_share_last=logit * ones,
        logit_share_ahead=logit * np.ones((N, 4)),
        share_drift=0.0 * ones,
        nuclear_rate=0.1 * ones,
        breach_shape=ones,
        breach_scale=breach_scale * ones,
        cooperation_mean=0.5 * ones,
        cooperation_concentration=10.0 * ones,
        freeze_ages=freeze_ages or {},
    )


def mean_of(pmf: np.ndarray) -> float:
    return float(np.arange(pmf.size) @ pmf)


def test_without_a_freeze_the_window_mean_is_the_walks_rate_times_its_months():
    draws = synthetic_draws()
    history = History.at("2018-07")
    rng = np.random.default_rng(0)
    for quantity, rate in (("launches_all", 2.0), ("launches_long_range", 0.5)):
        pmf = model_forecast(draws, history, Outcome("2018-07", 6, quantity, "", 0), rng)
        assert mean_of(pmf) == pytest.approx(6 * rate, rel=1e-3)


def test_beyond_the_sampled_steps_the_walk_continues_and_widens():
    rng = np.random.default_rng(1)
    draws = synthetic_draws(drift=0.5)
    months = [f"2019-{m:02d}" for m in (1, 2, 3)] + [f"2021-{m:02d}" for m in (1, 2, 3)]
    rates, shares = draws.monthly_rates(months, rng)
    np.testing.assert_allclose(shares, 0.25)
    # 2019 Q1 is the fourth period ahead (sampled: flat); 2021 Q1 is drawn with drift 0.5.
    np.testing.assert_allclose(rates[:, :3], 2.0)
    assert np.std(np.log(rates[:, 3])) == pytest.approx(0.5 * np.sqrt(8), rel=0.05)


def test_a_holding_freeze_stops_long_range_launches_until_its_breach():
    rng = np.random.default_rng(2)
    history = History.at("2018-07")
    everything = Outcome("2018-07", 6, "launches_all", "", 0)
    long_range = Outcome("2018-07", 6, "launches_long_range", "", 0)
    # Weibull shape 1, scale 24 months: constant hazard; expected post-breach months in a
    # 6-month window = 6 - 24 (1 - exp(-6/24)). 2 missiles a month, a quarter long-range.
    post = 6 - 24 * (1 - np.exp(-6 / 24))
    held = synthetic_draws(freeze_ages={"missiles": 3.0})
    # Draws with no breach in the window forecast the floor of a mean; 4,000 breach times
    # leave a Monte Carlo error of about 0.01 (tolerance: 3 of them).
    no_breach = np.exp(-6 / 24)
    assert mean_of(model_forecast(held, history, long_range, rng)) == pytest.approx(
        0.5 * post + MEAN_FLOOR * no_breach, abs=0.03
    )
    assert mean_of(model_forecast(held, history, everything, rng)) == pytest.approx(
        1.5 * 6 + 0.5 * post, rel=0.02
    )
    # A freeze that almost surely holds: no long-range launch beyond the floor of a mean;
    # the short-range launches go on at the status-quo rate.
    firm = synthetic_draws(freeze_ages={"missiles": 3.0}, breach_scale=1e6)
    assert mean_of(model_forecast(firm, history, long_range, rng)) == pytest.approx(
        MEAN_FLOOR, rel=0.01
    )
    assert mean_of(model_forecast(firm, history, everything, rng)) == pytest.approx(9.0, rel=1e-3)


def test_the_window_is_negative_binomial_per_walk_period():
    # Shape 1: a quarter of mean 6 has variance 6 + 6^2; July-December is two quarters, so
    # the window's variance is 2 (6 + 36) = 84 (months drawn independently would give 36).
    pmf = model_forecast(
        synthetic_draws(dispersion=1.0),
        History.at("2018-07"),
        Outcome("2018-07", 6, "launches_all", "", 0),
        np.random.default_rng(4),
    )
    mean = mean_of(pmf)
    variance = float((np.arange(pmf.size) - mean) ** 2 @ pmf)
    assert mean == pytest.approx(12.0, rel=1e-3)
    assert variance == pytest.approx(84.0, rel=0.01)


def test_a_holding_nuclear_freeze_lowers_the_test_probability_by_its_exposure():
    rng = np.random.default_rng(3)
    history = History.at("2018-07")
    outcome = Outcome("2018-07", 12, "nuclear_test", "", 0)
    free = model_forecast(synthetic_draws(), history, outcome, rng)[1]
    assert free == pytest.approx(1 - np.exp(-1.2), rel=1e-6)
    held = model_forecast(synthetic_draws(freeze_ages={"nuclear": 3.0}), history, outcome, rng)
    # Breach time T ~ exponential(mean 24) (shape 1 is memoryless); exposure max(12 - T, 0):
    # P(test) = 1 - E exp(-0.1 max(12 - T, 0)).
    survive = np.exp(-12 / 24)
    broken, _ = integrate.quad(lambda t: np.exp(-0.1 * (12 - t) - t / 24) / 24, 0, 12)
    assert held[1] == pytest.approx(1 - survive - broken, rel=0.03)


def test_holding_freezes_reads_the_evidence_public_on_the_day():
    assert holding_freezes("2017-12-31") == {}
    assert holding_freezes("2018-04-20") == {}  # the moratorium was declared on 21 April
    during = holding_freezes("2018-06-30")
    assert set(during) == {"missiles", "nuclear"} and 2.5 < during["missiles"] < 3.5
    # Short-range launches resumed in May 2019: the missile freeze ended, the nuclear one held.
    assert set(holding_freezes("2019-06-30")) == {"nuclear"}
