"""The Korea case: coherence of the analysis, as-of discipline, scenarios and the analyze command.

Tree-only tests feed the case tree synthetic draws (named so); tests that need the models use
the fake sampler (prior draws, no MCMC): they check wiring and direction, never the numbers
inference would give.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decision import evidence
from decision.case import (
    Scenario,
    analyze,
    list_scenarios,
    load_case,
    load_scenario,
    load_spec,
    probability_of_acting,
)
from decision.cli import main
from decision.core.errors import InputError
from decision.testing import synthetic_fits
from decision.tree import evaluate

N = 400
AS_OF = "2017-08-20"
SPEC = load_spec()
SECOND_DECISION = SPEC.second_stage.decision


def synthetic_supplied(n=N, seed=1, cooperation_mean=0.5):
    """Supplied draws from synthetic fits, with China's status-quo path held at 0.4.

    China's cooperation propensity is centred on ``cooperation_mean``; its status-quo
    enforcement is held fixed so that a higher propensity is a better deal, not also a
    better status quo.
    """
    case = load_case()
    supplied = case.supplied_draws(synthetic_fits(n, seed, cooperation_mean=cooperation_mean))
    supplied.update(case.evidence_inputs(AS_OF, n))
    supplied["sq_enforcement"] = np.full(n, 0.4)
    return supplied


@pytest.fixture(scope="module")
def case():
    return load_case()


def test_case_tree_has_the_three_strategies_and_a_graded_second_decision(case):
    assert [b.label for b in case.tree.root.branches] == [
        "status quo",
        "freeze-for-freeze",
        "freeze-plus-pressure",
    ]
    result = evaluate(case.tree, n=N, seed=3, supplied=synthetic_supplied())
    spring = [p for p in result.policy if p.endswith(f"/{SECOND_DECISION}")]
    assert {p.split("China's cooperation/")[1].split("/")[0] for p in spring} == {
        "low",
        "partial",
        "full",
    }
    options = result.option_values[spring[0]].coords["option"].values.tolist()
    assert options == [
        "full exercises",
        "command-post only",
        "off the Peninsula",
        "no decapitation drills",
        "all three",
    ]


def test_every_judgment_has_a_rationale(case):
    table = case.assumptions()
    judgments = table[table["judgment"]]
    assert len(judgments) >= 20
    assert (judgments["rationale"].str.len() > 10).all(), judgments.index[
        judgments["rationale"].str.len() <= 10
    ].tolist()
    assert judgments[["5%", "95%"]].notna().all().all()


def test_raising_readiness_weight_never_raises_scale_down(case):
    supplied = synthetic_supplied(cooperation_mean=0.7)
    shares = [
        probability_of_acting(
            evaluate(case.tree, n=N, seed=5, supplied=supplied, overrides={"s_readiness": w}), SPEC
        )
        for w in np.geomspace(1.0, 1e5, 12)
    ]
    assert all(b <= a + 1e-12 for a, b in itertools.pairwise(shares)), shares
    assert shares[0] > shares[-1]  # the weight matters at all


def test_raising_china_cooperation_never_lowers_freeze_plus_pressure(case):
    gaps = []
    for mean in np.linspace(0.1, 0.9, 9):
        r = evaluate(case.tree, n=N, seed=7, supplied=synthetic_supplied(cooperation_mean=mean))
        gaps.append(r.options["freeze-plus-pressure"] - r.options["status quo"])
    assert all(b >= a - 1e-12 for a, b in itertools.pairwise(gaps)), gaps


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    s_readiness=st.floats(0.0, 200.0),
    s_pressure=st.floats(0.0, 200.0),
    coop=st.floats(0.05, 0.95),
    seed=st.integers(0, 10_000),
)
def test_value_of_monitoring_is_never_negative(s_readiness, s_pressure, coop, seed):
    case = load_case()
    supplied = synthetic_supplied(n=200, seed=seed, cooperation_mean=coop)
    base = evaluate(
        case.tree,
        n=200,
        seed=seed,
        supplied=supplied,
        overrides={"s_readiness": s_readiness, "s_pressure": s_pressure},
    )
    adaptive = base.options["freeze-plus-pressure"]
    options = (
        base.option_values[next(p for p in base.policy if p.endswith(SECOND_DECISION))]
        .coords["option"]
        .values
    )
    fixed = [
        evaluate(case.tree, draws=base.parameters, force={SECOND_DECISION: str(o)}).options[
            "freeze-plus-pressure"
        ]
        for o in options
    ]
    assert adaptive - max(fixed) >= -1e-9


def _obs(rows):
    return pd.DataFrame(rows, columns=["date", "actor", "kind", "value", "source", "confidence"])


def test_a_detected_launch_lowers_compliance_and_never_favours_scale_down(fake_sampling):
    # A synthetic freeze accepted in January 2018, a quiet stretch in the evidence tables (no
    # launches from December 2017 to April 2019): the launch that breaks it is synthetic too.
    start = {"monitoring_start": "2018-01-01"}
    scenario = Scenario(name="synthetic-2018", settings={"dprk": start, "china": start})
    accepted = ("2018-01-05", "DPRK", "freeze_accepted", 1, "synthetic test data", 1.0)
    launch = ("2018-03-14", "DPRK", "missile_launch", 1, "synthetic test data", 1.0)
    sampler = {"draws": 100, "tune": 0, "chains": 2, "cores": 1, "prior_predictive_draws": 20}

    def run(rows):
        return analyze(
            scenario, as_of="2018-04-30", observations=_obs(rows), sampler=sampler, use_cache=False
        )

    quiet, breached = run([accepted]), run([accepted, launch])
    assert quiet.headline()["p_accept_freeze_plus_pressure"] == 1.0  # the observed answer
    assert breached.headline()["p_dprk_complies"] == 0.0 < quiet.headline()["p_dprk_complies"]
    assert probability_of_acting(breached.result, SPEC) <= probability_of_acting(quiet.result, SPEC)
    assert probability_of_acting(breached.result, SPEC) == 0.0


def test_analyze_as_of_uses_nothing_dated_later(fake_sampling, monkeypatch):
    seen = []
    original = evidence.loading.load

    def recording_load(name, **kwargs):
        frame = original(name, **kwargs)
        seen.append((name, frame))
        return frame

    # The loaders of each table call load in its own module, so record it there.
    monkeypatch.setattr(evidence.loading, "load", recording_load)
    late = _obs([("2017-09-03", "DPRK", "nuclear_test", 1, "synthetic test data", 1.0)])
    sampler = {"draws": 50, "tune": 0, "chains": 2, "cores": 1, "prior_predictive_draws": 10}
    as_of = pd.Timestamp("2017-08-20")
    result = analyze(as_of="2017-08-20", observations=late, sampler=sampler, use_cache=False)
    assert {name for name, _ in seen} >= {"agreements", "launches_monthly", "china_enforcement"}
    for name, frame in seen:
        for column in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[column]):
                assert (frame[column].dropna() <= as_of).all(), (name, column)
        if name == "launches_monthly":
            assert frame["month"].max() <= "2017-07"
    # The September test is after as_of: monitoring has not started, so nothing is breached.
    assert (result.fits["dprk"].draws("p_hold_monitoring") > 0).all()


def test_scenarios_load_and_change_the_tree():
    names = [p.stem for p in list_scenarios()]
    assert names[0] == "baseline"
    assert {"readiness-first", "pressure-first", "pessimistic-china"} <= set(names)
    base = load_case("baseline").tree.parameters["s_readiness"]
    readiness = load_case("readiness-first").tree.parameters["s_readiness"]
    assert readiness.mean() > base.mean()
    assert load_scenario("pessimistic-china").priors["china"]["cooperation_mean"]["beta"] == 4.0


@pytest.mark.parametrize(
    "content, match",
    [
        (
            "name: x\nparameters:\n  s_readines: 0.5\n",
            r"bad\.yaml, field 'parameters\.s_readines'.*s_readiness",
        ),
        (
            "name: x\nparameters:\n  s_readiness: {distribution: beta, alpha: -1, beta: 2}\n",
            r"bad\.yaml.*s_readiness",
        ),
        ("name: x\npriors:\n  korea: {}\n", r"unknown model 'korea'"),
        ("name: x\nweights: {}\n", r"bad\.yaml, field 'weights'"),
        ("name: [unclosed\n", r"bad\.yaml.*not valid YAML"),
    ],
)
def test_bad_scenario_files_name_file_and_field(tmp_path, content, match):
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(InputError, match=match):
        load_case(path)


def test_analyze_json_has_the_documented_keys(fake_sampling, capsys):
    code = main(["analyze", "--draws", "60", "--tune", "10", "--chains", "2", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    for key in (
        "recommendation",
        "options",
        "probability_optimal",
        "contingent_plan",
        "p_dprk_complies",
        "p_china_follows_through",
        "value_of_monitoring",
        "diagnostics",
        "flags",
    ):
        assert key in out
    assert out["recommendation"] in out["options"]
    assert set(out["contingent_plan"]) == {"low", "partial", "full"}
    assert out["value_of_monitoring"] >= 0


def test_analyze_bad_observations_file_exits_2(tmp_path, capsys):
    bad = tmp_path / "ledger.csv"
    bad.write_text("date,actor,kind,value,source\n2017-09-03,Russia,nuclear_test,1,x\n")
    assert main(["analyze", "--observations", str(bad), "--as-of", "2017-12-31"]) == 2
    err = capsys.readouterr().err
    assert "ledger.csv" in err and "row 2" in err and "actor" in err
