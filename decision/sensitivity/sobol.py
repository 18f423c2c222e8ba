"""Global sensitivity: Sobol indices of the decision margin, computed with SALib.

:func:`sobol` samples the uncertain parameters with Saltelli's scheme
(``SALib.sample.sobol``: a scrambled Sobol' sequence, ``n_base (D + 2)`` points for D inputs),
evaluates the tree at every point (each point one deterministic tree, all in one vectorised
rollback), and estimates first-order (``S1``) and total (``ST``) indices of the decision margin
(or of one option's value) with ``SALib.analyze.sobol`` (Saltelli et al. 2010 estimators,
bootstrap confidence intervals).

Inputs, each a coordinate of the unit hypercube:

* a **distribution** parameter is one input, mapped through its quantile function
  (``space="distribution"``, the default: the indices then decompose the variance over the
  parameters' actual distributions) or uniformly over its one-way range
  (``space="range"``: 5th to 95th percentile by default);
* **supplied** parameters (posterior draws) are correlated, which Sobol indices do not allow
  between inputs. They are sampled jointly: each ``joint`` set is one input whose coordinate
  picks a draw (its index), so that the draws of one posterior stay together. By default all
  supplied parameters form one set; :meth:`decision.case.Case.supplied_by_model` gives
  one set per model of a case (the models' posteriors are independent).

:func:`sobol_indices` is the same computation for any vectorised function (used for the
Ishigami known-answer test).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from decision.core.errors import InputError
from decision.sensitivity import space as _space
from decision.sensitivity._common import (
    check_option,
    margin,
    margin_description,
    record,
    resolve_seed,
    settings,
)
from decision.tree.parameters import DistributionParameter

__all__ = ["DEFAULTS", "sobol", "sobol_indices"]

#: Settings of :func:`sobol`. ``n_base``: base sample size N (a power of 2; the tree is
#: evaluated at N (D + 2) points); ``space``: ``distribution`` or ``range``; ``output``:
#: ``margin`` or a root option; ``num_resamples``/``conf_level``: SALib's bootstrap;
#: ``reference``/``comparator``: the margin (see :mod:`decision.sensitivity.oneway`).
DEFAULTS: dict[str, Any] = {
    "n_base": 512,
    "space": "distribution",
    "output": "margin",
    "num_resamples": 100,
    "conf_level": 0.95,
    "reference": None,
    "comparator": None,
    "parameter_space": dict(_space.DEFAULTS),
}


def _check_power_of_two(n: int) -> int:
    n = int(n)
    if n < 2 or n & (n - 1):
        raise InputError(f"n_base must be a power of 2 (Sobol' sequences), got {n}", field="n_base")
    return n


def sobol_indices(
    function: Callable[[np.ndarray], np.ndarray],
    problem: Mapping[str, Any],
    *,
    n_base: int = 1024,
    seed: int = 0,
    num_resamples: int = 100,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """First-order and total Sobol indices of a vectorised function of the unit inputs.

    Parameters
    ----------
    function
        Takes (points, D) inputs, returns (points,) outputs.
    problem
        SALib problem: ``names``, ``bounds`` (and optionally ``groups``); ``num_vars`` is
        filled in.
    n_base
        Base sample size (a power of 2).
    seed
        Seed of the scrambled sequence and of the bootstrap.

    Returns
    -------
    pandas.DataFrame
        Index: the inputs (or groups); columns ``S1``, ``S1_conf``, ``ST``, ``ST_conf``.
    """
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    problem = dict(problem)
    problem["num_vars"] = len(problem["names"])
    X = sample.sample(
        problem, _check_power_of_two(n_base), calc_second_order=False, scramble=True, seed=seed
    )
    Y = np.asarray(function(X), dtype=float)
    if Y.shape != (X.shape[0],) or not np.all(np.isfinite(Y)):
        raise InputError("the function must return one finite value per point", field="function")
    if np.ptp(Y) == 0:
        names = problem.get("groups") or problem["names"]
        index = list(dict.fromkeys(names))
        return pd.DataFrame(
            0.0, index=pd.Index(index, name="input"), columns=["S1", "S1_conf", "ST", "ST_conf"]
        )
    result = analyze.analyze(
        problem,
        Y,
        calc_second_order=False,
        num_resamples=num_resamples,
        conf_level=conf_level,
        seed=seed,
    )
    total, first = result.to_df()[:2]
    frame = pd.concat([first, total], axis=1)[["S1", "S1_conf", "ST", "ST_conf"]]
    frame.index.name = "input"
    return frame


def sobol(
    source,
    *,
    draws: Mapping | None = None,
    n: int = 1000,
    seed=None,
    supplied: Mapping | None = None,
    parameters: Sequence[str] | None = None,
    joint: Mapping[str, Sequence[str]] | None = None,
    space: str | None = None,
    n_base: int | None = None,
    output: str | None = None,
    reference: str | None = None,
    comparator: str | None = None,
    config: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Sobol indices of the decision margin (or an option's value) over the uncertain parameters.

    Parameters
    ----------
    source, draws, n, seed, supplied, parameters
        As in :func:`~decision.sensitivity.oneway.one_way` (the draws supply the supplied
        parameters' joint samples; ``seed`` also seeds the Sobol' sequence).
    joint
        Input name -> parameters sampled together by one draw index (default: every
        supplied parameter analysed, as one input ``"supplied draws"``).
    space, n_base, output, reference, comparator, config
        See :data:`DEFAULTS`.

    Returns
    -------
    pandas.DataFrame
        Index ``input`` (a parameter, or a joint set's name): ``S1``, ``S1_conf``, ``ST``,
        ``ST_conf``, ``parameters`` (what the input moves), ``kind``; sorted by ``ST``.
        ``attrs``: the output's definition, the number of evaluations, ``config``, ``inputs``.
    """
    cfg = settings(
        DEFAULTS,
        config,
        "sensitivity.sobol",
        space=space,
        n_base=n_base,
        output=output,
        reference=reference,
        comparator=comparator,
    )
    if cfg["space"] not in ("distribution", "range"):
        raise InputError(
            f"space must be 'distribution' or 'range', got {cfg['space']!r}",
            field="sensitivity.sobol.space",
        )
    ps = _space.parameter_space(
        source,
        draws=draws,
        n=n,
        seed=seed,
        supplied=supplied,
        parameters=parameters,
        config=cfg["parameter_space"],
    )
    labels = ps.options
    check_option(ps.tree, cfg["reference"], "reference")
    check_option(ps.tree, cfg["comparator"], "comparator")
    if cfg["output"] != "margin":
        check_option(ps.tree, cfg["output"], "output")
    names = list(ps.names)
    specs = ps.tree.parameters
    if joint is None:
        together = [p for p in names if not isinstance(specs[p], DistributionParameter)]
        joint = {"supplied draws": together} if together else {}
    joint = {str(k): list(v) for k, v in joint.items()}
    in_sets = {p: k for k, ps_ in joint.items() for p in ps_}
    for set_name, members in joint.items():
        for p in members:
            if p not in specs:
                raise InputError(
                    f"unknown parameter '{p}' in joint set '{set_name}'", field=f"joint.{set_name}"
                )
    inputs: list[tuple[str, str, list[str]]] = []
    for p in names:
        if p in in_sets:
            continue
        inputs.append((p, "parameter", [p]))
    inputs += [(k, "joint draws", v) for k, v in joint.items() if v]
    if not inputs:
        raise InputError("no uncertain parameter to analyse", field="parameters")
    reference_option = cfg["reference"]
    if reference_option is None and cfg["output"] == "margin":
        base, _ = ps.evaluate_blocks({}, blocks=1)
        reference_option = labels[int(np.nanargmax(base[0]))]
    count = ps.n

    def transform(X: np.ndarray) -> dict[str, np.ndarray]:
        fixed: dict[str, np.ndarray] = {}
        for column, (name, kind, members) in enumerate(inputs):
            u = np.clip(X[:, column], 1e-12, 1 - 1e-12)
            if kind == "joint draws":
                index = np.minimum((u * count).astype(int), count - 1)
                for m in members:
                    fixed[m] = np.asarray(ps.draws[m], dtype=float)[index]
                continue
            spec = specs[name]
            if name not in ps.low:
                raise InputError(f"parameter '{name}' has no range", field=f"ranges.{name}")
            if cfg["space"] == "range":
                fixed[name] = ps.low[name] + u * (ps.high[name] - ps.low[name])
            elif isinstance(spec, DistributionParameter):
                fixed[name] = spec.ppf(u)
            else:
                ordered = np.sort(np.asarray(ps.draws[name], dtype=float))
                fixed[name] = ordered[np.minimum((u * ordered.size).astype(int), ordered.size - 1)]
        return fixed

    def function(X: np.ndarray) -> np.ndarray:
        values = ps.evaluate_rows(transform(X))
        if np.isnan(values).any():
            raise InputError(
                "some sampled points are infeasible (linked probabilities summing "
                "to more than 1): sample them together in a joint set",
                field="joint",
            )
        if cfg["output"] == "margin":
            return margin(values, labels, reference_option, cfg["comparator"])
        return values[:, labels.index(cfg["output"])]

    problem = {"names": [name for name, _, _ in inputs], "bounds": [[0.0, 1.0]] * len(inputs)}
    sequence_seed = ps.seed if ps.seed is not None else resolve_seed(seed)
    frame = sobol_indices(
        function,
        problem,
        n_base=int(cfg["n_base"]),
        seed=sequence_seed,
        num_resamples=int(cfg["num_resamples"]),
        conf_level=float(cfg["conf_level"]),
    )
    frame["parameters"] = [", ".join(members) for _, _, members in inputs]
    frame["kind"] = [kind for _, kind, _ in inputs]
    frame = frame.sort_values("ST", ascending=False, kind="stable")
    described = (
        margin_description(reference_option, cfg["comparator"])
        if cfg["output"] == "margin"
        else f"value of '{cfg['output']}'"
    )
    frame.attrs.update(
        {
            "analysis": "Sobol indices",
            "tree": ps.tree.name,
            "units": ps.tree.units or "",
            "output": described,
            "evaluations": int(cfg["n_base"]) * (len(inputs) + 2),
            "space": cfg["space"],
        }
    )
    record_inputs = {
        "tree": ps.tree.name,
        "source": str(ps.tree.source or ""),
        "n": ps.n,
        "seed": sequence_seed,
        "joint": joint,
        "parameters": names,
    }
    return record(frame, config=cfg, inputs=record_inputs)
