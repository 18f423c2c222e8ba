"""Draw a rolled-back tree with graphviz: probabilities, payoffs, values, optimal path.

Two views of one :class:`~decision.tree.TreeResult`, both with the optimal policy in red:

``view="full"``
    Every node. A subtree identical to one already drawn (same node types, names, branch
    labels, probability and payoff expressions, and the same options chosen at its decisions)
    is drawn once, tagged "subtree A"; each later copy is a single box "same as subtree A"
    with its own rolled-back value. Identical expressions and choices give the same value in
    every parameter draw; the means shown can still differ slightly because each copy's
    mean weights the draws by the chance of reaching that copy.
``view="compact"``
    The root decision with each option's value and probability of being best, and the
    optimal path expanded down to every later decision with the option chosen there (the
    contingent plan). Everything else is one collapsed box with its rolled-back value. A
    later decision's box names the option chosen and the best of the others with its value
    (when the chosen option leads to further decisions, it is drawn as an edge instead and
    the others are one box).

``max_depth`` collapses everything below a depth in either view, and ``rankdir="auto"``
lays the tree out left to right unless top to bottom is narrower and left to right does not
fit a page (``PAGE_WIDTH_PT``).
"""

from __future__ import annotations

import os
import re
import subprocess
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import graphviz

from decision.core.atomic import atomic_write_bytes
from decision.core.errors import DecisionError, InputError
from decision.core.suggest import did_you_mean
from decision.tree.evaluation import TreeResult, evaluate
from decision.tree.expressions import Expression
from decision.tree.model import Branch, Node, Tree

__all__ = [
    "FORMATS",
    "PAGE_WIDTH_PT",
    "RANKDIRS",
    "ROOT_ID",
    "SAME_AS_MIN_NODES",
    "VIEWS",
    "build_graph",
    "draw_tree",
    "identical_subtrees",
]

#: Output formats chosen by file suffix (``dot``/``gv`` write the graphviz source).
FORMATS = ("svg", "png", "pdf", "dot", "gv")
#: What to draw: every node, or the compact view of the optimal path and the plan.
VIEWS = ("full", "compact")
#: Layout directions: left to right, top to bottom, or the one that fits a page better.
RANKDIRS = ("LR", "TB", "auto")
#: A page's width in points (about 1150 px): wider left-to-right layouts try top to bottom.
PAGE_WIDTH_PT = 860.0
#: Smallest subtree (in nodes of the tree) worth replacing by a "same as" reference...
SAME_AS_MIN_NODES = 5
#: ... and the fewest boxes it must take once drawn (the compact view draws less of it).
SAME_AS_MIN_DRAWN = 3
#: The SVG element id of the root node ("same as" boxes link to their subtree's node id).
ROOT_ID = "root"

_OPTIMAL = "#b03a2e"
_OTHER = "#7f7f7f"
_FILL = {"decision": "#d6e4f0", "chance": "#e2efda", "terminal": "#f2f2f2"}
_SHAPE = {"decision": "box", "chance": "ellipse", "terminal": "triangle"}
_HIGHLIGHT_FILL = "#fff2cc"


@dataclass(frozen=True)
class _Style:
    node_pt: int  # font sizes in points
    edge_pt: int
    title_pt: int
    wrap: int  # characters per line of a node or edge label
    title_wrap: int
    nodesep: str
    ranksep: str


_STYLES = {
    "full": _Style(10, 9, 11, 24, 100, "0.25", "0.5"),
    "compact": _Style(13, 12, 13, 20, 64, "0.3", "0.45"),
}


def _fmt(x: float) -> str:
    if abs(x) >= 1e5:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:,.1f}".removesuffix(".0")
    return f"{x:.4g}"


def _text(s: str) -> str:
    """User text with backslashes made literal."""
    return str(s).replace("\\", "\\\\")


