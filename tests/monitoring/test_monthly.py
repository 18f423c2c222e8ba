"""The monthly monitoring workflow.

Incremental ledgers, breaches, the monthly run's bookkeeping in the run history, the run
history under concurrency and kills, and the worked 2017-18 example.
"""

from __future__ import annotations

import json
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
from decision.core.errors import InputError
from decision.core.provenance import sha256_file
from decision.models import ChinaFollowThroughModel, DPRKComplianceModel
from decision.monitoring import (
    RunHistory,
    add_observation,
    monitor,
    resolve_month,
    run_monthly_report,
)
from decision.observations import load_observations
from decision.report import ReportFailed
from decision.testing import TINY_SAMPLER

ROOT = Path(__file__).resolve().parents[2]
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
TINY = {**TINY_SAMPLER, "prior_predictive_draws": 10}


def test_month_helpers(tmp_path):
    assert month_end("2018-02").isoformat() == "2018-02-28"
    assert resolve_month("latest", EXAMPLE) == "2017-12"
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
    """Check that after a detected launch the spring decision is never reached.

    The proposal scales down only if the DPRK holds its freeze: after a detected launch the
    exercises go ahead in full, and both freezes lose value. Synthetic: a freeze accepted in
    January 2018, in the quiet stretch of the evidence tables (no launches from December 2017
    to April 2019), and a synthetic launch that breaks it.
    """
    scenario = tmp_path / "synthetic-2018.yaml"
    scenario.write_text(
        "name: synthetic-2018\nparameters: {}\n"
        "settings:\n  dprk: {monitoring_start: '2018-01-01'}\n"
        "  china: {monitoring_start: '2018-01-01'}\n"
    )
    accepted = {
        "date": "2018-01-05",
        "actor": "DPRK",
        "kind": "freeze_accepted",
        "value": 1,
        "source": "synthetic test data",
    }
    quiet = tmp_path / "quiet.csv"
    add_observation(quiet, **accepted)
    breached = tmp_path / "breached.csv"
    add_observation(breached, **accepted)
    add_observation(
        breached,
        date="2018-03-05",
        actor="DPRK",
        kind="missile_launch",
        value=2,
        source="synthetic test data",
    )
    sampler = {**TINY, "draws": 100, "tune": 0}
    before = monitor("2018-03", ledger=quiet, scenario=scenario, sampler=sampler, use_cache=False)
    after = monitor("2018-03", ledger=breached, scenario=scenario, sampler=sampler, use_cache=False)
    assert after.headline()["p_dprk_complies"] == 0.0 < before.headline()["p_dprk_complies"]
    assert probability_of_acting(before.analysis.result, load_spec()) > 0
    assert probability_of_acting(after.analysis.result, load_spec()) == 0
    strategy = "freeze-plus-pressure"
    assert after.analysis.result.options[strategy] < before.analysis.result.options[strategy]


# ---------------------------------------------------------------------------
# The monthly run's bookkeeping (render replaced by a stand-in: no kernel)
# ---------------------------------------------------------------------------

SYNTHETIC_ANALYSIS = {  # what a monitoring report's analysis.json holds; synthetic numbers
    "headline_names": ["p_dprk_complies", "p_china_follows_through"],
    "p_dprk_complies": 0.3,
    "p_china_follows_through": float("nan"),
    "value_of_monitoring": 0.01,
    "options": {"status quo": 0.0, "freeze-plus-pressure": 0.12},
    "probability_optimal": {"freeze-plus-pressure": 0.9},
}


@pytest.fixture
def stand_in_render(monkeypatch):
    """Replace render_report: record the call, then publish analysis.json or raise ``error``."""
    import decision.report

    calls = []
    outcome = {"error": None}

    def render(params, *, template, out_dir, name, source):
        calls.append({"params": dict(params), "template": template, "name": name})
        if outcome["error"] is not None:
            raise outcome["error"]
        folder = Path(out_dir) / name
        folder.mkdir(parents=True)
        (folder / "analysis.json").write_text(json.dumps(SYNTHETIC_ANALYSIS))
        return folder

    monkeypatch.setattr(decision.report, "render_report", render)
    return calls, outcome


