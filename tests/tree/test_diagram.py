"""Tree diagrams: labels, the optimal path, formats and atomic writes."""

from __future__ import annotations

import pytest

from decision.core.errors import InputError
from decision.tree import draw_tree, evaluate, example_path, load_tree


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
