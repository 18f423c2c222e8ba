"""A report's manifest: the inputs hashed, and the comparison before rendering again.

Ledgers and run histories here are synthetic ("synthetic test data").
"""

from __future__ import annotations

import json
import time

import pytest

from decision import evidence
from decision.case import list_scenarios, load_spec
from decision.core.errors import InputError
from decision.core.provenance import sha256_file
from decision.monitoring import default_schedule_path
from decision.report import check_manifest, input_hashes, validate_parameters
from decision.report.manifest import build_manifest

SRC = "synthetic test data"


@pytest.fixture
def monthly_params(tmp_path):
    """Resolve the parameters of a monthly report reading a ledger and a run history."""
    ledger = tmp_path / "synthetic_ledger.csv"
    ledger.write_text(f"date,actor,kind,value,source\n2017-09-03,DPRK,nuclear_test,1,{SRC}\n")
    history = tmp_path / "synthetic_history.sqlite"
    history.write_bytes(b"synthetic run history")
    given = {"through": "2017-09", "ledger_file": str(ledger), "history_file": str(history)}
    return validate_parameters(given, "monitoring")


def test_a_monthly_report_hashes_everything_it_reads(monthly_params):
    spec = load_spec()
    baseline = next(p for p in list_scenarios(spec) if p.stem == "baseline")
    assert input_hashes(monthly_params) == {
        "evidence": evidence.data_hash(as_of="2017-09-30"),  # as of the month's last day
        "ledger": sha256_file(monthly_params["ledger_file"]),
        "history": sha256_file(monthly_params["history_file"]),
        "schedule": sha256_file(default_schedule_path()),  # the shipped one, none given
        "scenario": sha256_file(baseline),
        "case_tree": sha256_file(spec.tree_path),
        "case_spec": sha256_file(spec.folder / "__init__.py"),
        "case_elicitation": input_hashes({"scenario": "baseline"})["case_elicitation"],
    }


def test_a_changed_input_is_refused_and_a_changed_history_is_a_warning(monthly_params, tmp_path):
    path = tmp_path / "manifest.json"
    manifest = build_manifest("monitoring", "2017-09", monthly_params, time.time())
    path.write_text(json.dumps(manifest))
    check = check_manifest(path)
    assert (check.template, check.name, check.changed) == ("monitoring", "2017-09", [])
    assert check.parameters == monthly_params

    with open(monthly_params["history_file"], "ab") as fh:  # the run history gained a run
        fh.write(b" and one more run")
    check = check_manifest(path)
    assert check.changed == []
    assert any(w.startswith("the history data has changed") for w in check.warnings)

    with open(monthly_params["ledger_file"], "a") as fh:
        fh.write(f"2017-09-20,DPRK,missile_launch,1,{SRC}\n")
    check = check_manifest(path)
    assert len(check.changed) == 1 and check.changed[0].startswith("the ledger data has changed")


@pytest.mark.parametrize(
    "content, match",
    [
        ("not json", "not JSON"),
        ('{"template": "monitoring"}', "not a report manifest"),
        ('{"template": "monitoring", "parameters": {"through": "2017-13"}}', "YYYY-MM"),
    ],
)
def test_a_bad_manifest_is_a_clear_error(tmp_path, content, match):
    path = tmp_path / "manifest.json"
    path.write_text(content)
    with pytest.raises(InputError, match=match):
        check_manifest(path)


def _published(tmp_path, params, template="brief"):
    """Publish a stand-in report folder whose manifest is what a render would write."""
    folder = tmp_path / "reports" / template
    folder.mkdir(parents=True)
    (folder / "report.html").write_text("synthetic report")
    manifest = build_manifest(template, template, params, time.time())
    (folder / "manifest.json").write_text(json.dumps(manifest, sort_keys=True))
    return folder / "manifest.json"


def test_the_manifest_records_the_environment_it_was_rendered_in():
    from decision.core.backend import DEFAULT_NUTS_SAMPLER
    from decision.report.manifest import lock_file, lock_sha256, package_sha256

    manifest = build_manifest("brief", "brief", validate_parameters({}, "brief"), time.time())
    assert manifest["lock_sha256"] == sha256_file(lock_file()) == lock_sha256()
    assert manifest["package_sha256"] == package_sha256()
    assert manifest["sampler"]["nuts_sampler"] == DEFAULT_NUTS_SAMPLER
    assert manifest["sampler"]["version"] == manifest["versions"][DEFAULT_NUTS_SAMPLER]
    assert {"jax", "jaxlib", "pymc"} <= set(manifest["versions"])


def test_a_report_is_current_only_while_nothing_it_depends_on_changed(tmp_path, monkeypatch):
    from decision.report import manifest as manifest_module
    from decision.report.manifest import manifest_is_current

    params = validate_parameters({"draws": 50}, "brief")
    path = _published(tmp_path, params)
    assert manifest_is_current(path, "brief", params)
    assert not manifest_is_current(path, "brief", validate_parameters({"draws": 60}, "brief"))
    assert not manifest_is_current(path, "sensitivity", params)
    monkeypatch.setattr(manifest_module, "lock_sha256", lambda: "0" * 64)
    assert not manifest_is_current(path, "brief", params)
    monkeypatch.undo()
    monkeypatch.setattr(manifest_module, "package_sha256", lambda: "edited")
    assert not manifest_is_current(path, "brief", params)
    monkeypatch.undo()
    assert manifest_is_current(path, "brief", params)
    (path.parent / "report.html").unlink()
    assert not manifest_is_current(path, "brief", params)
    path.write_text("{not json")
    assert not manifest_is_current(path, "brief", params)


def test_decision_report_says_up_to_date_and_force_renders_again(tmp_path, monkeypatch, capsys):
    from decision import report as report_package
    from decision.cli import main

    _published(tmp_path, validate_parameters({"draws": 50}, "brief"))
    rendered = []

    def fake_render(values, **kwargs):
        rendered.append(values)
        return tmp_path / "reports" / "brief"

    monkeypatch.setattr(report_package, "render_report", fake_render)
    out = ["--out", str(tmp_path / "reports")]
    assert main(["report", "-p", "draws=50", *out]) == 0
    assert "report up to date" in capsys.readouterr().out and rendered == []
    assert main(["report", "-p", "draws=50", "--force", *out]) == 0
    assert rendered == [{"draws": 50}]
    assert main(["report", "-p", "draws=60", *out]) == 0  # a changed parameter renders
    assert rendered[-1] == {"draws": 60}