def _wrap(s: str | None, width: int) -> list[str]:
    """Split user text into lines of at most ``width`` characters (words kept whole)."""
    if not s:
        return []
    lines = textwrap.wrap(str(s), width, break_long_words=False, break_on_hyphens=False)
    return [_text(line) for line in lines] or [_text(s)]


def _label(*lines: str) -> str:
    return graphviz.nohtml("\\n".join(line for line in lines if line))


def _quantity(expr: Expression | None, mean: float | None, symbol: str) -> str:
    if mean is None or expr is None:
        return ""
    if expr.constant is not None or len(expr.text) > 24:
        return f"{symbol}{_fmt(mean)}"
    return f"{_text(expr.text)} = {_fmt(mean)}"


def _payoff(branch: Branch, mean: float | None) -> str:
    payoff = branch.payoff
    if payoff is None or mean is None:
        return ""
    if isinstance(payoff, Expression):
        if payoff.constant is not None:
            return f"{payoff.constant:+,.6g}"
        return _quantity(payoff, mean, "payoff ")
    parts = ", ".join(f"{_text(k)} {_text(v.text)}" for k, v in payoff.items())
    return f"{parts} (= {_fmt(mean)})" if len(parts) <= 32 else f"payoff {_fmt(mean)}"


# ------------------------------------------------------------------- identical subtrees


class _Shapes:
    """Structural identity of subtrees: one integer per distinct shape, and subtree sizes.

    Two subtrees share an identity when their nodes have the same kinds, names and
    uncertainty names, their branches the same labels and the same probability and payoff
    expressions (canonical form), and their decisions the same chosen options.
    """

    def __init__(self, result: TreeResult):
        self.policy = result.policy
        self._ids: dict[tuple, int] = {}
        self._shape: dict[int, int] = {}
        self._size: dict[int, int] = {}

    @staticmethod
    def _payoff_key(payoff) -> tuple:
        if payoff is None:
            return ()
        if isinstance(payoff, Expression):
            return (payoff.key,)
        return tuple((name, expr.key) for name, expr in payoff.items())

    def shape(self, node: Node) -> int:
        """Return the identity of the subtree under ``node`` (itself included)."""
        found = self._shape.get(id(node))
        if found is not None:
            return found
        branches = tuple(
            (
                b.label,
                b.probability.key if b.probability is not None else None,
                self._payoff_key(b.payoff),
                self.shape(b.node),
            )
            for b in node.branches
        )
        key = (node.kind, node.name, node.uncertainty, self.policy.get(node.path), branches)
        ident = self._ids.setdefault(key, len(self._ids))
        self._shape[id(node)] = ident
        self._size[id(node)] = 1 + sum(self.size(b.node) for b in node.branches)
        return ident

    def size(self, node: Node) -> int:
        """Return the number of nodes in the subtree under ``node`` (itself included)."""
        if id(node) not in self._size:
            self.shape(node)
        return self._size[id(node)]


def identical_subtrees(result: TreeResult, *, min_nodes: int = SAME_AS_MIN_NODES) -> dict[str, str]:
    """Subtrees that repeat one met earlier, as the full view draws them.

    Parameters
    ----------
    result
        An evaluated tree.
    min_nodes
        Only subtrees of at least this many nodes count.

    Returns
    -------
    dict
        Node path of each later copy -> node path of the first (depth first, in file order).
        Copies inside a copy are not listed: the outer copy stands for them.
    """
    shapes = _Shapes(result)
    first: dict[int, str] = {}
    copies: dict[str, str] = {}
    stack = [result.tree.root]
    while stack:
        node = stack.pop()
        if node.branches and shapes.size(node) >= min_nodes:
            shape = shapes.shape(node)
            if shape in first:
                copies[node.path] = first[shape]
                continue
            first[shape] = node.path
        stack.extend(b.node for b in reversed(node.branches))
    return copies


# ------------------------------------------------------------------------ the plan


