"""Analyst notebooks: paired, committed without outputs, thin, and executable on a tiny budget."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import jupytext
import pytest

from decision.testing import TINY_SAMPLER

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def test_there_are_analyst_notebooks():
    names = {p.stem for p in NOTEBOOKS}
    assert {"01_evidence", "02_dprk_model", "03_china_model", "04_case"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_paired_and_in_sync(path):
    script = path.with_suffix(".py")
    assert script.exists(), f"{path.name} has no py:percent pair"
    from_ipynb = jupytext.read(path)
    from_py = jupytext.read(script)
    assert [c.source for c in from_ipynb.cells] == [c.source for c in from_py.cells], (
        f"{path.name} and {script.name} differ: run `make sync-notebooks`"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_has_no_outputs_and_one_parameters_cell(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1
    for node in ast.parse("".join(tagged[0]["source"])).body:
        assert isinstance(node, ast.Assign), "the parameters cell holds assignments only"
        ast.literal_eval(node.value)  # literals only
    assert nb["metadata"]["kernelspec"]["name"] == "decision"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_thin(path):
    """No model or tree logic in a notebook: no function, class or model definitions."""
    for cell in jupytext.read(path).cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            assert not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Lambda)), path.name
            if isinstance(node, ast.Attribute):
                assert node.attr not in {"Model", "sample"}, f"{path.name} builds a model"


#: What each executed notebook must show (in its text or table outputs).
EXPECTED_OUTPUT = {
    "01_evidence": ["launch_days", "published"],
    "02_dprk_model": ["p_accept_freeze_for_freeze", "p_hold_monitoring"],
    "03_china_model": ["status_quo_enforcement", "p_level_full"],
    "04_case": ["freeze-plus-pressure", "status quo"],
    "05_elicitation": ["s_readiness"],
}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes_on_a_tiny_budget(path, tmp_path):
    import papermill

    declared = papermill.inspect_notebook(str(path))
    params = {k: v for k, v in TINY_SAMPLER.items() if k in declared}
    executed = papermill.execute_notebook(
        str(path),
        str(tmp_path / path.name),
        parameters=params,
        cwd=str(tmp_path),
        progress_bar=False,
        kernel_name="decision",
    )
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "every code cell ran"
    outputs = [o for c in code for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    shown = " ".join(
        str(o.get("text", "")) + " ".join(str(v) for v in o.get("data", {}).values())
        for o in outputs
    )
    assert any("image/png" in o.get("data", {}) for o in outputs), "the notebook draws figures"
    for marker in EXPECTED_OUTPUT[path.stem]:
        assert marker in shown, f"{path.name} does not show {marker!r}"
