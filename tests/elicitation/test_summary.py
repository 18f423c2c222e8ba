"""What reports show: provenance per judgment, and the recommendation under each expert."""

from __future__ import annotations

import pytest

from decision import reporting
from decision.case import analyze
from decision.core.errors import InputError
from decision.elicitation import (
    Disagreement,
    elicit_case,
    expert_disagreement,
    judgment_provenance,
    load_record,
)
from decision.testing import synthetic_fits


@pytest.fixture(scope="module")
def fits():
    return synthetic_fits(1000, seed=5)


@pytest.fixture(scope="module")
def baseline(fits):
    return analyze(fits=fits)


def test_every_shipped_judgment_is_credited_to_the_analysts_record(baseline):
    table = judgment_provenance(baseline.case, baseline.as_of)
    assert len(table) == 38
    assert table["provenance"].str.startswith("package-analysts (2017-08-20); ").all()
    assert (table["experts' spread"] == "one expert").all()
    assert not table["after as_of"].any()
    assert table.loc["s_readiness", "distribution"] == "triangular(30, 60, 100)"
    assert (
        "three-point (low, mode, high) read as triangular" in table.loc["s_readiness", "provenance"]
    )
    assert table.loc["p_covert_rd", "distribution"] == "beta(2, 8)"


def test_a_hand_typed_scenario_spec_says_where_it_came_from(fits):
    analysis = analyze("readiness-first", fits=fits)
    table = judgment_provenance(analysis.case, analysis.as_of)
    assert table.loc["s_readiness", "provenance"] == (
        "set by scenario 'readiness-first'; differs from the case's elicitation records"
    )
    assert table.loc["s_pressure", "provenance"].startswith("package-analysts")


def test_a_pooled_scenario_carries_experts_spread_and_provenance(tmp_path, hawk, fits):
    scenario = tmp_path / "pooled.yaml"
    elicit_case(extra=[hawk]).write_scenario(scenario)
    analysis = analyze(str(scenario), fits=fits)
    table = reporting.assumptions_table(analysis)
    row = table.loc["s_readiness"]
    assert row["distribution"].startswith("0.5 triangular(30, 60, 100) + 0.5 triangular(70,")
    assert row["experts' spread"] == "medians 62.6 to 91.2 (2 experts)"
    assert row["provenance"].startswith(
        "equal weights of package-analysts (2017-08-20), hawkish-analyst (2017-08-20)"
    )
    assert "ILLUSTRATIVE expert: hawkish-analyst" in row["provenance"]
    assert table.loc["r_suspend", "experts' spread"] == "one expert"
    assert list(table.columns[:8]) == [
        "kind",
        "judgment",
        "description",
        "distribution",
        "5%",
        "95%",
        "experts' spread",
        "provenance",
    ]
    assert table.loc["p_accept_f4f", "provenance"] == ""


def test_the_experts_disagreement_shows_each_experts_recommendation(baseline, hawk):
    result = expert_disagreement(baseline, extra=[hawk])
    table = result.table
    assert list(table["kind"]) == ["analysis", "expert", "expert", "pool"]
    analysts = table.loc["The package's analysts (package-analysts)"]
    hawkish = table.loc["A hawkish analyst (hawkish-analyst) [ILLUSTRATIVE]"]
    assert analysts["recommendation"] == baseline.recommendation == "freeze-plus-pressure"
    assert hawkish["recommendation"] == "status quo"
    assert hawkish["answered"] == "19 of 38" and analysts["answered"] == "38 of 38"
    assert not result.agree
    text = reporting.expert_disagreement_text(result)
    assert text.startswith("**The experts disagree on the recommendation**")
    markdown = reporting.expert_disagreement_markdown(result)
    assert markdown.startswith("## Expert disagreement")
    assert "&#91;ILLUSTRATIVE&#93;" in markdown and "| status quo |" in markdown
    shown = reporting.expert_disagreement_table(result)
    assert "kind" not in shown.columns and shown["probability optimal"].str.endswith("%").all()


def test_without_a_second_expert_there_is_no_disagreement(baseline):
    result = expert_disagreement(baseline)
    assert list(result.table["kind"]) == ["analysis", "expert"]
    assert result.agree
    assert reporting.expert_disagreement_text(result).startswith(
        "One expert's judgments are on record; they lead to this analysis's recommendation."
    )


def test_hostile_text_from_a_record_shows_as_text(baseline, write_record):
    hostile = "<script>document.title='pwned'</script> ![x](https://tracker.invalid/p.png)"
    table = expert_disagreement(baseline).table.copy()
    table.index = [table.index[0], hostile]
    text = reporting.expert_disagreement_text(
        Disagreement(table=table, reference="status quo", strategies=list(baseline.result.options))
    )
    assert "<script>" not in text and "](" not in text
    assert "&lt;script&gt;" in text
    path = write_record("expert: !!python/object/apply:os.system ['echo PWNED']\n")
    with pytest.raises(InputError, match=str(path)):
        load_record(path)
