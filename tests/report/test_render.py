"""Rendering reports: the published folder, the HTML, failures, scenarios, the sensitivity report.

Rendering runs the real notebook on a tiny sampler budget (real but short MCMC); one render
is shared by the tests of this module. Parameter checks are in test_parameters.py.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from decision.cli import main
from decision.report import (
    ReportFailed,
    render_report,
)
from decision.testing import report_parameters

TINY = report_parameters()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """One tiny-budget render shared by the module, with its own posterior cache."""
    root = tmp_path_factory.mktemp("render")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DECISION_CACHE_DIR", str(root / "cache"))
        target = render_report(TINY, out_dir=root / "reports", name="brief")
        yield target, root


def test_report_folder_holds_html_notebook_parameters_and_manifest(rendered):
    target, _ = rendered
    assert sorted(p.name for p in target.iterdir()) == [
        "analysis.json",
        "manifest.json",
        "parameters.yaml",
        "report.html",
        "report.ipynb",
        "tree.svg",
    ]
    params = yaml.safe_load((target / "parameters.yaml").read_text())
    assert params["draws"] == TINY["draws"] and params["as_of"] == "2017-08-20"
    manifest = json.loads((target / "manifest.json").read_text())
    for key in ("versions", "data_hashes", "seed", "git_commit", "parameters"):
        assert key in manifest
    assert manifest["versions"]["pymc"].startswith("5.")


def test_report_html_shows_evidence_and_posteriors_without_code(rendered):
    target, _ = rendered
    html = (target / "report.html").read_text()
    assert len(re.findall(r"<img[^>]+src=\"data:image/png;base64,", html)) >= 10
    for heading in (
        "The recommendation",
        "Strategies compared",
        "The value of monitoring",
        "The decision tree",
        "The evidence",
        "DPRK compliance model",
        "China follow-through model",
        "Headline estimates",
        "Assumptions",
        "Sources and reproducibility",
    ):
        assert heading in html
    assert "import warnings" not in html and "fit_models(" not in html  # code is hidden
    assert "Traceback" not in html
    assert html.count('<div class="decision-tree"') == 1  # the tree diagrams, inline
    assert html.count("<svg") >= 2 and 'href="tree.svg"' in html  # compact, whole, the file
    analysis = json.loads((target / "analysis.json").read_text())
    assert analysis["recommendation"] in html
    assert "How far the data moved each probability" in html
    assert "dprk model: p_hold_monitoring" in html  # a row of the prior-vs-posterior table
    assert "China-DPRK trade by year" in html and "One statistical series (" in html


def test_failed_render_keeps_previous_report_and_says_where(rendered, monkeypatch):
    target, root = rendered
    monkeypatch.setenv("DECISION_CACHE_DIR", str(root / "cache"))
    before = (target / "report.html").read_bytes()
    # Strict mode on a tiny budget fails the convergence checks inside the notebook.
    with pytest.raises(ReportFailed, match="ConvergenceError") as info:
        render_report({**TINY, "strict": True}, out_dir=root / "reports", name="brief")
    assert info.value.notebook.exists()
    assert (target / "report.html").read_bytes() == before


def test_scenario_file_renders_under_its_name(rendered, monkeypatch, capsys):
    from decision.case import list_scenarios

    _, root = rendered
    monkeypatch.setenv("DECISION_CACHE_DIR", str(root / "cache"))
    scenario = next(p for p in list_scenarios() if p.stem == "readiness-first")
    args = ["report", "--params", str(scenario), "--out", str(root / "reports")]
    for key, value in TINY.items():
        args += ["-p", f"{key}={value}"]
    assert main(args) == 0
    analysis = json.loads((root / "reports" / "readiness-first" / "analysis.json").read_text())
    assert analysis["scenario"] == "readiness-first"


def test_scenario_index_compares_rendered_scenarios(rendered):
    from decision.report import write_scenario_index

    _, root = rendered
    page = write_scenario_index(root / "reports", ["brief", "readiness-first", "missing"])
    text = page.read_text()
    assert "brief/report.html" in text and "readiness-first/report.html" in text
    assert "missing" not in text


def test_hostile_text_shows_as_text_and_the_page_is_self_contained(rendered, monkeypatch, tmp_path):
    _, root = rendered
    monkeypatch.setenv("DECISION_CACHE_DIR", str(root / "cache"))
    scenario = tmp_path / "hostile.yaml"
    scenario.write_text(
        "name: hostile\n"
        "description: <script>alert('description')</script>\n"
        "parameters:\n"
        "  d_moral: {distribution: triangular, low: 0.1, mode: 0.3, high: 0.5, judgment: true,\n"
        "            rationale: \"<img src=x onerror=alert('rationale')>\"}\n"
    )
    target = render_report(
        {**TINY, "scenario": str(scenario)}, out_dir=root / "reports", name="hostile"
    )
    html = (target / "report.html").read_text()
    assert "<script>alert('description')</script>" not in html
    assert "&lt;script&gt;alert(" in html
    assert "<img src=x onerror" not in html and "&lt;img src=x onerror" in html
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"https?://", html)


def test_sensitivity_report_renders_every_section(rendered, monkeypatch):
    _, root = rendered
    monkeypatch.setenv("DECISION_CACHE_DIR", str(root / "cache"))
    target = render_report(
        {**TINY, "sobol_base": 32},
        template="sensitivity",
        out_dir=root / "reports",
        name="sensitivity",
    )
    html = (target / "report.html").read_text()
    for heading in (
        "One-way: tornado and spider",
        "Thresholds",
        "Two-way",
        "Probabilistic sensitivity",
        "Value of information",
        "Prior sensitivity",
        "Global sensitivity",
    ):
        assert heading in html
    assert len(re.findall(r"<img[^>]+src=\"data:image/png;base64,", html)) >= 8


@pytest.mark.slow
def test_brief_with_the_full_budget_converges(tmp_path, monkeypatch, run_posterior_cache):
    # The default fits are those of tests/models/test_convergence.py: sampled once per run.
    monkeypatch.setenv("DECISION_CACHE_DIR", str(run_posterior_cache))
    target = render_report({}, out_dir=tmp_path / "reports", name="brief")
    analysis = json.loads((target / "analysis.json").read_text())
    assert analysis["diagnostics_ok"], analysis["flags"]
    assert analysis["draws"] == 4000
    html = (target / "report.html").read_text()
    assert "did not pass its convergence checks" not in html