def test_a_monthly_run_is_recorded_with_its_inputs_and_results(tmp_path, stand_in_render):
    calls, _ = stand_in_render
    run = run_monthly_report(
        "latest", ledger=EXAMPLE, scenario="baseline", out_dir=tmp_path, parameters={"draws": 30}
    )
    assert run.folder == tmp_path / "2017-12" and run.history == tmp_path / "history.sqlite"
    assert calls == [
        {
            "params": {
                "through": "2017-12",
                "ledger_file": str(EXAMPLE),
                "history_file": str((tmp_path / "history.sqlite").resolve()),
                "scenario": "baseline",
                "draws": 30,
            },
            "template": "monitoring",
            "name": "2017-12",
        }
    ]
    recorded = RunHistory(run.history).runs().set_index("run_id").loc[run.run_id]
    assert (recorded["month"], recorded["state"]) == ("2017-12", "succeeded")
    assert recorded["parameters"] == calls[0]["params"]
    assert recorded["ledger_sha256"] == sha256_file(EXAMPLE)
    assert recorded["results"] == {  # the NaN headline number is left out
        "p_dprk_complies": 0.3,
        "value_of_monitoring": 0.01,
        "value: status quo": 0.0,
        "P(optimal): status quo": 0.0,
        "value: freeze-plus-pressure": 0.12,
        "P(optimal): freeze-plus-pressure": 0.9,
    }


@pytest.mark.parametrize(
    "error, message",
    [
        (ReportFailed("report '2017-10' failed (synthetic)", Path("x.ipynb")), "synthetic"),
        (KeyboardInterrupt(), "KeyboardInterrupt"),
    ],
)
def test_a_failed_or_interrupted_monthly_run_is_recorded_as_failed(
    tmp_path, stand_in_render, error, message
):
    _, outcome = stand_in_render
    outcome["error"] = error
    with pytest.raises(type(error)):
        run_monthly_report("2017-10", ledger=EXAMPLE, out_dir=tmp_path)
    (recorded,) = RunHistory(tmp_path / "history.sqlite").runs().itertuples()
    assert (recorded.month, recorded.status) == ("2017-10", "failed")
    assert message in recorded.error and recorded.results is None


def test_a_bad_month_or_ledger_fails_before_anything_is_recorded(tmp_path, stand_in_render):
    calls, _ = stand_in_render
    with pytest.raises(InputError, match="YYYY-MM"):
        run_monthly_report("2017-13", ledger=EXAMPLE, out_dir=tmp_path)
    empty = tmp_path / "synthetic_empty_ledger.csv"
    empty.write_text("date,actor,kind,value,source\n")
    with pytest.raises(InputError, match="no latest month"):
        run_monthly_report("latest", ledger=empty, out_dir=tmp_path)
    assert calls == [] and not (tmp_path / "history.sqlite").exists()


# ---------------------------------------------------------------------------
# Real monthly runs (tiny budgets)
# ---------------------------------------------------------------------------


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


def _wait_for(proc, found, timeout: float = 300.0) -> None:
    """Wait until ``found()`` is true while ``proc`` runs; fail if it ends or time runs out."""
    deadline = time.monotonic() + timeout
    while not found():
        if proc.poll() is not None:
            pytest.fail(f"the run ended (status {proc.returncode}): {proc.stderr.read()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no sign of the run after {timeout:.0f} s")
        time.sleep(0.05)


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
    # Re-render September (replacing it) and render October, killing both part-way: once the
    # run is recorded as started and its notebook is executing in a staging folder.
    for month in ("2017-09", "2017-10"):
        proc = _monthly(month, tmp_path, env)
        try:
            _wait_for(proc, lambda m=month: list(tmp_path.glob(f".{m}.staging-*/template.ipynb")))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
            proc.stdout.close()
            proc.stderr.close()
    assert (tmp_path / "2017-09" / "report.html").read_bytes() == report
    assert not (tmp_path / "2017-10").exists() or (tmp_path / "2017-10" / "report.html").exists()
    history = RunHistory(tmp_path / "history.sqlite")
    runs = history.runs()
    assert runs["month"].tolist() == ["2017-09", "2017-09", "2017-10"]
    assert runs["state"].tolist() == ["succeeded", "interrupted", "interrupted"]
    assert list(history.trend()["month"].unique()) == ["2017-09"]
    with sqlite3.connect(tmp_path / "history.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.slow
def test_worked_example_renders_six_monthly_reports(fake_nuts_processes, tmp_path, env):
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
