"""The decision still open at a monitoring date: the deal standing, or the second stage itself.

The worked ledger is real (examples/monitoring-2017); the 2018 freezes are synthetic test
data placed in the quiet stretch of the evidence tables (no launch or nuclear test from
December 2017 to April 2019). Fits use fake sampling (prior draws through the models'
derived quantities, which apply what monitoring observed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from decision.case import load_spec
from decision.monitoring import add_observation, monitor
from decision.monitoring.open_decision import second_stage_choice, window_state
from decision.observations import load_observations
from decision.reporting import open_decision_text, second_stage_choice_table
from decision.testing import FAKE_SAMPLER

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "monitoring-2017" / "observations.csv"
SAMPLER = {**FAKE_SAMPLER, "draws": 100}
SYNTHETIC = "synthetic test data"


@pytest.fixture
def spec():
    return load_spec()


@pytest.fixture
def scenario_2018(tmp_path):
    path = tmp_path / "synthetic-2018.yaml"
    path.write_text(
        "name: synthetic-2018\nparameters: {}\n"
        "settings:\n  dprk: {monitoring_start: '2018-01-01'}\n"
        "  china: {monitoring_start: '2018-01-01'}\n"
    )
    return path


@pytest.fixture
def accepted_2018(tmp_path):
    path = tmp_path / "accepted.csv"
    add_observation(
        path,
        date="2018-01-05",
        actor="DPRK",
        kind="freeze_accepted",
        value=1,
        source=SYNTHETIC,
    )
    return path


def test_worked_ledger_through_february_answers_the_spring_choice(fake_sampling, spec):
    """Check the report after the 3 Sep 2017 test: the window closed; the spring choice answered.

    The August choice is history, not re-recommended; what closed the window is read from the
    evidence; the open decision is the case's second stage, answered by the proposal's terms
    (its no-action option) because the refusal closed the tree's path to it.
    """
    result = monitor("2018-02", ledger=EXAMPLE, sampler=SAMPLER, use_cache=False)
    stage = spec.second_stage
    text = open_decision_text(result)
    assert "Recommendation:" not in text
    assert f"Decided in August 2017:** {spec.strategy_words(stage.strategy)}" in text
    assert "The monitoring window has closed" in text
    assert "nuclear test of 3 Sep 2017" in text
    assert f"The decision open now: {stage.decision}" in text
    decision = result.open_decision
    assert decision.state.closed_by.kind == "dprk_tested_before_accepting"
    assert decision.closed is not None and decision.closed.branch == "accepts"
    assert decision.answer == stage.no_action
    options = set(second_stage_choice(result.analysis.result, spec).index)
    assert set(decision.choice.index) == options and stage.no_action in options
    assert decision.choice["probability best"].sum() == pytest.approx(1.0)
    assert second_stage_choice_table(result).empty
    assert "not shown as an answer" in text
    as_json = result.to_dict()["open_decision"]
    assert as_json["answer"] == stage.no_action
    assert as_json["closed_by"]["date"] == "2017-09-03"


def test_while_the_window_runs_the_deal_and_the_plan_are_reported(
    fake_sampling, spec, scenario_2018, accepted_2018
):
    result = monitor(
        "2018-03",
        ledger=accepted_2018,
        scenario=scenario_2018,
        sampler=SAMPLER,
        use_cache=False,
    )
    decision = result.open_decision
    assert not decision.state.closed
    assert decision.state.months_monitored == 3
    assert decision.choice is None and decision.answer is None
    text = open_decision_text(result)
    assert "The deal still stands" in text and "3 of 6 months" in text
    assert "the DPRK accepted on 05 Jan 2018" in text
    assert f"The decision open: {spec.second_stage.decision}" in text
    assert second_stage_choice_table(result).empty


def test_a_breach_closes_the_window_and_the_terms_answer(
    fake_sampling, spec, scenario_2018, accepted_2018
):
    add_observation(
        accepted_2018,
        date="2018-03-05",
        actor="DPRK",
        kind="missile_launch",
        value=2,
        source=SYNTHETIC,
    )
    result = monitor(
        "2018-03", ledger=accepted_2018, scenario=scenario_2018, sampler=SAMPLER, use_cache=False
    )
    decision = result.open_decision
    assert decision.state.closed_by.kind == "dprk_breach"
    assert "missile launch of 5 Mar 2018 broke the freeze" in decision.state.closed_by.words
    assert decision.closed is not None
    assert decision.answer == spec.second_stage.no_action


def test_at_the_windows_end_with_the_freeze_held_the_best_option_answers(
    fake_sampling, spec, scenario_2018, accepted_2018
):
    result = monitor(
        "2018-06", ledger=accepted_2018, scenario=scenario_2018, sampler=SAMPLER, use_cache=False
    )
    decision = result.open_decision
    assert decision.state.closed_by.kind == "window_ended"
    assert decision.state.closed_by.date.isoformat() == "2018-06-30"
    assert decision.closed is None  # the path to the spring decision is open
    assert decision.answer == decision.best_option == decision.choice["value"].idxmax()
    text = open_decision_text(result)
    assert "monitoring window ended on 30 Jun 2018" in text
    assert f"With the evidence at hand: **{decision.answer}**" in text
    weights = decision.choice.attrs["weights"]
    assert set(weights) == set(result.level_probabilities)
    assert sum(weights.values()) == pytest.approx(1.0)


def test_window_state_reads_the_evidence_tables_without_a_ledger():
    """Check that with no ledger the 3 Sep 2017 test, from the evidence, closes the window."""
    assert not window_state(None, "2017-09-02").closed
    state = window_state(None, "2017-12-31")
    assert state.closed_by.kind == "dprk_tested_before_accepting"
    assert state.closed_by.date.isoformat() == "2017-09-03"
    assert state.dprk_answer == 0


def test_a_china_refusal_closes_the_window(tmp_path):
    ledger = tmp_path / "china.csv"
    add_observation(
        ledger,
        date="2018-01-20",
        actor="China",
        kind="accepts_proposal",
        value=0,
        source=SYNTHETIC,
    )
    observations = load_observations(ledger)
    settings = {"dprk": {"monitoring_start": "2018-01-01"}}
    assert not window_state(observations, "2018-01-19", settings).closed
    state = window_state(observations, "2018-02-28", settings)
    assert [e.kind for e in state.events] == ["china_refused"]
    assert np.isclose(state.china_answer, 0)
