"""Monitoring observations: the CSV format, its validation and the monthly summary."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from decision import observations as obs
from decision.core.errors import InputError

SYNTHETIC = Path(__file__).parent / "data" / "synthetic_observations.csv"
HEADER = "date,actor,kind,value,source,confidence,note,published"


def test_example_file_holds_the_real_events_after_the_proposal():
    frame = obs.load_observations(obs.example_path())
    assert list(frame.columns) == list(obs.COLUMNS)
    assert frame["date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2017-09-03",
        "2017-09-14",
        "2017-11-28",
    ]
    assert frame["kind"].tolist() == ["nuclear_test", "missile_launch", "missile_launch"]
    assert (frame["actor"] == "DPRK").all()
    assert frame["source"].str.strip().ne("").all()
    assert (frame["confidence"] == 1.0).all()


def test_as_of_drops_later_rows():
    assert len(obs.load_observations(obs.example_path(), as_of="2017-10-01")) == 2
    assert len(obs.load_observations(obs.example_path(), as_of=dt.date(2017, 8, 20))) == 0


@pytest.mark.parametrize("source", [obs.example_path(), SYNTHETIC])
def test_round_trip(tmp_path, source):
    frame = obs.load_observations(source)
    out = obs.write_observations(frame, tmp_path / "synthetic_round_trip.csv")
    again = obs.load_observations(out)
    pd.testing.assert_frame_equal(frame, again)
    assert out.read_text().splitlines()[0] == HEADER


def test_optional_columns_may_be_absent(tmp_path):
    path = tmp_path / "synthetic_minimal.csv"
    path.write_text("date,actor,kind,value,source\n2018-01-03,China,enforcement_step,1,x\n")
    frame = obs.load_observations(path)
    assert frame["confidence"].tolist() == [1.0]
    assert frame["note"].isna().all()
    assert list(frame.columns) == list(obs.COLUMNS)


def test_validate_in_memory_frame():
    frame = pd.DataFrame(
        {
            "date": ["2018-01-03"],
            "actor": ["DPRK"],
            "kind": ["missile_launch"],
            "value": [2],
            "source": ["x"],
        }
    )
    typed = obs.validate_observations(frame)
    assert typed["value"].tolist() == [2.0]
    dated = frame.assign(date=[pd.Timestamp("2018-01-03")], confidence=[None])
    pd.testing.assert_frame_equal(obs.validate_observations(dated), typed)
    bad = frame.assign(value=[0])
    with pytest.raises(InputError) as info:
        obs.validate_observations(bad, file="in-memory")
    assert str(info.value).startswith("in-memory, row 2, field 'value'")


def test_empty_observations():
    empty = obs.empty_observations()
    assert len(empty) == 0 and list(empty.columns) == list(obs.COLUMNS)
    summary = obs.summarise_monitoring(empty, "2017-09-01", "2018-02-28")
    assert summary["months_observed"] == 6
    assert summary["dprk"]["first_test_month"] is None
    assert summary["china"]["steps_met"] == 0


def test_summary_of_the_example():
    summary = obs.summarise_monitoring(
        obs.load_observations(obs.example_path()), "2017-09-01", "2018-02-28"
    )
    dprk = summary["dprk"]
    assert summary["months_observed"] == 6
    assert dprk["first_test_month"] == 1
    assert dprk["first_test_date"] == dt.date(2017, 9, 3)
    assert dprk["first_test_kind"] == "nuclear_test"
    assert dprk["test_months"] == [1, 3]
    assert (dprk["missiles"], dprk["nuclear_tests"]) == (2, 1)
    later = obs.summarise_monitoring(
        obs.load_observations(obs.example_path()), "2017-10-01", "2018-02-28"
    )
    assert later["dprk"]["first_test_month"] == 2  # the November launch
    assert later["months_observed"] == 5


def test_summary_of_every_kind():
    frame = obs.load_observations(SYNTHETIC)
    summary = obs.summarise_monitoring(frame, "2018-01-01", "2018-06-30", min_confidence=0.5)
    dprk, china = summary["dprk"], summary["china"]
    assert summary["months_observed"] == 6
    assert dprk["freeze_accepted"] is True
    assert dprk["suspected_exports"] == [
        {"month": 2, "date": dt.date(2018, 2, 10), "confidence": 0.3}
    ]
    assert dprk["unconfirmed_tests"] == [
        {"month": 3, "date": dt.date(2018, 3, 15), "kind": "missile_launch", "confidence": 0.2}
    ]
    assert dprk["first_test_month"] == 4 and dprk["missiles"] == 3
    assert dprk["nuclear_tests"] == 1 and dprk["test_months"] == [4, 5]
    assert (china["steps_met"], china["steps_missed"]) == (1, 1)
    assert china["trade_levels"] == [0.8, 1.25]
    assert china["trade_level_months"] == [3, 4]
    assert china["accepts_proposal"] is True
    everything = obs.summarise_monitoring(frame, "2018-01-01", "2018-06-30")
    assert everything["dprk"]["first_test_month"] == 3  # min_confidence 0 counts every test


def test_partial_month_is_not_observed():
    summary = obs.summarise_monitoring(obs.empty_observations(), "2017-09-01", "2017-11-15")
    assert summary["months_observed"] == 2


def test_summary_rejects_reversed_window():
    with pytest.raises(InputError) as info:
        obs.summarise_monitoring(obs.empty_observations(), "2018-01-01", "2017-12-31")
    assert info.value.field == "through"


ROW = "2018-01-03,DPRK,missile_launch,1,CNS,1,"
BAD = [
    # body lines after the header, row, field, words
    (
        ["2018-01-03,DPRK,missile_launch,1,CNS,1,", "2018-01-04,Russia,missile_launch,1,x,1,"],
        3,
        "actor",
        "one of: DPRK, China",
    ),
    ([ROW, "2018-01-04,DPRK,enforcement_step,1,x,1,"], 3, "kind", "a DPRK kind"),
    ([ROW, "2018-01-04,China,missile_launch,1,x,1,"], 3, "kind", "a China kind"),
    ([ROW, "2018-01-04,China,buys_coal,1,x,1,"], 3, "kind", "a China kind"),
    (["2018-13-03,DPRK,missile_launch,1,CNS,1,"], 2, "date", "YYYY-MM-DD"),
    (["03/01/2018,DPRK,missile_launch,1,CNS,1,"], 2, "date", "YYYY-MM-DD"),
    (["2018-01-05,DPRK,missile_launch,1,CNS,1,", ROW], 3, "date", "date order"),
    ([ROW, "2018-01-04,DPRK,missile_launch,-2,x,1,"], 3, "value", "whole number of missiles"),
    ([ROW, "2018-01-04,DPRK,missile_launch,1.5,x,1,"], 3, "value", "whole number of missiles"),
    ([ROW, "2018-01-04,DPRK,nuclear_test,2,x,1,"], 3, "value", "nuclear_test"),
    ([ROW, "2018-01-04,DPRK,freeze_accepted,0.5,x,1,"], 3, "value", "freeze_accepted"),
    ([ROW, "2018-01-04,China,enforcement_step,2,x,1,"], 3, "value", "enforcement_step"),
    ([ROW, "2018-01-04,China,trade_level,-0.1,x,1,"], 3, "value", "trade_level"),
    ([ROW, "2018-01-04,China,accepts_proposal,yes,x,1,"], 3, "value", "a number"),
    ([ROW, "2018-01-04,DPRK,suspected_export,1,x,1.5,"], 3, "confidence", "between 0 and 1"),
    ([ROW, "2018-01-04,DPRK,suspected_export,1,,0.5,"], 3, "source", "blank"),
    ([ROW, "2018-01-04,DPRK,missile_launch,,x,1,"], 3, "value", "blank"),
]


@pytest.mark.parametrize(
    "lines, row, field, words", BAD, ids=[f"{b[2]}-{i}" for i, b in enumerate(BAD)]
)
def test_bad_rows_name_file_row_and_field(tmp_path, lines, row, field, words):
    path = tmp_path / "synthetic_bad_observations.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n")
    with pytest.raises(InputError) as info:
        obs.load_observations(path)
    err = info.value
    assert (err.row, err.field) == (row, field)
    text = str(err)
    assert path.name in text and f"row {row}" in text and f"field '{field}'" in text
    assert words in text


@pytest.mark.parametrize(
    "header, field, words",
    [
        ("date,actor,value,source", "kind", "missing column"),
        ("date,actor,kind,value,source,colour", "colour", "unexpected column"),
    ],
)
def test_bad_columns(tmp_path, header, field, words):
    path = tmp_path / "synthetic_bad_columns.csv"
    n = len(header.split(","))
    path.write_text(
        header + "\n" + ",".join(["2018-01-03", "DPRK", "nuclear_test", "1", "x", "y"][:n]) + "\n"
    )
    with pytest.raises(InputError) as info:
        obs.load_observations(path)
    assert info.value.field == field and info.value.row is None
    assert path.name in str(info.value) and words in str(info.value)


def test_kinds_are_explicit():
    assert obs.ACTORS == ("DPRK", "China")
    assert obs.KINDS["DPRK"] == (
        "missile_launch",
        "nuclear_test",
        "suspected_export",
        "freeze_accepted",
    )
    assert obs.KINDS["China"] == ("enforcement_step", "trade_level", "accepts_proposal")


def _customs_ledger(tmp_path):
    path = tmp_path / "synthetic_customs.csv"
    path.write_text(
        "date,actor,kind,value,source,published\n"
        "2017-09-03,DPRK,nuclear_test,1,synthetic test data,\n"
        "2017-09-30,China,trade_level,1.2,synthetic customs figure,2017-10-13\n"
    )
    return path


def test_published_defaults_to_the_event_date(tmp_path):
    frame = obs.load_observations(_customs_ledger(tmp_path))
    assert frame["published"].dt.strftime("%Y-%m-%d").tolist() == ["2017-09-03", "2017-10-13"]


def test_a_figure_published_after_the_cutoff_is_not_used(tmp_path):
    path = _customs_ledger(tmp_path)
    # The September customs figure is dated 30 Sep but was released on 13 Oct.
    assert obs.load_observations(path, as_of="2017-09-30")["kind"].tolist() == ["nuclear_test"]
    assert len(obs.load_observations(path, as_of="2017-10-13")) == 2
    frame = obs.load_observations(path)
    september = obs.summarise_monitoring(frame, "2017-09-01", "2017-09-30")
    assert september["china"]["trade_levels"] == []
    october = obs.summarise_monitoring(frame, "2017-09-01", "2017-10-31")
    assert october["china"]["trade_levels"] == [1.2]


def test_published_before_the_event_is_refused(tmp_path):
    path = tmp_path / "synthetic_bad_published.csv"
    path.write_text(
        "date,actor,kind,value,source,published\n2017-09-30,China,trade_level,1,x,2017-09-01\n"
    )
    with pytest.raises(InputError) as info:
        obs.load_observations(path)
    assert info.value.row == 2 and info.value.field == "published"
    assert "on or after date" in str(info.value)
