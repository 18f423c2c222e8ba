"""One-way sensitivity analysis: each parameter across its range, the others held.

:func:`one_way` fixes each analysed parameter in turn at ``points`` values evenly spaced
over its range (default: its 5th to 95th percentile; see
:mod:`decision.sensitivity.space`) and records every root option's value and the decision
margin. :func:`tornado` and :func:`spider` arrange the result for the two classic charts.

The other parameters are held either

* at the **base case** (``others="mean"``, the default): distributions at their means,
  supplied parameters at the mean of their draws, expressions recomputed. This is the
  TreeAge-style one-way analysis: every point is one deterministic tree, and all points of
  all parameters are rolled back together in one vectorised evaluation; or
* at their **draws** (``others="draws"``): each point is the expected value over the draws
  of the other parameters, i.e. what the probabilistic model says with one parameter known.
  It needs one block of draws per point (one rollback per point when the tree has decisions
  below the root, whose choices in expectation must not mix points).

The **decision margin** is the value of a reference option (default: the option that is
optimal at the base case) minus the best other option, or minus a named ``comparator``.
Where it is negative the reference option is no longer optimal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
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

__all__ = ["DEFAULTS", "base_values", "one_way", "spider", "tornado"]

#: Settings of :func:`one_way` (override with ``config=`` or the keyword arguments).
#:
#: ``points``: values per parameter, evenly spaced over its range (ends included).
#: ``others``: ``"mean"`` (base case) or ``"draws"``. ``reference``: the option whose margin
#: is reported (default: optimal at the base case). ``comparator``: the option it is compared
#: with (default: the best other option at each point). ``space``: settings of
#: :func:`decision.sensitivity.space.parameter_space`.
DEFAULTS: dict[str, Any] = {
    "points": 11,
    "others": "mean",
    "reference": None,
    "comparator": None,
    "space": dict(_space.DEFAULTS),
}


def _check_others(others: str) -> str:
    if others not in ("mean", "draws"):
        raise InputError(
            f"others must be 'mean' or 'draws', got {others!r}", field="sensitivity.others"
        )
    return others


def base_values(space: _space.ParameterSpace, others: str) -> np.ndarray:
    """Root option values at the base case (``"mean"``) or over the draws (``"draws"``)."""
    if _check_others(others) == "mean":
        return space.evaluate_rows({}, rows=1)[0]
    return space.evaluate_blocks({}, blocks=1)[0][0]


def evaluate_points(
    space: _space.ParameterSpace, fixed: Mapping[str, np.ndarray], others: str
) -> np.ndarray:
    """Option values at each point (rows of ``fixed``), the others held as ``others`` says."""
    if _check_others(others) == "mean":
        return space.evaluate_rows(fixed)
    return space.evaluate_blocks(fixed)[0]


def one_way(
    source,
    *,
    draws: Mapping | None = None,
    n: int = 1000,
    seed=None,
    supplied: Mapping | None = None,
    parameters: Sequence[str] | None = None,
    ranges: Mapping[str, Sequence[float]] | None = None,
    points: int | None = None,
    others: str | None = None,
    reference: str | None = None,
    comparator: str | None = None,
    config: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """One-way sensitivity of every root option's value and of the decision margin.

    Parameters
    ----------
    source
        A tree (or path, mapping) or an evaluated :class:`~decision.tree.TreeResult`
        (whose draws are then used).
    draws, n, seed, supplied
        The draws: given, or ``n`` sampled with ``seed`` (a fresh seed is drawn and recorded
        when ``None``) and ``supplied`` posterior draws.
    parameters
        Parameters to vary (default: every uncertain one).
    ranges
        Name -> ``(low, high)`` overriding the default ranges.
    points, others, reference, comparator
        See :data:`DEFAULTS`.
    config
        Overrides of :data:`DEFAULTS`.

    Returns
    -------
    xarray.Dataset
        Dimensions ``parameter``, ``point``, ``option``. Variables: ``value`` (parameter,
        point, option); ``margin`` and ``optimal`` (parameter, point); ``x`` (the parameter's
        value) and ``percentile`` (its percentile in its distribution or draws) (parameter,
        point); ``position`` (point: 0 at the low end of the range, 1 at the high end);
        ``low``, ``high``, ``base_input``, ``range_source`` (parameter); ``base_value``
        (option) and ``base_margin``. ``attrs`` record the reference and comparator, the
        margin's definition, units, ``config`` and ``inputs`` (JSON).
    """
    cfg = settings(
        DEFAULTS,
        config,
        "sensitivity.one_way",
        points=points,
        others=others,
        reference=reference,
        comparator=comparator,
    )
    others = _check_others(cfg["others"])
    space = _space.parameter_space(
        source,
        draws=draws,
        n=n,
        seed=seed,
        supplied=supplied,
        parameters=parameters,
        ranges=ranges,
        config=cfg["space"],
    )
    labels = space.options
    check_option(space.tree, cfg["reference"], "reference")
    check_option(space.tree, cfg["comparator"], "comparator")
    base = base_values(space, others)
    ref = cfg["reference"] or labels[int(np.nanargmax(base))]
    if cfg["comparator"] == ref:
        raise InputError(
            "comparator must differ from the reference option", field="sensitivity.comparator"
        )
    names = list(space.names)
    count = int(cfg["points"])
    grid = np.array([space.grid(name, count) for name in names]).reshape(len(names), count)
    rows = len(names) * count
    fixed = {}
    for j, name in enumerate(names):
        column = np.full(rows, np.nan)
        column[j * count : (j + 1) * count] = grid[j]
        fixed[name] = column
    values = (
        evaluate_points(space, fixed, others).reshape(len(names), count, len(labels))
        if names
        else np.zeros((0, count, len(labels)))
    )
    margins = margin(values, labels, ref, cfg["comparator"])
    best = np.where(
        np.isnan(values).any(axis=-1),
        "",
        np.asarray(labels, dtype=object)[np.argmax(np.nan_to_num(values, nan=-np.inf), axis=-1)],
    )
    percentile = np.array(
        [space.percentile(name, grid[j]) for j, name in enumerate(names)]
    ).reshape(len(names), count)
    ds = xr.Dataset(
        {
            "value": (("parameter", "point", "option"), values),
            "margin": (("parameter", "point"), margins),
            "optimal": (("parameter", "point"), best.astype(str)),
            "x": (("parameter", "point"), grid),
            "percentile": (("parameter", "point"), percentile),
            "position": (("point",), np.linspace(0.0, 1.0, count)),
            "low": (("parameter",), np.array([space.low[k] for k in names], dtype=float)),
            "high": (("parameter",), np.array([space.high[k] for k in names], dtype=float)),
            "base_input": (
                ("parameter",),
                np.array([space.base_value(k) for k in names], dtype=float),
            ),
            "range_source": (
                ("parameter",),
                np.array([space.range_source[k] for k in names], dtype=str),
            ),
            "base_value": (("option",), base),
            "base_margin": ((), float(margin(base, labels, ref, cfg["comparator"]))),
        },
        coords={"parameter": names, "point": np.arange(count), "option": labels},
    )
    ds.attrs.update(
        {
            "analysis": "one-way sensitivity",
            "tree": space.tree.name,
            "units": space.tree.units or "",
            "value_kind": "expected value"
            if space.tree.utility.is_linear
            else "certainty equivalent",
            "reference": ref,
            "comparator": cfg["comparator"] or "",
            "margin": margin_description(ref, cfg["comparator"]),
            "others": others,
        }
    )
    return record(ds, config=cfg, inputs=_inputs(space))


def _inputs(space: _space.ParameterSpace) -> dict[str, Any]:
    return {
        "tree": space.tree.name,
        "source": str(space.tree.source or ""),
        "n": space.n,
        "seed": space.seed,
        "parameters": list(space.names),
        "ranges": {k: [space.low[k], space.high[k]] for k in space.names},
        "range_source": dict(space.range_source),
    }


def _quantity(data: xr.Dataset, quantity: str) -> xr.DataArray:
    if quantity == "margin":
        return data["margin"]
    options = [str(o) for o in data.coords["option"].values]
    if quantity not in options:
        raise InputError(
            f"quantity must be 'margin' or an option ({', '.join(options)}), got {quantity!r}",
            field="quantity",
        )
    return data["value"].sel(option=quantity)


def tornado(data: xr.Dataset, quantity: str = "margin") -> pd.DataFrame:
    """Tornado table: each parameter's effect on ``quantity``, largest swing first.

    Parameters
    ----------
    data
        A :func:`one_way` result.
    quantity
        ``"margin"`` or a root option.

    Returns
    -------
    pandas.DataFrame
        Indexed by parameter: ``low``/``high`` (the range's ends), ``base_input``,
        ``at_low``/``at_high`` (the quantity at the ends), ``minimum``/``maximum`` (over the
        range), ``swing`` (maximum - minimum), ``switches`` (the optimal option changes within
        the range) and ``base`` (the quantity at the base case). ``attrs`` carry the
        one-way result's.
    """
    values = _quantity(data, quantity)
    base = (
        float(data["base_margin"])
        if quantity == "margin"
        else float(data["base_value"].sel(option=quantity))
    )
    arr = values.values
    optimal = data["optimal"].values
    frame = pd.DataFrame(
        {
            "low": data["low"].values,
            "high": data["high"].values,
            "base_input": data["base_input"].values,
            "at_low": arr[:, 0],
            "at_high": arr[:, -1],
            "minimum": np.nanmin(arr, axis=1) if arr.size else [],
            "maximum": np.nanmax(arr, axis=1) if arr.size else [],
        },
        index=pd.Index([str(p) for p in data.coords["parameter"].values], name="parameter"),
    )
    frame["swing"] = frame["maximum"] - frame["minimum"]
    frame["switches"] = [len({o for o in row if o}) > 1 for row in optimal]
    frame["base"] = base
    frame = frame.sort_values("swing", ascending=False, kind="stable")
    frame.attrs.update(data.attrs)
    frame.attrs["quantity"] = quantity
    return frame


def spider(data: xr.Dataset, quantity: str = "margin") -> pd.DataFrame:
    """Spider table: ``quantity`` along each parameter's range in normalised units.

    Returns
    -------
    pandas.DataFrame
        Index ``position`` (0 = low end of each parameter's range, 1 = high end), one
        column per parameter.
    """
    values = _quantity(data, quantity)
    frame = pd.DataFrame(
        values.values.T,
        index=pd.Index(data["position"].values, name="position"),
        columns=[str(p) for p in data.coords["parameter"].values],
    )
    frame.attrs.update(data.attrs)
    frame.attrs["quantity"] = quantity
    return frame
