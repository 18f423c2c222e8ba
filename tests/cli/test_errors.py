"""Errors in the user's own words: each names the option or file given and says what to do.

Every case here fails before anything is fitted or rendered: one line on standard error,
status 2, and the posterior cache still empty.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from decision import evidence
from decision.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_LEDGER = ROOT / "examples" / "monitoring-2017" / "observations.csv"


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """Work in an empty folder (no observations.csv), with no ledger from the environment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DECISION_LEDGER", raising=False)
    (tmp_path / "broken.yaml").write_text("draws: [1, 2\n")
    (tmp_path / "typo.yaml").write_text("drawz: 50\n")
    return tmp_path


def _fails(capsys, isolated_cache, *args: str) -> str:
    """Run the command; check it fails at once with one line; return the line."""
    started = time.monotonic()
    assert main(list(args)) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: ")
    assert not any(isolated_cache.rglob("*.npz")), "nothing may be fitted before the check"
    assert time.monotonic() - started < 60
    return err


def test_monitoring_report_without_a_ledger_names_the_option(workspace, capsys, isolated_cache):
    err = _fails(capsys, isolated_cache, "report", "monitoring", "--through", "2018-02")
    assert "no ledger: pass --ledger FILE" in err
    assert "the default observations.csv was not found" in err
    assert "-p" not in err.split() and "ledger_file" not in err  # the user typed neither
    for command in (["monitor"], ["report", "monitoring"]):
        err = _fails(capsys, isolated_cache, *command, "--through", "2018-02", "--ledger", "x.csv")
        assert err.startswith("error: --ledger: file not found: x.csv")


def test_a_ledger_from_the_environment_is_named_as_such(
    workspace, capsys, isolated_cache, monkeypatch
):
    monkeypatch.setenv("DECISION_LEDGER", "from-env.csv")
    err = _fails(capsys, isolated_cache, "report", "monitoring", "--through", "2018-02")
    assert err.startswith("error: DECISION_LEDGER: file not found: from-env.csv")


def test_an_as_of_after_the_evidence_is_refused_before_any_fitting(
    workspace, capsys, isolated_cache
):
    coverage = evidence.coverage()
    end = coverage.end.isoformat()
    for command in (["analyze"], ["fit"], ["report"], ["report", "sensitivity"]):
        err = _fails(capsys, isolated_cache, *command, "--as-of", "2030-01-01")
        assert err.startswith("error: --as-of: 2030-01-01 is after the evidence ends"), err
        assert f"on or before {end}" in err and coverage.end_file in err
    err = _fails(capsys, isolated_cache, "report", "-p", "as_of=2030-01-01")
    assert err.startswith("error: -p, field 'as_of': 2030-01-01 is after the evidence ends")
    err = _fails(
        capsys, isolated_cache, "monitor", "--through", "2030-01", "--ledger", str(EXAMPLE_LEDGER)
    )
    assert err.startswith("error: --through: 2030-01-31 is after the evidence ends")


def test_an_as_of_before_the_proposal_or_the_evidence_is_refused(workspace, capsys, isolated_cache):
    for command in (["analyze"], ["report"]):
        err = _fails(capsys, isolated_cache, *command, "--as-of", "2017-08-19")
        assert err.startswith(
            "error: --as-of: 2017-08-19 is before the case's proposal (Freeze-plus-pressure, "
            "2017-08-20); use a date on or after 2017-08-20"
        ), err
    err = _fails(capsys, isolated_cache, "fit", "--as-of", "1950-01-01")  # no case: the evidence
    start = evidence.coverage().start.isoformat()
    assert err.startswith(f"error: --as-of: 1950-01-01 is before the evidence starts ({start}")
    err = _fails(
        capsys, isolated_cache, "monitor", "--through", "2017-07", "--ledger", str(EXAMPLE_LEDGER)
    )
    assert err.startswith("error: --through: 2017-07-31 is before the case's proposal")


