"""The observation ledger: append-only adds, refusal rules, validation, concurrency, kills.

All data here is synthetic ("synthetic test data"), not real events.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest

from decision.core.errors import InputError
from decision.monitoring import ledger
from decision.observations import COLUMNS, load_observations

SRC = "synthetic test data"
HEADER = ",".join(COLUMNS)


def _add(path, **kw):
    row = dict(actor="DPRK", kind="missile_launch", value=1, source=SRC)
    row.update(kw)
    return ledger.add_observation(path, **row)


def _refused(path, match, **kw):
    before = path.read_bytes()
    with pytest.raises(InputError, match=match) as info:
        _add(path, **kw)
    assert path.read_bytes() == before, "a refused add must leave the file unchanged"
    return info.value


# ---------------------------------------------------------------------------
# Adding month by month
# ---------------------------------------------------------------------------

MONTHLY = [
    dict(date="2017-09-03", kind="nuclear_test", value=1, note="synthetic: not a real event"),
    dict(
        date="2017-10-20",
        actor="China",
        kind="enforcement_step",
        value=1,
        note='[cn-2017-09] synthetic, with a comma and "quotes"',
    ),
    dict(date="2017-11-05", kind="suspected_export", value=1, confidence=0.3),
    dict(date="2017-12-11", actor="China", kind="trade_level", value=0.85),
    dict(date="2018-01-10", kind="freeze_accepted", value=1),
    dict(date="2018-02-25", actor="China", kind="enforcement_step", value=0, note="[cn-2018-01]"),
]


def test_adding_month_by_month_keeps_every_earlier_byte(tmp_path):
    path = tmp_path / "synthetic_ledger.csv"
    snapshots = []
    for i, row in enumerate(MONTHLY):
        added = _add(path, **row)
        assert added.name == i + 2  # the header is row 1
        assert added["date"] == pd.Timestamp(row["date"])
        data = path.read_bytes()
        for earlier in snapshots:
            assert data.startswith(earlier)
        assert data.count(b"\n") == i + 2
        snapshots.append(data)
    lines = path.read_text().splitlines()
    assert lines[0] == HEADER
    assert lines[2] == (
        "2017-10-20,China,enforcement_step,1,synthetic test data,,"
        '"[cn-2017-09] synthetic, with a comma and ""quotes""",'
    )
    assert lines[3] == "2017-11-05,DPRK,suspected_export,1,synthetic test data,0.3,,"
    # The models' own loader reads the ledger directly.
    frame = load_observations(path)
    assert frame["kind"].tolist() == [r["kind"] for r in MONTHLY]
    assert frame["value"].tolist() == [1, 1, 1, 0.85, 1, 0]
    assert frame["confidence"].tolist() == [1, 1, 0.3, 1, 1, 1]
    assert ledger.ledger_months(path) == [
        "2017-09",
        "2017-10",
        "2017-11",
        "2017-12",
        "2018-01",
        "2018-02",
    ]
    assert ledger.latest_month(path) == "2018-02"


def test_hand_made_file_keeps_its_bytes_line_endings_and_columns(tmp_path):
    path = tmp_path / "synthetic_hand_made.csv"
    original = (
        b"date,actor,kind,value,source\r\n"
        b"2017-09-03,DPRK,nuclear_test,1,synthetic test data\r\n"
        b'2017-09-14 ,DPRK, missile_launch,2,"synthetic test data, hand typed"'
    )
    path.write_bytes(original)
    path.chmod(0o644)
    _add(path, date="2017-10-02", actor="China", kind="accepts_proposal", value=0)
    data = path.read_bytes()
    # Only a final line break is added to the unterminated last line.
    assert data == (
        original + b"\r\n" + b"2017-10-02,China,accepts_proposal,0,synthetic test data\r\n"
    )
    assert path.stat().st_mode & 0o777 == 0o644
    assert len(ledger.validate_ledger(path)) == 3
    # Fields the header has no column for are refused, not silently dropped.
    _refused(path, "header has no 'note' column", date="2017-10-03", note="x")


def test_blank_lines_after_the_last_row_are_dropped(tmp_path):
    path = tmp_path / "synthetic_trailing_blanks.csv"
    path.write_text(f"{HEADER}\n2017-09-03,DPRK,nuclear_test,1,{SRC},,\n\n\n")
    _add(path, date="2017-09-04")
    assert path.read_text() == (
        f"{HEADER}\n2017-09-03,DPRK,nuclear_test,1,{SRC},,\n"
        f"2017-09-04,DPRK,missile_launch,1,{SRC},,,\n"
    )


