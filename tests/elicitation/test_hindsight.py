"""The hindsight guard: later events in a rationale are errors; later elicitation is flagged."""

from __future__ import annotations

import datetime as dt

import pytest

from decision import reporting
from decision.case import analyze
from decision.core.errors import InputError
from decision.elicitation import cited_dates, elicit_case, judgment_provenance
from decision.testing import synthetic_fits


@pytest.mark.parametrize(
    "text, first",
    [
        ("24 missiles in 2016, 18 in Jan-Jul 2017", dt.date(2016, 1, 1)),
        ("elected May 2017", dt.date(2017, 5, 1)),
        ("the test of 3 September 2017", dt.date(2017, 9, 3)),
        ("on September 3, 2017", dt.date(2017, 9, 3)),
        ("reported 2017-09-03", dt.date(2017, 9, 3)),
        ("the 2017-18 winter", dt.date(2018, 1, 1)),
        ("spring 2018", dt.date(2018, 1, 1)),
    ],
)
def test_dates_cited_in_text_are_found(text, first):
    assert cited_dates(text)[0][1] == first


def test_text_without_a_date_cites_none():
    assert cited_dates("the 8 Aug exchange; 18 months; 90% of trade; 24 missiles") == []


def test_a_rationale_citing_a_later_event_is_an_error_naming_file_and_judgment(
    write_record, minimal_record
):
    data = minimal_record()
    data["judgments"]["s_readiness"]["rationale"] = "After the 3 September 2017 test, less."
    path = write_record(data)
    with pytest.raises(InputError) as caught:
        elicit_case(folder=path.parent)
    message = str(caught.value)
    assert message.startswith(f"{path}, field 'judgments.s_readiness.rationale': ")
    assert "'3 September 2017'" in message and "2017-08-20" in message


def test_a_rationale_may_cite_what_came_before_its_date(write_record, minimal_record):
    data = minimal_record(date=dt.date(2017, 9, 30))
    data["judgments"]["s_readiness"]["rationale"] = "After the 3 September 2017 test, less."
    elicit_case(folder=write_record(data).parent)


@pytest.fixture(scope="module")
def fits():
    return synthetic_fits(500, seed=2)


def test_a_judgment_elicited_after_as_of_is_flagged_in_the_brief(
    tmp_path, write_record, minimal_record, fits
):
    path = write_record(minimal_record(date=dt.date(2017, 10, 1)))
    elicitation = elicit_case(folder=path.parent)
    flags = elicitation.hindsight_flags(dt.date(2017, 8, 20))
    assert len(flags) == 2 and flags[0].startswith(
        "s_readiness: elicited from test-expert on 2017-10-01, after the analysis date 2017-08-20"
    )
    assert elicitation.hindsight_flags(dt.date(2017, 12, 31)) == []
    scenario = tmp_path / "late.yaml"
    elicitation.write_scenario(scenario)
    analysis = analyze(str(scenario), fits=fits, as_of="2017-08-20")
    table = judgment_provenance(analysis.case, analysis.as_of)
    assert table.loc["s_readiness", "after as_of"] and table.loc["p_covert_rd", "after as_of"]
    assert not table.loc["s_pressure", "after as_of"]
    text = reporting.hindsight_text(analysis, table)
    assert "2 judgment(s) were elicited after the analysis date (2017-08-20)" in text
    assert "s&#95;readiness" in text
    assumptions = reporting.assumptions_table(analysis, table)
    assert "ELICITED AFTER THE ANALYSIS DATE" in assumptions.loc["s_readiness", "provenance"]
    later = analyze(str(scenario), fits=fits, as_of="2017-12-31")
    assert reporting.hindsight_text(later) == ""


def test_the_shipped_case_has_no_hindsight_flag(fits):
    analysis = analyze(fits=fits)
    assert reporting.hindsight_text(analysis) == ""