@dataclass(eq=False)
class _Item:
    """How one node is drawn.

    ``mode`` is ``expand`` (with its branches), ``leaf`` (a terminal node), ``stub`` (one
    collapsed box with its value) or ``same`` (a reference to a copy drawn before). In the
    compact view, ``others`` are the options not chosen at a decision below
    the root, and ``folded`` the chosen one when nothing after it is drawn: both are then
    written in the decision's box.
    """

    node: Node
    mode: str
    on_path: bool
    ancestry: tuple[tuple[Node, Branch], ...]
    children: list[tuple[Branch, _Item]] = field(default_factory=list)
    others: list[Branch] = field(default_factory=list)
    original: _Item | None = None
    tag: str | None = None
    folded: Branch | None = None
    ident: str | None = None  # the drawn node's id, once drawn


class _Planner:
    def __init__(
        self,
        result: TreeResult,
        *,
        view: str,
        collapse: bool,
        max_depth: int | None,
        highlight: frozenset[str],
        same_as: bool,
    ):
        self.result = result
        self.root = result.tree.root
        self.view = view
        self.collapse = collapse
        self.max_depth = max_depth
        self.highlight = highlight
        self.shapes = _Shapes(result) if same_as else None
        self.drawn: dict[int, _Item] = {}

    def _shape(self, node: Node) -> int | None:
        if self.shapes is None or self.shapes.size(node) < SAME_AS_MIN_NODES:
            return None
        return self.shapes.shape(node)

    def _collapsed_by_view(self, node: Node, on_path: bool) -> bool:
        if self.view != "compact" or node is self.root:
            return False
        return not (on_path and (node.contains_decision or node.name in self.highlight))

    def plan(self, node: Node, on_path: bool, ancestry=(), *, stub: bool = False) -> _Item:
        if node.kind == "terminal":
            return _Item(node, "leaf", on_path, ancestry)
        deep = self.max_depth is not None and len(ancestry) >= self.max_depth
        if stub or deep or self._collapsed_by_view(node, on_path):
            return _Item(node, "stub", on_path, ancestry)
        shape = self._shape(node)
        if shape is not None and shape in self.drawn:
            item = self._expand(node, on_path, ancestry)
            if _drawn_size(item) < SAME_AS_MIN_DRAWN:
                return item  # a reference would save nothing
            return _Item(node, "same", on_path, ancestry, original=self.drawn[shape])
        item = self._expand(node, on_path, ancestry)
        if shape is not None:
            self.drawn[shape] = item
        return item

    def _expand(self, node: Node, on_path: bool, ancestry) -> _Item:
        item = _Item(node, "expand", on_path, ancestry)
        chosen = self.result.policy.get(node.path)
        later_decision = node.kind == "decision" and node is not self.root
        if later_decision and self.view == "compact":
            item.others = [b for b in node.branches if b.label != chosen]
        for branch in node.branches:
            follows = on_path and (node.kind != "decision" or branch.label == chosen)
            not_chosen = later_decision and branch.label != chosen
            if not_chosen and self.view == "compact":
                continue
            child = self.plan(
                branch.node,
                follows,
                (*ancestry, (node, branch)),
                stub=not_chosen and self.collapse,
            )
            if later_decision and self.view == "compact" and child.mode != "expand":
                item.folded = branch  # the plan is written in the decision's own box
                continue
            item.children.append((branch, child))
        return item


def _drawn_size(item: _Item) -> int:
    """Count the boxes drawn for ``item`` and everything under it."""
    return sum(1 + (bool(i.others) and i.folded is None) for i in _walk(item))


def _tag(number: int) -> str:
    """Name the ``number``-th shared subtree: A, B, ..., Z, AA, AB, ..."""
    letters = ""
    number += 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _walk(item: _Item) -> Iterable[_Item]:
    stack = [item]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(child for _, child in reversed(current.children))


def _where(original: _Item, copy: _Item) -> str:
    """Say where the original is, from where the two paths part: ``"X = a, Y = b"``."""
    common = 0
    for (node_a, branch_a), (node_b, branch_b) in zip(
        original.ancestry, copy.ancestry, strict=False
    ):
        if node_a is not node_b or branch_a is not branch_b:
            break
        common += 1
    steps = original.ancestry[common:]
    return ", ".join(f"{node.name} = {branch.label}" for node, branch in steps)


