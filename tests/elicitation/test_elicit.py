"""A case's elicitation: the shipped record reproduces the tree; scenarios with provenance; CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from decision.case import load_case, load_scenario
from decision.cli import main
from decision.core.errors import InputError
from decision.elicitation import DEFAULT_TOLERANCE, elicit_case, ks_distance, load_record
from decision.elicitation.notebook import record_data, save_record
from decision.tree.parameters import DistributionParameter

DOCS = Path(__file__).parents[2] / "docs" / "elicitation.md"


@pytest.fixture(scope="module")
def shipped_elicitation():
    return elicit_case()


def test_fitting_the_shipped_record_reproduces_the_tree_within_the_tolerance(shipped_elicitation):
    tree = load_case().tree
    drift = shipped_elicitation.drift()
    assert drift["agrees"].all(), drift[~drift["agrees"]]
    assert drift["distance"].max() <= DEFAULT_TOLERANCE
    assert shipped_elicitation.missing == []
    for name, pool in shipped_elicitation.pools.items():
        current = tree.parameters[name]
        assert isinstance(current, DistributionParameter)
        assert ks_distance(pool.parameter, current) <= DEFAULT_TOLERANCE
        if current.distribution == "triangular":  # three-point answers are read exactly
            assert pool.spec == {"distribution": "triangular", **current.arguments}


def test_check_fails_when_tree_and_record_drift_apart(tmp_path, shipped, capsys):
    record = yaml.safe_load(shipped.read_text())
    record["judgments"]["s_readiness"]["answers"]["mode"] = 70
    (tmp_path / "drifted.yaml").write_text(yaml.safe_dump(record, sort_keys=False))
    assert main(["elicit", "check", "--folder", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert re.search(
        r"drift: s_readiness: the tree has triangular\(30, 60, 100\), the records "
        r"pool to triangular\(30, 70, 100\)",
        out,
    )


def test_check_passes_on_the_shipped_record(capsys):
    assert main(["elicit", "check", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["ok"] and info["never_elicited"] == [] and info["hindsight"] == []
    assert len(info["drift"]) == 38 and all(d["agrees"] for d in info["drift"].values())


def test_fit_writes_a_scenario_whose_every_spec_carries_its_provenance(tmp_path, capsys):
    out = tmp_path / "elicited.yaml"
    assert main(["elicit", "fit", "--out", str(out)]) == 0
    assert f"scenario written to {out}" in capsys.readouterr().out
    scenario = load_scenario(out)
    assert scenario.name == "elicited" and len(scenario.parameters) == 38
    case = load_case(out)
    baseline = load_case().tree
    for name in scenario.parameters:
        parameter = case.tree.parameters[name]
        provenance = parameter.provenance
        assert provenance["experts"] == ["package-analysts"]
        assert provenance["dates"] == ["2017-08-20"]
        assert provenance["records"] == ["package-analysts-2017-08-20.yaml"]
        assert provenance["method"] and provenance["pool"] == "one expert"
        assert parameter.judgment and parameter.rationale
        assert parameter.description == baseline.parameters[name].description
        assert ks_distance(parameter, baseline.parameters[name]) <= DEFAULT_TOLERANCE


def test_a_second_expert_makes_mixtures_with_both_provenances(tmp_path, hawk):
    elicitation = elicit_case(extra=[hawk])
    assert elicitation.scheme == "equal weights"
    assert set(elicitation.experts) == {"package-analysts", "hawkish-analyst"}
    spec = elicitation.pooled_specs()["s_readiness"]
    assert spec["distribution"] == "mixture" and len(spec["components"]) == 2
    assert spec["provenance"]["experts"] == ["package-analysts", "hawkish-analyst"]
    assert spec["provenance"]["illustrative"] == ["hawkish-analyst"]
    assert spec["rationale"].startswith("package-analysts: ")
    assert elicitation.pooled_specs()["r_suspend"]["provenance"]["experts"] == ["package-analysts"]
    out = tmp_path / "pooled.yaml"
    elicitation.write_scenario(out)
    case = load_case(out)
    assert case.tree.parameters["s_readiness"].distribution == "mixture"
    own = elicitation.expert_specs("hawkish-analyst")
    assert len(own) == 19 and own["s_readiness"]["mode"] == 100


def test_the_json_of_fit_lists_every_fit_and_its_error(capsys, hawk):
    assert main(["elicit", "fit", "--record", str(hawk), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["pool"] == "equal weights"
    assert info["weights"] == {"package-analysts": 0.5, "hawkish-analyst": 0.5}
    assert len(info["fits"]) == 38 + 19
    assert all(f["accepted"] and f["fit_error"] <= 0.01 for f in info["fits"])
    assert info["experts"]["hawkish-analyst"]["illustrative"] is True


def test_a_fit_beyond_the_tolerance_is_refused_by_fit_and_listed_by_check(
    tmp_path, write_record, minimal_record, capsys
):
    data = minimal_record()
    data["judgments"]["p_covert_rd"]["method"] = {"name": "quantiles", "distribution": "normal"}
    data["judgments"]["p_covert_rd"]["answers"] = {"p05": 0.01, "p50": 0.02, "p95": 0.6}
    path = write_record(data)
    assert main(["elicit", "fit", "--folder", str(path.parent)]) == 2
    err = capsys.readouterr().err
    assert f"{path}, field 'judgments.p_covert_rd.answers': the normal distribution" in err
    assert main(["elicit", "fit", "--folder", str(path.parent), "--tolerance", "0.3"]) == 0
    capsys.readouterr()
    assert main(["elicit", "check", "--folder", str(path.parent)]) == 1
    assert "REFUSED" in capsys.readouterr().out


def test_new_writes_a_blank_record_that_names_what_is_missing(tmp_path, capsys):
    out = tmp_path / "new.yaml"
    args = [
        "elicit",
        "new",
        "--expert",
        "me",
        "--name",
        "Me",
        "--date",
        "2017-08-20",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    text = out.read_text()
    assert "answers: {low: null, mode: null, high: null}" in text
    assert "answers: {p05: null, p50: null, p95: null}" in text
    assert main(["elicit", "check", "--folder", str(tmp_path)]) == 2
    assert "field 'judgments.s_readiness.answers.low'" in capsys.readouterr().err
    assert main(args) == 2  # never overwritten without --force


def test_the_guide_asks_every_question_of_the_record_and_describes_its_method(shipped):
    record = load_record(shipped)
    docs = DOCS.read_text()
    in_docs = set(re.findall(r"`([a-z0-9_]+)`", docs))
    assert set(record.judgments) <= in_docs
    assert "three-point (low, mode, high) read as triangular" in docs
    assert "decision elicit fit" in docs and "decision elicit check" in docs
    for key in (
        "expert",
        "date",
        "case",
        "horizon",
        "method",
        "judgments",
        "question",
        "units",
        "answers",
        "rationale",
        "seeds",
    ):
        assert f"`{key}`" in docs, key


def test_compare_writes_the_expert_comparison_as_markdown(tmp_path, hawk, fake_sampling, capsys):
    out = tmp_path / "disagreement.md"
    args = ["elicit", "compare", "--record", str(hawk), "--markdown", str(out)]
    assert main(args + ["--draws", "20", "--tune", "10", "--chains", "2"]) == 0
    text = out.read_text()
    assert text.startswith("## Expert disagreement\n\n*Evidence as of 2017-08-20; scenario")
    assert "hawkish-analyst" in text and "| judgments of |" in text
    assert f"comparison written to {out}" in capsys.readouterr().out


def test_a_record_written_from_a_notebook_round_trips(tmp_path):
    data = record_data(
        expert="nb-expert",
        name="Notebook expert",
        date="2017-08-20",
        answers={"s_readiness": {"low": 40, "mode": 70, "high": 100}},
        rationales={"s_readiness": "Synthetic answer for a test."},
        illustrative=True,
    )
    path = save_record(data, tmp_path / "nb.yaml")
    record = load_record(path)
    assert record.judgments["s_readiness"].answers == {"low": 40, "mode": 70, "high": 100}
    assert record.judgments["s_readiness"].question.startswith("Imagine every attribute")
    assert record.horizon.startswith("18 months from September 2017")
    with pytest.raises(InputError, match=r"judgments\.s_readiness\.rationale"):
        record_data(
            expert="nb-expert",
            name="x",
            date="2017-08-20",
            answers={"s_readiness": {"low": 40, "mode": 70, "high": 100}},
            rationales={},
        )
