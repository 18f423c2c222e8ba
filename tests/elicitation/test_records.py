"""Elicitation records: validation with one-line errors naming the file and field; coverage."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from decision.case import load_case
from decision.cli import main
from decision.core.errors import InputError
from decision.elicitation import coverage, elicit_case, load_record, load_records
from decision.elicitation.records import check_against_tree


def test_the_shipped_record_is_valid_and_answers_every_judgment_of_the_tree(shipped):
    record = load_record(shipped)
    assert record.expert.id == "package-analysts"
    assert record.date == dt.date(2017, 8, 20)
    tree = load_case().tree
    judgments = [n for n, p in tree.parameters.items() if p.judgment]
    assert len(judgments) == 38
    assert sorted(record.judgments) == sorted(judgments)
    for judgment in record.judgments.values():
        assert judgment.question.endswith(("?", ".", ")")) and judgment.units and judgment.rationale


def _malformed(judgments=None, **top):
    """Describe a change to the minimal record: top-level keys, keys of its judgments."""
    return {"top": top, "judgments": judgments or {}}


def _apply(make, change):
    data = make(**change["top"])
    for name, keys in change["judgments"].items():
        data["judgments"][name].update(keys)
    return data


@pytest.mark.parametrize(
    "data, field, words",
    [
        (_malformed(date="not a date"), "date", "date"),
        (_malformed(expert={"id": "bad id!", "name": "x"}), "expert.id", "expected an id"),
        (
            _malformed(method={"name": "guess", "distribution": "triangular"}),
            "method.name",
            "guess",
        ),
        (
            _malformed({"s_readiness": {"answers": {"low": 30, "high": 100}}}),
            "judgments.s_readiness.answers.mode",
            "missing 'mode'",
        ),
        (
            _malformed({"s_readiness": {"answers": {"low": 30, "mode": "sixty", "high": 100}}}),
            "judgments.s_readiness.answers.mode",
            "number",
        ),
        (
            _malformed({"s_readiness": {"answers": {"low": 30, "mode": 120, "high": 100}}}),
            "judgments.s_readiness.answers.mode",
            "mode must lie in",
        ),
        (
            _malformed({"s_readiness": {"answers": {"low": 30, "mode": 60, "hgh": 100}}}),
            "judgments.s_readiness.answers",
            "did you mean 'high'",
        ),
        (_malformed({"s_readiness": {"rationale": ""}}), "judgments.s_readiness.rationale", ""),
        (
            _malformed({"s_readiness": {"colour": "red"}}),
            "judgments.s_readiness.colour",
            "unknown key",
        ),
        (
            _malformed({"p_covert_rd": {"answers": {"p05": 0.3, "p50": 0.2, "p95": 0.43}}}),
            "judgments.p_covert_rd.answers",
            "must increase",
        ),
        (
            _malformed({"p_covert_rd": {"answers": {"p05": 0.04, "p50": 0.18, "p95": 1.5}}}),
            "judgments.p_covert_rd.answers",
            "beta distribution lies in (0, 1)",
        ),
        (
            _malformed({"p_covert_rd": {"answers": {"p05": 0.04, "median": 0.18}}}),
            "judgments.p_covert_rd.answers.median",
            "pNN",
        ),
        (
            _malformed(
                {"s_readiness": {"method": {"name": "three-point", "distribution": "beta"}}}
            ),
            "judgments.s_readiness.method.distribution",
            "read as one of triangular, pert",
        ),
    ],
)
def test_a_malformed_record_is_one_line_naming_file_and_field(
    write_record, minimal_record, data, field, words
):
    path = write_record(_apply(minimal_record, data))
    with pytest.raises(InputError) as caught:
        load_record(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}, field '{field}'"), message
    assert words in message


def test_the_cli_prints_a_malformed_record_as_one_line_and_exits_2(
    write_record, minimal_record, capsys
):
    change = _malformed({"s_readiness": {"answers": {"low": 30, "high": 100}}})
    path = write_record(_apply(minimal_record, change))
    assert main(["elicit", "check", "--record", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert re.fullmatch(
        rf"error: {re.escape(str(path))}, field 'judgments\.s_readiness\.answers\.mode': .+", err
    )


def test_yaml_that_is_not_a_record_names_the_file(write_record):
    path = write_record("- just\n- a list\n")
    with pytest.raises(InputError, match=re.escape(str(path)) + ": expected a mapping"):
        load_record(path)


def test_an_answer_for_a_judgment_the_tree_lacks_names_the_file_and_judgment(
    write_record, minimal_record
):
    data = minimal_record()
    data["judgments"]["s_readyness"] = data["judgments"].pop("s_readiness")
    path = write_record(data)
    with pytest.raises(InputError) as caught:
        elicit_case(folder=path.parent)
    assert f"{path}, field 'judgments.s_readyness'" in str(caught.value)
    assert "did you mean 's_readiness'" in str(caught.value)


def test_an_answer_for_a_parameter_that_is_not_a_judgment_is_refused(write_record, minimal_record):
    data = minimal_record()
    data["judgments"]["p_accept_f4f"] = data["judgments"].pop("s_readiness")
    path = write_record(data)
    with pytest.raises(InputError, match="not an analyst judgment.*supplied"):
        check_against_tree(load_records(path.parent), load_case().tree, "freeze_plus_pressure")


def test_a_record_of_another_case_is_refused(write_record, minimal_record):
    path = write_record(minimal_record(case="another_case"))
    with pytest.raises(InputError, match=r"field 'case': the record is for case 'another_case'"):
        elicit_case(folder=path.parent)


def test_two_records_of_one_expert_and_date_are_refused(write_record, minimal_record, tmp_path):
    write_record(minimal_record(), "a.yaml")
    write_record(minimal_record(), "b.yaml")
    with pytest.raises(InputError, match="second record of expert 'test-expert'"):
        load_records(tmp_path)


def test_judgments_never_elicited_are_reported(write_record, minimal_record):
    path = write_record(minimal_record())
    elicitation = elicit_case(folder=path.parent)
    assert sorted(elicitation.pools) == ["p_covert_rd", "s_readiness"]
    assert len(elicitation.missing) == 36 and "s_pressure" in elicitation.missing
    assert coverage(elicitation.records, elicitation.tree)["s_pressure"] == []


def test_a_later_session_of_an_expert_replaces_the_earlier_answers(
    write_record, minimal_record, tmp_path
):
    first = minimal_record()
    later = minimal_record(date=dt.date(2017, 8, 25))
    later["judgments"]["s_readiness"]["answers"] = {"low": 10, "mode": 20, "high": 40}
    del later["judgments"]["p_covert_rd"]
    write_record(first, "first.yaml")
    write_record(later, "later.yaml")
    elicitation = elicit_case(folder=tmp_path)
    (fit,) = elicitation.fits["s_readiness"]
    assert fit.spec["mode"] == 20 and fit.elicited.date == dt.date(2017, 8, 25)
    (kept,) = elicitation.fits["p_covert_rd"]
    assert kept.elicited.date == dt.date(2017, 8, 20)


def test_the_illustrative_record_says_so(hawk):
    record = load_record(hawk)
    assert record.expert.illustrative
    assert "ILLUSTRATIVE" in hawk.read_text().splitlines()[0]
