"""Evaluating scenarios: posterior draws, the case tree with a scenario's inputs, one row each.

:func:`fit_posterior` fits (or reads from the posterior cache) the models for a
:class:`~decision.sweep.spec.FitSpec` and keeps only what a tree evaluation needs
(:class:`Posterior`: small enough to send to every Dask worker). :func:`evaluate_scenario`
is the computation of :func:`decision.case.analyze` on those draws with a scenario's
parameter overrides; :func:`evaluate_batch` runs it for every scenario of a :class:`Batch`
(on a worker) and returns the rows of the results table.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from decision.case import (
    Case,
    Scenario,
    contingent_plan,
    load_case,
    value_of_deciding_later,
)
from decision.core.config import DEFAULT_SEED
from decision.core.errors import DecisionError
from decision.sweep.fits import FitSpec
from decision.sweep.ids import canonical_json

__all__ = [
    "Batch",
    "Posterior",
    "case_for",
    "evaluate_batch",
    "evaluate_scenario",
    "fit_posterior",
    "one_line",
    "warm_up",
]


def one_line(exc: BaseException) -> str:
    """Write an exception as one line: its type and the first line of its message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip()


# ------------------------------------------------------------------------ posteriors


@dataclasses.dataclass
class Posterior:
    """Posterior draws of both models, reduced to what a tree evaluation needs.

    Attributes
    ----------
    fit_key
        The :class:`~decision.sweep.spec.FitSpec` key it was fitted for.
    supplied
        Tree parameter -> 1-D array of posterior draws (one length, aligned draw by draw).
    headline
        Posterior means of the case's headline quantities, recorded on every row.
    diagnostics_ok, flags
        Convergence checks of both fits.
    from_cache, seconds
        Whether every fit came from the posterior cache, and the time fitting took.
    error
        Set (and nothing else) when the fit failed on purpose (a ``DecisionError``, e.g. a
        convergence failure with ``strict``); every scenario on it gets this error.
    """

    fit_key: str
    supplied: dict[str, np.ndarray]
    headline: dict[str, float]
    diagnostics_ok: bool | None = None
    flags: tuple[str, ...] = ()
    from_cache: bool | None = None
    seconds: float | None = None
    error: str | None = None

    @property
    def n(self) -> int:
        """Count the draws (0 without supplied parameters)."""
        return len(next(iter(self.supplied.values()))) if self.supplied else 0

    @classmethod
    def from_fits(
        cls,
        fits: Mapping[str, Any],
        case: Case,
        as_of,
        fit_key: str = "",
        seconds: float | None = None,
    ) -> Posterior:
        """Reduce fitted models (``decision.models.Fit`` by model key) to what a case uses.

        The case's evidence-derived inputs at ``as_of`` are added to the supplied draws.
        """
        spec = case.spec
        supplied = {
            param: np.ascontiguousarray(fits[model].draws(var), dtype=float)
            for param, (model, var) in spec.supplied.items()
        }
        n = len(next(iter(supplied.values()))) if supplied else 1
        supplied.update(case.evidence_inputs(as_of, n))
        headline = {q.name: float(np.mean(fits[q.model].draws(q.variable))) for q in spec.headline}
        flags = tuple(m for m in (f.flagged_message() for f in fits.values()) if m)
        return cls(
            fit_key,
            supplied,
            headline,
            all(f.diagnostics.ok for f in fits.values()),
            flags,
            all(f.from_cache for f in fits.values()),
            seconds,
        )


def fit_posterior(spec: FitSpec, *, raise_errors: bool = False) -> Posterior:
    """Fit both models for ``spec`` (or load them from the posterior cache).

    A :class:`~decision.core.errors.DecisionError` (bad input, or a convergence failure with
    ``strict``) is returned as ``Posterior.error`` so the scenarios record it, unless
    ``raise_errors``; anything else raises (and the sweep retries the batch).
    """
    from decision.models import fit_models

    start = time.perf_counter()
    case = load_case(None, spec.case)
    try:
        fits = fit_models(
            keys=case.spec.models,
            as_of=spec.as_of,
            observations=spec.observations,
            priors=spec.priors,
            settings=spec.settings,
            sampler=spec.sampler,
            use_cache=spec.use_cache,
            strict=spec.strict,
        )
    except DecisionError as exc:
        if raise_errors:
            raise
        return Posterior(spec.key, {}, {}, error=one_line(exc), seconds=time.perf_counter() - start)
    return Posterior.from_fits(fits, case, spec.as_of, spec.key, time.perf_counter() - start)


# ------------------------------------------------------------------------ one scenario

#: Cases loaded with a scenario's parameter specs, by a hash of those specs (per process).
_CASES: dict[str, Case] = {}
_MAX_CASES = 64


