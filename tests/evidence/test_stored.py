"""Validated evidence tables kept on disk: read again, not validated again, while unchanged."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from decision import evidence
from decision.core.backend import COMPILE_CACHE_VARIABLE
from decision.core.errors import InputError
from decision.evidence import loading
from decision.evidence.schemas import NAMES


@pytest.fixture
def store(tmp_path, monkeypatch):
    """Point the store at an empty folder, forget this process's tables; count validations."""
    monkeypatch.setenv(COMPILE_CACHE_VARIABLE, str(tmp_path / "compile"))
    monkeypatch.setattr(loading, "_CACHE", {})
    calls = []
    real = loading.validate_table

    def counted(frame, spec, *, file):
        calls.append(spec.name)
        return real(frame, spec, file=file)

    monkeypatch.setattr(loading, "validate_table", counted)
    return tmp_path / "compile" / "evidence", calls


def _new_process(monkeypatch):
    """Forget the tables held in memory, as a new process would."""
    monkeypatch.setattr(loading, "_CACHE", {})


def test_a_new_process_reads_every_stored_table_exactly_as_validated(store, monkeypatch):
    folder, calls = store
    validated = {name: loading.read_validated(name) for name in NAMES}
    hashes = {day: evidence.data_hash(day) for day in ("2013-06-30", "2017-08-20", "2024-12-31")}
    assert sorted(calls) == sorted(NAMES) and len(list(folder.glob("*.parquet"))) == len(NAMES)
    _new_process(monkeypatch)
    for name in NAMES:  # same values, dtypes, index and column order
        pd.testing.assert_frame_equal(loading.read_validated(name), validated[name])
    assert {day: evidence.data_hash(day) for day in hashes} == hashes
    assert len(calls) == len(NAMES)  # nothing validated a second time


def test_edited_bytes_or_validating_code_validate_again(store, monkeypatch, tmp_path):
    _, calls = store
    copy = tmp_path / "nuclear_tests.csv"
    shutil.copyfile(loading.data_path("nuclear_tests"), copy)
    loading.read_validated("nuclear_tests", copy)
    _new_process(monkeypatch)
    loading.read_validated("nuclear_tests", copy)
    assert len(calls) == 1
    text = copy.read_text()
    copy.write_text(text.replace("2-6 kt", "2 to 6 kt"))  # other bytes, still valid
    assert copy.read_text() != text
    _new_process(monkeypatch)
    loading.read_validated("nuclear_tests", copy)
    assert len(calls) == 2
    changed = {**loading._fingerprint(), "code": "an edited schema"}
    monkeypatch.setattr(loading, "_fingerprint", lambda: changed)
    _new_process(monkeypatch)
    loading.read_validated("nuclear_tests", copy)
    assert len(calls) == 3


def test_an_unreadable_stored_table_is_validated_again_and_rewritten(store, monkeypatch):
    folder, calls = store
    first = loading.read_validated("agreements")
    (path,) = folder.glob("*.parquet")
    path.write_bytes(b"PAR1 truncated")
    _new_process(monkeypatch)
    pd.testing.assert_frame_equal(loading.read_validated("agreements"), first)
    assert len(calls) == 2
    pd.testing.assert_frame_equal(pd.read_parquet(path), first)


def test_a_store_that_cannot_be_written_still_validates(store, monkeypatch, tmp_path):
    _, calls = store
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(COMPILE_CACHE_VARIABLE, str(blocker))
    assert len(loading.read_validated("agreements")) > 0
    assert calls == ["agreements"]


def test_a_file_that_fails_validation_is_refused_every_time(store, monkeypatch, tmp_path):
    folder, calls = store
    bad = tmp_path / "nuclear_tests.csv"
    text = loading.data_path("nuclear_tests").read_text()
    bad.write_text(text.replace("\n1,", "\none,", 1))  # a test number that is not a number
    for _ in range(2):
        _new_process(monkeypatch)
        with pytest.raises(InputError, match="nuclear_tests.csv"):
            loading.read_validated("nuclear_tests", bad)
    assert len(calls) == 2 and not list(folder.glob("*.parquet"))
