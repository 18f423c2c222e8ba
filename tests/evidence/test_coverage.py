"""The evidence's coverage: when each table's rows became public, and as-of dates checked."""

from __future__ import annotations

import datetime as dt

import pytest

from decision import evidence
from decision.core.errors import InputError

DAY = dt.timedelta(days=1)


def test_coverage_follows_the_tables_own_as_of_rules():
    coverage = evidence.coverage()
    assert set(coverage.tables.index) == set(evidence.NAMES)
    for name, row in coverage.tables.iterrows():
        every = len(evidence.load(name, as_of="2199-12-31"))
        assert len(evidence.load(name, as_of=row["last"])) == every, name
        assert len(evidence.load(name, as_of=row["last"] - DAY)) < every, name
        assert len(evidence.load(name, as_of=row["first"])) > 0, name
        assert len(evidence.load(name, as_of=row["first"] - DAY)) == 0, name
        assert row["file"] == evidence.data_path(name).name
    assert coverage.end == max(coverage.tables["last"])
    assert coverage.start == min(coverage.tables["first"])
    # The launch database runs to April 2023: the latest evidence there is.
    assert coverage.end_file == "launches_monthly.csv"
    assert dt.date(2023, 4, 1) <= coverage.end <= dt.date(2023, 5, 1)


def test_an_as_of_date_is_checked_against_the_coverage():
    coverage = evidence.coverage()
    proposal = (dt.date(2017, 8, 20), "the proposal")
    assert coverage.check(coverage.end) == coverage.end
    assert coverage.check("2017-08-20", not_before=proposal) == dt.date(2017, 8, 20)
    with pytest.raises(InputError, match=r"2030-01-01 is after the evidence ends: .*on or before"):
        coverage.check("2030-01-01", field="--as-of")
    with pytest.raises(
        InputError, match="is before the proposal; use a date on or after 2017-08-20"
    ):
        coverage.check("2017-08-19", not_before=proposal)
    with pytest.raises(InputError, match=r"is before the evidence starts \(\d{4}-\d\d-\d\d, "):
        coverage.check(coverage.start - DAY)
    with pytest.raises(InputError, match="expected a date"):
        coverage.check("someday", field="--as-of")
