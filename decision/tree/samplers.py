"""Exact draws of the parameter distributions, computed over whole arrays.

numpy's :class:`~numpy.random.Generator` draws one variate at a time in C. For two of the
distributions a tree may use, a method that works on arrays of uniform or normal draws is
faster and draws from exactly the same distribution:

* **beta** with both shapes above 1 (and PERT, a scaled beta): Cheng's algorithm BB
  (R. C. H. Cheng, "Generating beta variates with nonintegral shape parameters",
  *Communications of the ACM* 21(4), 1978, pp. 317-322; R's ``rbeta`` uses it), a rejection
  method with two uniforms per candidate that accepts about 9 candidates in 10. The two
  quick acceptance tests of the published algorithm only avoid logarithms one candidate at
  a time (each implies the final test: ``log x >= 1 - 1/x`` and ``log z <= 5 z - 1 - log 5``);
  over arrays the final test alone is cheaper. numpy draws a beta variate as the ratio of two
  gamma variates, each a rejection method with a normal and a uniform draw: about 2.5 times
  slower. Shapes of 1 or less are left to numpy.
* **lognormal**: ``exp(mu + sigma z)`` of numpy's standard normal draws ``z``, with the
  exponential taken over the whole array: numpy's values, up to the last bit of the
  exponential.

Each function reads its random numbers from ``rng`` in an order fixed by the function alone,
never by ``n``: the first ``k`` of ``n`` draws are the ``k`` draws asked for alone, as with
numpy's methods, and the same seed always gives the same draws.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["beta", "lognormal"]

#: Candidates in the first batch of :func:`beta`; later batches double up to the largest.
FIRST_BATCH = 64
LARGEST_BATCH = 32_768


def beta(rng: np.random.Generator, a: float, b: float, n: int) -> np.ndarray:
    """``n`` draws from Beta(a, b): Cheng's algorithm BB when both shapes exceed 1."""
    if min(a, b) <= 1.0:
        return rng.beta(a, b, n)
    small, large = min(a, b), max(a, b)
    total = small + large
    scale = math.sqrt((total - 2.0) / (2.0 * small * large - total))
    shift = small + 1.0 / scale
    constant = total * math.log(total) - math.log(4.0)
    out = np.empty(n)
    filled, size = 0, FIRST_BATCH
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        while filled < n:
            uniforms = rng.random(2 * size)
            u1, u2 = uniforms[:size], uniforms[size:]
            # The candidate: v = scale log(u1 / (1 - u1)), w = small exp(v).
            v = np.subtract(1.0, u1)
            np.divide(u1, v, out=v)
            np.log(v, out=v)
            v *= scale
            w = np.exp(v)
            w *= small
            # Accepted when shift v - log 4 + total log(total / (large + w)) > log(u1^2 u2)
            # (strictly, so that u1 = 0, where both sides are -inf, is rejected).
            bound = np.add(w, large)
            np.log(bound, out=bound)
            bound *= total
            np.multiply(v, shift, out=v)
            v += constant
            v -= bound
            np.multiply(u1, u1, out=bound)
            bound *= u2
            np.log(bound, out=bound)
            kept = w[v > bound][: n - filled]
            target = out[filled : filled + kept.size]
            np.add(kept, large, out=target)
            np.divide(kept if small == a else large, target, out=target)
            filled += kept.size
            size = min(2 * size, LARGEST_BATCH)
    return out


def lognormal(rng: np.random.Generator, mu: float, sigma: float, n: int) -> np.ndarray:
    """``n`` draws of ``exp(N(mu, sigma^2))``."""
    draws = rng.standard_normal(n)
    draws *= sigma
    draws += mu
    return np.exp(draws, out=draws)
