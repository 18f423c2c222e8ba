"""Derived results kept on disk: read while valid, derived (and rewritten) otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from decision.core.stored import code_fingerprint, content_key, stored


def _read(path: Path) -> int:
    return int(path.read_text())


def _write(path: Path, value: int) -> None:
    path.write_text(str(value))


def test_a_result_is_derived_once_then_read(tmp_path):
    derived = []

    def derive() -> int:
        derived.append(1)
        return 42

    path = tmp_path / "store" / "answer.txt"
    assert stored(path, _read, derive, _write) == 42
    assert stored(path, _read, derive, _write) == 42
    assert len(derived) == 1 and path.read_text() == "42"
    path.write_text("not a number")  # unreadable: derived again and rewritten
    assert stored(path, _read, derive, _write) == 42
    assert len(derived) == 2 and path.read_text() == "42"


def test_a_folder_that_cannot_be_written_still_returns_the_result(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert stored(blocker / "answer.txt", _read, lambda: 7, _write) == 7


def test_a_failed_derivation_stores_nothing(tmp_path):
    path = tmp_path / "answer.txt"

    def fail() -> int:
        raise RuntimeError("no result")

    for _ in range(2):
        with pytest.raises(RuntimeError, match="no result"):
            stored(path, _read, fail, _write)
    assert not path.exists()


def test_keys_follow_the_code_and_the_payload(tmp_path):
    module = tmp_path / "module.py"
    module.write_text("x = 1\n")
    before = code_fingerprint([module], ["numpy", "no-such-library"])
    assert before["versions"]["no-such-library"] is None and before["versions"]["numpy"]
    module.write_text("x = 2\n")
    after = code_fingerprint([module], ["numpy", "no-such-library"])
    assert after["code"] != before["code"]
    assert content_key({"a": 1, "b": 2}) == content_key({"b": 2, "a": 1})
    assert content_key({"a": 1}) != content_key({"a": 2})