def case_for(case: str, base: Scenario, specs: Mapping[str, Any]) -> Case:
    """Load the case with the base scenario's and ``specs``'s parameter specs (cached)."""
    key = canonical_json({"case": case, "base": [base.name, base.parameters], "specs": specs})
    loaded = _CASES.get(key)
    if loaded is None:
        if len(_CASES) >= _MAX_CASES:
            _CASES.clear()
        scenario = dataclasses.replace(base, parameters={**base.parameters, **specs})
        loaded = load_case(scenario, case)
        _CASES[key] = loaded
    return loaded


def warm_up(case: str, base: Scenario) -> None:
    """Import the evaluation code and load the case tree (on a worker, before its batches)."""
    import xarray  # noqa: F401  (the per-draw values the rows summarise)

    case_for(case, base, {})


def evaluate_scenario(
    case: Case,
    posterior: Posterior,
    overrides: Mapping[str, float] | None = None,
    *,
    draws: int | None = 2000,
    seed: int = DEFAULT_SEED,
    value_of_monitoring: bool = False,
) -> dict[str, Any]:
    """Evaluate the case tree on posterior draws with parameter overrides: one row's outputs.

    The same computation as :func:`decision.case.analyze` (recommendation, expected values
    with 90% intervals, probability optimal, contingent plan, and with
    ``value_of_monitoring`` the value of monitoring: five more rollbacks, about 2.5 times
    the cost) with ``draws`` tree draws (``None``: one per posterior draw) and parameter
    ``overrides``.
    """
    from decision.tree import evaluate

    tree = case.tree
    supplied = {
        k: v
        for k, v in posterior.supplied.items()
        if getattr(tree.parameters.get(k), "kind", None) == "supplied"
    }
    n = draws or posterior.n
    result = evaluate(tree, n=n, seed=seed, supplied=supplied, overrides=dict(overrides or {}))
    labels = list(result.options)
    values = np.asarray(result.root_values_per_draw)
    low, high = np.percentile(values, [5, 95], axis=0)
    row: dict[str, Any] = {"recommendation": result.optimal}
    optimal = result.probability_optimal
    for i, label in enumerate(labels):
        row[f"ev.{label}"] = float(result.options[label])
        row[f"ev_5.{label}"] = float(low[i])
        row[f"ev_95.{label}"] = float(high[i])
        row[f"p_optimal.{label}"] = float(optimal.get(label, 0.0))
    plan, share = contingent_plan(result, case.spec)
    for level, option in plan.items():
        row[f"plan.{level}"] = option
        row[f"plan_share.{level}"] = share[level]
    if value_of_monitoring:
        value, fixed = value_of_deciding_later(tree, result, case.spec)
        for option, option_value in fixed.items():
            row[f"fixed_plan.{option}"] = option_value
        row["value_of_monitoring"] = value
    return row


# ------------------------------------------------------------------------ a batch


@dataclasses.dataclass
class Batch:
    """What a worker needs to evaluate one batch of scenarios (small: no draws, no trees).

    Attributes
    ----------
    part
        Name of the part file the rows go to.
    sweep, case, base
        The sweep's name, its case and its base scenario.
    draws, seed, value_of_monitoring
        As in :func:`evaluate_scenario`.
    mode
        ``tree`` (base posterior) or ``refit`` (its own fit), recorded on every row.
    items
        One ``(scenario id, overrides, specs, input columns)`` per scenario.
    """

    part: str
    sweep: str
    case: str
    base: Scenario
    draws: int | None
    seed: int
    value_of_monitoring: bool
    mode: str
    items: list[tuple[str, dict, dict, dict]]


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return f"local-{os.getpid()}"


def evaluate_batch(batch: Batch, posterior: Posterior) -> list[dict[str, Any]]:
    """Evaluate every scenario of ``batch`` on ``posterior``; one row per scenario.

    A scenario that fails on purpose (a ``DecisionError``: an override that makes a
    probability invalid, a fit that failed its checks with ``strict``) gets a row with
    ``error`` set, so that a re-run does not retry a deterministic failure.
    """
    worker = _worker_name()
    common = {
        "diagnostics_ok": posterior.diagnostics_ok,
        "flags": "; ".join(posterior.flags) if posterior.flags else None,
        "fit_from_cache": posterior.from_cache,
        "fit_seconds": posterior.seconds,
        **posterior.headline,
    }
    rows = []
    for sid, overrides, specs, inputs in batch.items:
        start, cpu = time.perf_counter(), time.thread_time()
        row = {
            "scenario_id": sid,
            "sweep": batch.sweep,
            "mode": batch.mode,
            **inputs,
            "draws": batch.draws or posterior.n,
            "seed": batch.seed,
            **common,
        }
        if posterior.error:
            row["error"] = posterior.error
        else:
            try:
                row.update(
                    evaluate_scenario(
                        case_for(batch.case, batch.base, specs),
                        posterior,
                        overrides,
                        draws=batch.draws,
                        seed=batch.seed,
                        value_of_monitoring=batch.value_of_monitoring,
                    )
                )
            except DecisionError as exc:
                row["error"] = one_line(exc)
        row["seconds"] = time.perf_counter() - start
        row["cpu_seconds"] = time.thread_time() - cpu
        row["worker"] = worker
        rows.append(row)
    return rows