def test_create_false_and_empty_file(tmp_path):
    path = tmp_path / "synthetic_missing.csv"
    with pytest.raises(InputError, match="file not found"):
        _add(path, date="2017-09-03", create=False)
    assert not path.exists()
    path.write_text("")
    _add(path, date="2017-09-03")
    assert path.read_text().splitlines()[0] == HEADER
    assert ledger.latest_month(path) == "2017-09"
    empty = tmp_path / "synthetic_header_only.csv"
    empty.write_text(HEADER + "\n")
    assert ledger.ledger_months(empty) == [] and ledger.latest_month(empty) is None


# ---------------------------------------------------------------------------
# Refusals
# ---------------------------------------------------------------------------


@pytest.fixture
def filled(tmp_path):
    path = tmp_path / "synthetic_ledger.csv"
    _add(path, date="2017-10-05", kind="freeze_accepted", value=1, source="synthetic source A")
    _add(
        path,
        date="2017-10-06",
        actor="China",
        kind="enforcement_step",
        value=1,
        note="[cn-2017-10] synthetic",
    )
    _add(path, date="2017-10-06", kind="missile_launch", value=2)
    return path


def test_duplicate_refused(filled):
    err = _refused(
        filled,
        "duplicate observation: row 2",
        date="2017-10-05",
        kind="freeze_accepted",
        value=1,
        source="  SYNTHETIC   source a ",
        note="a different note does not make it new",
    )
    assert (err.file, err.row, err.field) == (str(filled), 5, "value")
    _refused(
        filled,
        "duplicate observation: row 3",
        date="2017-10-06",
        actor="China",
        kind="enforcement_step",
        value=1,
        note="[cn-2017-10]",
    )


@pytest.mark.parametrize(
    "kw, match",
    [
        # the DPRK accepting and refusing the freeze on one day, whoever reports it
        (
            dict(date="2017-10-05", kind="freeze_accepted", value=0, source="synthetic source B"),
            "contradictory observation: row 2",
        ),
        # a step met and missed the same day for the same source
        (
            dict(
                date="2017-10-06",
                actor="China",
                kind="enforcement_step",
                value=0,
                note="[cn-2017-10]",
            ),
            "contradictory observation: row 3",
        ),
        # an untagged assessment on the same day is the same step
        (
            dict(date="2017-10-06", actor="China", kind="enforcement_step", value=0),
            "contradictory observation: row 3",
        ),
        # two different missile counts for one day
        (
            dict(date="2017-10-06", kind="missile_launch", value=3),
            "contradictory observation: row 4",
        ),
    ],
)
def test_contradictory_refused(filled, kw, match):
    err = _refused(filled, match, **kw)
    assert "correct the ledger by hand" in str(err)


def test_repeated_report_refused_but_distinct_events_allowed(filled):
    _refused(
        filled,
        "repeated report: row 4",
        date="2017-10-06",
        kind="missile_launch",
        value=2,
        source="another synthetic source",
    )
    # Different scheduled steps on one day, and reports of exports from different sources.
    _add(
        filled,
        date="2017-10-06",
        actor="China",
        kind="enforcement_step",
        value=0,
        note="[cn-2017-09] synthetic late assessment",
    )
    _add(
        filled,
        date="2017-10-07",
        kind="suspected_export",
        value=1,
        confidence=0.2,
        source="synthetic source A",
    )
    _add(
        filled,
        date="2017-10-07",
        kind="suspected_export",
        value=1,
        confidence=0.6,
        source="synthetic source B",
    )
    _refused(
        filled,
        "duplicate observation: row 6",
        date="2017-10-07",
        kind="suspected_export",
        value=1,
        confidence=0.9,
        source="synthetic source A",
    )
    assert len(ledger.validate_ledger(filled)) == 6


def test_invalid_new_row_names_its_row_and_field(filled):
    err = _refused(
        filled,
        "new observation: expected value for freeze_accepted",
        date="2017-10-09",
        kind="freeze_accepted",
        value=2,
    )
    assert (err.row, err.field) == (5, "value")
    err = _refused(filled, "expected a DPRK kind", date="2017-10-09", kind="trade_level")
    assert err.field == "kind"
    err = _refused(filled, "expected a date", date="2017-10-32")
    assert err.field == "date"
    err = _refused(filled, "single line", date="2017-10-09", note="two\nlines")
    assert err.field == "note"
    _refused(filled, "expected a value, got a blank cell", date="2017-10-09", source="  ")