# ------------------------------------------------------------------------ drawing


class _Drawer:
    def __init__(self, result: TreeResult, view: str, highlight: frozenset[str]):
        self.result = result
        self.view = view
        self.style = _STYLES[view]
        self.highlight = highlight
        self.values = result.node_totals
        self.short = "EV" if result.value_kind == "expected value" else "CE"
        self.count = 0
        self.graph: graphviz.Digraph | None = None

    def _new_id(self) -> str:
        self.count += 1
        return ROOT_ID if self.count == 1 else f"n{self.count}"

    def _value(self, node: Node) -> str:
        value = self.values.get(node.path)
        return f"{self.short} {_fmt(value)}" if value is not None else ""

    def title(self, tags: bool) -> str:
        result, tree = self.result, self.result.tree
        units = f" ({tree.units})" if tree.units else ""
        head = f"{tree.name}{units}: {self.short} {_fmt(result.value)}"
        if result.optimal is not None:
            head += f", choose {result.optimal}"
        paragraphs = [head]
        if self.view == "compact":
            paragraphs.append(
                "Compact view: the optimal path in red down to every later decision and the "
                "option chosen there; other branches collapsed with their "
                f"{result.value_kind}s (of the whole path)."
            )
        else:
            paragraphs.append(
                f"Node values: {result.value_kind}s of the whole path (payoffs before the "
                "node included); red: the optimal policy."
            )
        if tags:
            paragraphs.append(
                "A subtree met again (same expressions and choices) is drawn once; its "
                "copies are boxes 'same as subtree A' with their own value."
            )
        if result.n > 1 and result.is_uncertain:
            paragraphs.append(f"Means over {result.n} parameter draws.")
        lines = [
            line for p in paragraphs for line in _wrap(p, self.style.title_wrap)
        ]  # _wrap escaped the backslashes
        return "".join(f"{line}\\l" for line in lines)

    def draw(self, plan: _Item, tags: bool, rankdir: str) -> graphviz.Digraph:
        style = self.style
        self.graph = graphviz.Digraph(
            name=self.result.tree.name,
            graph_attr={
                "rankdir": rankdir,
                "label": graphviz.nohtml(self.title(tags)),
                "labelloc": "t",
                "labeljust": "l",
                "fontname": "Helvetica",
                "fontsize": str(style.title_pt),
                "nodesep": style.nodesep,
                "ranksep": style.ranksep,
            },
            node_attr={"fontname": "Helvetica", "fontsize": str(style.node_pt), "style": "filled"},
            edge_attr={"fontname": "Helvetica", "fontsize": str(style.edge_pt)},
        )
        self._item(plan)
        return self.graph

    def _name(self, node: Node) -> list[str]:
        return _wrap(node.name, self.style.wrap)

    def _item(self, item: _Item) -> str:
        ident = item.ident = self._new_id()
        node = item.node
        wrap = self.style.wrap
        marked = node.name in self.highlight
        if item.mode == "leaf":
            reach = self.result.reach_probabilities
            lines = [
                *self._name(node),
                _fmt(self.values[node.path]) if node.path in self.values else "",
                f"P = {_fmt(reach[node.path])}" if node.path in reach else "",
            ]
            if self.view == "compact":  # a small box: triangles need much room for text
                shape = {"shape": "box", "style": "rounded,filled"}
            else:
                shape = {"shape": "triangle", "orientation": "90", "margin": "0.02"}
            self.graph.node(
                ident,
                _label(*lines),
                id=ident,
                **shape,
                fillcolor=_HIGHLIGHT_FILL if marked else _FILL["terminal"],
                color=_OPTIMAL if item.on_path else "black",
                penwidth="2" if item.on_path else "1",
            )
            return ident
        if item.mode in ("stub", "same"):
            link = {}
            if item.mode == "stub":
                middle = ["(collapsed)"]
            else:
                middle = [f"same as subtree {item.original.tag}"]
                middle += _wrap(f"({_where(item.original, item)})", wrap)
                link = {
                    "href": f"#{item.original.ident}",
                    "tooltip": f"go to subtree {item.original.tag}",
                }
            self.graph.node(
                ident,
                _label(*self._name(node), *middle, self._value(node)),
                id=ident,
                **link,
                shape="box",
                style="dashed,filled" if marked else "dashed",
                fillcolor=_HIGHLIGHT_FILL if marked else "none",
                color=_OPTIMAL if item.on_path else _OTHER,
                penwidth="1.5" if item.on_path else "1",
            )
            return ident
        lines = [*self._name(node)]
        if item.tag:
            lines.append(f"subtree {item.tag}")
        lines.append(self._value(node))
        if node.uncertainty and self.view == "full":
            lines.append(f"[{_text(node.uncertainty)}]")
        if item.folded is not None:
            lines += _wrap(f"choose: {item.folded.label} \u2713", wrap)
            lines += self._next_best(item.others)
        self.graph.node(
            ident,
            _label(*lines),
            id=ident,
            shape=_SHAPE[node.kind],
            fillcolor=_HIGHLIGHT_FILL if marked else _FILL[node.kind],
            color=_OPTIMAL if item.on_path else "black",
            penwidth=str((2 if item.on_path else 1) + (1.5 if marked else 0)),
        )
        chosen = self.result.policy.get(node.path)
        for branch, child_item in item.children:
            child = self._item(child_item)
            self._edge(ident, child, node, branch, chosen, child_item.on_path)
        if item.others and item.folded is None:
            self._others(ident, item)
        return ident

    def _edge(self, parent: str, child: str, node: Node, branch: Branch, chosen, follows: bool):
        result = self.result
        is_root = node is result.tree.root
        lines = _wrap(branch.label, self.style.wrap) or [""]
        if node.kind == "decision" and branch.label == chosen:
            lines[-1] += " \u2713"
        if node.kind == "chance":
            mean = result.branch_probabilities.get(branch.path)
            if self.view == "full":
                lines.append(_quantity(branch.probability, mean, "p = "))
            elif mean is not None:
                lines.append(f"p = {_fmt(mean)}")
        if self.view == "full":
            lines.append(_payoff(branch, result.branch_payoffs.get(branch.path)))
        if is_root and node.kind == "decision" and result.is_uncertain:
            share = result.probability_optimal.get(branch.label)
            if share is not None:
                lines.append(f"P(best) {share:.0%}")
        edge = {
            "color": _OPTIMAL if follows else _OTHER,
            "fontcolor": _OPTIMAL if follows else "black",
            "penwidth": "2.2" if follows else "1",
        }
        if node.kind == "decision" and branch.label != chosen:
            edge["style"] = "dashed"
        self.graph.edge(parent, child, label=_label(*lines), **edge)

    def _next_best(self, others: list[Branch]) -> list[str]:
        """Name the best of the options not chosen, with its value, as label lines."""
        values = {b.label: self.values[b.node.path] for b in others if b.node.path in self.values}
        if not values:
            return []
        best = max(values, key=values.get)
        return _wrap(f"next best: {best}, {self.short} {_fmt(values[best])}", self.style.wrap)

    def _others(self, parent: str, item: _Item) -> None:
        """Draw one box for the options not chosen at a later decision, naming the best."""
        count = len(item.others)
        lines = [f"{count} other option{'s' if count > 1 else ''}", *self._next_best(item.others)]
        ident = self._new_id()
        self.graph.node(ident, _label(*lines), shape="box", style="dashed", color=_OTHER)
        self.graph.edge(parent, ident, style="dashed", color=_OTHER)


