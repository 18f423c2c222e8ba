"""``decision tree evaluate`` and ``decision tree draw`` through ``decision.cli.main``."""

from __future__ import annotations

import json
import textwrap

import pytest

from decision.cli import main
from decision.tree import example_path

UNCERTAIN = textwrap.dedent("""\
    name: Goferbroke, uncertain
    units: thousand USD
    parameters:
      p_oil: {distribution: beta, alpha: 2.5, beta: 7.5}
    root:
      type: decision
      name: Drill or sell
      options:
        drill:
          type: chance
          name: Oil
          uncertainty: deposit
          outcomes:
            oil: {probability: p_oil, payoff: 700}
            dry: {probability: 1 - p_oil, payoff: -100}
        sell: {payoff: 90}
    """)


def run(capsys, *args):
    code = main(["tree", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_evaluate_json_has_the_required_keys(capsys):
    code, out, err = run(
        capsys, "evaluate", example_path("goferbroke"), "--evpi", "deposit", "--json"
    )
    assert code == 0, err
    summary = json.loads(out)
    assert summary["optimal"] == "drill"
    assert summary["value"] == pytest.approx(100)
    assert summary["options"] == pytest.approx({"drill": 100, "sell": 90})
    assert summary["evpi"] == pytest.approx({"deposit": 142.5})
    assert "probability_optimal" not in summary  # nothing uncertain


def test_evaluate_json_with_uncertain_parameters(capsys, tmp_path):
    path = tmp_path / "uncertain.yaml"
    path.write_text(UNCERTAIN)
    code, out, err = run(
        capsys, "evaluate", path, "--draws", 2000, "--seed", 3, "--json", "--evpi", "deposit"
    )
    assert code == 0, err
    summary = json.loads(out)
    assert summary["draws"] == 2000 and summary["seed"] == 3
    assert set(summary["probability_optimal"]) == {"drill", "sell"}
    assert summary["evpi_parameters"] >= 0
    assert summary["evpi"]["deposit"] > 100
    again = json.loads(run(capsys, "evaluate", path, "--draws", 2000, "--seed", 3, "--json")[1])
    assert again["value"] == summary["value"]
    unseeded = json.loads(run(capsys, "evaluate", path, "--draws", 100, "--json")[1])
    assert isinstance(unseeded["seed"], int)


def test_evaluate_table(capsys):
    code, out, err = run(capsys, "evaluate", example_path("goferbroke_survey"), "--evpi", "deposit")
    assert code == 0, err
    assert "Goferbroke with seismic survey" in out
    assert "survey" in out and "optimal" in out and "123" in out
    assert "Later decisions" in out and "119.5" in out


def test_evaluate_table_with_utility_and_uncertainty(capsys, tmp_path):
    code, out, _ = run(capsys, "evaluate", example_path("party_problem"), "--evpi", "weather")
    assert code == 0
    assert "Certainty equivalent" in out and "45.83" in out and "20.26" in out
    path = tmp_path / "uncertain.yaml"
    path.write_text(UNCERTAIN)
    code, out, _ = run(capsys, "evaluate", path, "-n", 500, "--seed", 1)
    assert code == 0
    assert "P(optimal)" in out and "all parameters" in out and "seed 1" in out


def test_set_and_force_options(capsys):
    path = example_path("goferbroke")
    code, out, _ = run(capsys, "evaluate", path, "--set", "p_oil=0.1", "--json")
    assert json.loads(out)["optimal"] == "sell"
    code, out, _ = run(capsys, "evaluate", path, "--force", "Drill or sell=sell", "--json")
    summary = json.loads(out)
    assert summary["optimal"] == "sell" and summary["forced"] == {"Drill or sell": "sell"}
    code, out, _ = run(capsys, "evaluate", path, "--evpi", "deposit,deposit", "--json")
    assert list(json.loads(out)["evpi"]) == ["deposit"]


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["evaluate", "missing.yaml"], "missing.yaml: file not found"),
        (["evaluate", "GOFER", "--evpi", "deposti"], "did you mean 'deposit'"),
        (["evaluate", "GOFER", "--set", "p_oil"], "expected NAME=VALUE"),
        (["evaluate", "GOFER", "--set", "p_oil=abc"], "must be a number"),
        (["evaluate", "GOFER", "--set", "p_oill=0.2"], "did you mean 'p_oil'"),
        (["evaluate", "GOFER", "--set", "p_oil=1.5"], "must lie in [0, 1]"),
        (["evaluate", "GOFER", "--draws", "0"], "positive integer"),
        (["evaluate", "GOFER", "--force", "Drill=sell"], "cannot force 'Drill'"),
        (["draw", "GOFER", "-o", "tree.jpeg2"], "cannot draw to format"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, args, fragment):
    args = [str(example_path("goferbroke")) if a == "GOFER" else a for a in args]
    code, out, err = run(capsys, *args)
    assert code == 2
    assert err.startswith("error: ") and fragment in err
    assert err.count("\n") == 1


def test_invalid_tree_file_exit_2(capsys, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(UNCERTAIN.replace("probability: p_oil,", "probabilty: p_oil,"))
    code, _, err = run(capsys, "evaluate", path)
    assert code == 2
    assert "Drill or sell/drill/Oil/oil" in err and "did you mean 'probability'" in err


def test_usage_errors_exit_2():
    from typer.testing import CliRunner

    from decision.cli.tree import app

    runner = CliRunner()
    missing_output = runner.invoke(app, ["draw", str(example_path("goferbroke"))])
    assert missing_output.exit_code == 2
    assert "--output" in missing_output.output
    unknown = runner.invoke(app, ["evaluate", str(example_path("goferbroke")), "--bogus"])
    assert unknown.exit_code == 2


def test_draw_writes_svg(capsys, tmp_path):
    target = tmp_path / "out" / "tree.svg"
    code, out, err = run(capsys, "draw", example_path("goferbroke_survey"), "-o", target)
    assert code == 0, err
    text = target.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    assert "Seismic reading" in text and "EV 123" in text
    assert f"{target}" in out
