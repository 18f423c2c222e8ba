"""Nonparametric regression of per-draw values on inputs: the engine of regression EVPPI and EVSI.

Strong, Oakley & Brennan (2014) estimate ``E[V_a | phi]`` (the expected value of option ``a``
given the parameters ``phi`` of interest) by regressing the per-draw values ``V_a`` on the
draws of ``phi``; the fitted values then replace the inner expectation of a nested Monte Carlo
loop. This module provides the three regressions used by
:func:`decision.sensitivity.voi.evppi`, all of the form "basis ``B``, quadratic penalty
``lambda S``", so that every fit has a Gaussian posterior for its coefficients
``beta ~ N(beta_hat, sigma^2 (B'B + lambda S)^-1)`` (Wood 2006, sect. 4.8) from which the
standard error of any function of the fitted values can be simulated.

Inputs are first replaced by their ranks scaled to (0, 1). A monotone transform of ``phi``
leaves ``E[V | phi]`` unchanged, and in rank units every input is spread evenly over the
basis, whatever its distribution (skewed, heavy-tailed or discrete).

``gam``
    Penalised regression splines (P-splines, Eilers & Marx 1996): cubic B-splines on equally
    spaced knots with a second-order difference penalty; a tensor product of them for two or
    three inputs. The smoothing parameter minimises generalised cross-validation (GCV) over
    a log grid. For a single input this is the GAM of Strong et al. (2014).
``gp``
    A Gaussian process with a squared-exponential ARD covariance: hyperparameters maximise
    the marginal likelihood on a random subset of the draws; the fit to all draws is the
    subset-of-regressors approximation on a smaller subset of "inducing" draws (basis
    ``k(x, z_j)``, penalty ``K_zz``, ``lambda`` = noise variance). Strong et al. recommend
    a GP for more than a few inputs.
``ols``
    A quadratic polynomial with interactions, unpenalised: fast and crude.
``auto``
    ``gam`` for up to three inputs, ``gp`` beyond.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy import linalg
from scipy.interpolate import BSpline
from scipy.optimize import minimize
from scipy.spatial.distance import cdist
from scipy.stats import rankdata

from decision.core.errors import InputError
from decision.sensitivity._common import settings, single_threaded

__all__ = ["DEFAULTS", "METHODS", "RegressionFit", "fit_regressions", "rank_scale"]

#: Regression methods accepted by :func:`fit_regressions`.
METHODS = ("auto", "gam", "gp", "ols")

#: Settings of :func:`fit_regressions`.
#:
#: ``gam.segments``: knot intervals per input for one, two and three inputs (B-splines per
#: input = segments + 3). ``gam.log10_lambda``: [low, high, count] of the GCV grid, relative
#: to ``trace(B'B) / trace(S)``. ``gp.hyper_subset``: draws used to fit the hyperparameters;
#: ``gp.basis``: inducing draws of the full-data fit. ``ols.degree``: 1 or 2.
DEFAULTS: dict[str, Any] = {
    "gam": {"segments": [20, 7, 4], "log10_lambda": [-8.0, 4.0, 37]},
    "gp": {"hyper_subset": 300, "basis": 200},
    "ols": {"degree": 2},
}


@dataclasses.dataclass
class RegressionFit:
    """One response regressed on the inputs.

    Attributes
    ----------
    fitted
        Fitted values at the draws, (N,).
    method
        ``gam``, ``gp``, ``ols`` or ``constant`` (a response that does not vary).
    edf
        Effective degrees of freedom of the fit.
    sigma2
        Residual variance.
    smoothing
        The smoothing parameter chosen (``lambda``), if any.
    """

    fitted: np.ndarray
    method: str
    edf: float = 0.0
    sigma2: float = 0.0
    smoothing: float | None = None
    _basis: np.ndarray | None = None
    _coef: np.ndarray | None = None
    _cov_factor: np.ndarray | None = None
    _offset: float = 0.0
    _scale: float = 1.0

    def simulate(self, size: int, rng: np.random.Generator) -> np.ndarray:
        """``size`` draws of the fitted values from the coefficients' posterior, (N, size)."""
        if self._basis is None:
            return np.repeat(self.fitted[:, None], size, axis=1)
        z = rng.standard_normal((self._coef.size, size))
        coef = self._coef[:, None] + self._cov_factor @ z
        return self._offset + self._scale * (self._basis @ coef)


