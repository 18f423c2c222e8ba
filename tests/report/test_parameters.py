"""Report parameters: what templates declare, and checks of given values before anything runs.

Ledgers and schedules here are synthetic ("synthetic test data").
"""

from __future__ import annotations

import pytest

from decision.core.errors import InputError
from decision.report import (
    TEMPLATES,
    parse_cli_parameters,
    template_parameters,
    validate_parameters,
)
from decision.templates import PARAMETER_INPUTS

SRC = "synthetic test data"


def test_template_declares_typed_literal_parameters():
    params = template_parameters("brief")
    assert params["draws"]["type"] == "int" and params["draws"]["low"] == 10
    assert params["draws"]["high"] == 100_000 and params["draws"]["default"] == 1000
    assert params["as_of"]["default"] == "2017-08-20" and params["as_of"]["low"] is None
    assert params["priors"] == {
        "default": {},
        "type": "dict",
        "help": params["priors"]["help"],
        "low": None,
        "high": None,
    }
    assert params["priors"]["help"].startswith("prior overrides by model")


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_every_template_declares_defaults_inside_their_ranges(template):
    params = template_parameters(template)
    if template != "backtest":  # the backtest report reads a finished run and fits nothing
        assert {"case", "scenario", "draws", "seed"} <= set(params)
    for name, spec in params.items():
        assert spec["help"], f"{template}: {name} has no help comment"
        if spec["low"] is not None:
            assert spec["low"] <= spec["default"] <= spec["high"], name
    # The defaults pass their own checks (empty file names mean 'none').
    assert validate_parameters({}, template) == {n: s["default"] for n, s in params.items()}


def test_every_named_input_is_a_parameter_some_template_declares():
    declared = set().union(*(template_parameters(t) for t in TEMPLATES))
    assert set(PARAMETER_INPUTS) <= declared


@pytest.mark.parametrize(
    "params, match",
    [
        ({"drawz": 10}, r"params\.yaml, field 'drawz': unknown parameter \(did you mean 'draws'"),
        ({"draws": -5}, r"field 'draws': expected a value >= 10"),
        ({"draws": "many"}, r"field 'draws': expected int"),
        ({"as_of": "2017-13-40"}, r"as_of.*expected a date"),
        ({"observations_file": "/no/such.csv"}, r"observations_file.*file not found"),
        ({"strict": 1}, r"field 'strict': expected bool"),
        ({"case": "no_such_case"}, r"params\.yaml, field 'case': no_such_case: unknown case"),
    ],
)
def test_bad_parameters_are_rejected_with_file_and_field(params, match):
    with pytest.raises(InputError, match=match):
        validate_parameters(params, source="params.yaml")


def test_cli_parameters_are_typed():
    assert parse_cli_parameters(["draws=50", "strict=true", "as_of=2017-09-01"]) == {
        "draws": 50,
        "strict": True,
        "as_of": "2017-09-01",
    }
    with pytest.raises(InputError, match="NAME=VALUE"):
        parse_cli_parameters(["draws"])


def test_bad_scenario_parameter_is_rejected_before_running(tmp_path):
    bad = tmp_path / "typo.yaml"
    bad.write_text("name: typo\nparameters:\n  w_readines: 0.5\n")
    with pytest.raises(InputError, match=r"typo\.yaml, field 'parameters\.w_readines'"):
        validate_parameters({"scenario": str(bad)})


@pytest.fixture
def bad_ledger(tmp_path):
    """Write a synthetic ledger whose second observation (row 3) has a misspelt kind."""
    path = tmp_path / "synthetic_ledger.csv"
    path.write_text(
        "date,actor,kind,value,source\n"
        f"2017-09-03,DPRK,nuclear_test,1,{SRC}\n"
        f"2017-09-04,DPRK,nuclear_tst,1,{SRC}\n"
    )
    return path


@pytest.mark.parametrize(
    "template, name", [("monitoring", "ledger_file"), ("brief", "observations_file")]
)
def test_a_bad_input_file_fails_naming_its_row_before_any_run(bad_ledger, template, name):
    with pytest.raises(InputError) as info:
        validate_parameters({name: str(bad_ledger)}, template, source="-p")
    assert (info.value.file, info.value.row, info.value.field) == (str(bad_ledger), 3, "kind")


def test_a_bad_schedule_or_month_fails_before_any_run(tmp_path):
    schedule = tmp_path / "synthetic_schedule.yaml"
    schedule.write_text("title: [unclosed\n")
    with pytest.raises(InputError, match="not valid YAML") as info:
        validate_parameters({"schedule_file": str(schedule)}, "monitoring")
    assert info.value.file == str(schedule)
    with pytest.raises(InputError, match="YYYY-MM") as info:
        validate_parameters({"through": "2017-13"}, "monitoring")
    assert info.value.field == "through"


def test_input_paths_reach_the_notebook_absolute_and_names_stay_names(tmp_path, monkeypatch):
    from decision.case import list_scenarios

    monkeypatch.chdir(tmp_path)
    (tmp_path / "ledger.csv").write_text(
        f"date,actor,kind,value,source\n2017-09-03,DPRK,nuclear_test,1,{SRC}\n"
    )
    shipped = next(p for p in list_scenarios() if p.stem == "readiness-first")
    (tmp_path / "mine.yaml").write_bytes(shipped.read_bytes())
    resolved = validate_parameters(
        {"ledger_file": "ledger.csv", "scenario": "mine.yaml", "through": "2017-09"}, "monitoring"
    )
    assert resolved["ledger_file"] == str(tmp_path / "ledger.csv")
    assert resolved["scenario"] == str(tmp_path / "mine.yaml")
    named = validate_parameters({"scenario": "readiness-first", "case": "freeze_plus_pressure"})
    assert (named["scenario"], named["case"]) == ("readiness-first", "freeze_plus_pressure")
