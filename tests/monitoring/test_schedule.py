"""The monitoring schedule: the shipped plan, validation errors, comparison with a ledger.

Ledgers here are synthetic ("synthetic test data"), except the shipped example of real events.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
import yaml

from decision.core.errors import InputError
from decision.monitoring import schedule as sch
from decision.monitoring.ledger import add_observation
from decision.observations import example_path, load_observations

SRC = "synthetic test data"


@pytest.fixture(scope="module")
def plan():
    return sch.load_schedule()


def test_default_schedule_is_a_labelled_six_month_plan(plan):
    assert sch.default_schedule_path().name == "monitoring_schedule.yaml"
    assert plan.source == str(sch.default_schedule_path())
    assert plan.months == ["2017-09", "2017-10", "2017-11", "2017-12", "2018-01", "2018-02"]
    assert [s.month for s in plan.china_steps] == plan.months  # one step a month
    assert {s.measure for s in plan.china_steps} == set(sch.MEASURES)
    assert "analyst plan" in plan.status
    assert "scheduled step-by-step way that produces a measurable increase in pressure" in (
        " ".join(plan.rationale.split())
    )
    bases = " ".join(s.basis or "" for s in plan.china_steps)
    assert "2371 (adopted 2017-08-05)" in bases and "2375 (adopted 2017-09-11)" in bases
    for step in plan.china_steps:
        assert step.target.metric and (step.target.reduction or step.target.at_least)
    assert plan.step("cn-2017-12").target.reduction == 0.6
    kinds = {c.kind: c for c in plan.dprk_commitments}
    assert set(kinds) == {"missile_launch", "nuclear_test", "suspected_export"}
    assert all(c.months == plan.months for c in plan.dprk_commitments)
    assert kinds["suspected_export"].breach_confidence == 0.5
    with pytest.raises(InputError, match="no China step"):
        plan.step("cn-1999-01")


def _write(tmp_path, mutate):
    data = yaml.safe_load(sch.default_schedule_path().read_text())
    mutate(data)
    path = tmp_path / "synthetic_schedule.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _set(path, value):
    def mutate(data):
        node = data
        for key in path[:-1]:
            node = node[key]
        if value is KeyError:
            del node[path[-1]]
        else:
            node[path[-1]] = value

    return mutate


@pytest.mark.parametrize(
    "mutate, field, match",
    [
        (
            _set(("china_steps", 2, "target", "reduction"), 1.5),
            "china_steps[2].target.reduction",
            "less than or equal to 1",
        ),
        (
            _set(("china_steps", 2, "target", "at_least"), KeyError),
            "china_steps[2].target",
            "exactly one of 'reduction'",
        ),
        (_set(("china_steps", 1, "month"), "2017-13"), "china_steps[1].month", "YYYY-MM"),
        (_set(("china_steps", 1, "month"), "2018-05"), "china_steps[1].month", "within monitoring"),
        (_set(("china_steps", 1, "id"), "cn-2017-09"), "china_steps[1].id", "duplicate id"),
        (_set(("china_steps", 1, "measure"), "oil"), "china_steps[1].measure", "'trade'"),
        (_set(("china_steps", 0, "colour"), "red"), "china_steps[0].colour", "unexpected key"),
        (
            _set(("dprk_commitments", 0, "from"), KeyError),
            "dprk_commitments[0].from",
            "missing key",
        ),
        (
            _set(("dprk_commitments", 1, "breach_confidence"), "high"),
            "dprk_commitments[1].breach_confidence",
            "number",
        ),
        (
            _set(("dprk_commitments", 2, "kind"), "freeze_accepted"),
            "dprk_commitments[2].kind",
            "missile_launch",
        ),
        (_set(("monitoring", "end"), "2017-08"), "monitoring", "not before"),
        (_set(("rationale",), KeyError), "rationale", "missing key"),
    ],
)
def test_schedule_errors_name_file_key_path_and_line(tmp_path, mutate, field, match):
    path = _write(tmp_path, mutate)
    with pytest.raises(InputError, match=match) as info:
        sch.load_schedule(path)
    assert info.value.file == str(path)
    assert info.value.field == field
    assert "(line " in str(info.value)


def test_unparsable_schedules(tmp_path):
    path = tmp_path / "synthetic_bad.yaml"
    path.write_text("title: x\nchina_steps: [\n")
    with pytest.raises(InputError, match=r"row 3: not valid YAML at column 1"):
        sch.load_schedule(path)
    path.write_text("- just a list\n")
    with pytest.raises(InputError, match="expected a mapping"):
        sch.load_schedule(path)
    with pytest.raises(InputError, match="file not found"):
        sch.load_schedule(tmp_path / "synthetic_missing.yaml")


def test_line_number_points_at_the_key(tmp_path):
    text = sch.default_schedule_path().read_text().replace("reduction: 0.25", "reduction: -1")
    path = tmp_path / "synthetic_schedule.yaml"
    path.write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "reduction: -1" in t)
    with pytest.raises(InputError, match=rf"\(line {line}\)"):
        sch.load_schedule(path)


def test_real_example_events_against_the_plan(plan):
    out = sch.compare_to_schedule(plan, load_observations(example_path()), "2017-11")
    assert len(out) == 3 * (1 + 3)  # three months, one China step and three DPRK items each
    status = {(r.item, r.month): r.observed for r in out.itertuples()}
    assert status[("dprk-no-nuclear-tests", "2017-09")] == "breached"  # 3 Sep 2017 test
    assert status[("dprk-no-missile-launches", "2017-09")] == "breached"  # Hwasong-12
    assert status[("dprk-no-missile-launches", "2017-10")] == "met"
    assert status[("dprk-no-missile-launches", "2017-11")] == "breached"  # Hwasong-15
    assert status[("cn-2017-10", "2017-10")] == "not yet reported"
    assert set(out["observed"]) <= set(sch.STATUSES)
    row = out[(out["item"] == "dprk-no-nuclear-tests") & (out["month"] == "2017-09")].iloc[0]
    assert row["evidence_rows"] == (2,)
    assert "row 2 (2017-09-03): nuclear_test = 1" in row["evidence"]


def test_comparison_with_a_synthetic_ledger(tmp_path, plan):
    path = tmp_path / "synthetic_ledger.csv"
    rows = [
        # untagged, in the step's month: evidence for cn-2017-09
        dict(date="2017-09-28", actor="China", kind="trade_level", value=0.5),
        # tagged assessment of September, made in October: decides cn-2017-09
        dict(
            date="2017-10-25",
            actor="China",
            kind="enforcement_step",
            value=1,
            note="[cn-2017-09] synthetic",
        ),
        dict(
            date="2017-10-25",
            actor="China",
            kind="trade_level",
            value=1.2,
            note="[cn-2017-10] synthetic",
        ),
        dict(date="2017-11-02", actor="DPRK", kind="suspected_export", value=1, confidence=0.3),
        dict(date="2017-12-03", actor="DPRK", kind="suspected_export", value=1, confidence=0.7),
        dict(
            date="2017-12-20",
            actor="China",
            kind="enforcement_step",
            value=0,
            note="[cn-2099-01] not in the plan",
        ),
        dict(date="2018-01-15", actor="China", kind="enforcement_step", value=1),
    ]
    for r in rows:
        add_observation(path, source=SRC, **r)
    out = sch.compare_to_schedule(plan, path, "2017-12")
    china = out[out["actor"] == "China"].set_index("item")
    assert china.loc["cn-2017-09", "observed"] == "met"
    assert china.loc["cn-2017-09", "evidence_rows"] == (2, 3)
    assert china.loc["cn-2017-09", "value"] == 1
    assert china.loc["cn-2017-10", "observed"] == "met"  # trade level 1.2 >= 1
    assert china.loc["cn-2017-11", "observed"] == "not yet reported"
    assert china.loc["cn-2017-12", "observed"] == "not yet reported"  # tag names another step
    assert math.isnan(china.loc["cn-2017-12", "value"])
    assert "cn-2018-01" not in china.index  # after `through`
    assert out.attrs["unmatched_rows"] == [7]
    exports = out[out["item"] == "dprk-no-nuclear-technology-exports"].set_index("month")
    assert exports.loc["2017-11", "observed"] == "met"  # confidence 0.3 < 0.5, still listed
    assert exports.loc["2017-11", "evidence_rows"] == (5,)
    assert exports.loc["2017-12", "observed"] == "breached"
    # as of the end of September the October assessment is not known yet
    early = sch.compare_to_schedule(plan, path, pd.Timestamp("2017-09-30"))
    first = early[early["item"] == "cn-2017-09"].iloc[0]
    assert (first["observed"], first["value"]) == ("missed", 0.5)  # trade level below target
    # a plain observations frame works too (rows numbered from 2)
    frame = load_observations(path)
    again = sch.compare_to_schedule(plan, frame, "2017-12")
    pd.testing.assert_frame_equal(again, out)


def test_bad_through(plan):
    with pytest.raises(InputError, match="YYYY-MM") as info:
        sch.compare_to_schedule(plan, load_observations(example_path()), "late 2017")
    assert info.value.field == "through"


def test_a_month_with_nothing_on_record_is_not_reported_never_met(tmp_path, plan):
    """Check that silence is not compliance: only a kind on record for a month can be met.

    The synthetic ledger holds one China step and nothing on exports. Exports are reported
    only through the ledger, so every month is "not reported"; missile launches are counted by
    the launch table, so a month it covers with no launch is "met".
    """
    path = tmp_path / "synthetic_ledger.csv"
    add_observation(
        path,
        date="2017-10-20",
        actor="China",
        kind="enforcement_step",
        value=1,
        source=SRC,
        note="[cn-2017-10]",
    )
    out = sch.compare_to_schedule(plan, path, "2017-12")
    exports = out[out["item"] == "dprk-no-nuclear-technology-exports"].set_index("month")
    assert list(exports["observed"]) == ["not reported"] * 4
    launches = out[out["item"] == "dprk-no-missile-launches"].set_index("month")
    assert launches.loc["2017-10", "observed"] == "met"  # the table counts zero launches
    assert launches.loc["2017-09", "observed"] == "breached"  # from the table, not the ledger
    assert set(out["observed"]) <= set(sch.STATUSES)


def test_a_figure_published_after_the_month_is_not_used(tmp_path, plan):
    path = tmp_path / "synthetic_ledger.csv"
    add_observation(
        path,
        date="2017-09-30",
        actor="China",
        kind="trade_level",
        value=1.2,
        source=SRC,
        note="[cn-2017-09] synthetic: released in October",
        published="2017-10-13",
    )
    september = sch.compare_to_schedule(plan, path, "2017-09").set_index("item")
    assert september.loc["cn-2017-09", "observed"] == "not yet reported"
    october = sch.compare_to_schedule(plan, path, "2017-10").set_index("item")
    assert october.loc["cn-2017-09", "observed"] == "met"
