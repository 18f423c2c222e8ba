"""A case is a plug-in: a second case in a temporary folder runs through the engine unchanged.

The second case is synthetic test data (a made-up decision on real model output): whether to
deploy an extra missile-defence battery, whose value grows with the DPRK's launch rate, the one
parameter it takes from an existing model's posterior. Nothing in ``decision/`` is edited for it.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from decision.case import CaseSpec, load_case, load_spec
from decision.cli import main
from decision.core.errors import InputError
from decision.testing import cli_parameters

TINY = cli_parameters()

TREE = """\
name: Synthetic missile-defence case
units: points
parameters:
  launch_rate:
    supplied: true
    default: 2.0
    units: missiles per month
    description: DPRK missiles launched per month without a freeze (DPRK model)
  p_intercept:
    {distribution: beta, alpha: 6, beta: 4, judgment: true,
     description: "chance the battery intercepts a launch it is in range of",
     rationale: "Synthetic test judgment."}
  cost:
    {distribution: triangular, low: 0.5, mode: 1.0, high: 2.0, judgment: true,
     description: "cost of deploying the battery for a year, in points",
     rationale: "Synthetic test judgment."}
root:
  type: decision
  name: Missile defence
  options:
    deploy:
      payoff: -cost
      type: chance
      name: Intercepts
      outcomes:
        "yes": {probability: p_intercept, payoff: 0.1 * 12 * launch_rate}
        "no": {probability: 1 - p_intercept}
    hold: {payoff: 0}
"""

INIT = """\
from pathlib import Path

from decision.case.spec import CaseSpec, HeadlineQuantity, ReportTitles

SPEC = CaseSpec(
    name="missile_defence",
    folder=Path(__file__).parent,
    title="Missile defence (synthetic test case)",
    question="Should an extra missile-defence battery be deployed for a year?",
    supplied={"launch_rate": ("dprk", "launches_prevented_per_month")},
    headline=(
        HeadlineQuantity(
            "launch_rate", "dprk", "launches_prevented_per_month",
            "missiles launched per month", probability=False,
        ),
    ),
    strategies={"deploy": "deploy the battery", "hold": "do not deploy"},
    parameter_groups={"judgments": ("p_intercept", "cost")},
    reports=ReportTitles(brief="Missile defence: brief", sensitivity="Missile defence: robustness"),
)
"""


def headings(soup: BeautifulSoup, tag: str) -> list[str]:
    """Heading texts without nbconvert's anchor-link pilcrow."""
    return [h.get_text(strip=True).removesuffix("¶") for h in soup.find_all(tag)]


def make_case(folder: Path, init: str = INIT) -> Path:
    (folder / "scenarios").mkdir(parents=True)
    (folder / "tree.yaml").write_text(TREE)
    (folder / "__init__.py").write_text(textwrap.dedent(init))
    (folder / "scenarios" / "baseline.yaml").write_text(
        "name: baseline\ndescription: the case as written\nparameters: {}\n"
    )
    return folder


@pytest.fixture
def second_case(tmp_path) -> Path:
    return make_case(tmp_path / "missile_defence")


def test_the_spec_is_loaded_from_a_folder(second_case):
    spec = load_spec(second_case)
    assert isinstance(spec, CaseSpec) and spec.models == ("dprk",)
    case = load_case(None, second_case)
    assert case.supplied_by_model() == {"dprk": ["launch_rate"]}
    assert case.parameter_groups() == {
        "DPRK model (posterior)": ["launch_rate"],
        "judgments": ["p_intercept", "cost"],
    }


def test_unknown_cases_and_bad_specs_name_the_file(tmp_path):
    with pytest.raises(InputError, match="unknown case.*did you mean 'freeze_plus_pressure'"):
        load_spec("freeze_plus_presure")
    bad = make_case(
        tmp_path / "bad", INIT.replace('"launch_rate": ("dprk"', '"launch_rte": ("dprk"')
    )
    with pytest.raises(InputError, match=r"bad/__init__\.py.*unknown tree parameter 'launch_rte'"):
        load_case(None, bad)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "__init__.py").write_text("SPEC = 3\n")
    with pytest.raises(InputError, match=r"expected SPEC = CaseSpec"):
        load_spec(empty)


def test_analyze_and_both_reports_run_on_a_second_case(
    fake_sampling, second_case, tmp_path, capsys
):
    assert (
        main(
            [
                "analyze",
                "--case",
                str(second_case),
                "--json",
                "--draws",
                "30",
                "--tune",
                "30",
                "--chains",
                "2",
            ]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["case"] == "missile_defence"
    assert set(result["options"]) == {"deploy", "hold"}
    assert set(result["diagnostics"]) == {"dprk"}  # only the model the case uses is fitted
    assert result["headline_names"] == ["launch_rate"] and result["launch_rate"] > 0
    assert result["contingent_plan"] == {}

    out = tmp_path / "reports"
    assert main(["report", "--case", str(second_case), "--out", str(out), *TINY]) == 0
    brief = BeautifulSoup((out / "brief" / "report.html").read_text(), "html.parser")
    assert headings(brief, "h1") == ["Missile defence: brief"]
    table_text = " ".join(t.get_text(" ") for t in brief.find_all("table"))
    assert "deploy" in table_text and "launch_rate" in table_text
    assert "China" not in brief.get_text()  # no section of a model the case does not use

    assert (
        main(["report", "sensitivity", "--case", str(second_case), "--out", str(out), *TINY]) == 0
    )
    sens = BeautifulSoup((out / "sensitivity" / "report.html").read_text(), "html.parser")
    assert headings(sens, "h1") == ["Missile defence: robustness"]
    assert (
        "p_intercept" in sens.get_text() and "The case names no monitoring study" in sens.get_text()
    )
