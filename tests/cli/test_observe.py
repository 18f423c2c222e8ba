"""``decision observe``: add, list, validate and status through ``decision.cli.main``.

All observations here are synthetic ("synthetic test data").
"""

from __future__ import annotations

import json

import pytest

from decision.cli import main
from decision.observations import COLUMNS

SRC = "synthetic test data"


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DECISION_LEDGER", raising=False)
    return tmp_path


def _add(*args: str) -> int:
    return main(["observe", "add", "--source", SRC, *args])


def test_add_list_validate_with_the_default_ledger(workspace, capsys):
    assert (
        _add("--date", "2017-09-03", "--actor", "DPRK", "--kind", "nuclear_test", "--value", "1")
        == 0
    )
    assert capsys.readouterr().out.strip() == (
        f"added row 2 to observations.csv: 2017-09-03 DPRK nuclear_test = 1 ({SRC})"
    )
    assert (
        _add(
            "--date",
            "2017-10-20",
            "--actor",
            "China",
            "--kind",
            "enforcement_step",
            "--value",
            "1",
            "--step",
            "cn-2017-09",
            "--note",
            "synthetic note",
            "--json",
        )
        == 0
    )
    added = json.loads(capsys.readouterr().out)
    assert added["row"] == 3 and added["note"] == "[cn-2017-09] synthetic note"
    assert (
        _add(
            "--date",
            "2017-11-02",
            "--actor",
            "DPRK",
            "--kind",
            "suspected_export",
            "--value",
            "1",
            "--confidence",
            "0.4",
        )
        == 0
    )
    assert "confidence 0.4" in capsys.readouterr().out
    ledger = workspace / "observations.csv"
    assert ledger.read_text().splitlines()[0] == ",".join(COLUMNS)

    assert main(["observe", "validate"]) == 0
    assert capsys.readouterr().out.strip() == "ok: 3 observations"

    assert main(["observe", "list", "--json", "--actor", "DPRK"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["row"], r["kind"], r["confidence"]) for r in rows] == [
        (2, "nuclear_test", 1.0),
        (4, "suspected_export", 0.4),
    ]
    assert main(["observe", "list", "--since", "2017-10", "--until", "2017-10"]) == 0
    table = capsys.readouterr().out
    assert "enforcement_step" in table and "nuclear_test" not in table
    assert "1 observation(s)" in table


def test_refusals_are_one_line_errors_with_status_2(workspace, capsys):
    assert (
        _add("--date", "2017-09-03", "--actor", "DPRK", "--kind", "freeze_accepted", "--value", "1")
        == 0
    )
    before = (workspace / "observations.csv").read_bytes()
    capsys.readouterr()
    cases = [
        (
            [
                "--date",
                "2017-09-03",
                "--actor",
                "DPRK",
                "--kind",
                "freeze_accepted",
                "--value",
                "1",
            ],
            "duplicate observation: row 2",
        ),
        (
            [
                "--date",
                "2017-09-03",
                "--actor",
                "DPRK",
                "--kind",
                "freeze_accepted",
                "--value",
                "0",
            ],
            "contradictory observation: row 2",
        ),
        (
            ["--date", "2017-09-01", "--actor", "DPRK", "--kind", "nuclear_test", "--value", "1"],
            "append-only in date order",
        ),
        (
            ["--date", "2017-09-05", "--actor", "USA", "--kind", "nuclear_test", "--value", "1"],
            "field 'actor'",
        ),
    ]
    for args, match in cases:
        assert _add(*args) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: observations.csv, row 3, field ") and match in err
        assert err.count("\n") == 1
    assert (workspace / "observations.csv").read_bytes() == before
    # --insert-late puts an earlier-dated line at its place.
    assert (
        _add(
            "--date",
            "2017-09-01",
            "--actor",
            "DPRK",
            "--kind",
            "nuclear_test",
            "--value",
            "1",
            "--insert-late",
        )
        == 0
    )
    assert "added row 2" in capsys.readouterr().out


