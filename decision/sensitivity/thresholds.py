"""Threshold analysis: the exact parameter values at which the optimal option switches.

For each parameter, :func:`thresholds` first evaluates every root option on a grid over the
parameter's range (one vectorised rollback for all parameters, as in
:func:`~decision.sensitivity.oneway.one_way`), finds the grid cells where the optimal option
changes, and then solves ``V_a(x) - V_b(x) = 0`` for the two options either side of the change
with Brent's method (:func:`scipy.optimize.brentq`), evaluating the tree at each trial value.
The grid only brackets the roots; the reported values are root-finding results to ``xtol``.

If a third option is optimal at the root found (it was optimal inside the cell but at
neither grid point), the cell is split there and both halves are solved. Two switches that
cancel out within one grid cell (A -> B -> A) are not seen: raise ``grid`` to look closer.
A parameter with no switch gets one row with ``threshold`` NaN and the note "no switch within
its range".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from decision.sensitivity import space as _space
from decision.sensitivity._common import record, settings
from decision.sensitivity.oneway import _check_others, base_values, evaluate_points

__all__ = ["DEFAULTS", "NO_SWITCH", "smallest_switches", "thresholds"]

#: Note of a parameter whose range holds no switch.
NO_SWITCH = "no switch within its range"

#: Settings of :func:`thresholds`. ``grid``: points per parameter used to bracket switches;
#: ``others``: ``"mean"`` (base case) or ``"draws"``; ``xtol``/``rtol``: Brent tolerances;
#: ``max_splits``: how many times a cell may be split when a third option shows up.
DEFAULTS: dict[str, Any] = {
    "grid": 41,
    "others": "mean",
    "xtol": 1e-12,
    "rtol": 1e-12,
    "max_splits": 6,
    "space": dict(_space.DEFAULTS),
}


def thresholds(
    source,
    *,
    draws: Mapping | None = None,
    n: int = 1000,
    seed=None,
    supplied: Mapping | None = None,
    parameters: Sequence[str] | None = None,
    ranges: Mapping[str, Sequence[float]] | None = None,
    grid: int | None = None,
    others: str | None = None,
    config: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Switching values of every parameter within its range.

    Parameters
    ----------
    source, draws, n, seed, supplied, parameters, ranges
        As in :func:`~decision.sensitivity.oneway.one_way`.
    grid, others
        See :data:`DEFAULTS`.
    config
        Overrides of :data:`DEFAULTS`.

    Returns
    -------
    pandas.DataFrame
        One row per switch (and one per parameter without a switch): ``parameter``,
        ``threshold`` (NaN when none), ``from_option`` (optimal just below the threshold) and
        ``to_option`` (just above), ``low``, ``high``, ``base_input``, ``percentile`` of the
        threshold in the parameter's distribution or draws, ``note``. ``attrs`` record the
        base-case optimal option, ``config`` and ``inputs``.
    """
    cfg = settings(DEFAULTS, config, "sensitivity.thresholds", grid=grid, others=others)
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
    names = list(space.names)
    count = int(cfg["grid"])
    grids = [space.grid(name, count) for name in names]
    fixed = {}
    for j, name in enumerate(names):
        column = np.full(len(names) * count, np.nan)
        column[j * count : (j + 1) * count] = grids[j]
        fixed[name] = column
    values = (
        evaluate_points(space, fixed, others).reshape(len(names), count, len(labels))
        if names
        else np.zeros((0, count, len(labels)))
    )
    base = base_values(space, others)

    def value_at(name: str, x: float) -> np.ndarray:
        return evaluate_points(space, {name: np.array([x])}, others)[0]

    rows = []
    for j, name in enumerate(names):
        found = []
        vals = values[j]
        feasible = ~np.isnan(vals).any(axis=1)
        best = np.argmax(np.nan_to_num(vals, nan=-np.inf), axis=1)
        for k in range(count - 1):
            if not (feasible[k] and feasible[k + 1]) or best[k] == best[k + 1]:
                continue
            found.extend(
                _solve(
                    lambda x, name=name: value_at(name, x),
                    grids[j][k],
                    grids[j][k + 1],
                    int(best[k]),
                    int(best[k + 1]),
                    cfg,
                    int(cfg["max_splits"]),
                )
            )
        common = {
            "parameter": name,
            "low": space.low[name],
            "high": space.high[name],
            "base_input": space.base_value(name),
        }
        if not found:
            optimal = sorted({labels[b] for b, ok in zip(best, feasible, strict=True) if ok})
            only = optimal[0] if len(optimal) == 1 else ""
            rows.append(
                {
                    **common,
                    "threshold": np.nan,
                    "from_option": only,
                    "to_option": only,
                    "percentile": np.nan,
                    "note": NO_SWITCH,
                }
            )
            continue
        for x, a, b in found:
            rows.append(
                {
                    **common,
                    "threshold": x,
                    "from_option": labels[a],
                    "to_option": labels[b],
                    "percentile": float(space.percentile(name, np.array([x]))[0]),
                    "note": "",
                }
            )
    columns = [
        "parameter",
        "threshold",
        "from_option",
        "to_option",
        "low",
        "high",
        "base_input",
        "percentile",
        "note",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    frame.attrs.update(
        {
            "analysis": "thresholds",
            "tree": space.tree.name,
            "units": space.tree.units or "",
            "base_optimal": labels[int(np.nanargmax(base))],
            "others": others,
        }
    )
    inputs = {
        "tree": space.tree.name,
        "source": str(space.tree.source or ""),
        "n": space.n,
        "seed": space.seed,
        "parameters": names,
        "ranges": {k: [space.low[k], space.high[k]] for k in names},
    }
    return record(frame, config=cfg, inputs=inputs)


def _solve(
    value_at, lo: float, hi: float, a: int, b: int, cfg, splits: int
) -> list[tuple[float, int, int]]:
    """Roots of ``V_a - V_b`` in ``[lo, hi]``; ``a`` is optimal at ``lo``, ``b`` at ``hi``."""

    def difference(x):
        v = value_at(x)
        return float(v[a] - v[b])

    f_lo, f_hi = difference(lo), difference(hi)
    if f_lo == 0.0:
        root = lo
    elif f_hi == 0.0:
        root = hi
    elif np.sign(f_lo) == np.sign(f_hi):
        return []  # a and b are not the switching pair here (a third option in between)
    else:
        root = brentq(difference, lo, hi, xtol=float(cfg["xtol"]), rtol=float(cfg["rtol"]))
    at_root = value_at(root)
    top = float(max(at_root[a], at_root[b]))
    others = [
        c
        for c in range(len(at_root))
        if c not in (a, b) and at_root[c] > top + 1e-9 * max(1.0, abs(top))
    ]
    if not others or splits <= 0:
        return [(float(root), a, b)]
    c = max(others, key=lambda i: at_root[i])
    return _solve(value_at, lo, root, a, c, cfg, splits - 1) + _solve(
        value_at, root, hi, c, b, cfg, splits - 1
    )


def smallest_switches(table: pd.DataFrame, options: Sequence[str] | None = None) -> pd.DataFrame:
    """For every option that is not optimal, the smallest single change that makes it optimal.

    Parameters
    ----------
    table
        A :func:`thresholds` result.
    options
        The options to report (default: every option named in ``table`` except the base case's
        optimal one).

    Returns
    -------
    pandas.DataFrame
        Indexed by option: ``parameter`` (empty when no single input within its range makes the
        option optimal), ``base_input``, ``threshold`` (the value at which the option becomes
        optimal, moving from the base case), ``change`` (threshold - base input),
        ``share_of_range`` (|change| over the width of the parameter's range: the comparison
        across parameters), ``percentile`` of the threshold, and ``note``.
    """
    base_optimal = table.attrs.get("base_optimal")
    if options is None:
        named = [*table["from_option"], *table["to_option"]]
        options = [o for o in dict.fromkeys(named) if o and o != base_optimal]
    rows = []
    switches = table[table["threshold"].notna()]
    for option in options:
        best = None
        for _, row in switches.iterrows():
            upward = row["threshold"] > row["base_input"]
            reached = row["to_option"] if upward else row["from_option"]
            if reached != option:
                continue
            width = float(row["high"] - row["low"])
            change = float(row["threshold"] - row["base_input"])
            share = abs(change) / width if width > 0 else np.inf
            if best is None or share < best["share_of_range"]:
                best = {
                    "option": option,
                    "parameter": row["parameter"],
                    "base_input": float(row["base_input"]),
                    "threshold": float(row["threshold"]),
                    "change": change,
                    "share_of_range": share,
                    "percentile": float(row["percentile"]),
                    "note": "",
                }
        rows.append(
            best
            or {
                "option": option,
                "parameter": "",
                "base_input": np.nan,
                "threshold": np.nan,
                "change": np.nan,
                "share_of_range": np.nan,
                "percentile": np.nan,
                "note": "no single input within its range makes it optimal",
            }
        )
    frame = pd.DataFrame(
        rows,
        columns=[
            "option",
            "parameter",
            "base_input",
            "threshold",
            "change",
            "share_of_range",
            "percentile",
            "note",
        ],
    ).set_index("option")
    frame.attrs.update({"analysis": "smallest switches", "base_optimal": base_optimal})
    return frame
