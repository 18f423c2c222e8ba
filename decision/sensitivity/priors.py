"""Prior sensitivity of the two Bayesian models, and whether the recommendation depends on a prior.

Each prior of each model (each key of the model's ``default_priors``) is **power-scaled**:
its density ``p(theta)`` is replaced by ``p(theta)^alpha``, weaker for ``alpha < 1`` and
stronger for ``alpha > 1`` (default ``alpha`` = 0.5 and 2), the likelihood and the other priors
unchanged (Kallioinen et al. 2023, *Stat Comput* 34:57, "Detecting and diagnosing prior and
likelihood sensitivity with power-scaling").

``method="importance"`` (the default) needs no refit: the existing posterior draws are
reweighted by ``p(theta_s)^(alpha - 1)`` (the prior's density at each draw, on the constrained
scale the model states it on), the weights Pareto-smoothed with ``arviz.psislw``; the Pareto
``k`` says whether the reweighting can be trusted (``k > 0.7``: not reliable, refit instead).
``method="refit"`` fits the model again with the power-scaled prior, which for every family
used here is the same family with new hyperparameters (:func:`power_scaled_hyperparameters`).

For each posterior quantity that feeds the case tree (the case spec's ``supplied`` map)
it reports the shift of the posterior mean in posterior-sd units and the cumulative
Jensen-Shannon distance (CJS) between the base and the power-scaled posterior (0: same; the
measure of Kallioinen et al.), and flags a quantity as prior-sensitive when the CJS exceeds
``cjs_threshold`` (0.05, the threshold of that paper's diagnostic). For the recommendation,
each root option's expected value under the power-scaled posterior is the weighted mean of
its per-draw values in the case tree evaluated once on the base draws (later decisions held
at the base policy; with ``refit``, the tree is evaluated again on the new draws), and the
flag ``recommendation_changes`` says where the optimal strategy differs from the base one.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr
from scipy import stats

from decision.core.config import DEFAULT_SEED
from decision.core.errors import InputError
from decision.models import MODELS
from decision.sensitivity._common import UtilityScale, record, resolve_seed, settings

__all__ = [
    "DEFAULTS",
    "PRIOR_VARIABLES",
    "cjs_distance",
    "power_scaled_hyperparameters",
    "power_scaling_weights",
    "prior_log_density",
    "prior_sensitivity",
]

#: Model key -> prior key -> (posterior variable, family), as each model declares it in
#: ``prior_variables``. Families use the models' (PyMC)
#: parameterisations: lognormal(mu, sigma), beta(alpha, beta), normal(mu, sigma),
#: halfnormal(sigma), gamma(alpha, beta) with ``beta`` a rate.
PRIOR_VARIABLES: dict[str, dict[str, tuple[str, str]]] = {
    key: dict(cls.prior_variables) for key, cls in MODELS.items()
}

#: Settings of :func:`prior_sensitivity`. ``alphas``: power-scaling exponents;
#: ``cjs_threshold``: CJS above which a quantity is flagged prior-sensitive;
#: ``pareto_k_threshold``: Pareto k above which importance weights are not reliable;
#: ``method``: ``importance`` or ``refit``; ``sampler``: sampler overrides for ``refit``
#: (a mapping merged over the fits' own sampler settings).
DEFAULTS: dict[str, Any] = {
    "alphas": [0.5, 2.0],
    "cjs_threshold": 0.05,
    "pareto_k_threshold": 0.7,
    "method": "importance",
    "sampler": None,
}


def _frozen(family: str, params: Mapping[str, float]):
    p = dict(params)
    if family == "lognormal":
        return stats.lognorm(s=p["sigma"], scale=math.exp(p["mu"]))
    if family == "beta":
        return stats.beta(p["alpha"], p["beta"])
    if family == "normal":
        return stats.norm(p["mu"], p["sigma"])
    if family == "halfnormal":
        return stats.halfnorm(scale=p["sigma"])
    if family == "gamma":
        return stats.gamma(p["alpha"], scale=1.0 / p["beta"])
    raise InputError(f"unknown prior family {family!r}", field="family")


def prior_log_density(family: str, params: Mapping[str, float], values) -> np.ndarray:
    """Log density of a prior (family and hyperparameters as the models state them)."""
    with np.errstate(divide="ignore"):
        return _frozen(family, params).logpdf(np.asarray(values, dtype=float))


def power_scaled_hyperparameters(
    family: str, params: Mapping[str, float], alpha: float
) -> dict[str, float]:
    """Hyperparameters of the prior ``p(theta)^alpha`` (renormalised), in the same family.

    beta(a, b) -> beta(alpha (a - 1) + 1, alpha (b - 1) + 1); gamma(a, rate b) ->
    gamma(alpha (a - 1) + 1, alpha b); normal and half-normal: sigma / sqrt(alpha);
    lognormal(mu, sigma) -> lognormal(mu - (alpha - 1) sigma^2 / alpha, sigma / sqrt(alpha))
    (the ``1/x`` factor of the density is powered too).

    Raises
    ------
    InputError
        When the result is not a proper distribution (e.g. beta(0.5, 1) with alpha = 3).
    """
    p = {k: float(v) for k, v in params.items()}
    a = float(alpha)
    if not a > 0:
        raise InputError(f"alpha must be > 0, got {alpha}", field="alpha")
    if family == "beta":
        out = {"alpha": a * (p["alpha"] - 1) + 1, "beta": a * (p["beta"] - 1) + 1}
    elif family == "gamma":
        out = {"alpha": a * (p["alpha"] - 1) + 1, "beta": a * p["beta"]}
    elif family == "normal":
        out = {"mu": p["mu"], "sigma": p["sigma"] / math.sqrt(a)}
    elif family == "halfnormal":
        out = {"sigma": p["sigma"] / math.sqrt(a)}
    elif family == "lognormal":
        out = {"mu": p["mu"] - (a - 1) * p["sigma"] ** 2 / a, "sigma": p["sigma"] / math.sqrt(a)}
    else:
        raise InputError(f"unknown prior family {family!r}", field="family")
    bad = [k for k in ("alpha", "beta") if k in out and not out[k] > 0]
    if bad:
        raise InputError(
            f"power-scaling {family}({p}) by {alpha} gives no proper prior ({', '.join(bad)} <= 0)",
            field="alpha",
        )
    return out


def power_scaling_weights(fit, model: str, prior: str, alpha: float) -> tuple[np.ndarray, float]:
    """Pareto-smoothed importance weights of the posterior with one prior power-scaled.

    Parameters
    ----------
    fit
        A fitted model (``draws(name)`` and ``inputs["priors"]``).
    model
        ``dprk`` or ``china``.
    prior
        A key of the model's priors.
    alpha
        The power.

    Returns
    -------
    weights : numpy.ndarray
        Normalised weights over the flattened draws.
    pareto_k : float
        The Pareto shape estimate (``> 0.7``: unreliable).
    """
    import arviz as az

    variable, family = _variable(model, prior)
    params = fit.inputs["priors"][prior]
    values = np.asarray(fit.draws(variable), dtype=float).ravel()
    log_w = (float(alpha) - 1.0) * prior_log_density(family, params, values)
    log_w = np.where(np.isfinite(log_w), log_w, -np.inf)
    if np.allclose(log_w, log_w[0]):
        return np.full(values.size, 1.0 / values.size), 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a high k is reported, not warned about
        smoothed, k = az.psislw(log_w - np.max(log_w[np.isfinite(log_w)]))
    smoothed = np.asarray(smoothed, dtype=float)
    weights = np.exp(smoothed - np.max(smoothed))
    return weights / weights.sum(), float(np.asarray(k))


def _variable(model: str, prior: str) -> tuple[str, str]:
    if model not in PRIOR_VARIABLES:
        raise InputError(
            f"unknown model '{model}' (expected one of: {', '.join(PRIOR_VARIABLES)})",
            field="model",
        )
    if prior not in PRIOR_VARIABLES[model]:
        raise InputError(
            f"unknown prior '{prior}' of model '{model}' (expected one of: "
            f"{', '.join(PRIOR_VARIABLES[model])})",
            field=f"priors.{model}",
        )
    return PRIOR_VARIABLES[model][prior]


def cjs_distance(
    draws: np.ndarray, weights: np.ndarray | None = None, base_weights: np.ndarray | None = None
) -> float:
    """Cumulative Jensen-Shannon distance between two weightings of the same draws.

    0 when the weighted empirical distributions are equal, at most 1. The symmetric,
    normalised form of Kallioinen et al. (2023, eq. 7; Nguyen & Vreeken 2015), as in
    ``priorsense`` and ArviZ.
    """
    x = np.asarray(draws, dtype=float).ravel()
    n = x.size
    w_p = np.full(n, 1.0 / n) if base_weights is None else np.asarray(base_weights, float)
    w_q = np.full(n, 1.0 / n) if weights is None else np.asarray(weights, float)
    order = np.argsort(x, kind="stable")
    x, w_p, w_q = x[order], w_p[order] / w_p.sum(), w_q[order] / w_q.sum()
    width = np.diff(x)
    if n < 2 or not np.any(width > 0):
        return 0.0
    P = np.cumsum(w_p)[:-1]
    Q = np.cumsum(w_q)[:-1]
    p_int, q_int = float(P @ width), float(Q @ width)
    mid = 0.5 * (P + Q)
    with np.errstate(divide="ignore", invalid="ignore"):
        lp = np.where(P > 0, np.log2(P), 0.0)
        lq = np.where(Q > 0, np.log2(Q), 0.0)
        lm = np.where(mid > 0, np.log2(mid), 0.0)
    pq = float(np.sum(width * P * (lp - lm))) + 0.5 / math.log(2) * (q_int - p_int)
    qp = float(np.sum(width * Q * (lq - lm))) + 0.5 / math.log(2) * (p_int - q_int)
    bound = p_int + q_int
    if bound <= 0:
        return 0.0
    return float(np.sqrt((max(pq, 0.0) + max(qp, 0.0)) / bound))


def _quantities(case) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for param, (model, variable) in case.spec.supplied.items():
        if param in case.tree.parameters:
            out.setdefault(model, []).append((param, variable))
    return out


def prior_sensitivity(
    fits: Mapping[str, Any],
    *,
    case=None,
    priors: Sequence[str] | None = None,
    alphas: Sequence[float] | None = None,
    method: str | None = None,
    seed: int = DEFAULT_SEED,
    observations=None,
    config: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """How much each tree-feeding posterior quantity and the recommendation move with each prior.

    Parameters
    ----------
    fits
        ``{"dprk": Fit, "china": Fit}`` with the same number of draws.
    case
        A :class:`decision.case.Case` (default: the baseline scenario): its tree gives the
        recommendation.
    priors
        Priors to examine, as ``"model.key"`` (default: every key of both models' priors).
    alphas, method, config
        See :data:`DEFAULTS`.
    seed
        Seed of the judgment parameters' draws in the case tree.
    observations
        The monitoring observations the fits used (``refit`` only: fits record their data
        hash, not the data).

    Returns
    -------
    xarray.Dataset
        Dimensions ``prior`` (``"model.key"``), ``alpha``, ``quantity`` (tree parameter) and
        ``option``: ``mean``, ``shift_sd`` (shift of the mean in base posterior sds) and
        ``cjs`` (prior, alpha, quantity; NaN for quantities of the other model);
        ``sensitive`` (prior, alpha, quantity); ``pareto_k``, ``ess``, ``reliable``,
        ``optimal``, ``recommendation_changes`` (prior, alpha); ``value`` (prior, alpha,
        option); ``base_mean`` (quantity) and ``base_value`` (option). ``attrs``: the base
        recommendation, ``config`` and ``inputs``.
    """
    from decision.case import load_case
    from decision.tree import evaluate

    cfg = settings(DEFAULTS, config, "sensitivity.priors", alphas=alphas, method=method)
    if cfg["method"] not in ("importance", "refit"):
        raise InputError(
            f"method must be 'importance' or 'refit', got {cfg['method']!r}",
            field="sensitivity.priors.method",
        )
    case = case or load_case()
    seed = resolve_seed(seed)
    chosen = _chosen_priors(fits, priors)
    quantities = _quantities(case)
    names = [p for model in quantities for p, _ in quantities[model]]
    alphas = [float(a) for a in cfg["alphas"]]
    supplied = case.supplied_draws(fits)
    n = len(next(iter(supplied.values())))
    result = evaluate(case.tree, n=n, seed=seed, supplied=supplied)
    labels = list(result.options)
    values = np.asarray(result.root_values_per_draw, dtype=float)
    scale = UtilityScale(case.tree, result.parameters).centre(values)
    utility = scale.to_utility(values)
    base_draws = {p: np.asarray(supplied[p], dtype=float) for p in names}
    shape_q = (len(chosen), len(alphas), len(names))
    mean = np.full(shape_q, np.nan)
    shift = np.full(shape_q, np.nan)
    cjs = np.full(shape_q, np.nan)
    pareto = np.full(shape_q[:2], np.nan)
    ess = np.full(shape_q[:2], np.nan)
    option_values = np.full(shape_q[:2] + (len(labels),), np.nan)
    for i, (model, prior) in enumerate(chosen):
        mine = {p for p, _ in quantities.get(model, [])}
        own = [j for j, p in enumerate(names) if p in mine]
        for a, alpha in enumerate(alphas):
            if cfg["method"] == "importance":
                w, k = power_scaling_weights(fits[model], model, prior, alpha)
                draws_w = {p: base_draws[p] for p in names}
                weighted_u = w @ utility
            else:
                refit = _refit(fits, model, prior, alpha, cfg, observations)
                w, k = None, 0.0
                new_fits = dict(fits, **{model: refit})
                new_supplied = case.supplied_draws(new_fits)
                draws_w = {p: np.asarray(new_supplied[p], dtype=float) for p in names}
                res = evaluate(
                    case.tree,
                    n=len(next(iter(new_supplied.values()))),
                    seed=seed,
                    supplied=new_supplied,
                )
                weighted_u = scale.to_utility(np.array([res.options[o] for o in labels]))
            pareto[i, a] = k
            ess[i, a] = (
                (1.0 / np.sum(w**2)) if w is not None else float(len(next(iter(draws_w.values()))))
            )
            option_values[i, a] = scale.from_utility(weighted_u)
            for j in own:
                p = names[j]
                base = base_draws[p]
                sd = float(np.std(base))
                if w is not None:
                    m = float(w @ base)
                    distance = cjs_distance(base, w)
                else:
                    m = float(np.mean(draws_w[p]))
                    distance = _cjs_two_samples(base, draws_w[p])
                mean[i, a, j] = m
                shift[i, a, j] = (m - float(base.mean())) / sd if sd > 0 else 0.0
                cjs[i, a, j] = distance
    base_values = np.array([result.options[o] for o in labels])
    base_optimal = result.optimal
    best = np.asarray(labels)[np.argmax(option_values, axis=-1)]
    prior_names = [f"{m}.{p}" for m, p in chosen]
    ds = xr.Dataset(
        {
            "mean": (("prior", "alpha", "quantity"), mean),
            "shift_sd": (("prior", "alpha", "quantity"), shift),
            "cjs": (("prior", "alpha", "quantity"), cjs),
            "sensitive": (
                ("prior", "alpha", "quantity"),
                np.nan_to_num(cjs, nan=0.0) > float(cfg["cjs_threshold"]),
            ),
            "pareto_k": (("prior", "alpha"), pareto),
            "ess": (("prior", "alpha"), ess),
            "reliable": (("prior", "alpha"), pareto <= float(cfg["pareto_k_threshold"])),
            "value": (("prior", "alpha", "option"), option_values),
            "optimal": (("prior", "alpha"), best),
            "recommendation_changes": (("prior", "alpha"), best != base_optimal),
            "base_mean": (("quantity",), np.array([base_draws[p].mean() for p in names])),
            "base_value": (("option",), base_values),
        },
        coords={
            "prior": prior_names,
            "alpha": alphas,
            "quantity": names,
            "option": labels,
            "model": ("prior", [m for m, _ in chosen]),
        },
    )
    ds.attrs.update(
        {
            "analysis": "prior sensitivity (power-scaling)",
            "method": cfg["method"],
            "base_optimal": base_optimal or "",
            "tree": case.tree.name,
            "scenario": case.scenario.name,
            "units": case.tree.units or "",
        }
    )
    synthetic = any(bool(getattr(f, "inputs", {}).get("synthetic")) for f in fits.values())
    inputs = {
        "case": case.name,
        "scenario": case.scenario.name,
        "n": n,
        "seed": seed,
        "priors": {k: getattr(f, "inputs", {}).get("priors") for k, f in fits.items()},
        "synthetic_fits": synthetic,
    }
    return record(ds, config=cfg, inputs=inputs)


def _chosen_priors(fits: Mapping[str, Any], priors: Sequence[str] | None) -> list[tuple[str, str]]:
    if priors is None:
        return [
            (m, k)
            for m in PRIOR_VARIABLES
            if m in fits
            for k in fits[m].inputs["priors"]
            if k in PRIOR_VARIABLES[m]
        ]
    out = []
    for item in priors:
        model, _, key = str(item).partition(".")
        _variable(model, key)
        if model not in fits:
            raise InputError(f"no fit of model '{model}'", field="fits")
        out.append((model, key))
    return out


def _cjs_two_samples(base: np.ndarray, other: np.ndarray) -> float:
    """CJS between two samples: both on their pooled draws, each weighting its own."""
    pooled = np.concatenate([base, other])
    w_base = np.concatenate([np.full(base.size, 1.0 / base.size), np.zeros(other.size)])
    w_other = np.concatenate([np.zeros(base.size), np.full(other.size, 1.0 / other.size)])
    return cjs_distance(pooled, w_other, w_base)


def _refit(fits, model: str, prior: str, alpha: float, cfg, observations):
    from decision.core.config import deep_merge
    from decision.models import MODELS

    fit = fits[model]
    inputs = fit.inputs
    _, family = _variable(model, prior)
    scaled = power_scaled_hyperparameters(family, inputs["priors"][prior], alpha)
    priors = deep_merge(inputs["priors"], {prior: scaled}, where=f"priors.{model}")
    sampler = (
        deep_merge(
            inputs.get("sampler") or {}, cfg["sampler"] or {}, where="sensitivity.priors.sampler"
        )
        if inputs.get("sampler")
        else dict(cfg["sampler"] or {})
    )
    instance = MODELS[model](
        priors=priors,
        sampler=sampler or None,
        as_of=inputs.get("as_of") or "2017-08-20",
        observations=observations,
        settings=inputs.get("settings"),
    )
    return instance.fit(use_cache=True)
