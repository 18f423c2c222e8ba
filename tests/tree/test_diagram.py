"""Tree diagrams: labels, the optimal path, formats, atomic writes, shared subtrees, views."""

from __future__ import annotations

import re

import pytest

from decision.core.errors import InputError
from decision.tree import draw_tree, evaluate, example_path, load_tree
from decision.tree.diagram import identical_subtrees


def test_digraph_labels_values_and_optimal_path():
    result = evaluate(load_tree(example_path("goferbroke_survey")))
    graph = draw_tree(result)
    source = graph.source
    assert "rankdir=LR" in source
    assert "Survey or not\\nEV 123" in source
    assert "Drill or sell\\nEV 270" in source  # totals include the survey cost
    assert "p_oil_fav = 0.5" in source  # probability expression and value
    assert "-survey_cost = -30" in source  # payoff expression and value
    assert "670\\nP = 0.15" in source  # terminal total and path probability
    assert "survey \u2713" in source  # the chosen option is ticked
    assert source.count("#b03a2e") >= 8  # the optimal path is drawn in red
    assert "style=dashed" in source  # options not taken


def test_draw_from_a_tree_with_evaluate_options(tmp_path):
    tree = load_tree(example_path("goferbroke"))
    graph = draw_tree(tree, force={"Drill or sell": "sell"})
    assert "choose sell" in graph.source
    with pytest.raises(InputError, match="evaluate options are for a tree"):
        draw_tree(evaluate(tree), n=5)


@pytest.mark.parametrize(
    "suffix, magic",
    [(".svg", b"<?xml"), (".png", b"\x89PNG"), (".pdf", b"%PDF"), (".dot", b"digraph")],
)
def test_formats_by_suffix(tmp_path, suffix, magic):
    target = tmp_path / f"tree{suffix}"
    draw_tree(load_tree(example_path("texaco_pennzoil")), target)
    assert target.read_bytes().startswith(magic)
    assert not list(tmp_path.glob(".*tmp"))


def test_format_argument_and_unknown_format(tmp_path):
    target = tmp_path / "tree.out"
    draw_tree(load_tree(example_path("goferbroke")), target, format="svg")
    assert b"<svg" in target.read_bytes()
    with pytest.raises(InputError, match="cannot draw to format 'out'"):
        draw_tree(load_tree(example_path("goferbroke")), target)


def test_exponential_utility_labels_and_odd_names(tmp_path):
    data = {
        "name": 'Back\\slash "quoted" <b>',
        "utility": {"type": "exponential", "risk_tolerance": 100},
        "root": {
            "type": "decision",
            "name": "<D>",
            "options": {"a\\b": {"payoff": 5}, "<c>": {"payoff": 1}},
        },
    }
    graph = draw_tree(load_tree(data), tmp_path / "odd.svg")
    assert "CE 5" in graph.source
    assert (tmp_path / "odd.svg").read_text().count("<svg") == 1


# --------------------------------------------------------------------------------------------
# Identical subtrees, the compact view, depth limits, layout (synthetic trees, named so)
# --------------------------------------------------------------------------------------------


def _market(**extra) -> dict:
    """Build a synthetic subtree of five nodes: a chance node, a decision below, three ends."""
    return {
        "type": "chance",
        "name": "Market",
        "outcomes": {
            "up": {
                "probability": "p_up",
                "type": "decision",
                "name": "Expand",
                "options": {"yes": {"payoff": "gain"}, "no": {"payoff": 2}},
            },
            "down": {"probability": "1 - p_up", "payoff": -5},
        },
        **extra,
    }


def synthetic_repeated_tree(second_probability: str = "p_up") -> dict:
    """Build a synthetic tree whose 'Market' subtree follows both outcomes of 'Rival'."""
    second = _market()
    second["outcomes"]["up"]["probability"] = second_probability
    second["outcomes"]["down"]["probability"] = f"1 - {second_probability}"
    return {
        "name": "Synthetic launch",
        "units": "synthetic points",
        "parameters": {
            "p_up": {"distribution": "uniform", "low": 0.4, "high": 0.8},
            "p_alt": 0.5,
            "p_rival": 0.3,
            "gain": {"distribution": "uniform", "low": 5, "high": 15},
        },
        "root": {
            "type": "decision",
            "name": "Launch",
            "options": {
                "go": {
                    "type": "chance",
                    "name": "Rival",
                    "outcomes": {
                        "enters": {"probability": "p_rival", "payoff": -1, **_market()},
                        "stays out": {"probability": "1 - p_rival", **second},
                    },
                },
                "wait": {"payoff": 1},
            },
        },
    }


