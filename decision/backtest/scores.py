"""Proper scores of a discrete predictive distribution against what happened.

Every forecast in a backtest is a probability mass function over the whole numbers
``0, 1, ..., K`` (a count, an event coded 0/1, a lag in days, an extent in quarters); mass
beyond ``K`` is taken as zero (forecasts are built with ``K`` past their 1 - 1e-9 quantile).

=================  ==========================================================================
``log_score``      log predictive density ``log p(y)`` (higher is better); ``p`` is floored
                   at :data:`PMF_FLOOR`, so a forecast that ruled ``y`` out scores about -27.6
                   instead of minus infinity.
``crps``           continuous ranked probability score, exact for integer outcomes:
                   ``sum_k (F(k) - 1{y <= k})^2`` (lower is better; for a 0/1 event it is
                   the Brier score). :func:`crps_from_samples` is the sample form
                   ``E|X - y| - E|X - X'| / 2``, for checks.
``brier``          ``(P(event) - y)^2`` for events (lower is better).
``covered``        whether ``y`` lies in the central interval of a given mass: from the
                   smallest ``k`` with ``F(k) >= (1 - mass) / 2`` to the smallest with
                   ``F(k) >= (1 + mass) / 2``.
``pit``            randomised probability integral transform ``F(y - 1) + u p(y)``, ``u``
                   uniform: uniform on (0, 1) when the forecasts are calibrated.
=================  ==========================================================================
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "PMF_FLOOR",
    "brier",
    "central_interval",
    "covered",
    "crps",
    "crps_from_samples",
    "log_score",
    "pit",
    "quantile",
    "score_all",
]

#: Smallest probability a log score reads, so a ruled-out outcome scores about -27.6.
PMF_FLOOR = 1e-12


def _pmf(pmf) -> np.ndarray:
    values = np.asarray(pmf, dtype=float)
    if values.ndim != 1 or values.size == 0 or np.any(values < -1e-12):
        raise ValueError("expected a one-dimensional probability mass function")
    total = values.sum()
    if not np.isfinite(total) or abs(total - 1.0) > 1e-6:
        raise ValueError(f"expected probabilities summing to 1, got {total:.6g}")
    return np.clip(values, 0.0, None) / total


def _outcome(y) -> int:
    value = int(y)
    if value != y or value < 0:
        raise ValueError(f"expected a whole number >= 0, got {y!r}")
    return value


def log_score(pmf, y) -> float:
    """Return ``log p(y)`` (floored at ``log PMF_FLOOR``)."""
    p, k = _pmf(pmf), _outcome(y)
    return float(np.log(max(p[k] if k < p.size else 0.0, PMF_FLOOR)))


def crps(pmf, y) -> float:
    """Return the exact CRPS of a distribution on ``0..K`` for the whole number ``y``."""
    p, k = _pmf(pmf), _outcome(y)
    size = max(p.size, k + 1)
    cdf = np.ones(size)
    cdf[: p.size] = np.cumsum(p)
    step = (np.arange(size) >= k).astype(float)
    return float(np.sum((cdf - step) ** 2))


def crps_from_samples(samples, y) -> float:
    """Return the CRPS from predictive samples: ``E|X - y| - E|X - X'| / 2``.

    Uses the sorted-sample identity ``E|X - X'| = 2 / n^2 sum_i (2i - n - 1) x_(i)``, exact
    for the empirical distribution of the samples.
    """
    x = np.sort(np.asarray(samples, dtype=float).ravel())
    n = x.size
    first = np.mean(np.abs(x - float(y)))
    spread = 2.0 / n**2 * np.sum((2 * np.arange(1, n + 1) - n - 1) * x)
    return float(first - 0.5 * spread)


def brier(pmf, y) -> float:
    """Return the Brier score of the event ``y >= 1`` (``y`` coded 0/1)."""
    p, k = _pmf(pmf), _outcome(y)
    return float((1.0 - p[0] - float(k >= 1)) ** 2)


def quantile(pmf, level: float) -> int:
    """Return the smallest ``k`` with ``F(k) >= level``."""
    cdf = np.cumsum(_pmf(pmf))
    return int(min(np.searchsorted(cdf, level - 1e-12, side="left"), cdf.size - 1))


def central_interval(pmf, mass: float) -> tuple[int, int]:
    """Return the central interval holding ``mass`` of the distribution, as whole numbers."""
    tail = (1.0 - mass) / 2.0
    return quantile(pmf, tail), quantile(pmf, 1.0 - tail)


def covered(pmf, y, mass: float) -> bool:
    """Tell whether ``y`` lies in the central ``mass`` interval."""
    low, high = central_interval(pmf, mass)
    return bool(low <= _outcome(y) <= high)


def pit(pmf, y, u: float) -> float:
    """Return the randomised PIT ``F(y - 1) + u p(y)`` for a uniform draw ``u``."""
    p, k = _pmf(pmf), _outcome(y)
    below = float(p[: min(k, p.size)].sum())
    at = float(p[k]) if k < p.size else 0.0
    return below + float(u) * at


def score_all(pmf, y, u: float, *, event: bool) -> dict[str, float]:
    """Return every score and summary of one forecast for ``y``: the table's score columns.

    ``mean``, ``q05``, ``q25``, ``q50``, ``q75``, ``q95`` describe the forecast; ``brier`` is
    NaN unless ``event``.
    """
    p = _pmf(pmf)
    support = np.arange(p.size)
    return {
        "mean": float(np.dot(support, p)),
        **{f"q{int(level * 100):02d}": float(quantile(p, level)) for level in _LEVELS},
        "log_score": log_score(p, y),
        "crps": crps(p, y),
        "brier": brier(p, y) if event else float("nan"),
        "covered_50": covered(p, y, 0.5),
        "covered_90": covered(p, y, 0.9),
        "pit": pit(p, y, u),
    }


_LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)