def rank_scale(X: np.ndarray) -> np.ndarray:
    """Each column replaced by its ranks scaled to (0, 1) (ties share their mean rank)."""
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    n = X.shape[0]
    return np.column_stack([(rankdata(X[:, j]) - 0.5) / n for j in range(X.shape[1])])


# ---------------------------------------------------------------------------- bases


def _bspline_basis(u: np.ndarray, segments: int) -> np.ndarray:
    knots = np.arange(-3, segments + 4, dtype=float) / segments
    return BSpline.design_matrix(np.clip(u, 0.0, 1.0), knots, 3).toarray()


def _difference_penalty(p: int) -> np.ndarray:
    d = np.diff(np.eye(p), 2, axis=0)
    return d.T @ d


def _tensor(bases: list[np.ndarray]) -> np.ndarray:
    out = bases[0]
    for b in bases[1:]:
        out = (out[:, :, None] * b[:, None, :]).reshape(out.shape[0], -1)
    return out


def _tensor_penalty(sizes: list[int]) -> np.ndarray:
    total = None
    for d, p in enumerate(sizes):
        mats = [np.eye(q) for q in sizes]
        mats[d] = _difference_penalty(p)
        term = mats[0]
        for m in mats[1:]:
            term = np.kron(term, m)
        total = term if total is None else total + term
    return total


def _polynomial_basis(u: np.ndarray, degree: int) -> np.ndarray:
    c = u - 0.5
    columns = [np.ones(u.shape[0])]
    columns.extend(c[:, j] for j in range(c.shape[1]))
    if degree >= 2:
        for i in range(c.shape[1]):
            for j in range(i, c.shape[1]):
                columns.append(c[:, i] * c[:, j])
    return np.column_stack(columns)


# ------------------------------------------------------------------ penalised fits


class _Penalised:
    """Shared pieces of ``(B'B + lambda S) beta = B'y`` for one basis and many responses."""

    def __init__(self, basis: np.ndarray, penalty: np.ndarray | None):
        self.B = basis
        self.G = basis.T @ basis
        p = self.G.shape[0]
        self.S = penalty if penalty is not None else np.zeros((p, p))
        self.jitter = 1e-10 * max(np.trace(self.G) / p, 1e-300)

    def factor(self, lam: float):
        A = self.G + lam * self.S + self.jitter * np.eye(self.G.shape[0])
        return linalg.cho_factor(A, lower=True, check_finite=False)

    def edf(self, factor) -> float:
        return float(np.trace(linalg.cho_solve(factor, self.G, check_finite=False)))

    def result(
        self,
        y: np.ndarray,
        factor,
        lam: float,
        method: str,
        offset: float,
        scale: float,
        sigma2: float | None = None,
    ) -> RegressionFit:
        b = self.B.T @ y
        coef = linalg.cho_solve(factor, b, check_finite=False)
        fitted_std = self.B @ coef
        n = y.size
        edf = self.edf(factor)
        if sigma2 is None:
            rss = float(np.sum((y - fitted_std) ** 2))
            sigma2 = rss / max(n - edf, 1.0)
        inverse = linalg.cho_solve(factor, np.eye(self.G.shape[0]), check_finite=False)
        cov = sigma2 * (inverse + inverse.T) / 2.0
        return RegressionFit(
            fitted=offset + scale * fitted_std,
            method=method,
            edf=edf,
            sigma2=float(sigma2) * scale**2,
            smoothing=lam,
            _basis=self.B,
            _coef=coef,
            _cov_factor=_psd_factor(cov),
            _offset=offset,
            _scale=scale,
        )