def _node_count(source: str) -> int:
    """Count the node statements of graphviz source (not the graph/node/edge defaults)."""
    names = re.findall(r"^\s*(\w+) \[", source, re.M)
    return len([n for n in names if n not in ("graph", "node", "edge")])


def _korea(force=None):
    """Evaluate the Korea case tree on synthetic (not fitted) posterior draws."""
    from decision.case import load_case
    from decision.testing import synthetic_fits

    case = load_case("baseline")
    supplied = case.supplied_draws(synthetic_fits(300, seed=3))
    return evaluate(case.tree, n=300, seed=1, supplied=supplied, force=force or {})


def test_identical_subtrees_are_found_and_drawn_once():
    result = evaluate(load_tree(synthetic_repeated_tree()), n=200, seed=1)
    first = "Launch/go/Rival/enters/Market"
    copy = "Launch/go/Rival/stays out/Market"
    assert identical_subtrees(result) == {copy: first}
    shared = draw_tree(result).source
    whole = draw_tree(result, same_as=False).source
    assert _node_count(whole) - _node_count(shared) == 4  # the copy's five nodes become one
    assert shared.count("\\nsubtree A\\n") == 1  # the original is tagged...
    assert shared.count("same as subtree A\\n") == 1  # ...and its copy refers to it
    assert "same as subtree A\\n(Rival = enters)" in shared
    # the copy keeps its own value (the payoff before 'enters' is not in it) and links
    copy_value = result.node_totals[copy]
    assert f"(Rival = enters)\\nEV {copy_value:.4g}" in shared
    original_id = re.search(r'(\w+) \[label="Market\\nsubtree A', shared).group(1)
    assert f'href="#{original_id}"' in shared
    assert "A subtree met again" in shared  # the title says what the boxes mean


def test_subtrees_differing_in_an_expression_or_a_choice_are_not_shared():
    different = evaluate(load_tree(synthetic_repeated_tree("p_alt")), n=200, seed=1)
    assert identical_subtrees(different) == {}
    assert "same as" not in draw_tree(different).source
    tree = load_tree(synthetic_repeated_tree())
    forced = evaluate(tree, n=200, seed=1, force={"Launch/go/Rival/enters/Market/up/Expand": "no"})
    assert identical_subtrees(forced) == {}  # same expressions, another option chosen
    assert identical_subtrees(evaluate(tree, n=200, seed=1), min_nodes=6) == {}


def test_the_korea_freeze_for_freeze_offered_after_a_rejection_is_drawn_once():
    # After China rejects, the plain freeze-for-freeze offered anyway is the root's own
    # freeze-for-freeze subtree again: drawn once, referenced the second time.
    result = _korea()
    copies = identical_subtrees(result)
    assert len(copies) == 1
    ((copy, first),) = copies.items()
    assert copy.endswith("offer freeze-for-freeze anyway/DPRK accepts freeze-for-freeze")
    assert first == "Strategy/freeze-for-freeze/DPRK accepts freeze-for-freeze"
    source = draw_tree(result).source
    words = source.replace("\\n", " ")  # labels are wrapped to the page: compare their words
    assert words.count("DPRK accepts freeze-for-freeze subtree A") == 1
    assert words.count("DPRK accepts freeze-for-freeze same as subtree A") == 1
    assert "same as subtree A (Strategy = freeze-for-freeze)" in words
    size = sum(1 for path in result.tree.nodes if path.startswith(copy))
    assert _node_count(source) == len(result.tree.nodes) - size + 1  # the copy is one box


def test_a_copy_forced_to_another_choice_is_drawn_apart():
    # The freeze-for-freeze copy holds no decision, so force the follow-on decision above it:
    # with the copy not on the chosen path its values differ, but its structure is the same.
    path = next(p for p in _korea().tree.decision_nodes if p.endswith("After China's rejection"))
    result = _korea(force={path: "offer freeze-for-freeze anyway"})
    assert len(identical_subtrees(result)) == 1
    compact = draw_tree(result, view="compact").source.replace("\\n", " ")
    assert "choose: offer freeze-for-freeze anyway" in compact


