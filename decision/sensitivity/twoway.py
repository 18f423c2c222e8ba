"""Two-way sensitivity analysis: a grid over two parameters and the optimal option in each cell.

:func:`two_way` evaluates every root option on a grid over two parameters (each over its
range, see :mod:`decision.sensitivity.space`), the others held at the base case or at their
draws as in :func:`decision.sensitivity.oneway.one_way`. The result holds the values, the
decision margin and the optimal option per cell: the data of a strategy-region plot
(:func:`decision.plots.plot_strategy_region`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from decision.core.errors import InputError
from decision.sensitivity import space as _space
from decision.sensitivity._common import (
    check_option,
    margin,
    margin_description,
    record,
    settings,
)
from decision.sensitivity.oneway import base_values, evaluate_points

__all__ = ["DEFAULTS", "two_way"]

#: Settings of :func:`two_way`. ``points``: grid values per parameter (a number, or
#: ``[points_x, points_y]``); the rest as in :data:`decision.sensitivity.oneway.DEFAULTS`.
DEFAULTS: dict[str, Any] = {
    "points": 21,
    "others": "mean",
    "reference": None,
    "comparator": None,
    "space": dict(_space.DEFAULTS),
}


def two_way(
    source,
    x: str,
    y: str,
    *,
    draws: Mapping | None = None,
    n: int = 1000,
    seed=None,
    supplied: Mapping | None = None,
    ranges: Mapping[str, Sequence[float]] | None = None,
    points=None,
    others: str | None = None,
    reference: str | None = None,
    comparator: str | None = None,
    config: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """Values, margin and optimal option on a grid over parameters ``x`` and ``y``.

    Parameters
    ----------
    source
        A tree (or path, mapping) or an evaluated :class:`~decision.tree.TreeResult`.
    x, y
        The two parameters (any kind; numbers need a range in ``ranges``).
    draws, n, seed, supplied, ranges, points, others, reference, comparator, config
        As in :func:`~decision.sensitivity.oneway.one_way`; see :data:`DEFAULTS`.

    Returns
    -------
    xarray.Dataset
        Dimensions ``x``'s name, ``y``'s name and ``option``: ``value``; ``margin``,
        ``optimal`` (option label, empty where infeasible) and ``optimal_index`` (-1 where
        infeasible) on the grid; ``base_value`` (option). ``attrs``: ``x``, ``y``,
        ``reference``, ``margin`` definition, units, ``config`` and ``inputs``.
    """
    if x == y:
        raise InputError("x and y must be two different parameters", field="y")
    cfg = settings(
        DEFAULTS,
        config,
        "sensitivity.two_way",
        points=points,
        others=others,
        reference=reference,
        comparator=comparator,
    )
    space = _space.parameter_space(
        source,
        draws=draws,
        n=n,
        seed=seed,
        supplied=supplied,
        parameters=[x, y],
        ranges=ranges,
        config=cfg["space"],
    )
    labels = space.options
    check_option(space.tree, cfg["reference"], "reference")
    check_option(space.tree, cfg["comparator"], "comparator")
    counts = cfg["points"]
    px, py = (counts, counts) if np.ndim(counts) == 0 else tuple(counts)
    gx, gy = space.grid(x, int(px)), space.grid(y, int(py))
    base = base_values(space, cfg["others"])
    ref = cfg["reference"] or labels[int(np.nanargmax(base))]
    xx, yy = np.meshgrid(gx, gy, indexing="ij")
    values = evaluate_points(space, {x: xx.ravel(), y: yy.ravel()}, cfg["others"])
    values = values.reshape(len(gx), len(gy), len(labels))
    infeasible = np.isnan(values).any(axis=-1)
    index = np.where(infeasible, -1, np.argmax(np.nan_to_num(values, nan=-np.inf), axis=-1))
    names = np.asarray(labels + [""], dtype=object)[index].astype(str)
    ds = xr.Dataset(
        {
            "value": ((x, y, "option"), values),
            "margin": ((x, y), margin(values, labels, ref, cfg["comparator"])),
            "optimal": ((x, y), names),
            "optimal_index": ((x, y), index),
            "base_value": (("option",), base),
        },
        coords={x: gx, y: gy, "option": labels},
    )
    ds.attrs.update(
        {
            "analysis": "two-way sensitivity",
            "tree": space.tree.name,
            "units": space.tree.units or "",
            "x": x,
            "y": y,
            "x_description": space.tree.parameters[x].description or "",
            "y_description": space.tree.parameters[y].description or "",
            "reference": ref,
            "margin": margin_description(ref, cfg["comparator"]),
            "others": cfg["others"],
            "base_x": space.base_value(x),
            "base_y": space.base_value(y),
        }
    )
    inputs = {
        "tree": space.tree.name,
        "source": str(space.tree.source or ""),
        "n": space.n,
        "seed": space.seed,
        "x": x,
        "y": y,
        "ranges": {k: [space.low[k], space.high[k]] for k in (x, y)},
    }
    return record(ds, config=cfg, inputs=inputs)
