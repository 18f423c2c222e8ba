"""Value of information about parameters: EVPI, EVPPI by regression, EVPPI by nested Monte Carlo.

Definitions, for the root decision with options ``a`` and per-draw values ``V_a(theta)``
(``TreeResult.root_values_per_draw``: later decisions follow the expected policy):

* ``EVPI = E[max_a V_a(theta)] - max_a E[V_a(theta)]``;
* ``EVPPI(phi) = E_phi[max_a E[V_a | phi]] - max_a E[V_a]`` for a parameter or group
  ``phi``.

Under an exponential utility both are differences of certainty equivalents, the averages
being taken over utilities (the tree's own rule for values across draws).

:func:`evppi` uses the regression method of Strong, Oakley & Brennan (2014, *Med Decis
Making* 34:311-326): the incremental values ``V_a - V_ref`` (``ref`` the option optimal in
expectation) are regressed on the draws of ``phi`` with a flexible smoother
(:mod:`decision.sensitivity.regression`), and the fitted values ``g_a`` stand in for the inner
conditional expectations: ``EVPPI = mean_i max_a g_a(phi_i) - max_a mean_i g_a(phi_i)``
(with ``g_ref = 0``). One set of draws serves every parameter; correlated inputs (draws of
one posterior) need no special treatment.

Standard errors have two parts, reported separately and combined as
``se = sqrt(se_fit^2 + se_mc^2)``:

* ``se_fit``, the uncertainty of the fitted regression (Strong et al. 2014, sect. 2.4):
  coefficients are drawn from their Gaussian posterior (``se_samples`` times), the EVPPI is
  recomputed for each draw, and ``se_fit`` is their standard deviation;
* ``se_mc``, the Monte Carlo error of averaging over the N draws of ``phi``:
  ``sd_i(max_a g_a(phi_i) - g_best(phi_i)) / sqrt(N)``.

With later decisions in the tree, the regression EVPPI (like ``evpi`` here) values the
information for the root decision with the later decisions held at the expected policy;
``TreeResult.evpi_parameters()`` also lets the later decisions use the information, so it is
at least as large (both are reported).

:func:`evppi_bruteforce` is the nested Monte Carlo estimate, used to check the regression on
small trees: ``n_outer`` draws of ``phi``, and for each the tree evaluated over ``n_inner``
draws of the other parameters (common random numbers across outer draws). Its inner
maximisation is biased upwards by O(1/n_inner).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from decision.core.errors import InputError
from decision.core.suggest import did_you_mean
from decision.sensitivity import regression as _regression
from decision.sensitivity import space as _space
from decision.sensitivity._common import (
    UtilityScale,
    record,
    resolve_seed,
    resolve_tree,
    root_labels,
    settings,
    single_threaded,
)
from decision.tree import TreeResult, evaluate
from decision.tree.parameters import DistributionParameter

__all__ = [
    "BRUTEFORCE_DEFAULTS",
    "DEFAULTS",
    "evpi",
    "evppi",
    "evppi_bruteforce",
    "regression_voi",
]

#: Settings of :func:`evppi`. ``method``: ``auto`` (``gam`` for up to 3 parameters, else
#: ``gp``), ``gam``, ``gp`` or ``ols``; ``se_samples``: draws of the regression coefficients for
#: ``se_fit``; ``regression``: settings of :mod:`decision.sensitivity.regression`.
DEFAULTS: dict[str, Any] = {
    "method": "auto",
    "se_samples": 200,
    "regression": dict(_regression.DEFAULTS),
}

#: Settings of :func:`evppi_bruteforce`: outer draws of the parameters of interest and inner
#: draws of the rest.
BRUTEFORCE_DEFAULTS: dict[str, Any] = {"n_outer": 200, "n_inner": 2000}


def _result(source, *, n: int, seed, supplied) -> tuple[TreeResult, int | None]:
    tree, result = resolve_tree(source)
    root_labels(tree)
    if result is not None:
        return result, result.seed
    used = resolve_seed(seed)
    return evaluate(tree, n=n, seed=used, supplied=supplied), used


def evpi(source, *, n: int = 1000, seed=None, supplied: Mapping | None = None) -> float:
    """EVPI of all parameter uncertainty for the root decision.

    ``E[max_a V_a] - max_a E[V_a]`` over ``root_values_per_draw`` (later decisions held at
    the expected policy): the upper bound of every :func:`evppi` of the same result. See
    ``TreeResult.evpi_parameters()`` for the EVPI that also re-optimises later decisions.

    Parameters
    ----------
    source
        An evaluated tree, or a tree evaluated here with ``n``, ``seed``, ``supplied``.
    """
    result, _ = _result(source, n=n, seed=seed, supplied=supplied)
    values = np.asarray(result.root_values_per_draw, dtype=float)
    scale = UtilityScale(result.tree, result.parameters).centre(values)
    u = scale.to_utility(values)
    value = float(scale.from_utility(u.max(axis=1).mean()) - scale.from_utility(u.mean(0).max()))
    return max(value, 0.0)


def regression_voi(
    values: np.ndarray,
    inputs: np.ndarray,
    *,
    scale: UtilityScale | None = None,
    method: str = "auto",
    config: Mapping[str, Any] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Value of learning ``inputs`` before choosing among the columns of ``values``.

    The regression estimate behind :func:`evppi` (inputs: parameter draws) and regression
    EVSI (inputs: summaries of simulated data, Strong et al. 2015).

    Parameters
    ----------
    values
        Per-draw values of each option, (N, options).
    inputs
        What is learnt, per draw, (N,) or (N, d).
    scale
        The utility scale (default linear).
    method, config
        See :data:`DEFAULTS`.
    seed
        Seed of the coefficient draws (and of the GP's subsets).

    Returns
    -------
    dict
        ``value``, ``se``, ``se_fit``, ``se_mc``, ``method`` (the regression used) and
        ``edf`` (effective degrees of freedom, summed over the options regressed).
    """
    with single_threaded():
        return _regression_voi(values, inputs, scale=scale, method=method, config=config, seed=seed)


