"""The run history: an embedded SQLite database recording every monthly monitoring run.

Each run gets a row when it starts (status ``running``) and is closed as ``succeeded``
(with its headline results) or ``failed`` (with the error). The database is the source of
trend charts across months and of "what produced this report": parameters, the ledger's
SHA-256, the evidence hash, the package version and the git commit are recorded with
every run.

Database (default ``reports/monitoring/history.sqlite``, relative to the working folder)
------------------------------------------------------------------------------------------
``runs``
    ``run_id`` (integer, increasing), ``month`` (``YYYY-MM``), ``status`` (``running`` /
    ``succeeded`` / ``failed``), ``started_at`` / ``finished_at`` (UTC, ISO 8601),
    ``pid`` and ``host`` of the process, ``parameters`` (JSON), ``ledger_sha256``,
    ``evidence_hash``, ``hashes`` (JSON: every hash given), ``package_version``,
    ``git_commit``, ``results`` (JSON: the headline results), ``error`` (text).
``run_results``
    ``run_id``, ``name``, ``value`` (REAL; NULL for a missing value): the headline results
    as a long table, for trends.
``meta``
    ``key``, ``value``: ``schema_version`` (1).

Safety: WAL journal, ``busy_timeout``, one short ``BEGIN IMMEDIATE`` transaction per
write, so concurrent runs wait for each other instead of failing, and a process killed
at any instant leaves the database consistent (SQLite's journal). A run whose process was
killed stays ``running``; :meth:`RunHistory.runs` shows it as ``interrupted`` in the
``state`` column when its process is gone (same host only).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import errno
import json
import math
import os
import socket
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from decision.core.dates import parse_month
from decision.core.errors import DecisionError, InputError
from decision.core.provenance import git_commit, package_version, process_alive

__all__ = ["DEFAULT_HISTORY_PATH", "SCHEMA_VERSION", "RunHistory", "Run"]

#: Where the history lives unless a path is given (relative to the working folder).
DEFAULT_HISTORY_PATH = Path("reports") / "monitoring" / "history.sqlite"

#: Version of the database layout written by this module.
SCHEMA_VERSION = 1


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id          INTEGER PRIMARY KEY AUTOINCREMENT,
    month           TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    started_at      TEXT NOT NULL,
    finished_at     TEXT,
    pid             INTEGER,
    host            TEXT,
    parameters      TEXT NOT NULL,
    ledger_sha256   TEXT,
    evidence_hash   TEXT,
    hashes          TEXT NOT NULL,
    package_version TEXT,
    git_commit      TEXT,
    results         TEXT,
    error           TEXT
);
CREATE INDEX IF NOT EXISTS runs_month ON runs (month, status);
CREATE TABLE IF NOT EXISTS run_results (
    run_id INTEGER NOT NULL REFERENCES runs (run_id),
    name   TEXT NOT NULL,
    value  REAL,
    PRIMARY KEY (run_id, name)
);
"""

_RUN_COLUMNS = [
    "run_id",
    "month",
    "status",
    "state",
    "started_at",
    "finished_at",
    "pid",
    "host",
    "parameters",
    "ledger_sha256",
    "evidence_hash",
    "hashes",
    "package_version",
    "git_commit",
    "results",
    "error",
]
_TREND_COLUMNS = ["month", "name", "value", "run_id", "finished_at"]

#: Keys of ``hashes`` copied into the ``ledger_sha256`` / ``evidence_hash`` columns.
_LEDGER_KEYS = ("ledger_sha256", "ledger", "observations")
_EVIDENCE_KEYS = ("evidence_hash", "evidence")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot record a {type(value).__name__} as JSON")