def _psd_factor(cov: np.ndarray) -> np.ndarray:
    """Return a matrix ``L`` with ``L L' = cov`` (by eigen-decomposition: cov may be singular)."""
    values, vectors = linalg.eigh(cov, check_finite=False)
    return vectors * np.sqrt(np.clip(values, 0.0, None))


def _gcv_fit(
    system: _Penalised, y: np.ndarray, grid: list, offset: float, scale: float, method: str
) -> RegressionFit:
    """Return the fit whose smoothing parameter minimises GCV over ``grid``.

    ``grid`` holds (lambda, factor, edf) triples.
    """
    n = y.size
    b = system.B.T @ y
    yy = float(y @ y)
    best = None
    for lam, factor, edf in grid:
        coef = linalg.cho_solve(factor, b, check_finite=False)
        rss = max(yy - 2.0 * float(coef @ b) + float(coef @ system.G @ coef), 0.0)
        score = n * rss / max(n - edf, 1.0) ** 2
        if best is None or score < best[0] * (1 - 1e-12):
            best = (score, lam, factor)
    return system.result(y, best[2], best[1], method, offset, scale)


# ------------------------------------------------------------------------ the GP


def _gp_hyperparameters(U: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Maximum marginal likelihood (ARD squared exponential + noise) on standardised ``y``."""
    m, d = U.shape
    sq = np.stack([(U[:, j, None] - U[None, :, j]) ** 2 for j in range(d)])  # (d, m, m)
    eye = np.eye(m)

    def objective(theta):
        inv_l2 = np.exp(-2.0 * theta[:d])
        signal, noise = np.exp(theta[d]), np.exp(theta[d + 1])
        kf = signal * np.exp(-0.5 * np.tensordot(inv_l2, sq, axes=1))
        K = kf + (noise + 1e-8) * eye
        try:
            factor = linalg.cho_factor(K, lower=True, check_finite=False)
        except linalg.LinAlgError:
            return 1e10, np.zeros_like(theta)
        alpha = linalg.cho_solve(factor, y, check_finite=False)
        value = 0.5 * y @ alpha + np.sum(np.log(np.diag(factor[0]))) + 0.5 * m * np.log(2 * np.pi)
        W = linalg.cho_solve(factor, eye, check_finite=False) - np.outer(alpha, alpha)
        M = W * kf
        grad = np.empty_like(theta)
        grad[:d] = 0.5 * inv_l2 * np.tensordot(sq, M, axes=([1, 2], [0, 1]))
        grad[d] = 0.5 * np.sum(M)
        grad[d + 1] = 0.5 * noise * np.trace(W)
        return float(value), grad

    start = np.concatenate([np.full(d, np.log(0.3)), [0.0, np.log(0.1)]])
    bounds = [(np.log(0.02), np.log(20.0))] * d + [
        (np.log(1e-4), np.log(100.0)),
        (np.log(1e-6), np.log(10.0)),
    ]
    found = minimize(
        objective, start, jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 100}
    )
    theta = found.x
    return np.exp(theta[:d]), float(np.exp(theta[d])), float(np.exp(theta[d + 1]))


# --------------------------------------------------------------------- the entry


def fit_regressions(
    X: np.ndarray,
    Y: np.ndarray,
    *,
    method: str = "auto",
    config: Mapping[str, Any] | None = None,
    seed: int = 0,
) -> list[RegressionFit]:
    """Regress every column of ``Y`` on the inputs ``X`` with one method.

    Parameters
    ----------
    X
        Inputs, (N,) or (N, d).
    Y
        Responses, (N,) or (N, m).
    method
        One of :data:`METHODS`.
    config
        Overrides of :data:`DEFAULTS`.
    seed
        Seed of the GP's random subsets.

    Returns
    -------
    list of RegressionFit
        One per column of ``Y``; a column that does not vary gets a ``constant`` fit.
    """
    with single_threaded():
        return _fit_regressions(X, Y, method=method, config=config, seed=seed)


def _fit_regressions(X, Y, *, method, config, seed) -> list[RegressionFit]:
    cfg = settings(DEFAULTS, config, "sensitivity.regression")
    if method not in METHODS:
        raise InputError(
            f"unknown regression method {method!r}; expected one of " + ", ".join(METHODS),
            field="method",
        )
    U = rank_scale(X)
    Y = np.asarray(Y, dtype=float)
    if Y.ndim == 1:
        Y = Y[:, None]
    n, d = U.shape
    if Y.shape[0] != n:
        raise InputError(f"inputs have {n} rows but responses {Y.shape[0]}", field="X")
    if method == "auto":
        method = "gam" if d <= 3 else "gp"
    if method == "gam" and d > 3:
        raise InputError(
            f"the gam method takes at most 3 inputs (got {d}); use 'gp'", field="method"
        )
    fits: list[RegressionFit | None] = [None] * Y.shape[1]
    todo = []
    for j in range(Y.shape[1]):
        y = Y[:, j]
        spread = float(np.std(y))
        if not np.isfinite(spread):
            raise InputError("responses must be finite", field="Y")
        if spread <= 1e-12 * max(1.0, float(np.max(np.abs(y)))):
            fits[j] = RegressionFit(fitted=np.full(n, float(np.mean(y))), method="constant")
        else:
            todo.append(j)
    if not todo:
        return fits
    if method == "gam":
        segments = int(cfg["gam"]["segments"][d - 1])
        bases = [_bspline_basis(U[:, k], segments) for k in range(d)]
        basis = _tensor(bases)
        penalty = _tensor_penalty([b.shape[1] for b in bases])
        system = _Penalised(basis, penalty)
        low, high, count = cfg["gam"]["log10_lambda"]
        unit = np.trace(system.G) / max(np.trace(system.S), 1e-300)
        grid = []
        for lam in unit * np.logspace(float(low), float(high), int(count)):
            factor = system.factor(lam)
            grid.append((lam, factor, system.edf(factor)))
        for j in todo:
            y, offset, scale = _standardise(Y[:, j])
            fits[j] = _gcv_fit(system, y, grid, offset, scale, "gam")
    elif method == "ols":
        basis = _polynomial_basis(U, int(cfg["ols"]["degree"]))
        system = _Penalised(basis, None)
        factor = system.factor(0.0)
        for j in todo:
            y, offset, scale = _standardise(Y[:, j])
            fits[j] = system.result(y, factor, 0.0, "ols", offset, scale)
    else:
        rng = np.random.default_rng(seed)
        order = rng.permutation(n)
        hyper = order[: min(n, int(cfg["gp"]["hyper_subset"]))]
        inducing = U[order[: min(n, int(cfg["gp"]["basis"]))]]
        for j in todo:
            y, offset, scale = _standardise(Y[:, j])
            lengths, signal, noise = _gp_hyperparameters(U[hyper], y[hyper])
            basis = signal * np.exp(-0.5 * cdist(U / lengths, inducing / lengths, "sqeuclidean"))
            penalty = signal * np.exp(
                -0.5 * cdist(inducing / lengths, inducing / lengths, "sqeuclidean")
            ) + 1e-8 * signal * np.eye(len(inducing))
            system = _Penalised(basis, penalty)
            factor = system.factor(noise)
            fits[j] = system.result(y, factor, noise, "gp", offset, scale, sigma2=noise)
    return fits


def _standardise(y: np.ndarray) -> tuple[np.ndarray, float, float]:
    offset = float(np.mean(y))
    scale = float(np.std(y)) or 1.0
    return (y - offset) / scale, offset, scale
