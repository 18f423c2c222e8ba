"""A report per scenario: the scenario file written for it, refusals, and a real render."""

from __future__ import annotations

import pytest
import yaml

from decision.case import load_case
from decision.core.errors import InputError
from decision.sweep import load_sweep, run_sweep
from decision.sweep.reports import report_inputs
from decision.testing import TINY_SAMPLER


def test_the_scenario_file_of_a_report_holds_the_scenarios_inputs(
    write_sweep, tmp_path, observations_csv
):
    spec = {"distribution": "uniform", "low": 0.2, "high": 0.3}
    path = write_sweep(
        name="reported",
        sampler={"draws": 50, "tune": 20, "chains": 2},
        grid={
            "china_keeps_if_full": [0.25],
            "china_pressure_if_refused": [spec],
            "priors.china.accepts.alpha": [1.5],
            "observations": ["obs.csv"],
        },
    )
    sweep = load_sweep(path)
    (scenario,) = sweep.scenarios
    written, values = report_inputs(sweep, scenario, tmp_path / "out")
    data = yaml.safe_load(written.read_text())
    assert data["name"] == f"reported-{scenario.id}"
    assert data["parameters"]["china_keeps_if_full"]["value"] == 0.25
    assert data["parameters"]["china_pressure_if_refused"] == spec
    assert data["priors"]["china"]["accepts"]["alpha"] == 1.5
    # The file is a scenario the case accepts, with the sweep's values in force.
    case = load_case(written)
    assert case.tree.parameters["china_keeps_if_full"].value == 0.25
    assert case.tree.parameters["china_pressure_if_refused"].distribution == "uniform"
    assert values["scenario"] == str(written.resolve())
    assert values["observations_file"] == str(observations_csv.resolve())
    assert (values["draws"], values["tune"], values["chains"]) == (50, 20, 2)
    assert values["as_of"] == scenario.as_of


def test_report_refuses_overrides_of_model_supplied_parameters(
    write_sweep, tmp_path, client, synthetic_posterior
):
    path = write_sweep(draws=100, grid={"p_accept_f4f": [0.3]})
    with pytest.raises(
        InputError,
        match=r"field 'p_accept_f4f': 'p_accept_f4f' comes from the models' posterior draws",
    ):
        run_sweep(
            path, tmp_path / "out", client=client, base_posterior=synthetic_posterior, report=True
        )


@pytest.mark.slow
def test_report_per_scenario_is_rendered_once(write_sweep, tmp_path, client, synthetic_posterior):
    path = write_sweep(
        draws=200,
        sampler=dict(TINY_SAMPLER),
        grid={"china_keeps_if_full": [0.25]},
    )
    sweep = load_sweep(path)
    out = tmp_path / "out"
    summary = run_sweep(sweep, out, client=client, base_posterior=synthetic_posterior, report=True)
    assert summary.ok and summary.reports == 1, summary
    sid = sweep.scenarios[0].id
    scenario = yaml.safe_load((out / sweep.name / "scenarios" / f"{sid}.yaml").read_text())
    assert scenario["parameters"]["china_keeps_if_full"]["value"] == 0.25
    html = (out / sweep.name / "reports" / sid / "report.html").read_text()
    assert sid in html
    again = run_sweep(sweep, out, client=client, base_posterior=synthetic_posterior, report=True)
    assert again.computed == 0 and again.reports == 1
