"""``evaluate``: roll a tree back over parameter draws; ``TreeResult``: values, policy, EVPI.

Two rollbacks run together (see :mod:`decision.tree.rollback`):

* the **expected** rollback is what the decision maker can do without knowing the
  parameters: at each decision node, the option with the highest expected value (expected
  utility) across draws, each draw weighted by its probability of reaching the node. Its
  root value is ``value``; its per-draw option values are ``option_values``.
* the **informed** rollback lets every decision take the best option in each draw, as if
  the parameters were known: ``policy_per_draw``, ``probability_optimal``,
  ``evpi_parameters``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from decision.core.errors import InputError
from decision.core.suggest import did_you_mean
from decision.tree import blockwise
from decision.tree.loading import load_tree
from decision.tree.model import Tree
from decision.tree.parameters import _operand
from decision.tree.rollback import OutOfRange, RollbackPass, math_for

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["evaluate", "TreeResult"]


class _LazyMapping(Mapping):
    """A read-only mapping whose values are computed on first access."""

    def __init__(self, keys: Iterable[str], compute: Callable[[str], object]):
        self._keys = list(keys)
        self._compute = compute
        self._cache: dict = {}

    def __getitem__(self, key):
        if key not in self._cache:
            if key not in self._keys:
                raise KeyError(key)
            self._cache[key] = self._compute(key)
        return self._cache[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        shown = ", ".join(map(repr, self._keys[:5])) + (" ..." if len(self) > 5 else "")
        return f"<{len(self)} entries: {shown}>"


def _full(x, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(x, dtype=float), (n,))


def resolve_force(tree: Tree, force: Mapping[str, str] | None) -> tuple[dict, dict]:
    """Map ``force`` (decision name or node path -> option) to node paths and option indices."""
    indices: dict[str, int] = {}
    labels: dict[str, str] = {}
    decisions = tree.decision_nodes
    for key, option in (force or {}).items():
        if key in decisions:
            targets = [decisions[key]]
        else:
            targets = [node for node in decisions.values() if node.name == key]
        if not targets:
            known = list(tree.decision_names) + list(decisions)
            raise InputError(
                f"cannot force '{key}': no decision node has that name or path"
                f"{did_you_mean(str(key), known)}",
                file=tree.source,
                field=f"force.{key}",
            )
        for node in targets:
            if option not in node.labels:
                raise InputError(
                    f"cannot force '{key}' to '{option}': its options are "
                    f"{', '.join(node.labels)}{did_you_mean(str(option), node.labels)}",
                    file=tree.source,
                    field=node.path,
                )
            indices[node.path] = node.labels.index(option)
            labels[node.path] = option
    return indices, labels


def evaluate(
    tree,
    *,
    draws: Mapping | None = None,
    n: int = 1000,
    seed=None,
    supplied=None,
    overrides=None,
    force: Mapping[str, str] | None = None,
) -> TreeResult:
    """Evaluate a decision tree over ``n`` draws of its parameters.

    Parameters
    ----------
    tree
        A :class:`~decision.tree.Tree` (or a path or mapping, read with ``load_tree``).
    draws
        Already-sampled parameter draws (name -> array, all of one length, which sets N).
        Missing numbers and expression parameters are filled in; ``n``, ``seed`` and
        ``supplied`` are then ignored, and ``overrides`` are applied on top of ``draws``.
    n, seed, supplied, overrides
        Passed to :meth:`Tree.sample_parameters` when ``draws`` is not given.
    force
        Decision node name (every node with that name) or full node path -> option: the
        decision takes that option (a committed strategy, like TreeAge's "force path").

    Returns
    -------
    TreeResult

    Raises
    ------
    InputError
        For invalid probabilities or payoffs in any draw, unknown names, or bad arguments.
    """
    if not isinstance(tree, Tree):
        tree = load_tree(tree)
    if draws is not None:
        parameters = tree.complete_draws(draws, overrides=overrides)
        seed = None
    else:
        parameters = tree.sample_parameters(n, seed=seed, supplied=supplied, overrides=overrides)
    n = next((len(v) for v in parameters.values()), n if draws is None else 1)
    env = {name: _operand(values) for name, values in parameters.items()}
    arithmetic = math_for(tree, env, n)
    forced, forced_labels = resolve_force(tree, force)
    main = RollbackPass(tree, env, n, arithmetic, forced=forced)
    try:
        informed, expected = main.run()
    except OutOfRange:  # payoffs too large for utility space: certainty equivalents instead
        arithmetic = math_for(tree, env, n, log_space=True)
        main = RollbackPass(tree, env, n, arithmetic, forced=forced)
        informed, expected = main.run()
    return TreeResult(
        tree=tree,
        parameters=parameters,
        env=env,
        n=n,
        seed=seed,
        arithmetic=arithmetic,
        forced=forced,
        forced_labels=forced_labels,
        main=main,
        root_informed=informed,
        root_expected=expected,
    )


class TreeResult:
    """What :func:`evaluate` found. Node paths name decision nodes (see docs/tree-format.md).

    Attributes
    ----------
    tree
        The evaluated :class:`~decision.tree.Tree`.
    parameters
        The parameter draws used (name -> array of N).
    n
        Number of draws N.
    seed
        The seed given, if any.
    expected
        Decision node path -> {option: value}: the expected value (certainty equivalent
        under an exponential utility) of each option *given the node is reached*, with the
        later decisions following ``policy``.
    policy
        Decision node path -> option chosen in expectation (or forced).
    optimal, value, options
        The root's chosen option, its value, and every root option's value
        (``expected[root]``); ``optimal`` is ``None`` when the root is a chance node.
    forced
        Node path -> forced option.
    """

    def __init__(
        self,
        *,
        tree,
        parameters,
        env,
        n,
        seed,
        arithmetic,
        forced,
        forced_labels,
        main,
        root_informed=None,
        root_expected=None,
    ):
        self.tree = tree
        self.parameters = parameters
        self.n = n
        self.seed = seed
        self.forced = dict(forced_labels)
        self._env = env
        self._math = arithmetic
        self._forced_indices = dict(forced)
        self._main = main
        # Root values per draw in the rollback's own terms (see RollbackPass.math); the
        # expected ones are computed on first use when the main pass left them out.
        self._informed_at_root = main.root_informed if root_informed is None else root_informed
        if root_expected is not None:
            self._expected_at_root = root_expected
        self._evpi: dict[str, float] = {}
        self._evpi_draws: dict[str, np.ndarray] = {}
        root = tree.root
        self.root_path = root.path
        self.expected = {
            path: dict(zip(node.labels, main.scores[path]))
            for path, node in tree.decision_nodes.items()
        }
        self.policy = {path: tree.nodes[path].labels[main.choice[path]] for path in self.expected}
        if root.kind == "decision":
            self.optimal = self.policy[root.path]
            self.options = dict(self.expected[root.path])
            self.value = self.options[self.optimal]
        else:
            self.optimal = None
            self.options = {}
            self.value = main.root_value

    # ------------------------------------------------------------------- descriptions

    @property
    def value_kind(self) -> str:
        """``"expected value"`` or ``"certainty equivalent"``."""
        return "expected value" if self._math.is_linear else "certainty equivalent"

    @cached_property
    def is_uncertain(self) -> bool:
        """True when some parameter differs between draws."""
        for values in self.parameters.values():
            if isinstance(values, np.ndarray) and values.strides and values.strides[0] == 0:
                continue
            if values.size and np.ptp(values) > 0:
                return True
        return False

    def __repr__(self) -> str:
        return (
            f"TreeResult({self.tree.name!r}, n={self.n}, optimal={self.optimal!r}, "
            f"{self.value_kind}={self.value:.6g})"
        )

    # -------------------------------------------------------------- per-draw values

    def _pass(self, **kwargs) -> RollbackPass:
        kwargs.setdefault("forced", self._forced_indices)
        rollback = RollbackPass(self.tree, self._env, self.n, self._math, **kwargs)
        rollback.run()
        return rollback

    @cached_property
    def _recorded(self) -> RollbackPass:
        return self._pass(record=True, policy=self._main.choice)

    @cached_property
    def _expected_root(self) -> tuple:
        """The root options' and the root's values per draw under ``policy`` (internal terms).

        The main pass has them unless it ran as a compiled program (many draws); then a
        second, lighter program computes them, every later decision taking its policy option.
        """
        main = self._main
        if main.root_expected is not None:
            return main.options_expected.get(self.root_path), main.root_expected
        if main.blockwise:
            return blockwise.policy_values(main)
        forced = dict(main.choice)
        forced.update(self._forced_indices)
        policy = self._pass(forced=forced)
        return policy.options_informed.get(self.root_path), policy.root_informed

    @cached_property
    def _expected_at_root(self):
        return self._expected_root[1]

    def _options(self, path: str, informed: bool) -> list:
        if path == self.root_path:
            return self._main.options_informed[path] if informed else self._expected_root[0]
        source = self._recorded
        return (source.options_informed if informed else source.options_expected)[path]

    @cached_property
    def _root_informed(self) -> np.ndarray | np.float64:
        """Root value per draw when every decision is taken knowing the parameters."""
        return self._math.report(self._informed_at_root)

    @cached_property
    def _root_expected(self) -> np.ndarray | np.float64:
        """Root value per draw under ``policy``."""
        return self._math.report(self._expected_at_root)

    def _data_array(self, path: str, informed: bool) -> xr.DataArray:
        import xarray as xr

        values = self._options(path, informed)
        data = np.column_stack([_full(self._math.report(v), self.n) for v in values])
        return xr.DataArray(
            data,
            dims=("draw", "option"),
            coords={"option": list(self.tree.nodes[path].labels)},
            attrs={"node": path, "units": self.tree.units or "", "value": self.value_kind},
        )

    @cached_property
    def option_values(self) -> Mapping[str, xr.DataArray]:
        """Decision node path -> DataArray ("draw", "option") of per-draw option values.

        Each option's value in each draw (conditional on reaching the node), with later
        decisions following ``policy`` (fixed across draws). Computed on first access.
        """
        return _LazyMapping(self.expected, lambda p: self._data_array(p, informed=False))

    @cached_property
    def informed_option_values(self) -> Mapping[str, xr.DataArray]:
        """As ``option_values`` but with later decisions taking the best option per draw."""
        return _LazyMapping(self.expected, lambda p: self._data_array(p, informed=True))

    @property
    def root_values_per_draw(self) -> xr.DataArray:
        """Per-draw values of the root options, (N, options): ``option_values[root]``.

        Their column means are ``options`` (linear utility). For EVPPI by regression, note
        that later decisions are held at ``policy``.
        """
        if self.tree.root.kind != "decision":
            raise InputError(
                "the root is a chance node: there are no root options",
                file=self.tree.source,
                field=self.root_path,
            )
        return self.option_values[self.root_path]

    def _policy_draws(self, path: str) -> np.ndarray:
        labels = np.asarray(self.tree.nodes[path].labels)
        if path in self._forced_indices:
            return np.full(self.n, labels[self._forced_indices[path]])
        return labels[self._best_per_draw(self._options(path, informed=True))]

    def _best_per_draw(self, values: list) -> np.ndarray:
        if all(np.ndim(v) == 0 for v in values):
            best = self._math.best_index(np.array([[float(v) for v in values]]))
            return np.full(self.n, int(best[0]))
        return self._math.best_index(np.column_stack([_full(v, self.n) for v in values]))

    @cached_property
    def policy_per_draw(self) -> Mapping[str, np.ndarray]:
        """Decision node path -> array of N option labels: the best option in each draw
        when the parameters are known (later decisions also chosen per draw).
        """
        return _LazyMapping(self.expected, self._policy_draws)

    @cached_property
    def probability_optimal(self) -> dict[str, float]:
        """Root option -> share of draws in which it is best (informed rollback).

        A force on the root itself is ignored here: this compares the options' values.
        """
        if self.tree.root.kind != "decision":
            return {}
        best = self._best_per_draw(self._options(self.root_path, informed=True))
        counts = np.bincount(best, minlength=len(self.tree.root.branches))
        return {label: float(c) / self.n for label, c in zip(self.tree.root.labels, counts)}

    # --------------------------------------------------------------- display values

    @cached_property
    def _tracked(self) -> RollbackPass:
        return self._pass(track=True, policy=self._main.choice)

    @property
    def node_values(self) -> dict[str, float]:
        """Decision and chance node path -> rolled-back value from the node on (payoffs
        before it not counted), given the node is reached, following ``policy``.
        """
        return self._tracked.node_values

    @property
    def node_totals(self) -> dict[str, float]:
        """Node path (terminal nodes too) -> value of the whole path through the node:
        payoffs before it included, as drawn by ``draw_tree``.
        """
        return self._tracked.node_totals

    @property
    def reach_probabilities(self) -> dict[str, float]:
        """Node path -> mean probability of reaching the node if the decisions above lead
        to it.
        """
        return self._tracked.reach

    @property
    def branch_probabilities(self) -> dict[str, float]:
        """Outcome branch path -> mean probability across draws, each draw weighted by its
        chance of reaching the chance node.
        """
        return self._tracked.branch_probability

    @property
    def branch_payoffs(self) -> dict[str, float]:
        """Branch path -> mean (combined) payoff across draws, each draw weighted by its
        chance of taking the branch.
        """
        return self._tracked.branch_payoff

    # ---------------------------------------------------------------------- EVPI

    def _check_uncertainty(self, name: str) -> None:
        if name not in self.tree.uncertainties:
            known = ", ".join(self.tree.uncertainties) or "none"
            raise InputError(
                f"unknown uncertainty '{name}'{did_you_mean(name, self.tree.uncertainties)}"
                f"; the tree's uncertainties: {known}",
                file=self.tree.source,
                field=f"evpi.{name}",
            )

    def _with_information(self, name: str) -> None:
        self._check_uncertainty(name)
        labels = self.tree.uncertainty_instances(name)[0].labels
        masses, beliefs, informed = [], [], []
        for label in labels:
            rollback = RollbackPass(
                self.tree,
                self._env,
                self.n,
                self._math,
                forced=self._forced_indices,
                condition=(name, label),
            )
            belief = rollback.prepare_condition()
            weight = self._math.initial(belief)
            vi, ve = rollback.run(weight)
            masses.append(self._math.mass(weight, ve))
            beliefs.append(belief)
            informed.append(vi)
        self._evpi[name] = _clip_rounding(self._math.from_masses(masses) - self.value, self.value)
        per_draw = self._math.combine(beliefs, [None] * len(labels), informed)
        self._evpi_draws[name] = _full(self._math.report(per_draw) - self._root_informed, self.n)

    def evpi(self, name: str) -> float:
        """Expected value of perfect information about the uncertainty ``name``.

        The outcome of every chance node marked ``uncertainty: name`` is revealed before the
        first decision; the decision maker still does not know the parameters. With
        parameter draws: ``sum_k max_policy E[P_k V_policy^k] - value``, where ``V^k`` is the
        tree conditioned on outcome ``k`` (chance nodes above its instances re-weighted by
        Bayes' rule). Under an exponential utility this is a difference of certainty
        equivalents, which for that utility is exactly the most one would pay.
        """
        if name not in self._evpi:
            self._with_information(name)
        return self._evpi[name]

    def evpi_per_draw(self, name: str) -> np.ndarray:
        """EVPI of ``name`` in each draw as if the parameters were known (informed rollback);
        its distribution shows how parameter uncertainty moves the value of information.
        """
        if name not in self._evpi_draws:
            self._with_information(name)
        return self._evpi_draws[name]

    def evpi_all(self) -> dict[str, float]:
        """EVPI of every named uncertainty."""
        return {name: self.evpi(name) for name in self.tree.uncertainties}

    def evpi_parameters(self) -> float:
        """EVPI of all parameter uncertainty: ``E[V*(theta)] - value``.

        ``V*(theta)`` is the root value when the parameters are known before the first
        decision, so every decision, later ones included, is taken per draw; ``value`` is the
        best policy fixed across draws. For a single root decision this is
        ``E[max_a V_a] - max_a E[V_a]``. Zero when nothing is uncertain.
        """
        average = self._math.average(self._informed_at_root)
        return _clip_rounding(average - self.value, self.value)

    # ---------------------------------------------------------------------- output

    def to_dict(self, *, evpi: Iterable[str] | None = None) -> dict:
        """A JSON-ready summary.

        Keys: ``name``, ``units``, ``utility``, ``value_kind``, ``draws``, ``seed``,
        ``optimal``, ``value``, ``options``, ``policy``, ``expected``, ``evpi`` (for the
        names in ``evpi``, else for those already computed), and when parameters are
        uncertain ``probability_optimal`` and ``evpi_parameters``; ``forced`` when forced.
        """
        names = list(self._evpi) if evpi is None else list(evpi)
        utility = self.tree.utility.to_dict()
        if not self._math.is_linear:
            utility["risk_tolerance"] = self._math.R
        out = {
            "name": self.tree.name,
            "units": self.tree.units,
            "utility": utility,
            "value_kind": self.value_kind,
            "draws": self.n,
            "seed": self.seed,
            "optimal": self.optimal,
            "value": self.value,
            "options": dict(self.options),
            "policy": dict(self.policy),
            "expected": {p: dict(v) for p, v in self.expected.items()},
            "evpi": {name: self.evpi(name) for name in names},
        }
        if self.forced:
            out["forced"] = dict(self.forced)
        if self.is_uncertain:
            out["probability_optimal"] = self.probability_optimal
            out["evpi_parameters"] = self.evpi_parameters()
        return out


def _clip_rounding(difference: float, scale: float) -> float:
    """Turn a rounding-level negative difference (e.g. -1e-13) into 0."""
    if -1e-9 * max(1.0, abs(scale)) < difference < 0:
        return 0.0
    return float(difference)
