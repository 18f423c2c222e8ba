"""The run history (SQLite): recording runs, trends, concurrency and killed runs.

Results recorded here are synthetic numbers, not model output.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from decision import __version__
from decision.core.errors import InputError
from decision.monitoring.history import RunHistory


@pytest.fixture
def history(tmp_path):
    return RunHistory(tmp_path / "monitoring" / "synthetic_history.sqlite")


def _integrity(path) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def test_missing_history_reads_empty_and_is_not_created(history):
    assert history.runs().empty and list(history.runs().columns)[:4] == [
        "run_id",
        "month",
        "status",
        "state",
    ]
    assert history.trend().empty
    assert not history.path.exists()


def test_without_a_path_the_history_is_kept_under_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    history = RunHistory()
    assert history.runs().empty and not (tmp_path / "reports").exists()
    history.finish(history.start("2017-09", {}, {}), {"p": 0.1})
    written = tmp_path / "reports" / "monitoring" / "history.sqlite"  # documented default
    assert written.is_file()
    assert RunHistory(written).trend()["value"].tolist() == [0.1]


def test_a_run_is_recorded_with_its_inputs_and_results(history):
    params = {"as_of": dt.date(2017, 10, 31), "draws": 100, "source": "synthetic test data"}
    run_id = history.start(
        "2017-10", params, {"ledger_sha256": "a" * 64, "evidence": "e1", "schedule": "s1"}
    )
    runs = history.runs()
    assert runs.loc[0, "status"] == "running" and runs.loc[0, "state"] == "running"
    history.finish(run_id, {"p_dprk_complies": 0.25, "china_extent": 0.5, "missing": float("nan")})
    run = history.runs().iloc[0]
    assert run["run_id"] == run_id and run["month"] == "2017-10"
    assert (run["status"], run["state"]) == ("succeeded", "succeeded")
    assert run["parameters"] == {
        "as_of": "2017-10-31",
        "draws": 100,
        "source": "synthetic test data",
    }
    assert run["ledger_sha256"] == "a" * 64 and run["evidence_hash"] == "e1"
    assert run["hashes"]["schedule"] == "s1"
    assert run["package_version"] == __version__
    assert run["pid"] == os.getpid()
    assert run["results"] == {"p_dprk_complies": 0.25, "china_extent": 0.5, "missing": None}
    assert dt.datetime.fromisoformat(run["finished_at"]) >= dt.datetime.fromisoformat(
        run["started_at"]
    )
    with sqlite3.connect(history.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        rows = conn.execute("SELECT name, value FROM run_results ORDER BY name").fetchall()
    assert rows == [("china_extent", 0.5), ("missing", None), ("p_dprk_complies", 0.25)]


def test_failures_and_misuse(history):
    run_id = history.start("2017-11", {}, {})
    history.fail(run_id, "synthetic failure")
    run = history.runs().iloc[0]
    assert (run["status"], run["error"]) == ("failed", "synthetic failure")
    with pytest.raises(InputError, match="already failed"):
        history.finish(run_id, {"x": 1})
    with pytest.raises(InputError, match="no run with id 99"):
        history.fail(99, "x")
    with pytest.raises(InputError, match="YYYY-MM"):
        history.start("November", {}, {})
    other = history.start("2017-11", {}, {})
    with pytest.raises(InputError, match="finite"):
        history.finish(other, {"x": float("inf")})
    with pytest.raises(InputError, match="expected a number"):
        history.finish(other, {"x": "high"})
    with pytest.raises(InputError, match="JSON"):
        history.start("2017-11", {"x": object()}, {})
    assert history.runs()["status"].tolist() == ["failed", "running"]


def test_record_context_manager(history):
    with history.record("2017-12", {"seed": 1}) as run:
        run.results["p"] = 0.4
    with pytest.raises(RuntimeError):
        with history.record("2017-12") as run:
            raise RuntimeError("synthetic crash")
    runs = history.runs()
    assert runs["status"].tolist() == ["succeeded", "failed"]
    assert runs.loc[1, "error"] == "RuntimeError: synthetic crash"


def test_trend_uses_the_latest_succeeded_run_per_month(history):
    for month, value in [("2017-09", 0.1), ("2017-10", 0.2), ("2017-09", 0.15)]:
        history.finish(history.start(month, {}, {}), {"p": value, "q": 1 - value})
    history.fail(history.start("2017-10", {}, {}), "synthetic failure")  # ignored
    history.start("2017-11", {}, {})  # still running
    trend = history.trend()
    assert list(trend.columns) == ["month", "name", "value", "run_id", "finished_at"]
    assert trend[["month", "name"]].values.tolist() == [
        ["2017-09", "p"],
        ["2017-10", "p"],
        ["2017-09", "q"],
        ["2017-10", "q"],
    ]
    assert trend["value"].tolist() == pytest.approx([0.15, 0.2, 0.85, 0.8])
    assert trend["run_id"].tolist() == [3, 2, 3, 2]
    only = history.trend(["q"])
    assert only["name"].unique().tolist() == ["q"]
    assert history.trend([]).empty


def test_not_a_database(tmp_path):
    path = tmp_path / "synthetic_not_sqlite.sqlite"
    path.write_text("this is not a database\n" * 100)
    with pytest.raises(InputError, match="not a readable run-history database"):
        RunHistory(path).runs()
    with pytest.raises(InputError, match="not a readable run-history database"):
        RunHistory(path).start("2017-09", {}, {})


WRITER = textwrap.dedent("""
    import sys
    from decision.monitoring.history import RunHistory
    history = RunHistory(sys.argv[1])
    worker, count = int(sys.argv[2]), int(sys.argv[3])
    for i in range(count):
        run_id = history.start(f"2017-{9 + i % 4:02d}", {"worker": worker, "i": i},
                               {"ledger_sha256": f"synthetic-{worker}-{i}"})
        history.finish(run_id, {"worker": worker, "i": i, "p": i / count})