def _layout_width(graph: graphviz.Digraph) -> float | None:
    """Return the graph's width in points as ``dot`` lays it out (None if dot cannot run)."""
    try:
        svg = graph.pipe(format="svg")
    except (graphviz.ExecutableNotFound, subprocess.CalledProcessError):
        return None
    match = re.search(rb'<svg width="([0-9.]+)pt"', svg)
    return float(match.group(1)) if match else None


def build_graph(
    result: TreeResult,
    *,
    view: str = "full",
    collapse: bool = False,
    max_depth: int | None = None,
    highlight: Iterable[str] = (),
    same_as: bool = True,
    rankdir: str = "LR",
) -> graphviz.Digraph:
    """Build the :class:`graphviz.Digraph` of an evaluated tree (see the module docstring).

    Parameters
    ----------
    result
        The evaluated tree.
    view
        ``"full"`` (every node) or ``"compact"`` (the optimal path and the contingent plan;
        everything else collapsed with its value).
    collapse
        Also draw options not chosen at decisions below the root as single boxes with their
        value (the root's options are always drawn).
    max_depth
        Draw nodes this many levels below the root (the root is level 0) as collapsed boxes
        and nothing below them; ``None`` for no limit.
    highlight
        Node names to mark (thicker outline, yellow fill). In the compact view such a node on
        the optimal path is drawn even without a decision below it.
    same_as
        Draw a subtree identical to one drawn before as a "same as" box.
    rankdir
        ``"LR"``, ``"TB"`` or ``"auto"`` (see :data:`PAGE_WIDTH_PT`).
    """
    if view not in VIEWS:
        raise InputError(f"unknown tree view {view!r}; use one of " + ", ".join(VIEWS))
    if rankdir not in RANKDIRS:
        raise InputError(f"unknown rankdir {rankdir!r}; use one of " + ", ".join(RANKDIRS))
    if max_depth is not None and (isinstance(max_depth, bool) or max_depth < 1):
        raise InputError(f"max_depth must be a whole number >= 1, got {max_depth!r}")
    tree: Tree = result.tree
    marked = frozenset([highlight] if isinstance(highlight, str) else highlight)
    names = {n.name for n in tree.nodes.values() if n.name}
    unknown = sorted(marked - names)
    if unknown:
        raise InputError(
            f"no node named {unknown[0]!r} to highlight{did_you_mean(unknown[0], names)}",
            file=tree.source,
            field="highlight",
        )
    plan = _Planner(
        result,
        view=view,
        collapse=collapse,
        max_depth=max_depth,
        highlight=marked,
        same_as=same_as,
    ).plan(tree.root, True)
    tags = 0
    for item in _walk(plan):
        if item.mode == "same" and item.original.tag is None:
            item.original.tag = _tag(tags)
            tags += 1
    drawer = _Drawer(result, view, marked)
    graph = drawer.draw(plan, tags > 0, "LR" if rankdir == "auto" else rankdir)
    if rankdir == "auto":
        wide = _layout_width(graph)
        if wide is not None and wide > PAGE_WIDTH_PT:
            graph.graph_attr["rankdir"] = "TB"
            tall = _layout_width(graph)
            if tall is None or tall >= wide:
                graph.graph_attr["rankdir"] = "LR"
    return graph


def draw_tree(
    tree_or_result,
    path: str | os.PathLike | None = None,
    *,
    format: str | None = None,
    view: str = "full",
    collapse: bool = False,
    max_depth: int | None = None,
    highlight: Iterable[str] = (),
    same_as: bool = True,
    rankdir: str = "LR",
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
    view, collapse, max_depth, highlight, same_as, rankdir
        What to draw and how (see :func:`build_graph`).

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
    graph = build_graph(
        result,
        view=view,
        collapse=collapse,
        max_depth=max_depth,
        highlight=highlight,
        same_as=same_as,
        rankdir=rankdir,
    )
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
            except subprocess.CalledProcessError as exc:
                raise DecisionError(f"graphviz failed to draw {path}: {exc}") from None
        atomic_write_bytes(path, data)
    return graph
