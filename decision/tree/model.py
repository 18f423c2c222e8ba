"""The parsed tree: nodes, branches, utility, attributes, and the :class:`Tree` itself."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from decision.tree.expressions import Expression
from decision.tree.parameters import Parameter, complete_draws, sample_parameters

__all__ = ["Node", "Branch", "Tree", "Utility", "Attribute", "PATH_SEPARATOR"]

#: Joins node names and branch labels in node paths, e.g. ``"Drill or sell/drill/Oil"``.
PATH_SEPARATOR = "/"


@dataclass(frozen=True, eq=False)
class Branch:
    """An option of a decision or an outcome of a chance node.

    Attributes
    ----------
    label
        The option or outcome name (its key in the file).
    path
        ``<parent node path>/<label>``.
    node
        The node it leads to (a terminal node when nothing follows).
    probability
        The outcome's probability (``None`` for options).
    payoff
        An expression, a mapping of attribute name to expression, or ``None``.
    description
        Free text, if given.
    """

    label: str
    path: str
    node: Node
    probability: Expression | None = None
    payoff: Expression | Mapping[str, Expression] | None = None
    description: str | None = None


@dataclass(frozen=True, eq=False)
class Node:
    """A decision, chance or terminal node.

    Attributes
    ----------
    kind
        ``"decision"``, ``"chance"`` or ``"terminal"``.
    name
        The node's name (``None`` for an unnamed terminal node).
    path
        Where the node is: the root's name, then for each step down the branch label and
        the node name, joined by ``/``. A terminal node's path is its branch's path.
    branches
        Options (decision) or outcomes (chance); empty for a terminal node.
    uncertainty
        For a chance node, the named uncertain event it is an instance of, if any.
    contains_decision
        True when a decision node lies at or below this node.
    """

    kind: str
    name: str | None
    path: str
    branches: tuple[Branch, ...] = ()
    uncertainty: str | None = None
    description: str | None = None
    contains_decision: bool = False

    @property
    def labels(self) -> tuple[str, ...]:
        """The option or outcome labels, in file order."""
        return tuple(b.label for b in self.branches)

    def walk(self) -> Iterator[Node]:
        """Yield the node and every node below it, depth first, in file order."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(b.node for b in reversed(node.branches))


@dataclass(frozen=True)
class Utility:
    """The decision maker's utility over (combined) payoffs.

    ``linear``: values are expected values. ``exponential``: ``u(x) = 1 - exp(-x / R)`` with
    risk tolerance ``R`` (> 0, in payoff units); values are certainty equivalents
    ``CE = -R ln(1 - EU)``.
    """

    type: str = "linear"
    risk_tolerance: Expression | None = None

    @property
    def is_linear(self) -> bool:
        """Whether the utility is linear (values are expected values)."""
        return self.type == "linear"

    def to_dict(self) -> dict:
        """Return the utility as a JSON-ready dict (the risk tolerance as a number or text)."""
        out = {"type": self.type}
        if self.risk_tolerance is not None:
            rt = self.risk_tolerance
            out["risk_tolerance"] = rt.constant if rt.constant is not None else rt.text
        return out


@dataclass(frozen=True)
class Attribute:
    """One attribute of a multi-attribute payoff.

    The combined payoff of a path is ``sum_a weight_a * (x_a - worst_a) / (best_a - worst_a)``
    where ``x_a`` is the attribute's total along the path, or ``sum_a weight_a * x_a`` when
    the attribute has no ``scale``.
    """

    name: str
    weight: Expression
    scale: tuple[float, float] | None = None
    units: str | None = None
    description: str | None = None


@dataclass(frozen=True, eq=False)
class Tree:
    """A decision tree read from a file or a mapping (see :func:`decision.tree.load_tree`).

    Attributes
    ----------
    name, units, description
        From the file.
    parameters
        Parameter name -> spec (:class:`~decision.tree.parameters.Parameter`), in file order.
    root
        The root :class:`Node`.
    utility
        The :class:`Utility`.
    attributes
        Attribute name -> :class:`Attribute` (empty for single-attribute payoffs).
    uncertainties
        Names of the uncertain events (``uncertainty:`` on chance nodes), in file order.
    decision_names
        Names of the decision nodes, each once, in file order.
    nodes
        Node path -> :class:`Node`, every node.
    source
        The file read, if any.
    """

    name: str
    units: str | None
    description: str | None
    parameters: Mapping[str, Parameter]
    root: Node
    utility: Utility = field(default_factory=Utility)
    attributes: Mapping[str, Attribute] = field(default_factory=dict)
    uncertainties: tuple[str, ...] = ()
    decision_names: tuple[str, ...] = ()
    nodes: Mapping[str, Node] = field(default_factory=dict)
    source: Path | None = None

    @property
    def decision_nodes(self) -> dict[str, Node]:
        """Decision node path -> node."""
        return {p: n for p, n in self.nodes.items() if n.kind == "decision"}

    @property
    def is_uncertain(self) -> bool:
        """True when some parameter is a distribution or supplied draws."""
        return any(p.is_uncertain for p in self.parameters.values())

    def uncertainty_instances(self, name: str) -> list[Node]:
        """Return the chance nodes that are instances of the uncertain event ``name``."""
        return [n for n in self.nodes.values() if n.uncertainty == name]

    def sample_parameters(
        self, n: int, *, seed=None, supplied=None, overrides=None
    ) -> dict[str, np.ndarray]:
        """Draw ``n`` values of every parameter.

        Parameters
        ----------
        n
            Number of draws.
        seed
            Seed (int) for the random draws; each parameter gets its own stream derived from
            the seed and its name, so adding a parameter leaves the others' draws unchanged.
        supplied
            Parameter name -> draws for parameters declared ``supplied: true``. An array of
            length ``n`` is used as is, in order; any other length is resampled with
            replacement to length ``n``, with one set of indices shared by all supplied arrays
            of the same length (draws of one posterior stay together). A 2-D array is read as
            (chain, draw) and flattened.
        overrides
            Parameter name -> number or length-``n`` array that replaces the parameter,
            whatever its kind; expressions that read it use the override.

        Returns
        -------
        dict
            Name -> array of shape ``(n,)``, in file order, expression parameters included.
            Parameters that are the same in every draw are read-only broadcast views.
        """
        return sample_parameters(
            self.parameters, n, seed=seed, supplied=supplied, overrides=overrides, file=self.source
        )

    def complete_draws(self, draws: Mapping, *, overrides=None) -> dict[str, np.ndarray]:
        """Complete already-sampled ``draws`` (name -> array, all one length).

        Fixed numbers and expression parameters missing from ``draws`` are filled in;
        ``overrides`` replace any parameter on top of ``draws``.
        """
        return complete_draws(self.parameters, draws, overrides=overrides, file=self.source)

    def __repr__(self) -> str:
        """Show the tree's name, its size and its utility."""
        return (
            f"Tree({self.name!r}, {len(self.nodes)} nodes, "
            f"{len(self.parameters)} parameters, utility={self.utility.type})"
        )
