"""The monthly monitoring workflow: incremental ledgers, breaches, the run history under
concurrency and kills, and the worked 2017-18 example.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from decision.case import load_spec, probability_of_acting
from decision.core.dates import month_end
from decision.history import RunHistory
from decision.ledger import add_observation
from decision.models import ChinaFollowThroughModel, DPRKComplianceModel
from decision.monitor import monitor, resolve_month
from decision.observations import load_observations

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "monitoring-2017" / "observations.csv"
SYNTHETIC = [  # synthetic test data, in date order
    dict(
        date="2017-09-20",
        actor="China",
        kind="enforcement_step",
        value=1,
        source="synthetic test data",
        note="[cn-2017-09]",
    ),
    dict(
        date="2017-10-25",
        actor="China",
        kind="trade_level",
        value=0.8,
        source="synthetic test data",
        note="[cn-2017-10]",
    ),
    dict(
        date="2017-11-12",
        actor="DPRK",
        kind="suspected_export",
        value=1,
        source="synthetic test data",
        confidence=0.4,
    ),
    dict(
        date="2017-12-02",
        actor="China",
        kind="enforcement_step",
        value=0,
        source="synthetic test data",
        note="[cn-2017-12]",
    ),
]
TINY = {"draws": 30, "tune": 30, "chains": 2, "cores": 1, "prior_predictive_draws": 10}


def test_month_helpers(tmp_path):
    assert month_end("2018-02").isoformat() == "2018-02-28"
    assert resolve_month("latest", EXAMPLE) == "2017-12"
    from decision.core.errors import InputError

    with pytest.raises(InputError, match="YYYY-MM"):
        month_end("2017-13")


def test_month_by_month_equals_all_at_once(tmp_path, fake_sampling):
    incremental = tmp_path / "incremental.csv"
    for row in SYNTHETIC:
        add_observation(incremental, **row)
    at_once = tmp_path / "at_once.csv"
    pd.DataFrame(SYNTHETIC).to_csv(at_once, index=False)
    as_of = month_end("2017-12")
    a = load_observations(incremental, as_of=as_of)
    b = load_observations(at_once, as_of=as_of)
    sampler = {**TINY, "tune": 0}
    for cls in (DPRKComplianceModel, ChinaFollowThroughModel):
        ma = cls(as_of=as_of, observations=a, sampler=sampler)
        mb = cls(as_of=as_of, observations=b, sampler=sampler)
        assert ma.cache_key() == mb.cache_key()
        fa, fb = ma.fit(use_cache=False), mb.fit(use_cache=False)
        for name in fa.headline_names:
            np.testing.assert_array_equal(fa.draws(name), fb.draws(name))


def test_a_breach_ends_the_scale_down_the_case_conditions_on_it(tmp_path, fake_sampling):
    """The proposal scales down only if the DPRK holds its freeze: after a detected launch the
    spring decision is never reached, so the exercises go ahead in full, and both freezes
    lose value.
    """
    quiet = tmp_path / "quiet.csv"
    add_observation(quiet, **SYNTHETIC[0])
    breached = tmp_path / "breached.csv"
    add_observation(breached, **SYNTHETIC[0])
    add_observation(
        breached,
        date="2017-10-05",
        actor="DPRK",
        kind="missile_launch",
        value=2,
        source="synthetic test data",
    )
    sampler = {**TINY, "draws": 100, "tune": 0}
    before = monitor("2017-10", ledger=quiet, sampler=sampler, use_cache=False)
    after = monitor("2017-10", ledger=breached, sampler=sampler, use_cache=False)
    assert after.headline()["p_dprk_complies"] == 0.0 < before.headline()["p_dprk_complies"]
    assert probability_of_acting(before.analysis.result, load_spec()) > 0
    assert probability_of_acting(after.analysis.result, load_spec()) == 0
    for strategy in ("freeze-for-freeze", "freeze-plus-pressure"):
        assert after.analysis.result.options[strategy] < before.analysis.result.options[strategy], (
            strategy
        )
    status = after.schedule_status.set_index("item")
    assert "breached" in set(status["observed"])


def _monthly(month, out, env, *extra):
    cmd = [
        sys.executable,
        "-m",
        "decision.cli",
        "report",
        "monitoring",
        "--through",
        month,
        "--ledger",
        str(EXAMPLE),
        "--out",
        str(out),
    ]
    for key in ("draws", "tune", "chains", "cores"):
        cmd += ["-p", f"{key}={TINY[key]}"]
    return subprocess.Popen(
        cmd + list(extra), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.fixture
def env(isolated_cache):
    return {**os.environ, "DECISION_CACHE_DIR": str(isolated_cache), "MPLBACKEND": "Agg"}


def test_two_monthly_runs_at_once_keep_the_history_sound(tmp_path, env):
    procs = [_monthly("2017-09", tmp_path, env), _monthly("2017-10", tmp_path, env)]
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
    history = RunHistory(tmp_path / "history.sqlite")
    runs = history.runs()
    assert sorted(runs["month"]) == ["2017-09", "2017-10"]
    assert set(runs["status"]) == {"succeeded"}
    assert set(history.trend()["month"]) == {"2017-09", "2017-10"}
    with sqlite3.connect(tmp_path / "history.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    for month in ("2017-09", "2017-10"):
        assert (tmp_path / month / "report.html").stat().st_size > 10_000


def test_a_killed_run_leaves_history_and_earlier_reports_intact(tmp_path, env):
    first = _monthly("2017-09", tmp_path, env)
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    report = (tmp_path / "2017-09" / "report.html").read_bytes()
    # Re-render September (replacing it) and render October, killing both part-way.
    for month, delay in (("2017-09", 6.0), ("2017-10", 3.0)):
        proc = _monthly(month, tmp_path, env)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    assert (tmp_path / "2017-09" / "report.html").read_bytes() == report
    assert not (tmp_path / "2017-10").exists() or (tmp_path / "2017-10" / "report.html").exists()
    history = RunHistory(tmp_path / "history.sqlite")
    runs = history.runs()
    assert (runs["status"] == "succeeded").sum() == 1
    assert set(runs.loc[runs["status"] != "succeeded", "state"]) <= {"interrupted", "failed"}
    assert list(history.trend()["month"].unique()) == ["2017-09"]
    with sqlite3.connect(tmp_path / "history.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.slow
def test_worked_example_renders_six_monthly_reports(tmp_path, env):
    months = ["2017-09", "2017-10", "2017-11", "2017-12", "2018-01", "2018-02"]
    for month in months:
        proc = _monthly(month, tmp_path, env)
        _, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err
    history = RunHistory(tmp_path / "history.sqlite")
    assert list(history.trend()["month"].unique()) == months
    for month in months:
        html = (tmp_path / month / "report.html").read_text()
        assert f"Monitoring through {month}" in html