@pytest.mark.parametrize(
    "args, expected",
    [
        # a bad --params file
        (["report", "--params", "nope.yaml"], "error: --params: nope.yaml: file not found"),
        (["report", "--params", "broken.yaml"], "error: broken.yaml, row 2: not valid YAML"),
        (["report", "--params", "typo.yaml"], "error: typo.yaml, field 'drawz': unknown parameter"),
        (["analyze", "--params", "nope.yaml"], "error: --params: nope.yaml: file not found"),
        # an unknown scenario name
        (
            ["analyze", "--params", "pessimistic-chna"],
            "error: --params: unknown scenario 'pessimistic-chna' (did you mean "
            "'pessimistic-china'?): expected a scenario of the case freeze_plus_pressure",
        ),
        (
            ["report", "--params", "pessimistic-chna"],
            "error: --params: unknown scenario 'pessimistic-chna' (did you mean",
        ),
        (
            ["report", "sensitivity", "--params", "readiness-frist"],
            "error: --params: unknown scenario 'readiness-frist' (did you mean 'readiness-first'",
        ),
        (
            ["report", "-p", "scenario=pessimistic-chna"],
            "error: -p, field 'scenario': unknown scenario 'pessimistic-chna'",
        ),
        (
            ["monitor", "--ledger", str(EXAMPLE_LEDGER), "--scenario", "nope"],
            "error: --scenario: unknown scenario 'nope'",
        ),
        (
            ["report", "monitoring", "--ledger", str(EXAMPLE_LEDGER), "--scenario", "nope"],
            "error: --scenario: unknown scenario 'nope'",
        ),
        # a bad -p
        (["report", "-p", "draws"], "error: -p: expected NAME=VALUE, got 'draws'"),
        (["report", "-p", "drawz=50"], "error: -p, field 'drawz': unknown parameter (did you mean"),
        (["report", "-p", "draws=5"], "error: -p, field 'draws': expected a value >= 10, got 5"),
        (
            ["report", "-p", "as_of=2017-13-01"],
            "error: -p, field 'as_of': expected a date as YYYY-MM-DD, got '2017-13-01'",
        ),
        (["report", "--as-of", "2017-13-01"], "error: --as-of: expected a date as YYYY-MM-DD"),
        (["analyze", "--as-of", "2017-02-30"], "error: --as-of: expected a date as YYYY-MM-DD"),
        # an unknown --case
        (["analyze", "--case", "korea"], "error: --case: korea: unknown case"),
        (["report", "--case", "korea"], "error: --case: korea: unknown case"),
        (
            ["monitor", "--ledger", str(EXAMPLE_LEDGER), "--case", "korea"],
            "error: --case: korea: unknown case",
        ),
        # a missing --observations (or --schedule) file
        (
            ["analyze", "--observations", "nope.csv"],
            "error: --observations: nope.csv: file not found",
        ),
        (["fit", "--observations", "nope.csv"], "error: --observations: nope.csv: file not found"),
        (
            ["report", "-p", "observations_file=nope.csv"],
            "error: -p, field 'observations_file': file not found: nope.csv",
        ),
        (
            ["monitor", "--ledger", str(EXAMPLE_LEDGER), "--schedule", "nope.yaml"],
            "error: --schedule: nope.yaml: file not found",
        ),
        # a bad --through
        (
            ["report", "monitoring", "--ledger", str(EXAMPLE_LEDGER), "--through", "2018-13"],
            "error: --through: expected a month as YYYY-MM, or latest, got '2018-13'",
        ),
        (
            ["monitor", "--ledger", str(EXAMPLE_LEDGER), "--through", "2018-2"],
            "error: --through: expected a month as YYYY-MM, or latest, got '2018-2'",
        ),
    ],
)
def test_each_error_names_what_the_user_typed(workspace, capsys, isolated_cache, args, expected):
    assert _fails(capsys, isolated_cache, *args).startswith(expected)


def test_an_out_folder_that_is_a_file_is_named_in_one_line(workspace, capsys, isolated_cache):
    (workspace / "taken").write_text("a file the user keeps\n")
    err = _fails(capsys, isolated_cache, "report", "--out", "taken")
    assert "taken: expected a folder for reports, found a file" in err, err
    err = _fails(capsys, isolated_cache, "report", "--out", "taken/brief")
    assert "taken" in err and "not a folder" in err, err
    assert (workspace / "taken").read_text() == "a file the user keeps\n"