""")


def test_two_processes_at_once(history):
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(history.path), str(w), "20"],
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    runs = history.runs()
    assert len(runs) == 40 and set(runs["status"]) == {"succeeded"}
    assert sorted((r["worker"], r["i"]) for r in runs["parameters"]) == [
        (w, i) for w in range(2) for i in range(20)
    ]
    assert runs["run_id"].is_unique
    with sqlite3.connect(history.path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM run_results").fetchone()[0] == 120
    assert _integrity(history.path) == "ok" and history.integrity_check() == "ok"


IDLE = textwrap.dedent("""
    import sys, time
    from decision.monitoring.history import RunHistory
    run_id = RunHistory(sys.argv[1]).start("2017-12", {"synthetic": True}, {})
    print(run_id, flush=True)
    time.sleep(120)
""")

BUSY = textwrap.dedent("""
    import sys
    from decision.monitoring.history import RunHistory
    history = RunHistory(sys.argv[1])
    for i in range(100_000):
        run_id = history.start("2018-01", {"i": i}, {})
        history.finish(run_id, {f"q{k}": float(k) for k in range(20)})
""")


def test_killed_run_leaves_history_readable(history):
    history.finish(history.start("2017-11", {"earlier": True}, {}), {"p": 0.3})
    before = history.runs()
    proc = subprocess.Popen(
        [sys.executable, "-c", IDLE, str(history.path)], stdout=subprocess.PIPE, text=True
    )
    try:
        run_id = int(proc.stdout.readline())
        assert history.runs().set_index("run_id").loc[run_id, "state"] == "running"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
    runs = history.runs().set_index("run_id")
    assert (runs.loc[run_id, "status"], runs.loc[run_id, "state"]) == ("running", "interrupted")
    assert runs.loc[before.loc[0, "run_id"], "results"] == {"p": 0.3}
    assert history.trend()["value"].tolist() == [0.3]
    # A later run goes on as usual.
    history.finish(history.start("2017-12", {}, {}), {"p": 0.4})
    assert history.integrity_check() == "ok"


def test_killed_in_the_middle_of_writes(history):
    history.finish(history.start("2017-09", {"earlier": True}, {}), {"p": 0.1})
    proc = subprocess.Popen([sys.executable, "-c", BUSY, str(history.path)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if len(history.runs()) >= 15:
                break
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.02)
        time.sleep(0.013)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stderr.close()
    assert _integrity(history.path) == "ok"
    runs = history.runs()
    assert runs.loc[0, "results"] == {"p": 0.1}
    assert set(runs["state"]) <= {"succeeded", "interrupted"}
    assert (runs["state"] == "interrupted").sum() <= 1
    with sqlite3.connect(history.path) as conn:  # a run's results are all there or none
        counts = dict(
            conn.execute(
                "SELECT r.run_id, COUNT(x.name) FROM runs r LEFT JOIN run_results x "
                "USING (run_id) WHERE r.run_id > 1 GROUP BY r.run_id"
            ).fetchall()
        )
    for run in runs.iloc[1:].itertuples():
        assert counts[run.run_id] == (20 if run.status == "succeeded" else 0)
