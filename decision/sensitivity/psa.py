"""Probabilistic sensitivity analysis: value distributions, probability optimal, acceptability.

:func:`psa` summarises an evaluated tree over its parameter draws: each root option's value
in every draw (later decisions following the expected policy, as
``TreeResult.root_values_per_draw``), its mean and 90% interval, the probability that each
option is optimal (every decision taken knowing the draw, as
``TreeResult.probability_optimal``) and the distribution of the decision margin.

:func:`acceptability` is the decision-analysis analogue of a cost-effectiveness
acceptability curve: one parameter (by default a weight, e.g. the readiness weight) is set to
each value of a grid while every other parameter keeps its draws, and for each value it
reports the probability that each option is optimal and each option's expected value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from decision.core.errors import InputError
from decision.sensitivity import space as _space
from decision.sensitivity._common import (
    UtilityScale,
    check_option,
    margin,
    margin_description,
    record,
    settings,
)
from decision.tree import TreeResult

__all__ = ["ACCEPTABILITY_DEFAULTS", "acceptability", "psa"]

#: Settings of :func:`acceptability`. ``points``: grid values over the parameter's range;
#: ``space``: settings of :func:`~decision.sensitivity.space.parameter_space`.
ACCEPTABILITY_DEFAULTS: dict[str, Any] = {
    "points": 21,
    "space": dict(_space.DEFAULTS),
}


def psa(
    result: TreeResult,
    *,
    reference: str | None = None,
    comparator: str | None = None,
    interval: float = 0.9,
) -> xr.Dataset:
    """Distributions of the root options' values over the draws of an evaluated tree.

    Parameters
    ----------
    result
        An evaluated tree with uncertain parameters.
    reference, comparator
        Options defining the decision margin (default: the optimal option minus the best
        other option, per draw).
    interval
        Central probability of the reported interval (0.9: 5th and 95th percentiles).

    Returns
    -------
    xarray.Dataset
        ``values`` (draw, option): per-draw values, later decisions following the expected
        policy; ``expected`` (option): each option's expected value (certainty equivalent);
        ``lower``/``upper`` (option): the interval; ``probability_optimal`` (option);
        ``margin`` (draw) and ``probability_margin_negative``; ``evpi``: the expected value of
        perfect information about the parameters for the root decision,
        ``E[max_a V_a] - max_a E[V_a]`` over these per-draw values (see
        :func:`decision.sensitivity.voi.evpi`).
    """
    if not isinstance(result, TreeResult):
        raise InputError("psa takes an evaluated tree (decision.tree.evaluate)", field="result")
    tree = result.tree
    labels = list(result.options)
    check_option(tree, reference, "reference")
    check_option(tree, comparator, "comparator")
    ref = reference or result.optimal
    values = np.asarray(result.root_values_per_draw, dtype=float)
    scale = UtilityScale(tree, result.parameters).centre(values)
    utility = scale.to_utility(values)
    expected_u = utility.mean(axis=0)
    evpi = float(
        scale.from_utility(np.max(utility, axis=1).mean()) - scale.from_utility(expected_u.max())
    )
    tail = (1.0 - float(interval)) / 2.0
    lower, upper = np.quantile(values, [tail, 1.0 - tail], axis=0)
    per_draw_margin = margin(values, labels, ref, comparator)
    ds = xr.Dataset(
        {
            "values": (("draw", "option"), values),
            "expected": (("option",), np.array([result.options[o] for o in labels])),
            "lower": (("option",), lower),
            "upper": (("option",), upper),
            "probability_optimal": (
                ("option",),
                np.array([result.probability_optimal[o] for o in labels]),
            ),
            "margin": (("draw",), per_draw_margin),
            "probability_margin_negative": ((), float(np.mean(per_draw_margin < 0))),
            "evpi": ((), max(evpi, 0.0)),
        },
        coords={"draw": np.arange(values.shape[0]), "option": labels},
    )
    ds.attrs.update(
        {
            "analysis": "probabilistic sensitivity",
            "tree": tree.name,
            "units": tree.units or "",
            "optimal": result.optimal or "",
            "reference": ref,
            "margin": margin_description(ref, comparator),
            "interval": float(interval),
        }
    )
    inputs = {
        "tree": tree.name,
        "source": str(tree.source or ""),
        "n": result.n,
        "seed": result.seed,
    }
    return record(
        ds,
        config={"reference": reference, "comparator": comparator, "interval": interval},
        inputs=inputs,
    )


def acceptability(
    source,
    parameter: str,
    *,
    values: Sequence[float] | None = None,
    draws: Mapping | None = None,
    n: int = 1000,
    seed=None,
    supplied: Mapping | None = None,
    ranges: Mapping[str, Sequence[float]] | None = None,
    points: int | None = None,
    config: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """Probability that each option is optimal as a function of one parameter.

    Parameters
    ----------
    source
        A tree (or path, mapping) or an evaluated :class:`~decision.tree.TreeResult`.
    parameter
        The parameter on the horizontal axis (e.g. an attribute weight).
    values
        The values to set it to (default: ``points`` values over its range).
    draws, n, seed, supplied, ranges
        As in :func:`~decision.sensitivity.oneway.one_way`.
    points, config
        See :data:`ACCEPTABILITY_DEFAULTS`.

    Returns
    -------
    xarray.Dataset
        Dimensions ``value`` (the parameter's values) and ``option``:
        ``probability_optimal`` (share of draws in which the option is best, every decision
        taken knowing the draw), ``expected_value`` (over the draws, later decisions chosen in
        expectation), ``optimal`` (value: the option with the highest expected value).
    """
    cfg = settings(ACCEPTABILITY_DEFAULTS, config, "sensitivity.acceptability", points=points)
    if values is not None and parameter not in (ranges or {}):
        given = np.asarray(values, dtype=float)
        if given.size and given.min() < given.max():
            ranges = {**(ranges or {}), parameter: (float(given.min()), float(given.max()))}
    space = _space.parameter_space(
        source,
        draws=draws,
        n=n,
        seed=seed,
        supplied=supplied,
        parameters=[parameter],
        ranges=ranges,
        config=cfg["space"],
    )
    labels = space.options
    grid = (
        np.asarray(values, dtype=float)
        if values is not None
        else space.grid(parameter, int(cfg["points"]))
    )
    expected, informed = space.evaluate_blocks({parameter: grid}, per_draw=True)
    best = np.argmax(np.nan_to_num(informed, nan=-np.inf), axis=2)
    probability = np.stack([np.mean(best == i, axis=1) for i in range(len(labels))], axis=1)
    probability[np.isnan(expected).any(axis=1)] = np.nan
    optimal = np.asarray(labels, dtype=object)[
        np.argmax(np.nan_to_num(expected, nan=-np.inf), axis=1)
    ].astype(str)
    ds = xr.Dataset(
        {
            "probability_optimal": (("value", "option"), probability),
            "expected_value": (("value", "option"), expected),
            "optimal": (("value",), optimal),
        },
        coords={"value": grid, "option": labels},
    )
    ds.attrs.update(
        {
            "analysis": "acceptability curve",
            "tree": space.tree.name,
            "units": space.tree.units or "",
            "parameter": parameter,
            "parameter_description": space.tree.parameters[parameter].description or "",
            "base_input": space.base_value(parameter),
        }
    )
    inputs = {
        "tree": space.tree.name,
        "source": str(space.tree.source or ""),
        "n": space.n,
        "seed": space.seed,
        "parameter": parameter,
        "values": grid.tolist(),
    }
    return record(ds, config=cfg, inputs=inputs)
