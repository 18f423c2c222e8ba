"""What-ifs on one judgment: the tree re-evaluated on the analysis's draws; the notebook control."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from decision.core.errors import InputError
from decision.tree import evaluate
from decision.whatif import judgments, what_if, what_if_control, what_if_table


@pytest.fixture(scope="module")
def analysis():
    from decision.case import analyze
    from decision.testing import synthetic_fits

    return analyze(fits=synthetic_fits(300, seed=3))  # synthetic draws: plumbing, not inference


def test_judgments_are_the_trees_judgments_with_their_ranges(analysis):
    table = judgments(analysis)
    tree = analysis.case.tree
    assert list(table.index) == [n for n, s in tree.parameters.items() if s.judgment]
    assert (table["low"] < table["high"]).all()
    assert ((table["low"] <= table["base"]) & (table["base"] <= table["high"])).all()
    spec = tree.parameters["s_readiness"]  # triangular(30, 60, 100): 5th-95th percentile
    assert table.loc["s_readiness", ["low", "high"]].tolist() == pytest.approx(
        spec.ppf(np.array([0.05, 0.95]))
    )


def test_a_what_if_rolls_the_tree_back_on_the_same_draws(analysis):
    result = what_if(analysis, "s_readiness", 95.0)
    tree, draws = analysis.case.tree, analysis.result.parameters
    given = {k: v for k, v in draws.items() if tree.parameters[k].kind != "expression"}
    given["s_readiness"] = np.full(analysis.result.n, 95.0)
    expected = evaluate(tree, draws=tree.complete_draws(given))
    assert result.values == pytest.approx(dict(expected.options))
    assert result.probability_optimal == pytest.approx(dict(expected.probability_optimal))
    assert result.base_values == pytest.approx(dict(analysis.result.options))
    assert result.best == expected.optimal and result.base_best == analysis.recommendation
    table = result.table()
    assert table["change"].to_dict() == pytest.approx(
        {k: result.values[k] - result.base_values[k] for k in result.values}
    )
    assert "s&#95;readiness = 95" in result.text() and "<b>" in result.text(html=True)


def test_an_unknown_judgment_names_the_tree_file(analysis):
    with pytest.raises(
        InputError, match=r"tree\.yaml, field 'parameters.s_readyness'.*s_readiness"
    ):
        what_if(analysis, "s_readyness", 50.0)


def test_the_static_table_fixes_each_judgment_at_both_ends(analysis):
    table = what_if_table(analysis)
    ranges = judgments(analysis)
    assert len(table) == 2 * len(ranges)
    first = table[table["judgment"] == "s_readiness"]
    assert first["value"].tolist() == pytest.approx(
        ranges.loc["s_readiness", ["low", "high"]].tolist(), abs=1e-4
    )
    assert (table["changes"] == (table["best strategy"] != analysis.recommendation)).all()
    given = what_if_table(analysis, {"china_keeps_if_full": [0.0, 0.5], "s_pressure": 90})
    assert given[["judgment", "value"]].values.tolist() == [
        ["china_keeps_if_full", 0.0],
        ["china_keeps_if_full", 0.5],
        ["s_pressure", 90.0],
    ]


def test_the_control_moves_over_the_chosen_judgments_range(analysis):
    pytest.importorskip("ipywidgets")
    control = what_if_control(analysis)
    bundle = control._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # JupyterLab: the control
    assert "s_readiness" in bundle["text/html"]  # elsewhere: the static table
    ranges = judgments(analysis)
    control.dropdown.value = "china_keeps_if_full"
    low, high, base = ranges.loc["china_keeps_if_full", ["low", "high", "base"]]
    assert (control.slider.min, control.slider.max) == pytest.approx((low, high))
    assert control.slider.value == pytest.approx(base, abs=control.slider.step)
    control.slider.value = high
    shown = what_if(analysis, "china_keeps_if_full", control.slider.value)
    assert f"china&#95;keeps&#95;if&#95;full = {shown.value:.4g}" in control.output.value
    assert f"<b>{shown.best}</b>" in control.output.value


def test_without_ipywidgets_the_control_is_the_static_table(analysis, monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import fails
    control = what_if_control(analysis)
    assert control.widget is None
    bundle = control._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"}
    assert bundle["text/html"].count("<tr>") == len(control.static)  # a row each (+ header)
