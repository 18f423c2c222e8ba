"""The packaged evidence tables: validation, as-of filtering, hashing and bad input."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

import decision
from decision import evidence
from decision.core.config import DEFAULT_AS_OF
from decision.core.errors import InputError
from decision.core.tables import schema_errors_to_input_error

LATE = "2030-01-01"

ROWS = {
    "launches_monthly": 136,
    "nuclear_tests": 6,
    "agreements": 6,
    "unsc_resolutions": 10,
    "china_enforcement": 10,
    "trade_annual": 10,
    "trade_monthly": 14,
    "exercises": 18,
    "dprk_offers": 14,
    "china_obligations": 18,
    "dprk_transfers": 7,
}

# Yearly cross-check from the facts (CNS): missiles / launch-days.
YEARLY = {
    2012: (2, 2),
    2013: (6, 3),
    2014: (19, 11),
    2015: (15, 7),
    2016: (24, 16),
    2017: (21, 15),
    2018: (0, 0),
    2019: (27, 14),
    2020: (9, 4),
    2021: (6, 4),
    2022: (69, 34),
    2023: (16, 8),
}


@pytest.mark.parametrize("name", evidence.NAMES)
def test_every_table_loads_and_validates(name):
    frame = evidence.load(name, as_of=LATE)
    assert len(frame) == ROWS[name]
    assert frame["source"].notna().all()
    assert (frame["source"].str.strip() != "").all()
    assert evidence.sources(name)
    assert evidence.data_path(name).is_file()
    assert evidence.data_path(name).parent == Path(decision.__file__).parent / "data"


def test_names_and_convenience_functions_agree():
    assert set(evidence.NAMES) == set(ROWS)
    for name in evidence.NAMES:
        pd.testing.assert_frame_equal(getattr(evidence, name)(), evidence.load(name))


def test_launches_cover_every_month_2012_01_to_2023_04():
    launches = evidence.launches_monthly(as_of=LATE)
    assert launches["month"].iloc[0] == "2012-01"
    assert launches["month"].iloc[-1] == "2023-04"
    assert launches["month"].is_unique


def test_yearly_launch_sums_match_the_cross_check():
    launches = evidence.launches_monthly(as_of=LATE)
    sums = (
        launches.assign(year=launches["month"].str[:4].astype(int))
        .groupby("year")[["missiles", "launch_days"]]
        .sum()
    )
    got = {int(y): (int(r.missiles), int(r.launch_days)) for y, r in sums.iterrows()}
    assert got == YEARLY


def test_default_as_of_is_the_proposal_date():
    assert DEFAULT_AS_OF == dt.date(2017, 8, 20)
    launches = evidence.launches_monthly()
    assert launches["month"].iloc[-1] == "2017-07"
    assert evidence.nuclear_tests()["test_number"].tolist() == [1, 2, 3, 4, 5]
    assert evidence.unsc_resolutions()["resolution"].iloc[-1] == 2371


def test_a_launch_month_is_published_on_its_last_day():
    assert evidence.launches_monthly(as_of="2017-08-01")["month"].iloc[-1] == "2017-07"
    assert evidence.launches_monthly(as_of="2017-07-31")["month"].iloc[-1] == "2017-07"
    assert evidence.launches_monthly(as_of="2017-07-30")["month"].iloc[-1] == "2017-06"


@pytest.mark.parametrize("name", evidence.NAMES)
def test_every_table_filters_on_its_publication_date(name):
    everything = evidence.load(name, as_of=LATE)
    assert "published" in everything.columns
    for day in everything["published"].drop_duplicates().sort_values().iloc[::7]:
        before = evidence.load(name, as_of=(day - pd.Timedelta(days=1)).date())
        on = evidence.load(name, as_of=day.date())
        assert (before["published"] < day).all() and (on["published"] <= day).all()
        assert len(on) == int((everything["published"] <= day).sum()), day


def test_as_of_accepts_a_date_or_a_string():
    pd.testing.assert_frame_equal(
        evidence.agreements(as_of=dt.date(2019, 6, 1)), evidence.agreements(as_of="2019-06-01")
    )


def _date_columns(frame):
    return [c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])]


@pytest.mark.parametrize("as_of", ["2017-08-20", "2019-06-01", "2023-01-01"])
@pytest.mark.parametrize("name", evidence.NAMES)
def test_nothing_dated_after_as_of(name, as_of):
    frame = evidence.load(name, as_of=as_of)
    cutoff = pd.Timestamp(as_of)
    for col in _date_columns(frame):
        assert (frame[col].dropna() <= cutoff).all(), col
    if name == "launches_monthly":
        ends = pd.to_datetime(frame["month"] + "-01") + pd.offsets.MonthEnd(0)
        assert (ends <= cutoff).all()
    if name == "trade_annual":
        assert (frame["year"] < cutoff.year).all()


def test_agreements_as_of_the_proposal_are_all_breached():
    frame = evidence.agreements()
    assert len(frame) == 5
    assert frame["observed"].all()
    expected = (frame["breach_date"] - frame["signed"]).dt.days / evidence.DAYS_PER_MONTH
    assert frame["duration_months"].tolist() == pytest.approx(expected.tolist())
    assert frame["months_to_breach"].tolist() == pytest.approx(expected.tolist())
    leap = frame.set_index("agreement").loc["Leap Day deal"]
    assert leap["duration_months"] == pytest.approx(44 / 30.4375)


def test_the_missile_moratorium_carries_the_2006_launches_not_the_joint_statement():
    frame = evidence.agreements().set_index("agreement")
    berlin = frame.loc["Berlin missile-test moratorium"]
    assert berlin["signed"] == pd.Timestamp("1999-09-12")
    assert berlin["breach_date"] == pd.Timestamp("2006-07-05")
    assert berlin["testing_freeze"] == "missiles"
    joint = frame.loc["Six-Party Joint Statement"]
    assert joint["testing_freeze"] == "none"
    assert joint["breach_date"] == pd.Timestamp("2006-10-09")  # the first nuclear test
    assert joint["duration_months"] == pytest.approx(385 / 30.4375)


def test_2018_moratorium_is_censored_in_mid_2019():
    frame = evidence.agreements(as_of="2019-06-01").set_index("agreement")
    row = frame.loc["2018 self-declared testing moratorium"]
    assert not row["observed"]
    assert row["duration_months"] == pytest.approx(
        (dt.date(2019, 6, 1) - dt.date(2018, 4, 21)).days / 30.4375
    )
    assert pd.isna(row["months_to_breach"])
    assert pd.isna(row["breach_date"]) and pd.isna(row["breach_event"])
    assert pd.isna(row["partial_compliance_first"])
    assert frame.drop(index=row.name)["observed"].all()


def test_2018_moratorium_is_a_breach_by_2023():
    frame = evidence.agreements(as_of="2023-01-01").set_index("agreement")
    row = frame.loc["2018 self-declared testing moratorium"]
    assert row["observed"]
    assert row["breach_date"] == pd.Timestamp("2022-03-24")
    assert row["duration_months"] == pytest.approx(
        (dt.date(2022, 3, 24) - dt.date(2018, 4, 21)).days / 30.4375
    )


def test_china_enforcement_rows_appear_with_their_evidence():
    default = evidence.china_enforcement()
    assert default["episode"].tolist() == [
        "unsc_2270",
        "mofcom_2016_04",
        "unsc_2321",
        "mofcom_2017_02",
    ]
    assert (default["published"] <= pd.Timestamp(DEFAULT_AS_OF)).all()
    later = evidence.china_enforcement(as_of="2019-01-22")["episode"].tolist()
    assert "unsc_2375" in later and "unsc_2397" not in later
    everything = evidence.china_enforcement(as_of=LATE)
    assert set(everything["extent"]) <= set(evidence_extents())
    assert (everything["coding"] == "analyst judgment").all()
    assert everything["rationale"].str.len().gt(20).all()


def test_china_implementing_notices_came_within_weeks():
    lags = evidence.china_enforcement(as_of=LATE).set_index("episode")["lag_months"]
    # MOFCOM notices: No. 75 of 2016 (9 days), No. 52 of 2017 (11 days), 2018-01-05 (14 days).
    assert lags["unsc_2321"] == 0.3 and lags["unsc_2375"] == 0.4 and lags["unsc_2397"] == 0.5


def evidence_extents():
    return (0.0, 0.25, 0.5, 0.75, 1.0)


def test_trade_figures_appear_when_published():
    assert evidence.trade_annual()["year"].tolist() == [2013, 2014, 2015, 2016]
    assert 2017 not in evidence.trade_annual(as_of="2018-01-11")["year"].tolist()
    assert 2017 in evidence.trade_annual(as_of="2018-01-12")["year"].tolist()
    monthly = evidence.trade_monthly()
    assert (monthly["published"] <= pd.Timestamp(DEFAULT_AS_OF)).all()
    assert monthly["period_start"].max() == pd.Timestamp("2017-06-01")
    # September 2017 customs figures: released 13 Oct 2017, not at the end of September.
    september = pd.Timestamp("2017-09-01")
    assert september not in evidence.trade_monthly(as_of="2017-10-12")["period_start"].tolist()
    assert september in evidence.trade_monthly(as_of="2017-10-13")["period_start"].tolist()


def test_each_trade_row_comes_from_one_series():
    annual = evidence.trade_annual(as_of=LATE)
    assert set(annual["series"]) == {"KOTRA", "China customs (GACC)", "ITC/WTO"}
    assert not annual.duplicated(["year", "series"]).any()
    gacc = annual[annual["series"] == "China customs (GACC)"].set_index("year")
    kotra = annual[annual["series"] == "KOTRA"].set_index("year")
    # 2018 against 2017 within China customs: -52%, not KOTRA's -48.2% against its own base.
    assert gacc.loc[2018, "total_usd_m"] / gacc.loc[2017, "total_usd_m"] == pytest.approx(
        0.48, abs=0.01
    )
    assert kotra.loc[2018, "total_usd_m"] == 2720
    assert gacc.loc[2018, "published"] < kotra.loc[2018, "published"]


def test_exercises_after_as_of_are_hidden():
    default = evidence.exercises()
    assert not ((default["year"] == 2017) & (default["season"] == "summer")).any()
    assert len(evidence.exercises(as_of="2017-09-01")) == len(default) + 1


def test_2017_and_2018_spring_exercise_dates():
    rows = evidence.exercises(as_of=LATE).set_index(["year", "exercise"])
    assert rows.loc[(2017, "Foal Eagle"), "start"] == pd.Timestamp("2017-03-01")
    assert rows.loc[(2017, "Foal Eagle"), "end"] == pd.Timestamp("2017-04-30")
    assert rows.loc[(2017, "Key Resolve"), "start"] == pd.Timestamp("2017-03-08")
    key_resolve = rows.loc[(2018, "Key Resolve")]
    assert key_resolve["status"] == "scaled down"
    assert key_resolve["start"] == pd.Timestamp("2018-04-23")
    assert "unverified" in key_resolve["notes"]  # the exact end date
    assert rows.loc[(2018, "Foal Eagle"), "end"] == pd.Timestamp("2018-04-26")


def test_resolution_2087_is_no_longer_flagged():
    row = evidence.unsc_resolutions(as_of=LATE).set_index("resolution").loc[2087]
    assert row["adopted"] == pd.Timestamp("2013-01-22")
    assert "unverified" not in str(row["notes"])


def test_offers_are_seen_when_the_dprk_answer_was_published():
    default = evidence.dprk_offers()
    assert "double_suspension_2017" in default["offer_id"].tolist()
    assert "singapore_2018" not in default["offer_id"].tolist()
    assert set(default["offer_type"]) == set(evidence.OFFER_TYPES)
    mid_2018 = evidence.dprk_offers(as_of="2018-06-30").set_index("offer_id")
    assert mid_2018.loc["moratorium_talks_2018", "dprk_response"] == "accepted"
    assert mid_2018.loc["singapore_2018", "offer_type"] == "freeze_for_freeze"
    assert not mid_2018.loc["self_declared_moratorium_2018", "in_model"]
    assert evidence.dprk_offers(as_of="2018-03-05")["offer_id"].iloc[-1] == (
        "double_suspension_2017"
    )


def test_china_obligations_count_votes_and_refusals_only():
    record = evidence.china_obligations(as_of=LATE)
    counted = record[record["in_acceptance"]]
    assert set(counted["record_type"]) == {"unsc_vote", "declined_draft"}
    assert (record.loc[record["record_type"] == "unsc_vote", "china_response"] == "accepted").all()
    assert int((counted["china_response"] == "declined").sum()) == 1
    assert len(evidence.china_obligations()[lambda f: f["record_type"] == "unsc_vote"]) == 8


def test_transfers_are_labelled_judgments_with_sources():
    transfers = evidence.dprk_transfers(as_of=LATE)
    nuclear = transfers[(transfers["item"] == "nuclear") & transfers["in_model"]]
    assert set(nuclear["transfer_id"]) == {"libya_uranium_2001", "syria_al_kibar"}
    assert (transfers["coding"] == "analyst judgment").all()
    # The Syrian reactor became public on 24 Apr 2008, not when it was built.
    assert (
        "syria_al_kibar" not in evidence.dprk_transfers(as_of="2008-04-23")["transfer_id"].tolist()
    )


def test_data_hash_is_stable_and_follows_the_data():
    first = evidence.data_hash()
    assert len(first) == 64
    assert evidence.data_hash() == first
    assert evidence.data_hash(as_of="2017-08-21") == first  # no new rows by then
    assert evidence.data_hash(as_of=dt.date(2017, 8, 20)) == first
    assert evidence.data_hash(as_of="2017-09-05") != first  # nuclear test, August launches
    assert evidence.data_hash(names=["agreements"]) != first
    assert evidence.data_hash(as_of="2017-09-05", names=["agreements"]) == evidence.data_hash(
        names=["agreements"]
    )


def test_data_hash_changes_when_a_censored_duration_grows():
    a = evidence.data_hash(as_of="2019-06-01", names=["agreements"])
    b = evidence.data_hash(as_of="2019-07-01", names=["agreements"])
    assert a != b


def test_describe_summarises_each_file():
    table = evidence.describe()
    assert list(table.columns) == ["file", "rows", "first", "last", "sources"]
    assert table["file"].tolist() == [f"{n}.csv" for n in evidence.NAMES]
    rows = dict(zip(table["file"], table["rows"], strict=True))
    assert rows["launches_monthly.csv"] == 67
    assert table.set_index("file").loc["launches_monthly.csv", "last"] == "2017-07"
    assert (table["sources"] >= 1).all()


def test_sources_are_split_and_distinct():
    got = evidence.sources("nuclear_tests")
    assert len(got) == len(set(got)) == 2
    assert all("; " not in s for s in got)


def test_unknown_table_and_bad_as_of_are_input_errors():
    with pytest.raises(InputError, match="unknown evidence table"):
        evidence.load("launches")
    with pytest.raises(InputError, match="as_of"):
        evidence.load("launches_monthly", as_of="20-08-2017")


# ---------------------------------------------------------------------------
# Bad input: synthetic variants of the shipped files, written to tmp_path
# ---------------------------------------------------------------------------


def _rows(name):
    with evidence.data_path(name).open(newline="", encoding="utf-8") as fh:
        return [list(r) for r in csv.reader(fh)]


def _write(tmp_path, name, rows):
    path = tmp_path / f"synthetic_bad_{name}.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return path


def _set(column, row, value):
    """Edit: set ``column`` on CSV row ``row`` (header = 1)."""

    def edit(rows):
        rows[row - 1][rows[0].index(column)] = value
        return rows

    return edit


def _drop_column(column):
    def edit(rows):
        i = rows[0].index(column)
        return [r[:i] + r[i + 1 :] for r in rows]

    return edit


def _add_column(column):
    def edit(rows):
        return [rows[0] + [column]] + [r + ["x"] for r in rows[1:]]

    return edit


def _swap(row_a, row_b, column):
    def edit(rows):
        i = rows[0].index(column)
        rows[row_a - 1][i], rows[row_b - 1][i] = rows[row_b - 1][i], rows[row_a - 1][i]
        return rows

    return edit


BAD = [
    # name, edit, row, field, words in the message
    ("launches_monthly", _set("missiles", 5, "-1"), 5, "missiles", ">= 0"),
    ("launches_monthly", _set("launch_days", 7, "two"), 7, "launch_days", "whole number"),
    ("launches_monthly", _set("month", 4, "2012-05"), 4, "month", "one month after"),
    ("launches_monthly", _set("month", 3, "2012/03"), 3, "month", "YYYY-MM"),
    ("launches_monthly", _set("launch_days", 5, "2"), 5, "launch_days", "<= missiles"),
    (
        "launches_monthly",
        _set("long_range_missiles", 5, "3"),
        5,
        "long_range_missiles",
        "<= missiles",
    ),
    ("launches_monthly", _set("source", 10, ""), 10, "source", "blank"),
    ("launches_monthly", _drop_column("launch_days"), None, "launch_days", "missing column"),
    ("launches_monthly", _add_column("comment"), None, "comment", "unexpected column"),
    (
        "nuclear_tests",
        lambda rows: _swap(3, 4, "published")(_swap(3, 4, "date")(rows)),
        4,
        "date",
        "increase",
    ),
    ("nuclear_tests", _set("date", 2, "2006-02-30"), 2, "date", "YYYY-MM-DD"),
    ("nuclear_tests", _set("yield_kt_high", 3, "1"), 3, "yield_kt_high", ">= yield_kt_low"),
    ("agreements", _set("breach_date", 4, "2004-01-01"), 4, "breach_date", "after signed"),
    ("agreements", _set("published", 3, "1999-09-01"), 3, "published", "on or after signed"),
    ("agreements", _set("testing_freeze", 2, "all"), 2, "testing_freeze", "one of"),
    (
        "agreements",
        _set("partial_compliance_first", 2, "yes"),
        2,
        "partial_compliance_first",
        "true or false",
    ),
    ("unsc_resolutions", _set("source", 4, " "), 4, "source", "blank"),
    ("unsc_resolutions", _swap(2, 3, "resolution"), 3, "resolution", "increase"),
    ("china_enforcement", _set("extent", 3, "0.6"), 3, "extent", "0.25"),
    ("china_enforcement", _set("enforced", 2, "full"), 2, "extent", "1 for full"),
    ("china_enforcement", _set("lag_months", 4, ""), 4, "lag_months", "blank exactly"),
    ("china_enforcement", _set("measure_type", 2, "bilateral"), 2, "measure_type", "one of"),
    (
        "china_enforcement",
        _set("published", 5, "2016-01-01"),
        5,
        "published",
        "on or after commitment_date",
    ),
    (
        "trade_annual",
        _set("published", 2, "2013-12-01"),
        2,
        "published",
        "after the end of the year",
    ),
    (
        "trade_annual",
        _set("share_of_dprk_trade", 4, "91.3"),
        4,
        "share_of_dprk_trade",
        "between 0 and 1",
    ),
    ("trade_monthly", _set("value_usd_m", 3, "-5"), 3, "value_usd_m", ">= 0"),
    ("trade_monthly", _set("period_start", 6, "2016-01-01"), 6, "period_start", "order"),
    ("trade_monthly", _set("flow", 2, "exports"), 2, "flow", "one of"),
    ("exercises", _set("status", 3, "cancelled"), 3, "status", "one of"),
    ("exercises", _set("end", 2, "2015-02-01"), 2, "end", "on or after start"),
    ("exercises", _set("us_personnel", 3, "-10"), 3, "us_personnel", ">= 0"),
    ("exercises", _set("published", 2, "2015-03-01"), 2, "published", "on or after start"),
    ("trade_annual", _set("series", 3, "KITA"), 3, "series", "one of"),
    (
        "trade_annual",
        _set("series", 6, "China customs (GACC)"),
        6,
        "series",
        "(year, series) only once",
    ),
    ("launches_monthly", _set("published", 4, "2011-12-31"), 4, "published", "within the month"),
    ("dprk_offers", _set("offer_type", 3, "carrots"), 3, "offer_type", "one of"),
    ("dprk_offers", _set("response_date", 4, "1990-01-01"), 4, "response_date", "offer_date"),
    ("dprk_offers", _set("published", 5, "1999-01-01"), 5, "published", "response_date"),
    ("dprk_offers", _set("dprk_response", 2, "maybe"), 2, "dprk_response", "one of"),
    ("china_obligations", _set("china_response", 2, "declined"), 2, "china_response", "unsc_vote"),
    ("china_obligations", _set("in_acceptance", 7, "true"), 7, "in_acceptance", "only for"),
    ("dprk_transfers", _set("item", 2, "chemical"), 2, "item", "one of"),
    ("dprk_transfers", _set("published", 3, "2000-01-01"), 3, "published", "on or after began"),
    ("dprk_transfers", _set("transfer_id", 3, "Syria Reactor"), 3, "transfer_id", "lower-case"),
]


@pytest.mark.parametrize(
    "name, edit, row, field, words", BAD, ids=[f"{b[0]}-{b[3]}-{i}" for i, b in enumerate(BAD)]
)
def test_bad_input_names_file_row_and_field(tmp_path, name, edit, row, field, words):
    path = _write(tmp_path, name, edit(_rows(name)))
    with pytest.raises(InputError) as info:
        evidence.load(name, path=path)
    err = info.value
    text = str(err)
    assert path.name in text
    assert err.field == field and f"field '{field}'" in text
    assert err.row == row
    if row is not None:
        assert f"row {row}" in text
    assert words in text
    assert "\n" not in text


def test_first_failure_is_the_earliest_row(tmp_path):
    rows = _rows("launches_monthly")
    rows = _set("missiles", 9, "-1")(rows)
    rows = _set("launch_days", 6, "x")(rows)
    rows = _set("long_range_missiles", 4, "-2")(rows)
    with pytest.raises(InputError) as info:
        evidence.launches_monthly(path=_write(tmp_path, "launches_monthly", rows))
    # form problems (row 6) come before value checks (rows 4, 9)
    assert (info.value.row, info.value.field) == (6, "launch_days")
    rows = _set("launch_days", 6, "0")(rows)
    with pytest.raises(InputError) as info:
        evidence.launches_monthly(path=_write(tmp_path, "launches_monthly", rows))
    assert (info.value.row, info.value.field) == (4, "long_range_missiles")


def test_missing_column_comes_first(tmp_path):
    rows = _drop_column("source")(_set("missiles", 3, "-1")(_rows("launches_monthly")))
    with pytest.raises(InputError) as info:
        evidence.launches_monthly(path=_write(tmp_path, "launches_monthly", rows))
    assert info.value.field == "source" and info.value.row is None


def test_blank_line_keeps_row_numbers(tmp_path):
    rows = _rows("nuclear_tests")
    rows.insert(3, [])
    with pytest.raises(InputError) as info:
        evidence.nuclear_tests(path=_write(tmp_path, "nuclear_tests", rows))
    assert info.value.row == 4


def test_unreadable_files(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        evidence.trade_annual(path=tmp_path / "synthetic_missing.csv")
    empty = tmp_path / "synthetic_empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="empty") as info:
        evidence.trade_annual(path=empty)
    assert "synthetic_empty.csv" in str(info.value)
    ragged = tmp_path / "synthetic_ragged.csv"
    ragged.write_text("year,total_usd_m\n2013,1\n2014,2,3,4\n")
    with pytest.raises(InputError) as info:
        evidence.trade_annual(path=ragged)
    assert info.value.row == 3


def test_schema_error_helper_reports_the_first_failure():
    import pandera.pandas as pa

    schema = pa.DataFrameSchema(
        {"a": pa.Column(int, pa.Check.ge(0, error="expected a >= 0")), "b": pa.Column(int)}
    )
    frame = pd.DataFrame({"a": [1, -1, -2]})
    with pytest.raises(pa.errors.SchemaErrors) as info:
        schema.validate(frame, lazy=True)
    err = schema_errors_to_input_error(info.value, file="f.csv", columns=["a", "b"])
    assert (err.file, err.row, err.field) == ("f.csv", None, "b")
    with pytest.raises(pa.errors.SchemaErrors) as info:
        schema.remove_columns(["b"]).validate(frame, lazy=True)
    err = schema_errors_to_input_error(info.value, file="f.csv", columns=["a"])
    assert (err.row, err.field) == (3, "a")
    assert "expected a >= 0" in str(err)
    with pytest.raises(pa.errors.SchemaError) as one:  # not lazy: one failure
        pa.DataFrameSchema({"a": pa.Column(int, pa.Check.ge(0))}).validate(frame)
    err = schema_errors_to_input_error(one.value, file="f.csv", columns=["a"])
    assert (err.file, err.row, err.field) == ("f.csv", 3, "a")
    assert str(err).startswith("f.csv, row 3, field 'a': expected")
    with pytest.raises(pa.errors.SchemaErrors) as info:
        pa.DataFrameSchema({"a": pa.Column(int)}).validate(
            pd.DataFrame({"a": ["1", "x"]}), lazy=True
        )
    err = schema_errors_to_input_error(info.value, file="f.csv", columns=["a"])
    assert err.field == "a" and "expected type" in str(err)
