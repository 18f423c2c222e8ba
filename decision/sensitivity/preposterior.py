"""Preposterior analysis: the value of monitoring by Bayesian updating (EVSI).

The study valued here (:class:`MonitoringStudy`) is six months of monitoring-type evidence
about the two models' processes, seen **before** the strategy is chosen: whether and in which
month a monitored DPRK freeze is breached (a detected missile launch or nuclear test), and how
many of China's six scheduled enforcement steps are met. The data are a sample from the same
processes the models describe: a freeze whose survival follows the DPRK model's Weibull
(shape ``breach_shape``, scale ``breach_scale``, in months) and an enforcement episode drawn
from China's cooperation population (beta with mean ``cooperation_mean`` and concentration
``cooperation_concentration``). They update what the models know about those processes, and
through them the tree's supplied quantities (``p_hold_monitoring``, ``p_hold_after``, the
breach fractions, the cooperation-level probabilities). Suspected exports are not simulated.

This is not the in-tree value of monitoring that :func:`decision.case.analyze` reports: that
one is the value of choosing the spring exercises after seeing the cooperation level, within
the freeze-plus-pressure strategy, and the tree already computes it by Bayes' rule on its own
path events. Both are reported by :func:`value_of_monitoring_preposterior`.

Method (:func:`evsi_reweighting`), exact in the limit of many posterior draws:

1. the outcomes are enumerated (7 breach months, "none" included, x 7 counts of steps met):
   ``P(D_k) = mean_s p(D_k | theta_s)`` over the posterior draws, the prior predictive
   probability of each outcome;
2. the posterior after ``D_k`` is the current posterior reweighted by the likelihood,
   ``w_ks ∝ p(D_k | theta_s)`` (importance sampling: no refit);
3. the tree is re-rolled for each outcome: the later decisions are re-optimised on the draws
   resampled by those weights (systematic resampling), every root option is then valued
   under that policy by the weighted mean of its per-draw values (so resampling noise can
   only make a later choice worse, never inflate a value), and the best strategy's value is
   kept: ``EVSI = sum_k P(D_k) max_a E[V_a | D_k] - max_a E[V_a]``. ``evsi_held`` is the same
   with the later decisions held at the current policy.

Checks: ``evsi_regression`` is the regression estimate of Strong et al. (2015, *Med Decis
Making* 35:570-583): one outcome is simulated per posterior draw and the per-draw values are
regressed on it (:func:`decision.sensitivity.voi.regression_voi`); it estimates ``evsi_held``.
``evppi_model`` (EVPPI of the four model variables the data depend on) bounds the EVSI from
above, and ``evppi_tree`` is the EVPPI of the tree quantities the data inform.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from decision.core.config import DEFAULT_SEED
from decision.core.errors import InputError
from decision.sensitivity._common import UtilityScale, record, resolve_seed, single_threaded
from decision.sensitivity.voi import evpi as _evpi
from decision.sensitivity.voi import regression_voi
from decision.tree import TreeResult, evaluate
from decision.tree.parameters import ExpressionParameter

__all__ = [
    "MonitoringStudy",
    "evsi_reweighting",
    "systematic_resample",
    "value_of_monitoring_preposterior",
]


def systematic_resample(weights: np.ndarray, size: int, offset: float) -> np.ndarray:
    """Return the indices of a systematic resample of ``size`` draws with normalised ``weights``.

    ``offset`` in [0, 1) is the one uniform draw the scheme uses.
    """
    cumulative = np.cumsum(weights)
    cumulative[-1] = 1.0
    positions = (offset + np.arange(size)) / size
    return np.minimum(np.searchsorted(cumulative, positions, side="right"), len(weights) - 1)


def evsi_reweighting(
    result: TreeResult,
    likelihood: np.ndarray,
    *,
    outcomes: pd.DataFrame | None = None,
    reroll: bool = True,
    n_resample: int | None = None,
    seed: int = 0,
) -> xr.Dataset:
    """EVSI of a study whose outcomes have likelihood ``likelihood[k, i]`` under draw ``i``.

    Parameters
    ----------
    result
        The tree evaluated over the current (posterior) draws.
    likelihood
        (outcomes, draws): ``p(D_k | theta_i)`` for every possible outcome ``k`` (enumerated:
        each column sums to 1 over outcomes) or for simulated outcomes (weighted equally).
    outcomes
        A frame describing the outcomes (one row each), kept on the result.
    reroll
        Re-optimise the later decisions for each outcome (on resampled draws).
    n_resample
        Draws per resample (default: the number of draws).
    seed
        Seed of the resampling offsets.

    Returns
    -------
    xarray.Dataset
        ``evsi`` (re-rolled; equal to ``evsi_held`` without ``reroll`` or later decisions),
        ``evsi_held``; per outcome: ``probability``, ``ess`` (effective sample size of its
        weights), ``value`` (outcome, option; weighted means, later decisions held),
        ``optimal_held`` and, when re-rolled, ``value_rerolled`` (the better of the held and
        the re-optimised later policy, per option), ``optimal`` and
        ``later_policy_changed``. ``attrs``: ``outcome_mass`` (sum of the
        probabilities before normalisation), the current optimal option.
    """
    L = np.asarray(likelihood, dtype=float)
    n = result.n
    if L.ndim != 2 or L.shape[1] != n:
        raise InputError(
            f"likelihood must be (outcomes, {n} draws), got {L.shape}", field="likelihood"
        )
    if np.any(L < 0) or not np.all(np.isfinite(L)):
        raise InputError("likelihood values must be finite and >= 0", field="likelihood")
    labels = list(result.options)
    values = np.asarray(result.root_values_per_draw, dtype=float)
    scale = UtilityScale(result.tree, result.parameters).centre(values)
    u = scale.to_utility(values)
    mass = L.mean(axis=1)
    total = float(mass.sum())
    if total <= 0:
        raise InputError("the study's outcomes have zero probability", field="likelihood")
    probability = mass / total
    sums = L.sum(axis=1, keepdims=True)
    weights = np.divide(L, sums, out=np.zeros_like(L), where=sums > 0)
    ess = np.where(sums[:, 0] > 0, 1.0 / np.maximum(np.sum(weights**2, axis=1), 1e-300), 0.0)
    held = weights @ u
    now = float(u.mean(axis=0).max())
    best_held = np.argmax(held, axis=1)
    evsi_held = float(scale.from_utility(probability @ held.max(axis=1)) - scale.from_utility(now))
    data: dict[str, Any] = {
        "probability": (("outcome",), probability),
        "ess": (("outcome",), ess),
        "value": (("outcome", "option"), scale.from_utility(held)),
        "optimal_held": (("outcome",), np.asarray(labels)[best_held]),
        "evsi_held": ((), max(evsi_held, 0.0)),
    }
    evsi = evsi_held
    tree = result.tree
    later = [path for path in tree.decision_nodes if path != result.root_path]
    if reroll and later:
        size = int(n_resample or n)
        base = {
            k: np.asarray(v)
            for k, v in result.parameters.items()
            if not isinstance(tree.parameters[k], ExpressionParameter)
        }
        offsets = np.random.default_rng(seed).uniform(size=L.shape[0])
        rerolled = held.copy()
        changed = np.zeros(L.shape[0], dtype=bool)
        policies: dict[tuple, np.ndarray] = {}
        for k in range(L.shape[0]):
            if probability[k] <= 0:
                continue
            idx = systematic_resample(weights[k], size, offsets[k])
            chosen = evaluate(tree, draws={name: v[idx] for name, v in base.items()}).policy
            force = tuple(sorted((path, chosen[path]) for path in later))
            if force not in policies:
                forced = evaluate(tree, draws=base, force=dict(force))
                policies[force] = scale.to_utility(
                    np.asarray(forced.root_values_per_draw, dtype=float)
                )
            candidate = weights[k] @ policies[force]
            changed[k] = any(chosen[path] != result.policy[path] for path in later)
            rerolled[k] = np.maximum(held[k], candidate)
        best = np.argmax(rerolled, axis=1)
        evsi = float(
            scale.from_utility(probability @ rerolled.max(axis=1)) - scale.from_utility(now)
        )
        data["value_rerolled"] = (("outcome", "option"), scale.from_utility(rerolled))
        data["optimal"] = (("outcome",), np.asarray(labels)[best])
        data["later_policy_changed"] = (("outcome",), changed)
    data["evsi"] = ((), max(evsi, 0.0))
    coords: dict[str, Any] = {"outcome": np.arange(L.shape[0]), "option": labels}
    if outcomes is not None:
        for column in outcomes.columns:
            coords[str(column)] = ("outcome", outcomes[column].to_numpy())
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update(
        {
            "analysis": "EVSI by importance reweighting",
            "tree": result.tree.name,
            "units": result.tree.units or "",
            "optimal_now": result.optimal or "",
            "outcome_mass": total,
            "reroll": int(bool(reroll)),
            "n_resample": int(n_resample or n),
        }
    )
    return ds


@dataclasses.dataclass(frozen=True)
class MonitoringStudy:
    """Six months of monitoring-type evidence about the DPRK and China processes.

    Attributes
    ----------
    months
        Length of the monitored freeze record, in months.
    steps
        China's scheduled enforcement steps observed.
    tree_parameters
        The case tree's supplied quantities the data inform.
    model_variables
        (model, variable): the posterior variables the likelihood depends on.
    """

    months: int = 6
    steps: int = 6
    tree_parameters: tuple[str, ...] = (
        "p_hold_monitoring",
        "p_hold_after",
        "breach_fraction_monitoring",
        "breach_fraction_after",
        "p_level_low",
        "p_level_partial",
        "p_level_full",
    )
    model_variables: tuple[tuple[str, str], ...] = (
        ("dprk", "breach_shape"),
        ("dprk", "breach_scale"),
        ("china", "cooperation_mean"),
        ("china", "cooperation_concentration"),
    )

    def outcomes(self) -> pd.DataFrame:
        """Every possible outcome: ``breach_month`` (0 = no breach), ``steps_met``, ``label``."""
        rows = [
            {
                "breach_month": b,
                "steps_met": k,
                "label": f"{'no breach' if b == 0 else f'breach in month {b}'}, "
                f"{k}/{self.steps} steps met",
            }
            for b in [*range(1, self.months + 1), 0]
            for k in range(self.steps + 1)
        ]
        return pd.DataFrame(rows)

    def _variables(self, fits: Mapping[str, Any]) -> dict[str, np.ndarray]:
        out = {}
        for model, name in self.model_variables:
            if model not in fits:
                raise InputError(f"the monitoring study needs the '{model}' fit", field="fits")
            out[name] = np.asarray(fits[model].draws(name), dtype=float).ravel()
        lengths = {v.size for v in out.values()}
        if len(lengths) != 1:
            raise InputError(f"posterior draw counts differ: {sorted(lengths)}", field="fits")
        return out

    def _dprk_months(self, v) -> np.ndarray:
        """Return P(breach in month 1..months) and P(no breach), shape (months + 1, draws)."""
        t = np.arange(self.months + 1, dtype=float)[:, None]
        surv = np.exp(-((t / v["breach_scale"]) ** v["breach_shape"]))
        return np.vstack([surv[:-1] - surv[1:], surv[-1:]])

    def _china_steps(self, v) -> np.ndarray:
        """Return P(k steps met) for k = 0..steps, shape (steps + 1, draws)."""
        a = v["cooperation_mean"] * v["cooperation_concentration"]
        b = (1 - v["cooperation_mean"]) * v["cooperation_concentration"]
        k = np.arange(self.steps + 1)[:, None]
        return stats.betabinom.pmf(k, self.steps, a, b)

    def likelihood(self, fits: Mapping[str, Any]) -> np.ndarray:
        """(outcomes, draws): the probability of each outcome of :meth:`outcomes` per draw."""
        v = self._variables(fits)
        dprk, china = self._dprk_months(v), self._china_steps(v)
        return (dprk[:, None, :] * china[None, :, :]).reshape(-1, dprk.shape[1])

    def simulate(self, fits: Mapping[str, Any], rng: np.random.Generator) -> np.ndarray:
        """One outcome per draw: (draws, 2) of breach month (``months + 1``: none), steps met."""
        v = self._variables(fits)
        n = v["breach_shape"].size
        time = v["breach_scale"] * rng.weibull(v["breach_shape"], n)
        month = np.where(time <= self.months, np.ceil(np.maximum(time, 1e-12)), self.months + 1)
        a = v["cooperation_mean"] * v["cooperation_concentration"]
        b = (1 - v["cooperation_mean"]) * v["cooperation_concentration"]
        met = rng.binomial(self.steps, rng.beta(a, b))
        return np.column_stack([month, met]).astype(float)

    def model_draws(self, fits: Mapping[str, Any]) -> np.ndarray:
        """(draws, 4): the model variables the data depend on."""
        v = self._variables(fits)
        return np.column_stack([v[name] for _, name in self.model_variables])


def value_of_monitoring_preposterior(
    fits: Mapping[str, Any],
    *,
    case=None,
    study: MonitoringStudy | None = None,
    seed: int = DEFAULT_SEED,
    reroll: bool = True,
    n_resample: int | None = None,
    method: str = "auto",
    config: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """EVSI of six months of monitoring, by Bayesian updating, with its checks.

    Parameters
    ----------
    fits
        ``{"dprk": Fit, "china": Fit}`` (real fits, or fakes with ``draws(name)``), with the
        same number of draws.
    case
        A :class:`decision.case.Case` (default: the baseline scenario).
    study
        The study (default: the one the case spec names).
    seed
        Seed of the judgment parameters' draws, resampling and simulation.
    reroll, n_resample
        See :func:`evsi_reweighting`.
    method, config
        Regression method and settings of the EVPPI checks (see
        :data:`decision.sensitivity.voi.DEFAULTS`); ``evsi_regression`` always uses ``gam``.

    Returns
    -------
    xarray.Dataset
        The :func:`evsi_reweighting` result plus ``evsi_regression`` and
        ``evsi_regression_se``, ``evppi_model`` and ``evppi_model_se`` (the model variables
        the data depend on: an upper bound), ``evppi_tree`` and ``evppi_tree_se`` (the tree
        quantities they inform), ``evpi``, and ``value_of_monitoring_in_tree`` (adapting the
        case's second-stage decision to what is observed, as ``analyze`` reports it).
    """
    from decision.case import load_case, value_of_deciding_later

    case = case or load_case()
    if study is None and case.spec.monitoring_study is None:
        raise InputError(f"case '{case.name}' names no monitoring study", field="study")
    study = study or case.spec.monitoring_study()
    seed = resolve_seed(seed)
    supplied = case.supplied_draws(fits)
    n = len(next(iter(supplied.values())))
    result = evaluate(case.tree, n=n, seed=seed, supplied=supplied)
    L = study.likelihood(fits)
    if L.shape[1] != n:
        raise InputError(
            f"the study's draws ({L.shape[1]}) and the tree's ({n}) differ", field="fits"
        )
    with single_threaded():
        ds = evsi_reweighting(
            result, L, outcomes=study.outcomes(), reroll=reroll, n_resample=n_resample, seed=seed
        )
        values = np.asarray(result.root_values_per_draw, dtype=float)
        scale = UtilityScale(case.tree, result.parameters).centre(values)
        rng = np.random.default_rng(seed)
        simulated = study.simulate(fits, rng)
        reg = regression_voi(values, simulated, scale=scale, method="gam", config=config, seed=seed)
        model = regression_voi(
            values, study.model_draws(fits), scale=scale, method=method, config=config, seed=seed
        )
        present = [p for p in study.tree_parameters if p in result.parameters]
        tree_x = np.column_stack([np.asarray(result.parameters[p], float) for p in present])
        tree_voi = regression_voi(
            values, tree_x, scale=scale, method=method, config=config, seed=seed
        )
    in_tree, fixed = value_of_deciding_later(case.tree, result, case.spec)
    in_tree = in_tree if fixed else np.nan
    ds["evsi_regression"] = ((), reg["value"])
    ds["evsi_regression_se"] = ((), reg["se"])
    ds["evppi_model"] = ((), model["value"])
    ds["evppi_model_se"] = ((), model["se"])
    ds["evppi_tree"] = ((), tree_voi["value"])
    ds["evppi_tree_se"] = ((), tree_voi["se"])
    ds["evpi"] = ((), _evpi(result))
    ds["value_of_monitoring_in_tree"] = ((), in_tree)
    ds.attrs.update(
        {
            "analysis": "value of monitoring (preposterior)",
            "study": f"{study.months} months of freeze record and {study.steps} scheduled steps",
            "tree_parameters": ", ".join(present),
            "model_variables": ", ".join(f"{m}.{v}" for m, v in study.model_variables),
            "scenario": case.scenario.name,
        }
    )
    synthetic = any(bool(getattr(f, "inputs", {}).get("synthetic")) for f in fits.values())
    inputs = {
        "case": case.name,
        "scenario": case.scenario.name,
        "n": n,
        "seed": seed,
        "synthetic_fits": synthetic,
        "fits": {k: getattr(f, "inputs", {}).get("priors") for k, f in fits.items()},
    }
    return record(
        ds,
        config={
            "study": dataclasses.asdict(study),
            "reroll": reroll,
            "n_resample": n_resample,
            "method": method,
            "config": dict(config or {}),
        },
        inputs=inputs,
    )