def test_out_of_order_date_refused_or_inserted_at_its_place(filled):
    before = filled.read_text().splitlines(keepends=True)
    err = _refused(filled, "append-only in date order", date="2017-10-05", kind="nuclear_test")
    assert err.field == "date" and "--insert-late" in str(err)
    added = _add(filled, date="2017-10-05", kind="nuclear_test", insert_late=True)
    assert added.name == 3
    after = filled.read_text().splitlines(keepends=True)
    assert after == before[:2] + [f"2017-10-05,DPRK,nuclear_test,1,{SRC},,,\n"] + before[2:]
    # Still refused when it contradicts an existing row.
    _refused(
        filled,
        "contradictory",
        date="2017-10-05",
        kind="freeze_accepted",
        value=0,
        insert_late=True,
    )
    frame = ledger.validate_ledger(filled)
    assert frame["date"].is_monotonic_increasing
    assert list(frame.index) == [2, 3, 4, 5]


# ---------------------------------------------------------------------------
# Validation of an existing file
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, row, field, match",
    [
        (
            "2017-09-03,DPRK,nuclear_test,1,s,,\n2017-09-04,USA,missile_launch,1,s,,\n",
            3,
            "actor",
            "expected one of: DPRK, China",
        ),
        (
            "2017-09-03,DPRK,nuclear_test,1,s,,\n2017-09-02,DPRK,missile_launch,1,s,,\n",
            3,
            "date",
            "date order",
        ),
        ("2017-09-03,DPRK,nuclear_test,1,s,1.5,\n", 2, "confidence", "between 0 and 1"),
        ("2017-09-03,China,freeze_accepted,1,s,,\n", 2, "kind", "expected a China kind"),
        (
            "2017-09-03,DPRK,freeze_accepted,1,s,,\n2017-09-03,DPRK,freeze_accepted,0,t,,\n",
            3,
            "value",
            "contradictory observation: row 2",
        ),
        (
            "2017-09-03,DPRK,nuclear_test,1,s,,\n2017-09-03,DPRK,nuclear_test,1,S,,\n",
            3,
            "value",
            "duplicate observation: row 2",
        ),
    ],
)
def test_invalid_ledger_is_reported_and_nothing_written(tmp_path, body, row, field, match):
    path = tmp_path / "synthetic_invalid.csv"
    path.write_text(HEADER + "\n" + body)
    before = path.read_bytes()
    with pytest.raises(InputError, match=match) as info:
        ledger.validate_ledger(path)
    assert (info.value.file, info.value.row, info.value.field) == (str(path), row, field)
    with pytest.raises(InputError, match=match) as info:
        _add(path, date="2017-12-01")
    assert (info.value.row, info.value.field) == (row, field)
    assert path.read_bytes() == before
    assert str(info.value).startswith(f"{path}, row {row}, field '{field}'")


def test_unreadable_files(tmp_path):
    missing = tmp_path / "synthetic_none.csv"
    with pytest.raises(InputError, match="file not found"):
        ledger.validate_ledger(missing)
    binary = tmp_path / "synthetic_binary.csv"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InputError, match="UTF-8"):
        _add(binary, date="2017-09-01")
    assert binary.read_bytes() == b"\xff\xfe\x00bad"
    with pytest.raises(InputError, match="file not found"):
        ledger.ledger_sha256(missing)


# ---------------------------------------------------------------------------
# Listing
# ---------------------------------------------------------------------------


def test_list_filters(filled):
    everything = ledger.list_observations(filled)
    assert list(everything.index) == [2, 3, 4] and everything.index.name == "row"
    assert list(ledger.list_observations(filled, actor="China").index) == [3]
    assert list(ledger.list_observations(filled, kind="missile_launch").index) == [4]
    assert list(ledger.list_observations(filled, since="2017-10-06").index) == [3, 4]
    assert list(ledger.list_observations(filled, until=dt.date(2017, 10, 5)).index) == [2]
    assert len(ledger.list_observations(filled, since="2017-10", until="2017-10")) == 3
    assert len(ledger.list_observations(filled, since="2017-11")) == 0
    with pytest.raises(InputError, match="expected one of: DPRK, China"):
        ledger.list_observations(filled, actor="USA")
    with pytest.raises(InputError, match="expected a China kind"):
        ledger.list_observations(filled, actor="China", kind="nuclear_test")
    with pytest.raises(InputError, match="YYYY-MM"):
        ledger.list_observations(filled, since="October")