def _to_json(value: Any, field: str) -> str:
    try:
        return json.dumps(value, sort_keys=True, default=_json_default, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InputError(f"expected JSON-serialisable values ({exc})", field=field) from None


def _clean_results(results: Mapping[str, Any]) -> dict[str, float | None]:
    if not isinstance(results, Mapping):
        raise InputError("expected a mapping of result names to numbers", field="results")
    out: dict[str, float | None] = {}
    for name, value in results.items():
        if not isinstance(name, str) or not name.strip():
            raise InputError(
                f"expected result names as non-blank text, got {name!r}", field="results"
            )
        if value is None:
            out[name] = None
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InputError(f"expected a number, got {value!r}", field=f"results.{name}") from None
        if math.isnan(number):
            out[name] = None
        elif math.isinf(number):
            raise InputError(f"expected a finite number, got {value!r}", field=f"results.{name}")
        else:
            out[name] = number
    return out


def _no_space_left(path: Path) -> bool:
    """Return whether the file system holding ``path`` has (almost) no free space."""
    try:
        stat = os.statvfs(path.parent)
    except OSError:
        return False
    return stat.f_bavail * stat.f_frsize < 1 << 16


@dataclasses.dataclass
class Run:
    """A run in progress, from :meth:`RunHistory.record`: set ``results`` before exit."""

    run_id: int
    month: str
    results: dict[str, float] = dataclasses.field(default_factory=dict)


class RunHistory:
    """The run-history database at ``path`` (default :data:`DEFAULT_HISTORY_PATH`).

    The file and its folder are created on the first write; reading a history that does
    not exist yet gives empty tables.

    Parameters
    ----------
    path
        The SQLite file.
    timeout
        Seconds a write waits for another process's transaction (``busy_timeout``).
    """

    def __init__(self, path: str | os.PathLike | None = None, *, timeout: float = 30.0):
        self.path = Path(path) if path is not None else DEFAULT_HISTORY_PATH
        self.timeout = float(timeout)
        self._ready = False

    def __repr__(self) -> str:
        """Show the database's path."""
        return f"RunHistory({str(self.path)!r})"

    # -- connections -------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise InputError(f"cannot open the run history ({exc})", file=self.path) from None
        conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    @contextlib.contextmanager
    def _connect(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        if write and not self._ready:
            self._create()
        conn = self._open()
        try:
            yield conn
        except sqlite3.DatabaseError as exc:
            if "not a database" in str(exc) or "malformed" in str(exc):
                raise InputError(
                    f"not a readable run-history database ({exc})", file=self.path
                ) from None
            if "disk is full" in str(exc) or (
                "disk I/O error" in str(exc) and _no_space_left(self.path)
            ):
                # The transaction was rolled back; say so plainly (SQLite reports a full
                # disk as an I/O error when its shared-memory index cannot grow).
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.path)) from None
            raise
        finally:
            conn.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect(write=True) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                conn = self._open()
                try:
                    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                    if str(mode).lower() != "wal":
                        raise DecisionError(
                            f"{self.path}: cannot switch the run history to WAL mode (got {mode!r})"
                        )
                    conn.execute("BEGIN IMMEDIATE")
                    try:
                        for statement in _SCHEMA.split(";"):
                            if statement.strip():
                                conn.execute(statement)
                        conn.execute(
                            "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
                            ("schema_version", str(SCHEMA_VERSION)),
                        )
                        version = int(
                            conn.execute(
                                "SELECT value FROM meta WHERE key = 'schema_version'"
                            ).fetchone()[0]
                        )
                    except BaseException:
                        conn.execute("ROLLBACK")
                        raise
                    conn.execute("COMMIT")
                finally:
                    conn.close()
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise DecisionError(
                        f"{self.path}: cannot prepare the run history ({exc})"
                    ) from None
                time.sleep(0.05)
            except sqlite3.DatabaseError as exc:
                raise InputError(
                    f"not a readable run-history database ({exc})", file=self.path
                ) from None
        if version > SCHEMA_VERSION:
            raise DecisionError(
                f"{self.path}: run history has schema version {version}, "
                f"newer than this package's ({SCHEMA_VERSION}); upgrade "
                "the package"
            )
        self._ready = True

    # -- writing -------------------------------------------------------------

    def start(
        self,
        month: Any,
        parameters: Mapping[str, Any] | None = None,
        hashes: Mapping[str, str] | None = None,
    ) -> int:
        """Record a run starting now and return its ``run_id``.

        Parameters
        ----------
        month
            The month the run reports on (``YYYY-MM``).
        parameters
            The run's parameters (stored as JSON; dates become ISO strings).
        hashes
            Data hashes. ``ledger_sha256`` (or ``ledger`` / ``observations``) and
            ``evidence_hash`` (or ``evidence``) fill their own columns; all are kept in
            the ``hashes`` JSON.
        """
        month = parse_month(month)
        params_json = _to_json(dict(parameters or {}), "parameters")
        hashes = dict(hashes or {})
        hashes_json = _to_json(hashes, "hashes")
        ledger = next((str(hashes[k]) for k in _LEDGER_KEYS if hashes.get(k)), None)
        evidence = next((str(hashes[k]) for k in _EVIDENCE_KEYS if hashes.get(k)), None)
        version, commit = package_version(), git_commit()
        with self._transaction() as conn:
            cur = conn.execute(
                "INSERT INTO runs (month, status, started_at, pid, host, parameters, "
                "ledger_sha256, evidence_hash, hashes, package_version, git_commit) "
                "VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    month,
                    _now(),
                    os.getpid(),
                    socket.gethostname(),
                    params_json,
                    ledger,
                    evidence,
                    hashes_json,
                    version,
                    commit,
                ),
            )
            return int(cur.lastrowid)

    def _close_run(self, conn: sqlite3.Connection, run_id: int, status: str, **fields) -> None:
        row = conn.execute("SELECT status FROM runs WHERE run_id = ?", (int(run_id),)).fetchone()
        if row is None:
            raise InputError(f"no run with id {run_id}", file=self.path, field="run_id")
        if row[0] != "running":
            raise InputError(
                f"run {run_id} is already {row[0]}; only a running run can be marked {status}",
                file=self.path,
                field="run_id",
            )
        sets = ", ".join(f"{k} = ?" for k in fields)
        conn.execute(
            f"UPDATE runs SET status = ?, finished_at = ?, {sets} WHERE run_id = ?",
            (status, _now(), *fields.values(), int(run_id)),
        )

    def finish(self, run_id: int, results: Mapping[str, Any]) -> None:
        """Mark a running run ``succeeded`` and store its headline results.

        ``results`` maps names to numbers (NaN or None = missing, stored as NULL). The
        run row and its ``run_results`` rows are written in one transaction.
        """
        clean = _clean_results(results)
        with self._transaction() as conn:
            self._close_run(conn, run_id, "succeeded", results=_to_json(clean, "results"))
            conn.executemany(
                "INSERT INTO run_results (run_id, name, value) VALUES (?, ?, ?)",
                [(int(run_id), name, value) for name, value in clean.items()],
            )

    def fail(self, run_id: int, message: str) -> None:
        """Mark a running run ``failed`` with an error message."""
        with self._transaction() as conn:
            self._close_run(conn, run_id, "failed", error=str(message))

    @contextlib.contextmanager
    def record(
        self,
        month: Any,
        parameters: Mapping[str, Any] | None = None,
        hashes: Mapping[str, str] | None = None,
    ) -> Iterator[Run]:
        """Record a run around a ``with`` block.

        The run is started (:meth:`start`) on entry; on exit it is finished (:meth:`finish`)
        with ``run.results``, or failed (:meth:`fail`) with the exception, which is re-raised.
        """
        run = Run(run_id=self.start(month, parameters, hashes), month=parse_month(month))
        try:
            yield run
        except BaseException as exc:
            self.fail(run.run_id, f"{type(exc).__name__}: {exc}")
            raise
        self.finish(run.run_id, run.results)

    # -- reading -------------------------------------------------------------

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        if not self.path.exists():
            return []
        with self._connect(write=False) as conn:
            conn.row_factory = sqlite3.Row
            try:
                return conn.execute(sql, tuple(params)).fetchall()
            except sqlite3.OperationalError as exc:
                if "no such table" in str(exc):
                    return []
                raise

    def runs(self) -> pd.DataFrame:
        """Every run, oldest first.

        Columns: those of the ``runs`` table (``parameters``, ``hashes`` and ``results``
        parsed from JSON) and ``state``: the status, except that a ``running`` run whose
        process no longer exists on this host is ``interrupted``.
        """
        rows = self._query("SELECT * FROM runs ORDER BY run_id")
        host = socket.gethostname()
        records = []
        for row in rows:
            rec = dict(row)
            for key in ("parameters", "hashes", "results"):
                rec[key] = json.loads(rec[key]) if rec[key] else None
            state = rec["status"]
            if (
                state == "running"
                and rec["host"] == host
                and not process_alive(rec["pid"], rec["started_at"])
            ):
                state = "interrupted"
            rec["state"] = state
            records.append(rec)
        frame = pd.DataFrame.from_records(records, columns=_RUN_COLUMNS)
        frame["run_id"] = frame["run_id"].astype("int64")
        for name in _RUN_COLUMNS:  # missing values as None, not NaN
            if not pd.api.types.is_numeric_dtype(frame[name]):
                frame[name] = pd.Series(
                    [None if isinstance(v, float) and math.isnan(v) else v for v in frame[name]],
                    index=frame.index,
                    dtype=object,
                )
        return frame

    def trend(self, names: Iterable[str] | None = None) -> pd.DataFrame:
        """Headline results across months, for trend charts.

        For each month the latest succeeded run (latest ``finished_at``, then highest
        ``run_id``) is used. Returns one row per month and quantity: ``month``, ``name``,
        ``value``, ``run_id``, ``finished_at``; sorted by name, then month. ``names``
        keeps only those quantities.
        """
        sql = """
            WITH latest AS (
                SELECT run_id, month, finished_at,
                       ROW_NUMBER() OVER (PARTITION BY month
                                          ORDER BY finished_at DESC, run_id DESC) AS rank
                FROM runs WHERE status = 'succeeded')
            SELECT l.month, r.name, r.value, l.run_id, l.finished_at
            FROM latest AS l JOIN run_results AS r ON r.run_id = l.run_id
            WHERE l.rank = 1"""
        params: list[Any] = []
        if names is not None:
            names = [str(n) for n in ([names] if isinstance(names, str) else names)]
            if not names:
                return pd.DataFrame(columns=_TREND_COLUMNS)
            sql += f" AND r.name IN ({', '.join('?' for _ in names)})"
            params.extend(names)
        sql += " ORDER BY r.name, l.month"
        rows = [dict(r) for r in self._query(sql, params)]
        frame = pd.DataFrame.from_records(rows, columns=_TREND_COLUMNS)
        frame["value"] = frame["value"].astype("float64")
        frame["run_id"] = frame["run_id"].astype("int64")
        return frame

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` (``"ok"`` when the file is sound)."""
        if not self.path.exists():
            return "ok"
        with self._connect(write=False) as conn:
            return "; ".join(r[0] for r in conn.execute("PRAGMA integrity_check").fetchall())