def _regression_voi(values, inputs, *, scale, method, config, seed) -> dict[str, Any]:
    cfg = settings(DEFAULTS, config, "sensitivity.evppi")
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise InputError("values must be (draws, options)", field="values")
    if scale is None:
        scale = _LINEAR
    u = scale.to_utility(values)
    means = u.mean(axis=0)
    ref = int(np.argmax(means))
    others = [a for a in range(u.shape[1]) if a != ref]
    n = u.shape[0]
    used = method if method != "auto" else cfg["method"]
    if not others:
        return {"value": 0.0, "se": 0.0, "se_fit": 0.0, "se_mc": 0.0, "method": used, "edf": 0.0}
    increments = u[:, others] - u[:, [ref]]
    fits = _regression.fit_regressions(
        inputs, increments, method=used, config=cfg["regression"], seed=seed
    )
    fitted = np.zeros((n, u.shape[1]))
    for a, fit in zip(others, fits, strict=True):
        fitted[:, a] = fit.fitted
    now = means[ref]

    def estimate(g: np.ndarray) -> float:
        info = np.max(g, axis=1).mean()
        base = np.max(g.mean(axis=0))
        return float(scale.from_utility(now + info) - scale.from_utility(now + base))

    value = estimate(fitted)
    best = int(np.argmax(fitted.mean(axis=0)))
    gain = np.max(fitted, axis=1) - fitted[:, best]
    slope = float(scale.derivative(now + gain.mean()))
    se_mc = abs(slope) * float(np.std(gain, ddof=1)) / np.sqrt(n) if n > 1 else 0.0
    samples = int(cfg["se_samples"])
    rng = np.random.default_rng(seed)
    estimates = []
    chunk = max(1, min(samples, 2_000_000 // max(n * len(others), 1)))
    done = 0
    while done < samples:
        size = min(chunk, samples - done)
        sims = np.zeros((u.shape[1], n, size))
        for a, fit in zip(others, fits, strict=True):
            sims[a] = fit.simulate(size, rng)
        info = np.max(sims, axis=0).mean(axis=0)
        base = np.max(sims.mean(axis=1), axis=0)
        estimates.extend(scale.from_utility(now + info) - scale.from_utility(now + base))
        done += size
    se_fit = float(np.std(estimates, ddof=1)) if len(estimates) > 1 else 0.0
    kinds = sorted({f.method for f in fits})
    return {
        "value": value,
        "se": float(np.hypot(se_fit, se_mc)),
        "se_fit": se_fit,
        "se_mc": float(se_mc),
        "method": "+".join(kinds),
        "edf": float(sum(f.edf for f in fits)),
    }


class _Linear(UtilityScale):
    def __init__(self):
        self.linear, self.R, self.shift = True, None, 0.0


_LINEAR = _Linear()


def evppi(
    source,
    parameters: Sequence[str] | None = None,
    *,
    groups: Mapping[str, Sequence[str]] | None = None,
    n: int = 1000,
    seed=None,
    supplied: Mapping | None = None,
    method: str | None = None,
    config: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """EVPPI of each parameter and of named groups, by regression, with standard errors.

    Parameters
    ----------
    source
        An evaluated tree (its draws and per-draw values are used), or a tree evaluated
        here with ``n``, ``seed`` (a fresh seed is drawn and recorded when ``None``) and
        ``supplied``.
    parameters
        Parameters to value one at a time (default: every uncertain parameter; pass ``[]``
        for groups only).
    groups
        Group name -> parameters learnt together.
    method, config
        See :data:`DEFAULTS`.

    Returns
    -------
    pandas.DataFrame
        One row per parameter, then per group (index ``name``): ``evppi``, ``se``,
        ``se_fit``, ``se_mc``, ``share`` (of the EVPI), ``kind`` (``parameter`` or
        ``group``), ``parameters``, ``method``, ``edf``. ``attrs``: ``evpi`` (root, the bound),
        ``evpi_all_decisions`` (``TreeResult.evpi_parameters()``), units, ``config`` and
        ``inputs``.
    """
    cfg = settings(DEFAULTS, config, "sensitivity.evppi", method=method)
    result, used_seed = _result(source, n=n, seed=seed, supplied=supplied)
    tree = result.tree
    draws = result.parameters
    if parameters is None:
        space = _space.parameter_space(result)
        parameters = list(space.names)
    items: list[tuple[str, str, list[str]]] = [(p, "parameter", [p]) for p in parameters]
    items += [(str(g), "group", list(ps)) for g, ps in (groups or {}).items()]
    for _, _, names in items:
        if not names:
            raise InputError("a group needs at least one parameter", field="groups")
        for name in names:
            if name not in tree.parameters:
                raise InputError(
                    f"unknown parameter '{name}'{did_you_mean(name, tree.parameters)}",
                    file=tree.source,
                    field=f"parameters.{name}",
                )
    values = np.asarray(result.root_values_per_draw, dtype=float)
    scale = UtilityScale(tree, draws).centre(values)
    total = evpi(result)
    rows = []
    with single_threaded():
        estimates = [
            regression_voi(
                values,
                np.column_stack([np.asarray(draws[p], dtype=float) for p in names]),
                scale=scale,
                method=cfg["method"],
                config=cfg,
                seed=_seed_for(used_seed, label),
            )
            for label, _, names in items
        ]
    for (label, kind, names), est in zip(items, estimates, strict=True):
        rows.append(
            {
                "name": label,
                "kind": kind,
                "evppi": est["value"],
                "se": est["se"],
                "se_fit": est["se_fit"],
                "se_mc": est["se_mc"],
                "share": est["value"] / total if total > 0 else np.nan,
                "parameters": ", ".join(names),
                "method": est["method"],
                "edf": est["edf"],
            }
        )
    columns = [
        "name",
        "kind",
        "evppi",
        "se",
        "se_fit",
        "se_mc",
        "share",
        "parameters",
        "method",
        "edf",
    ]
    frame = pd.DataFrame(rows, columns=columns).set_index("name")
    frame.attrs.update(
        {
            "analysis": "EVPPI (regression)",
            "tree": tree.name,
            "units": tree.units or "",
            "evpi": total,
            "evpi_all_decisions": float(result.evpi_parameters()),
            "optimal": result.optimal or "",
        }
    )
    inputs = {
        "tree": tree.name,
        "source": str(tree.source or ""),
        "n": result.n,
        "seed": used_seed,
        "parameters": list(parameters),
        "groups": {k: list(v) for k, v in (groups or {}).items()},
    }
    return record(frame, config=cfg, inputs=inputs)


def _seed_for(seed, label: str) -> int:
    import zlib

    base = 0 if seed is None else int(seed)
    return int(
        np.random.SeedSequence([base % (2**32), zlib.crc32(label.encode())]).generate_state(1)[0]
    )


def evppi_bruteforce(
    source,
    parameters: Sequence[str],
    *,
    n_outer: int | None = None,
    n_inner: int | None = None,
    seed=None,
    supplied: Mapping | None = None,
    config: Mapping[str, Any] | None = None,
) -> pd.Series:
    """EVPPI by nested Monte Carlo (for checking :func:`evppi` on small trees).

    Parameters
    ----------
    source
        A tree (or path, mapping).
    parameters
        The parameters learnt: distribution parameters, independent of the others.
    n_outer, n_inner, config
        See :data:`BRUTEFORCE_DEFAULTS`.
    seed
        Seed (a fresh one is drawn and recorded when ``None``).
    supplied
        Draws of supplied parameters (for the inner loop).

    Returns
    -------
    pandas.Series
        ``evppi``, ``se`` (outer-loop Monte Carlo error), ``n_outer``, ``n_inner``.
        Later decisions are re-optimised for each outer draw (within its inner block).
    """
    cfg = settings(
        BRUTEFORCE_DEFAULTS,
        config,
        "sensitivity.evppi_bruteforce",
        n_outer=n_outer,
        n_inner=n_inner,
    )
    tree, _ = resolve_tree(source)
    root_labels(tree)
    for name in parameters:
        spec = tree.parameters.get(name)
        if not isinstance(spec, DistributionParameter):
            raise InputError(
                f"nested Monte Carlo needs distribution parameters, independent of "
                f"the rest; '{name}' is {getattr(spec, 'kind', 'unknown')}",
                file=tree.source,
                field=f"parameters.{name}",
            )
    used = resolve_seed(seed)
    outer_seq, inner_seq = np.random.SeedSequence(used).spawn(2)
    rng = np.random.default_rng(outer_seq)
    k, m = int(cfg["n_outer"]), int(cfg["n_inner"])
    outer = {name: tree.parameters[name].sample(k, rng) for name in parameters}
    inner = tree.sample_parameters(m, seed=int(inner_seq.generate_state(1)[0]), supplied=supplied)
    space = _space.parameter_space(tree, draws=inner, parameters=list(parameters))
    values, _ = space.evaluate_blocks(outer)
    scale = UtilityScale(tree, inner).centre(values)
    u = scale.to_utility(values)
    best = int(np.argmax(u.mean(axis=0)))
    gain = u.max(axis=1) - u[:, best]
    estimate = float(
        scale.from_utility(u[:, best].mean() + gain.mean()) - scale.from_utility(u[:, best].mean())
    )
    slope = abs(float(scale.derivative(u[:, best].mean() + gain.mean())))
    series = pd.Series(
        {
            "evppi": estimate,
            "se": slope * float(np.std(gain, ddof=1)) / np.sqrt(k),
            "n_outer": k,
            "n_inner": m,
        }
    )
    series.attrs.update(
        {
            "analysis": "EVPPI (nested Monte Carlo)",
            "tree": tree.name,
            "parameters": ", ".join(parameters),
        }
    )
    return record(
        series, config=cfg, inputs={"tree": tree.name, "seed": used, "parameters": list(parameters)}
    )