def test_step_tags_and_hash(filled):
    assert ledger.step_tags("[cn-2017-10] and [cn_2.b] [bad tag]") == ("cn-2017-10", "cn_2.b")
    assert ledger.step_tags(None) == () and ledger.step_tags(float("nan")) == ()
    digest = ledger.ledger_sha256(filled)
    assert len(digest) == 64
    _add(filled, date="2017-10-08")
    assert ledger.ledger_sha256(filled) != digest


# ---------------------------------------------------------------------------
# Concurrency and kills (separate processes)
# ---------------------------------------------------------------------------

WORKER = textwrap.dedent("""
    import sys
    from decision.monitoring.ledger import add_observation
    path, worker, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    for i in range(count):
        add_observation(path, date="2017-11-15", actor="DPRK", kind="suspected_export",
                        value=1, confidence=0.5,
                        source=f"synthetic test data worker {worker} item {i}")
""")


def test_concurrent_adders_lose_nothing(tmp_path):
    path = tmp_path / "synthetic_concurrent.csv"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(path), str(w), "20"],
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    frame = ledger.validate_ledger(path)
    assert len(frame) == 40
    expected = {f"synthetic test data worker {w} item {i}" for w in range(2) for i in range(20)}
    assert set(frame["source"]) == expected
    for w in range(2):  # each worker's rows appear in the order it added them
        mine = [s for s in frame["source"] if f"worker {w} " in s]
        assert mine == [f"synthetic test data worker {w} item {i}" for i in range(20)]
    assert path.read_text().count(HEADER) == 1


KILLED = textwrap.dedent("""
    import datetime as dt, sys
    from decision.monitoring.ledger import add_observation
    path = sys.argv[1]
    for i in range(10_000):
        day = dt.date(2017, 9, 1) + dt.timedelta(days=i // 3)
        add_observation(path, date=day, actor="DPRK", kind="suspected_export", value=1,
                        confidence=0.5, source=f"synthetic test data attempt {i}",
                        note="synthetic row with some text to make the write take longer")
""")


def test_killed_writer_leaves_a_valid_prefix(tmp_path):
    path = tmp_path / "synthetic_killed.csv"
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(path)], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if path.exists() and path.read_bytes().count(b"\n") >= 8:
                break
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.02)
        time.sleep(0.037)  # land somewhere inside a later add
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stderr.close()
    frame = ledger.validate_ledger(path)
    n = len(frame)
    assert n >= 7
    assert list(frame["source"]) == [f"synthetic test data attempt {i}" for i in range(n)]
    text = path.read_text()
    assert text.endswith("\n") and text.count("\n") == n + 1
    # The lock died with the process: the next add goes through at once.
    added = _add(path, date="2018-06-01", kind="nuclear_test", lock_timeout=5)
    assert added.name == n + 2


def test_a_held_lock_times_out_without_writing(filled):
    import filelock

    from decision.core.errors import DecisionError

    before = filled.read_bytes()
    with filelock.FileLock(str(filled) + ".lock"):
        with pytest.raises(DecisionError, match="held the ledger lock"):
            _add(filled, date="2017-10-09", lock_timeout=0.2)
    assert filled.read_bytes() == before
    _add(filled, date="2017-10-09", lock_timeout=1)


def test_published_date_is_written_and_used_as_the_cutoff(tmp_path):
    path = tmp_path / "synthetic_published.csv"
    _add(
        path,
        date="2017-09-30",
        actor="China",
        kind="trade_level",
        value=1.2,
        published="2017-10-13",
        note="[cn-2017-09] synthetic customs figure",
    )
    assert path.read_text().splitlines()[1].endswith(",2017-10-13")
    assert len(load_observations(path, as_of="2017-09-30")) == 0
    assert len(load_observations(path, as_of="2017-10-13")) == 1
    _refused(path, "on or after date", date="2017-10-02", published="2017-10-01")


def test_published_needs_a_column_in_a_hand_made_header(tmp_path):
    path = tmp_path / "synthetic_old_header.csv"
    path.write_text(f"date,actor,kind,value,source\n2017-09-03,DPRK,nuclear_test,1,{SRC}\n")
    _refused(path, "header has no 'published' column", date="2017-09-04", published="2017-09-05")
    _add(path, date="2017-09-04")  # without it the old header still takes new rows
