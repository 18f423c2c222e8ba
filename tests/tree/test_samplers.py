"""Array samplers: Cheng's beta algorithm and the lognormal draw exactly their distributions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from decision.tree import samplers

SHAPES = [(6, 4), (2, 6), (1.92, 4.08), (1.001, 1.001), (1.5, 40), (50, 200), (3000, 2)]


@pytest.mark.parametrize("a, b", SHAPES)
def test_beta_draws_follow_the_beta_distribution(a, b):
    draws = samplers.beta(np.random.default_rng(11), a, b, 100_000)
    assert draws.shape == (100_000,)
    assert np.all((draws > 0) & (draws < 1))
    # The whole distribution: a one-sample KS test against the exact CDF.
    assert stats.kstest(draws, stats.beta(a, b).cdf).pvalue > 1e-3
    # Mean and variance within 5 standard errors of the exact ones.
    mean, var = stats.beta(a, b).stats()
    assert abs(draws.mean() - mean) < 5 * np.sqrt(var / draws.size)
    fourth = stats.beta(a, b).moment(4) - 4 * mean * stats.beta(a, b).moment(3)
    fourth += 6 * mean**2 * stats.beta(a, b).moment(2) - 3 * mean**4
    assert abs(draws.var() - var) < 5 * np.sqrt((fourth - var**2) / draws.size)


def test_beta_tails_match_the_quantiles():
    # The rejection step matters most in the tails: the share of draws beyond the 0.1% and
    # 99.9% quantiles is 0.1% each (binomial standard error 3.2e-5 at a million draws).
    a, b = 2.5, 7.0
    draws = samplers.beta(np.random.default_rng(5), a, b, 1_000_000)
    low, high = stats.beta(a, b).ppf([0.001, 0.999])
    assert np.mean(draws < low) == pytest.approx(0.001, abs=1.6e-4)
    assert np.mean(draws > high) == pytest.approx(0.001, abs=1.6e-4)


def test_beta_is_seeded_and_its_first_draws_do_not_depend_on_n():
    first = samplers.beta(np.random.default_rng(3), 2.5, 6, 10)
    again = samplers.beta(np.random.default_rng(3), 2.5, 6, 10)
    many = samplers.beta(np.random.default_rng(3), 2.5, 6, 100_000)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(many[:10], first)
    assert not np.array_equal(samplers.beta(np.random.default_rng(4), 2.5, 6, 10), first)


@pytest.mark.parametrize("a, b", [(0.5, 0.5), (1, 1), (1, 3), (0.3, 8)])
def test_beta_with_a_shape_of_one_or_less_is_numpys(a, b):
    ours = samplers.beta(np.random.default_rng(8), a, b, 1000)
    np.testing.assert_array_equal(ours, np.random.default_rng(8).beta(a, b, 1000))


def test_lognormal_is_numpys_up_to_the_last_bit_of_exp():
    ours = samplers.lognormal(np.random.default_rng(2), 4.1, 0.3, 100_000)
    numpy = np.random.default_rng(2).lognormal(4.1, 0.3, 100_000)
    np.testing.assert_allclose(ours, numpy, rtol=4.5e-16, atol=0)
