"""The reports rendered with elicited judgments: hindsight in the brief, experts compared.

Each render runs the real template on a tiny sampler budget (real but short MCMC).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from decision.core.errors import InputError
from decision.elicitation import elicit_case
from decision.report import render_report, validate_parameters

TINY = {"draws": 40, "tune": 40, "chains": 2, "cores": 1}


def test_the_sensitivity_report_compares_the_experts(tmp_path, hawk):
    target = render_report(
        {**TINY, "sobol_base": 32, "elicitation_file": str(hawk)},
        template="sensitivity",
        out_dir=tmp_path / "reports",
        name="sensitivity",
    )
    html = (target / "report.html").read_text()
    assert "Expert disagreement" in html
    assert "The experts disagree on the recommendation" in html
    assert "A hawkish analyst (hawkish-analyst) [ILLUSTRATIVE]" in html
    assert "pool of all experts (equal weights)" in html
    hashes = json.loads((target / "manifest.json").read_text())["data_hashes"]
    assert {"elicitation", "case_elicitation"} <= set(hashes)


def test_a_malformed_elicitation_file_is_refused_before_the_report_runs(
    write_record, minimal_record
):
    data = minimal_record()
    data["judgments"]["s_readiness"]["answers"] = {"low": 30, "mode": 60}
    path = write_record(data)
    with pytest.raises(InputError) as caught:
        validate_parameters({"elicitation_file": str(path)}, "sensitivity", source="-p")
    assert str(caught.value).startswith(f"{path}, field 'judgments.s_readiness.answers.high'")


def test_the_brief_flags_judgments_elicited_after_its_date_and_shows_provenance(
    tmp_path, write_record, minimal_record
):
    late = write_record(minimal_record(date=dt.date(2017, 10, 1)), folder=tmp_path / "records")
    scenario = tmp_path / "late-judgments.yaml"
    elicit_case(folder=late.parent).write_scenario(scenario)
    target = render_report(
        {**TINY, "scenario": str(scenario)}, out_dir=tmp_path / "reports", name="late"
    )
    html = (target / "report.html").read_text()
    assert "Hindsight: 2 judgment(s) were elicited after the analysis date" in html
    assert "ELICITED AFTER THE ANALYSIS DATE" in html
    assert "test-expert (2017-10-01)" in html
    assert "package-analysts (2017-08-20)" in html  # the judgments it did not answer
    assert "experts&#x27; spread" in html or "experts' spread" in html


def test_the_case_records_are_hashed_into_the_manifest(tmp_path):
    import shutil

    from decision.case import load_spec
    from decision.report.manifest import input_hashes

    case = tmp_path / "case"
    shutil.copytree(load_spec().folder, case, ignore=shutil.ignore_patterns("__pycache__"))
    before = input_hashes({"scenario": "baseline", "case": str(case)})
    assert before["case_elicitation"] == input_hashes({"scenario": "baseline"})["case_elicitation"]
    (case / "elicitation" / "another-expert.yaml").write_text("expert: {id: x}\n")
    after = input_hashes({"scenario": "baseline", "case": str(case)})
    assert after["case_elicitation"] != before["case_elicitation"]
    assert after["case_tree"] == before["case_tree"]
