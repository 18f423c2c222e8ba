"""Decision trees: a YAML file format, vectorized rollback, utilities, EVPI, diagrams.

See docs/tree-format.md for the file format, node paths and the definitions used.
"""

from pathlib import Path

from decision.tree.attributes import value_by_attribute
from decision.tree.diagram import draw_tree
from decision.tree.evaluation import TreeResult, evaluate
from decision.tree.loading import load_tree
from decision.tree.model import Attribute, Branch, Node, Tree, Utility
from decision.tree.parameters import (
    DistributionParameter,
    ExpressionParameter,
    FixedParameter,
    Parameter,
    SuppliedParameter,
)

__all__ = [
    "load_tree",
    "evaluate",
    "value_by_attribute",
    "draw_tree",
    "Tree",
    "TreeResult",
    "Node",
    "Branch",
    "Utility",
    "Attribute",
    "Parameter",
    "FixedParameter",
    "DistributionParameter",
    "SuppliedParameter",
    "ExpressionParameter",
    "example_path",
    "list_examples",
]


def list_examples() -> list[str]:
    """Names of the example trees shipped with the package."""
    from importlib.resources import files

    return sorted(
        p.name[:-5]
        for p in files("decision.tree").joinpath("examples").iterdir()
        if p.name.endswith(".yaml")
    )


def example_path(name: str) -> Path:
    """Path of the example tree ``name`` (see :func:`list_examples`)."""
    from importlib.resources import files

    from decision.core.errors import InputError
    from decision.core.suggest import did_you_mean

    names = list_examples()
    if name not in names:
        raise InputError(
            f"no example tree '{name}'{did_you_mean(name, names)}; examples: " + ", ".join(names)
        )
    return Path(str(files("decision.tree").joinpath("examples", f"{name}.yaml")))
