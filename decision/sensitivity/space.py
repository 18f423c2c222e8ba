"""The parameter space of a sensitivity analysis, and the tree evaluated at points of it.

:func:`parameter_space` decides which parameters vary (by default every distribution and
every supplied parameter whose draws differ), the range each is varied over, and the base
case the others are held at. :class:`ParameterSpace` then evaluates the tree with some
parameters fixed, either with the others at the base case (one deterministic row per point,
all points in one vectorised rollback) or with the others at their draws (one block of draws
per point).

Ranges, in order of precedence: the ``ranges`` argument; the parameter's ``range`` metadata
in the tree file (the author's "plausible range for sensitivity analysis"); its 5th to 95th
percentile (``percentiles`` setting) from the distribution's quantile function, or from the
draws for supplied and expression parameters.

The base case: a distribution's mean, the mean of a supplied parameter's draws, a number's
value; expression parameters are recomputed from those (as TreeAge's base case does).

Linked probabilities: when every outcome probability of a chance node is a bare parameter
name (``p_level_low``, ``p_level_partial``, ``p_level_full``), fixing one of them rescales the
others of its node in proportion so that they still sum to 1. Points where that is impossible
(fixed values summing to more than 1) give NaN.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from decision.core.errors import InputError
from decision.core.suggest import did_you_mean
from decision.sensitivity._common import (
    UtilityScale,
    resolve_seed,
    resolve_tree,
    root_labels,
    settings,
)
from decision.tree import Tree, evaluate
from decision.tree.parameters import (
    DistributionParameter,
    ExpressionParameter,
    FixedParameter,
    SuppliedParameter,
)

__all__ = ["DEFAULTS", "ParameterSpace", "linked_probabilities", "parameter_space"]

#: Settings of :func:`parameter_space` (override with ``config=``).
#:
#: ``percentiles``: the default range of a parameter, as percentiles of its distribution or
#: draws. ``use_range_metadata``: let a parameter's ``range`` in the tree file set its range.
#: ``max_rows``: most rows one batched rollback may have (memory guard).
DEFAULTS: dict[str, Any] = {
    "percentiles": [5.0, 95.0],
    "use_range_metadata": True,
    "max_rows": 400_000,
}


def linked_probabilities(tree: Tree) -> dict[str, tuple[str, ...]]:
    """Parameter -> the other parameters that are outcome probabilities of its chance node.

    Only chance nodes whose every outcome probability is a bare parameter name count; a
    parameter that appears in two such nodes with different partners is left unlinked.
    """
    groups: set[tuple[str, ...]] = set()
    for node in tree.nodes.values():
        if node.kind != "chance" or len(node.branches) < 2:
            continue
        names = []
        for branch in node.branches:
            expr = branch.probability
            if (
                expr is None
                or expr.constant is not None
                or len(expr.names) != 1
                or expr.text.strip() != next(iter(expr.names))
            ):
                break
            name = next(iter(expr.names))
            if isinstance(tree.parameters.get(name), ExpressionParameter):
                break
            names.append(name)
        else:
            if len(set(names)) == len(names):
                groups.add(tuple(names))
    members: dict[str, set[tuple[str, ...]]] = {}
    for group in groups:
        for name in group:
            members.setdefault(name, set()).add(group)
    return {
        name: tuple(p for p in next(iter(gs)) if p != name)
        for name, gs in members.items()
        if len(gs) == 1
    }


def _varies(values) -> bool:
    array = np.asarray(values)
    if array.ndim == 0 or array.size < 2:
        return False
    if array.strides and array.strides[0] == 0:
        return False
    return bool(np.ptp(array) > 0)


@dataclasses.dataclass
class ParameterSpace:
    """Parameters to vary, their ranges and base case, and the draws of the rest.

    Attributes
    ----------
    tree
        The tree.
    draws
        Name -> array of ``n`` draws of every parameter (expressions included).
    n
        Number of draws.
    seed
        Seed the draws were sampled with (``None`` when draws were given).
    names
        The parameters analysed, in file order.
    low, high
        Each analysed parameter's range.
    range_source
        Where each range came from: ``"argument"``, ``"metadata"``, ``"percentiles"`` or
        ``"value"``.
    base
        Base-case value of every non-expression parameter.
    linked
        Parameter -> its linked probabilities (see :func:`linked_probabilities`).
    config
        The settings used.
    """

    tree: Tree
    draws: dict[str, np.ndarray]
    n: int
    seed: int | None
    names: tuple[str, ...]
    low: dict[str, float]
    high: dict[str, float]
    range_source: dict[str, str]
    base: dict[str, float]
    linked: dict[str, tuple[str, ...]]
    config: dict[str, Any]

    # ------------------------------------------------------------------ descriptions

    @property
    def options(self) -> list[str]:
        """The root options."""
        return root_labels(self.tree)

    @property
    def has_later_decisions(self) -> bool:
        """True when a decision node lies below the root."""
        return len(self.tree.decision_nodes) > 1

    @property
    def base_names(self) -> list[str]:
        """Parameters that are not expressions, in file order."""
        return [
            k for k, s in self.tree.parameters.items() if not isinstance(s, ExpressionParameter)
        ]

    def utility(self) -> UtilityScale:
        """Return the tree's :class:`~decision.sensitivity._common.UtilityScale`."""
        return UtilityScale(self.tree, self.draws)

    def kind(self, name: str) -> str:
        """``distribution``, ``supplied``, ``fixed`` or ``expression``."""
        return self.tree.parameters[name].kind

    def percentile(self, name: str, values) -> np.ndarray:
        """Percentile (0-100) of ``values`` in the parameter's distribution or draws."""
        spec = self.tree.parameters[name]
        values = np.asarray(values, dtype=float)
        if isinstance(spec, DistributionParameter):
            return 100.0 * spec.frozen().cdf(values)
        draws = np.asarray(self.draws[name], dtype=float)
        if not _varies(draws):
            return np.full(values.shape, np.nan)
        ordered = np.sort(draws)
        return 100.0 * np.searchsorted(ordered, values, side="right") / ordered.size

    def grid(self, name: str, points: int) -> np.ndarray:
        """``points`` values evenly spaced over the parameter's range."""
        if points < 2:
            raise InputError(f"need at least 2 points, got {points}", field="points")
        return np.linspace(self.low[name], self.high[name], int(points))

    def table(self) -> pd.DataFrame:
        """One row per analysed parameter: kind, range and where it came from, base case."""
        rows = []
        for name in self.names:
            spec = self.tree.parameters[name]
            rows.append(
                {
                    "parameter": name,
                    "kind": spec.kind,
                    "low": self.low[name],
                    "high": self.high[name],
                    "base": self.base_value(name),
                    "range": self.range_source[name],
                    "linked": ", ".join(self.linked.get(name, ())),
                    "description": spec.description or "",
                }
            )
        return pd.DataFrame(rows).set_index("parameter")

    def base_value(self, name: str) -> float:
        """Base-case value of a parameter (expressions computed from the base case)."""
        if name in self.base:
            return self.base[name]
        values = self.tree.complete_draws({k: np.array([v]) for k, v in self.base.items()})
        return float(values[name][0])

    # ------------------------------------------------------------------- evaluation

    def _apply_links(
        self, columns: dict[str, np.ndarray], fixed: Mapping[str, np.ndarray], rows: int
    ) -> np.ndarray:
        """Rescale linked probabilities in place; return a mask of feasible rows.

        A NaN in a fixed array means "not fixed in this row".
        """
        ok = np.ones(rows, dtype=bool)
        done: set[frozenset] = set()
        for name in fixed:
            if name not in self.linked:
                continue
            group = frozenset((name, *self.linked[name]))
            if group in done:
                continue
            done.add(group)
            members = [m for m in self.tree.parameters if m in group]
            held = {
                m: ~np.isnan(np.broadcast_to(fixed[m], (rows,)))
                if m in fixed
                else np.zeros(rows, dtype=bool)
                for m in members
            }
            any_held = np.any([held[m] for m in members], axis=0)
            if not any_held.any():
                continue
            current = {
                m: np.array(np.broadcast_to(np.asarray(columns[m], dtype=float), (rows,)))
                for m in members
            }
            target = 1.0 - np.sum([np.where(held[m], current[m], 0.0) for m in members], axis=0)
            free_total = np.sum([np.where(held[m], 0.0, current[m]) for m in members], axis=0)
            free_count = np.sum([~held[m] for m in members], axis=0)
            ok &= ~any_held | (target >= -1e-12)
            ok &= ~any_held | (free_count > 0) | (np.abs(target) < 1e-9)
            safe_total = np.where(free_total > 0, free_total, 1.0)
            for m in members:
                share = np.where(
                    free_total > 0, current[m] / safe_total, 1.0 / np.maximum(free_count, 1)
                )
                rescaled = np.clip(target, 0.0, None) * share
                columns[m] = np.where(any_held & ~held[m], rescaled, current[m])
        return ok

    def _columns(
        self, fixed: Mapping[str, np.ndarray], rows: int, *, tile: int | None
    ) -> tuple[dict, dict, np.ndarray]:
        """Draw columns (non-expression parameters) and overrides for ``rows`` rows.

        ``tile=None``: every row at the base case. ``tile=k``: the draws repeated ``k`` times
        (``rows = k n``), ``fixed`` arrays already repeated to ``rows``. A NaN in a fixed
        array leaves that row's value as it was.
        """
        columns: dict[str, np.ndarray] = {}
        for name in self.base_names:
            if tile is None:
                own = np.float64(self.base[name])
            else:
                values = self.draws[name]
                own = (
                    np.tile(np.asarray(values, dtype=float), tile)
                    if _varies(values)
                    else np.float64(np.asarray(values).flat[0])
                )
            if name in fixed:
                given = np.broadcast_to(np.asarray(fixed[name], dtype=float), (rows,))
                own = np.where(np.isnan(given), own, given)
            columns[name] = own
        ok = self._apply_links(columns, fixed, rows)
        draws = {k: np.broadcast_to(v, (rows,)) for k, v in columns.items()}
        overrides = {}
        derived = [k for k in fixed if k not in columns]
        if derived:
            partial = [k for k in derived if np.isnan(fixed[k]).any()]
            computed = self.tree.complete_draws(draws) if partial else {}
            for k in derived:
                given = np.broadcast_to(np.asarray(fixed[k], dtype=float), (rows,))
                overrides[k] = (
                    np.where(np.isnan(given), computed[k], given) if k in partial else given
                )
        return draws, overrides, ok

    def _check_fixed(self, fixed: Mapping[str, Any]) -> dict[str, np.ndarray]:
        out = {}
        for name, values in fixed.items():
            if name not in self.tree.parameters:
                raise InputError(
                    f"unknown parameter '{name}'{did_you_mean(name, self.tree.parameters)}",
                    file=self.tree.source,
                    field=f"parameters.{name}",
                )
            out[name] = np.atleast_1d(np.asarray(values, dtype=float))
        lengths = {v.size for v in out.values()}
        if len(lengths) > 1:
            raise InputError(
                f"fixed values have different lengths: {sorted(lengths)}", field="fixed"
            )
        return out

    def evaluate_rows(self, fixed: Mapping[str, Any], *, rows: int | None = None) -> np.ndarray:
        """Root option values with the ``fixed`` parameters set and all others at the base case.

        Parameters
        ----------
        fixed
            Name -> array of values, one per row (all of one length).
        rows
            Number of rows when ``fixed`` is empty (default 1).

        Returns
        -------
        numpy.ndarray
            (rows, options): each row is a deterministic tree, rolled back with every decision
            optimal for that row (what evaluating the row alone gives). NaN in infeasible rows.
        """
        fixed = self._check_fixed(fixed)
        count = next(iter(fixed.values())).size if fixed else int(rows or 1)
        out = np.full((count, len(self.options)), np.nan)
        limit = int(self.config["max_rows"])
        for start in range(0, count, limit):
            part = slice(start, min(start + limit, count))
            size = part.stop - part.start
            draws, overrides, ok = self._columns(
                {k: v[part] for k, v in fixed.items()}, size, tile=None
            )
            if not ok.any():
                continue
            keep = np.flatnonzero(ok)
            draws = {k: v[keep] for k, v in draws.items()}
            overrides = {k: v[keep] for k, v in overrides.items()}
            result = self._evaluate(draws, overrides, fixed)
            out[part][keep] = np.asarray(result.informed_option_values[result.root_path])
        return out

    def evaluate_blocks(
        self, fixed: Mapping[str, Any], *, blocks: int | None = None, per_draw: bool = False
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Root option values with the ``fixed`` parameters set and the others at their draws.

        Parameters
        ----------
        fixed
            Name -> array of values, one per block (all of one length).
        blocks
            Number of blocks when ``fixed`` is empty (default 1).
        per_draw
            Also return per-draw values of each option with every decision taken knowing
            the draw (informed rollback), for probabilities of being optimal.

        Returns
        -------
        values : numpy.ndarray
            (blocks, options): each block's expected value (certainty equivalent) of each
            root option over the ``n`` draws, later decisions chosen in expectation within
            the block: exactly ``evaluate`` of that block.
        informed : numpy.ndarray or None
            (blocks, n, options) when ``per_draw``.

        Notes
        -----
        A tree with no decision below the root is evaluated in one rollback over all blocks
        stacked (chunked by ``max_rows``); otherwise each block is rolled back on its own,
        because the later decisions' choices in expectation must not mix blocks.
        """
        fixed = self._check_fixed(fixed)
        count = next(iter(fixed.values())).size if fixed else int(blocks or 1)
        n, options = self.n, len(self.options)
        values = np.full((count, options), np.nan)
        informed = np.full((count, n, options), np.nan) if per_draw else None
        scale = self.utility()
        if not self.has_later_decisions:
            per_chunk = max(1, int(self.config["max_rows"]) // n)
            for start in range(0, count, per_chunk):
                stop = min(start + per_chunk, count)
                size = stop - start
                chunk = {k: np.repeat(v[start:stop], n) for k, v in fixed.items()}
                draws, overrides, ok = self._columns(chunk, size * n, tile=size)
                ok_blocks = ok.reshape(size, n).all(axis=1)
                if not ok_blocks.any():
                    continue
                keep_rows = np.repeat(ok_blocks, n)
                draws = {k: v[keep_rows] for k, v in draws.items()}
                overrides = {k: v[keep_rows] for k, v in overrides.items()}
                result = self._evaluate(draws, overrides, fixed)
                per = np.asarray(result.root_values_per_draw).reshape(-1, n, options)
                idx = start + np.flatnonzero(ok_blocks)
                values[idx] = scale.average(per, axis=1)
                if per_draw:
                    informed[idx] = per
            return values, informed
        for b in range(count):
            block = {k: np.repeat(v[b : b + 1], n) for k, v in fixed.items()}
            draws, overrides, ok = self._columns(block, n, tile=1)
            if not ok.all():
                continue
            result = self._evaluate(draws, overrides, fixed)
            values[b] = [result.options[o] for o in self.options]
            if per_draw:
                informed[b] = np.asarray(result.informed_option_values[result.root_path])
        return values, informed

    def _evaluate(self, draws, overrides, fixed):
        try:
            return evaluate(self.tree, draws=draws, overrides=overrides or None)
        except InputError as exc:
            names = ", ".join(fixed) or "none"
            raise InputError(
                f"{exc.detail} (sensitivity analysis with fixed parameters: "
                f"{names}; check their ranges)",
                file=exc.file,
                row=exc.row,
                field=exc.field,
            ) from None


def parameter_space(
    source,
    *,
    draws: Mapping | None = None,
    n: int = 1000,
    seed=None,
    supplied: Mapping | None = None,
    parameters: Sequence[str] | None = None,
    ranges: Mapping[str, Sequence[float]] | None = None,
    config: Mapping[str, Any] | None = None,
) -> ParameterSpace:
    """Choose the parameters to vary, their ranges and the base case.

    Parameters
    ----------
    source
        A :class:`~decision.tree.Tree`, a path or mapping read with ``load_tree``, or a
        :class:`~decision.tree.TreeResult` (its draws are used).
    draws
        Already-sampled draws (name -> array); else ``n`` draws are sampled with ``seed`` and
        ``supplied`` (posterior draws for ``supplied: true`` parameters).
    parameters
        Parameters to vary (any kind; numbers need a range). Default: every distribution and
        supplied parameter whose draws differ.
    ranges
        Name -> ``(low, high)``, overriding the defaults.
    config
        Overrides of :data:`DEFAULTS`.

    Returns
    -------
    ParameterSpace
    """
    cfg = settings(DEFAULTS, config, "sensitivity.space")
    tree, result = resolve_tree(source)
    root_labels(tree)
    used_seed = None
    if draws is None and result is not None:
        draws = result.parameters
    if draws is None:
        used_seed = resolve_seed(seed)
        sampled = tree.sample_parameters(n, seed=used_seed, supplied=supplied)
    else:
        base = {
            k: v
            for k, v in draws.items()
            if not isinstance(tree.parameters.get(k), ExpressionParameter)
        }
        sampled = tree.complete_draws(base)
    count = len(next(iter(sampled.values()))) if sampled else 1
    specs = tree.parameters
    if parameters is None:
        names = [
            k
            for k, s in specs.items()
            if isinstance(s, (DistributionParameter, SuppliedParameter)) and _varies(sampled[k])
        ]
    else:
        names = list(dict.fromkeys(parameters))
        for name in names:
            if name not in specs:
                raise InputError(
                    f"unknown parameter '{name}'{did_you_mean(name, specs)}",
                    file=tree.source,
                    field=f"parameters.{name}",
                )
    ranges = dict(ranges or {})
    for name in ranges:
        if name not in specs:
            raise InputError(
                f"range given for unknown parameter '{name}'{did_you_mean(name, specs)}",
                file=tree.source,
                field=f"ranges.{name}",
            )
    q = np.asarray(cfg["percentiles"], dtype=float)
    if q.shape != (2,) or not (0 <= q[0] < q[1] <= 100):
        raise InputError(
            f"percentiles must be [low, high] within 0-100, got {cfg['percentiles']}",
            field="sensitivity.space.percentiles",
        )
    low, high, source_of = {}, {}, {}
    for name in names:
        spec = specs[name]
        if name in ranges:
            pair = tuple(float(x) for x in ranges[name])
            where = "argument"
        elif cfg["use_range_metadata"] and spec.range is not None:
            pair, where = tuple(spec.range), "metadata"
        elif isinstance(spec, DistributionParameter):
            pair, where = tuple(float(x) for x in spec.ppf(q / 100.0)), "percentiles"
        elif _varies(sampled[name]):
            pair = tuple(float(x) for x in np.percentile(np.asarray(sampled[name], float), q))
            where = "percentiles"
        else:
            raise InputError(
                f"parameter '{name}' ({spec.kind}) does not vary in the draws: give it a range",
                file=tree.source,
                field=f"ranges.{name}",
            )
        if len(pair) != 2 or not pair[0] < pair[1]:
            raise InputError(
                f"range of '{name}' must be [low, high] with low < high, got {list(pair)}",
                file=tree.source,
                field=f"ranges.{name}",
            )
        low[name], high[name], source_of[name] = pair[0], pair[1], where
    base: dict[str, float] = {}
    for name, spec in specs.items():
        if isinstance(spec, ExpressionParameter):
            continue
        if isinstance(spec, FixedParameter):
            base[name] = spec.value
        elif isinstance(spec, DistributionParameter):
            base[name] = spec.mean()
        else:
            base[name] = float(np.mean(sampled[name]))
    return ParameterSpace(
        tree=tree,
        draws=dict(sampled),
        n=count,
        seed=used_seed,
        names=tuple(names),
        low=low,
        high=high,
        range_source=source_of,
        base=base,
        linked=linked_probabilities(tree),
        config=cfg,
    )