def test_compact_view_shows_strategies_the_plan_and_the_optimal_path():
    result = _korea()
    source = draw_tree(result, view="compact").source
    for share in result.probability_optimal.values():
        assert f"P(best) {share:.0%}" in source
    root = result.tree.root
    for option in result.options:  # strategies not chosen: one collapsed box each, its value
        child = root.branches[root.labels.index(option)].node
        if option != result.optimal and child.kind != "terminal":
            value = result.node_totals[child.path]
            assert f"{child.name} (collapsed) EV {value:.4g}" in source.replace("\\n", " ")
    # every later decision drawn on the optimal path: the option chosen and the next best
    words = source.replace("\\n", " ")
    decisions = words.count("Spring exercises EV") + words.count("After China's rejection EV")
    assert decisions == 4  # three cooperation levels and the follow-on to a rejection
    assert source.count("choose:") == decisions
    assert source.count("next best:") == source.count("choose:")
    for option in set(result.policy.values()) - {result.optimal}:
        assert option.split(" ")[0] in source
    assert _node_count(source) <= 30  # of 72 nodes
    assert "DPRK keeps freeze" not in source  # below the plan: collapsed into the decision


def test_compact_view_of_the_synthetic_tree():
    result = evaluate(load_tree(synthetic_repeated_tree()), n=200, seed=1)
    source = draw_tree(result, view="compact").source
    assert "Launch\\nEV" in source and "P(best)" in source
    # Market subtrees: Market, the folded Expand decision and one end: three boxes, so the
    # copy is a reference
    assert "same as subtree A" in source
    assert source.count("choose: yes") == 1 and source.count("next best: no") == 1


def test_compact_view_of_a_small_tree_and_its_layout():
    result = evaluate(load_tree(example_path("goferbroke_survey")))
    source = draw_tree(result, view="compact").source
    assert "Survey or not\\nEV 123" in source
    assert source.count("choose: drill") == 1 and source.count("choose: sell") == 1
    assert "no survey" in source and "P(best)" not in source  # nothing uncertain
    graph = draw_tree(result, view="compact", rankdir="auto")
    assert graph.graph_attr["rankdir"] == "LR"  # fits a page left to right


def test_auto_layout_turns_a_wide_tree_top_to_bottom():
    from decision.tree.diagram import PAGE_WIDTH_PT

    def width(graph) -> float:
        svg = graph.pipe(format="svg")
        return float(re.search(rb'<svg width="([0-9.]+)pt"', svg).group(1))

    result = _korea()
    wide = draw_tree(result, view="compact")
    auto = draw_tree(result, view="compact", rankdir="auto")
    assert width(wide) > PAGE_WIDTH_PT
    assert auto.graph_attr["rankdir"] == "TB" and width(auto) < width(wide)


def test_max_depth_collapses_everything_below():
    result = evaluate(load_tree(synthetic_repeated_tree()), n=200, seed=1)
    source = draw_tree(result, max_depth=2).source
    assert "Market\\n(collapsed)" in source and "Expand" not in source
    assert _node_count(source) == 5  # Launch, Rival, two collapsed Markets, wait's end
    assert _node_count(draw_tree(result, max_depth=1).source) == 3


def test_highlight_marks_nodes_and_unknown_names_are_errors():
    result = evaluate(load_tree(synthetic_repeated_tree()), n=200, seed=1)
    source = draw_tree(result, view="compact", highlight=["Market"]).source
    assert "#fff2cc" in source  # marked, and drawn on the optimal path though no decision...
    with pytest.raises(InputError, match="no node named 'Markte' to highlight.*'Market'"):
        draw_tree(result, highlight=["Markte"])


@pytest.mark.parametrize(
    "options, match",
    [
        ({"view": "tiny"}, "unknown tree view 'tiny'"),
        ({"rankdir": "RL"}, "unknown rankdir 'RL'"),
        ({"max_depth": 0}, "max_depth must be a whole number >= 1"),
    ],
)
def test_bad_drawing_options_are_errors(options, match):
    with pytest.raises(InputError, match=match):
        draw_tree(load_tree(example_path("goferbroke")), **options)


def test_text_sizes_of_the_views():
    result = evaluate(load_tree(example_path("goferbroke_survey")))
    for view, smallest in (("full", 9.0), ("compact", 12.0)):
        svg = draw_tree(result, view=view).pipe(format="svg").decode()
        sizes = [float(s) for s in re.findall(r'font-size="([0-9.]+)"', svg)]
        assert min(sizes) == smallest, view