def test_invalid_ledger_and_missing_ledger(workspace, capsys):
    path = workspace / "synthetic_bad.csv"
    path.write_text(",".join(COLUMNS) + "\n2017-09-03,DPRK,nuclear_test,1,,,\n")
    assert main(["observe", "validate", "--ledger", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: {path}, row 2, field 'source': expected a value, got a blank cell\n")
    assert main(["observe", "list", "--ledger", str(workspace / "none.csv")]) == 2
    assert "file not found" in capsys.readouterr().err
    assert (
        _add(
            "--ledger",
            str(workspace / "none.csv"),
            "--no-create",
            "--date",
            "2017-09-03",
            "--actor",
            "DPRK",
            "--kind",
            "nuclear_test",
            "--value",
            "1",
        )
        == 2
    )
    assert not (workspace / "none.csv").exists()


def test_ledger_from_the_environment(workspace, monkeypatch, capsys):
    target = workspace / "analysis" / "synthetic_ledger.csv"
    monkeypatch.setenv("DECISION_LEDGER", str(target))
    assert (
        _add("--date", "2017-09-14", "--actor", "DPRK", "--kind", "missile_launch", "--value", "1")
        == 0
    )
    assert target.exists() and not (workspace / "observations.csv").exists()
    capsys.readouterr()
    assert main(["observe", "validate"]) == 0
    assert capsys.readouterr().out.strip() == "ok: 1 observations"


def test_status_against_the_schedule(workspace, capsys):
    assert (
        _add("--date", "2017-09-03", "--actor", "DPRK", "--kind", "nuclear_test", "--value", "1")
        == 0
    )
    assert (
        _add(
            "--date",
            "2017-10-20",
            "--actor",
            "China",
            "--kind",
            "enforcement_step",
            "--value",
            "1",
            "--step",
            "cn-2017-09",
        )
        == 0
    )
    capsys.readouterr()
    assert main(["observe", "status", "--json"]) == 0  # through the latest month, 2017-10
    items = json.loads(capsys.readouterr().out)
    status = {(i["item"], i["month"]): i["observed"] for i in items}
    assert status[("cn-2017-09", "2017-09")] == "met"
    assert status[("cn-2017-10", "2017-10")] == "not yet reported"
    assert status[("dprk-no-nuclear-tests", "2017-09")] == "breached"
    assert len(items) == 8
    assert main(["observe", "status", "--through", "2017-09"]) == 0
    out = capsys.readouterr().out
    assert "through 2017-09" in out and "breached" in out
    assert main(["observe", "status", "--through", "Sept"]) == 2
    assert "field 'through'" in capsys.readouterr().err


def test_published_is_recorded_and_may_not_precede_the_event(workspace, capsys):
    args = ["--date", "2017-09-30", "--actor", "China", "--kind", "trade_level", "--value", "1.2"]
    assert _add(*args, "--published", "2017-10-13", "--step", "cn-2017-09") == 0
    assert "published 2017-10-13" in capsys.readouterr().out
    header, line = (workspace / "observations.csv").read_text().splitlines()
    assert dict(zip(header.split(","), line.split(","), strict=True))["published"] == "2017-10-13"
    before = (workspace / "observations.csv").read_bytes()
    late = ["--date", "2017-10-31", "--actor", "China", "--kind", "trade_level", "--value", "1"]
    assert _add(*late, "--published", "2017-10-30", "--step", "cn-2017-10") == 2
    err = capsys.readouterr().err
    assert "published" in err and "on or after date" in err
    assert (workspace / "observations.csv").read_bytes() == before  # nothing written
    assert (
        _add("--date", "2017-11-03", "--actor", "DPRK", "--kind", "nuclear_test", "--value", "1")
        == 0
    )
    capsys.readouterr()
    assert main(["observe", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["published"] for r in rows] == ["2017-10-13", "2017-11-03"]  # default: the date
