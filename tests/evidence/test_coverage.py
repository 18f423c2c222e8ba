"""The evidence's coverage: when each table's rows became public, and as-of dates checked."""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path

import pandas as pd
import pytest

from decision import evidence
from decision.core.errors import InputError
from decision.evidence import loading

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


def test_a_new_process_reads_the_coverage_its_data_files_stored(isolated_cache, monkeypatch):
    """The dates are stored by the tables' content; another content is dated again."""
    module = importlib.import_module("decision.evidence.coverage")  # not the function

    monkeypatch.setattr(module, "_COVERAGE", {})
    found = module.coverage()
    stored = list((isolated_cache / "evidence").glob("coverage-*.json"))
    assert len(stored) == 1
    monkeypatch.setattr(module, "_COVERAGE", {})  # a new process
    monkeypatch.setattr(module, "read_validated", _refuse)  # nothing is validated again
    served = module.coverage()
    pd.testing.assert_frame_equal(served.tables, found.tables)
    assert (served.start, served.end) == (found.start, found.end)

    stored[0].write_text("{not json")  # a damaged file is dated again, not trusted
    monkeypatch.setattr(module, "_COVERAGE", {})
    monkeypatch.setattr(module, "read_validated", loading.read_validated)
    pd.testing.assert_frame_equal(module.coverage().tables, found.tables)

    edited = {"launches_monthly": b"changed"}  # another content of one table: another file
    real_bytes = Path.read_bytes
    monkeypatch.setattr(
        Path,
        "read_bytes",
        lambda self: edited.get(self.stem, None) or real_bytes(self),
    )
    assert module._stored_path() != stored[0]


def _refuse(*_args, **_kwargs):
    raise AssertionError("the stored coverage should have been read")
