"""Draw a rolled-back tree with graphviz: probabilities, payoffs, values, optimal path."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import graphviz

from decision.core.atomic import atomic_write_bytes
from decision.core.errors import DecisionError, InputError
from decision.tree.evaluation import TreeResult, evaluate
from decision.tree.expressions import Expression
from decision.tree.model import Node, Tree

__all__ = ["draw_tree", "FORMATS"]

#: Output formats chosen by file suffix (``dot``/``gv`` write the graphviz source).
FORMATS = ("svg", "png", "pdf", "dot", "gv")

_OPTIMAL = "#b03a2e"
_OTHER = "#7f7f7f"
_FILL = {"decision": "#d6e4f0", "chance": "#e2efda", "terminal": "#f2f2f2"}
_SHAPE = {"decision": "box", "chance": "ellipse", "terminal": "triangle"}


def _fmt(x: float) -> str:
    if abs(x) >= 1e5:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:,.1f}".removesuffix(".0")
    return f"{x:.4g}"


def _text(s: str) -> str:
    """User text with backslashes made literal."""
    return str(s).replace("\\", "\\\\")


def _label(*lines: str) -> str:
    return graphviz.nohtml("\\n".join(line for line in lines if line))


def _quantity(expr: Expression | None, mean: float | None, symbol: str) -> str:
    if mean is None or expr is None:
        return ""
    if expr.constant is not None or len(expr.text) > 24:
        return f"{symbol}{_fmt(mean)}"
    return f"{_text(expr.text)} = {_fmt(mean)}"


def _payoff(branch, mean: float | None) -> str:
    payoff = branch.payoff
    if payoff is None or mean is None:
        return ""
    if isinstance(payoff, Expression):
        if payoff.constant is not None:
            return f"{payoff.constant:+,.6g}"
        return _quantity(payoff, mean, "payoff ")
    parts = ", ".join(f"{_text(k)} {_text(v.text)}" for k, v in payoff.items())
    return f"{parts} (= {_fmt(mean)})" if len(parts) <= 32 else f"payoff {_fmt(mean)}"


def build_graph(result: TreeResult, *, collapse: bool = False) -> graphviz.Digraph:
    """The :class:`graphviz.Digraph` of an evaluated tree.

    With ``collapse``, an option not chosen at a decision below the root is drawn as one box
    with its value instead of its whole subtree (the root's options are always drawn).
    """
    tree: Tree = result.tree
    values = result.node_totals
    reach = result.reach_probabilities
    probabilities = result.branch_probabilities
    payoffs = result.branch_payoffs
    short = "EV" if result.value_kind == "expected value" else "CE"
    units = f" ({tree.units})" if tree.units else ""
    title = (
        f"{_text(tree.name)}{_text(units)}: {short} {_fmt(result.value)}"
        + (f", choose {_text(result.optimal)}" if result.optimal is not None else "")
        + f"\\lNode values: {result.value_kind}s of the whole path (payoffs before the node "
        "included); red: the optimal policy\\l"
    )
    if result.n > 1 and result.is_uncertain:
        title += f"Means over {result.n} parameter draws\\l"
    graph = graphviz.Digraph(
        name=tree.name,
        graph_attr={
            "rankdir": "LR",
            "label": graphviz.nohtml(title),
            "labelloc": "t",
            "labeljust": "l",
            "fontname": "Helvetica",
            "fontsize": "12",
            "nodesep": "0.25",
            "ranksep": "0.5",
        },
        node_attr={"fontname": "Helvetica", "fontsize": "10", "style": "filled"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9"},
    )
    ids: dict[str, str] = {}

    def stub(node: Node) -> str:
        ident = f"n{len(ids)}"
        ids[node.path] = ident
        value = values.get(node.path)
        graph.node(
            ident,
            _label(
                _text(node.name) if node.name else "",
                "(collapsed)",
                f"{short} {_fmt(value)}" if value is not None else "",
            ),
            shape="box",
            style="dashed",
            color=_OTHER,
        )
        return ident

    def add(node: Node, on_path: bool) -> str:
        ident = f"n{len(ids)}"
        ids[node.path] = ident
        value = values.get(node.path)
        if node.kind == "terminal":
            lines = [
                _text(node.name) if node.name else "",
                _fmt(value) if value is not None else "",
                f"P = {_fmt(reach[node.path])}" if node.path in reach else "",
            ]
        else:
            lines = [_text(node.name), f"{short} {_fmt(value)}" if value is not None else ""]
            if node.uncertainty:
                lines.append(f"[{_text(node.uncertainty)}]")
        attributes = {
            "shape": _SHAPE[node.kind],
            "fillcolor": _FILL[node.kind],
            "color": _OPTIMAL if on_path else "black",
            "penwidth": "2" if on_path else "1",
        }
        if node.kind == "terminal":
            attributes.update(orientation="90", fixedsize="false", margin="0.02")
        graph.node(ident, _label(*lines), **attributes)
        chosen = result.policy.get(node.path)
        for branch in node.branches:
            follows = on_path and (node.kind != "decision" or branch.label == chosen)
            hide = (
                collapse
                and node.kind == "decision"
                and node is not tree.root
                and branch.label != chosen
                and branch.node.kind != "terminal"
            )
            child = stub(branch.node) if hide else add(branch.node, follows)
            lines = [
                _text(branch.label),
                _quantity(branch.probability, probabilities.get(branch.path), "p = "),
                _payoff(branch, payoffs.get(branch.path)),
            ]
            edge = {
                "color": _OPTIMAL if follows else _OTHER,
                "fontcolor": _OPTIMAL if follows else "black",
                "penwidth": "2.2" if follows else "1",
            }
            if node.kind == "decision" and branch.label != chosen:
                edge["style"] = "dashed"
            if node.kind == "decision" and branch.label == chosen:
                lines[0] += " \u2713"
            graph.edge(ids[node.path], child, label=_label(*lines), **edge)
        return ident

    add(tree.root, True)
    return graph


def draw_tree(
    tree_or_result,
    path: str | os.PathLike | None = None,
    *,
    format: str | None = None,
    collapse: bool = False,
    **evaluate_options,
) -> graphviz.Digraph:
    """Draw a tree: values rolled back, probabilities, payoffs, the optimal path in red.

    Parameters
    ----------
    tree_or_result
        A :class:`~decision.tree.TreeResult`, or a tree (``Tree``, path or mapping) that is
        evaluated first with ``evaluate_options`` (e.g. ``n=``, ``seed=``, ``force=``).
    path
        When given, the drawing is written there (atomically), in the format named by its
        suffix: ``.svg``, ``.png``, ``.pdf``, or ``.dot``/``.gv`` for graphviz source.
    format
        Overrides the format taken from the suffix.
    collapse
        Draw options not chosen at decisions below the root as single boxes.

    Returns
    -------
    graphviz.Digraph
        Displays itself in Jupyter.
    """
    if isinstance(tree_or_result, TreeResult):
        if evaluate_options:
            raise InputError(
                "evaluate options are for a tree, not a TreeResult: " + ", ".join(evaluate_options)
            )
        result = tree_or_result
    else:
        result = evaluate(tree_or_result, **evaluate_options)
    graph = build_graph(result, collapse=collapse)
    if path is not None:
        path = Path(path)
        fmt = (format or path.suffix.lstrip(".")).lower()
        if fmt not in FORMATS:
            raise InputError(
                f"cannot draw to format {fmt!r}; use one of " + ", ".join(FORMATS), file=path
            )
        if fmt in ("dot", "gv"):
            data = graph.source.encode("utf-8")
        else:
            try:
                data = graph.pipe(format=fmt)
            except graphviz.ExecutableNotFound:
                raise DecisionError(
                    "graphviz 'dot' is not installed; install graphviz "
                    "(e.g. apt-get install graphviz) to draw trees"
                ) from None
            except (subprocess.CalledProcessError, graphviz.backend.ExecutableNotFound) as exc:
                raise DecisionError(f"graphviz failed to draw {path}: {exc}") from None
        atomic_write_bytes(path, data)
    return graph
