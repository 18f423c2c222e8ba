"""Scenario sweeps: the sweep file, ids, Parquet parts, resume, concurrency, worker death.

Most tests run on a Dask cluster of threads in this process, so the fake sampler applies to
fits on the workers too. ``test_worker_and_sweep_killed_then_rerun_finishes_exactly_once``
runs ``decision sweep`` on a real local cluster of worker processes and kills them.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from decision.case import load_spec
from decision.cli import main
from decision.core.errors import InputError
from decision.sweep import (
    Posterior,
    evaluate_scenario,
    finished_ids,
    fit_posterior,
    load_sweep,
    local_cluster,
    read_results,
    run_sweep,
)

SPEC = load_spec()
TINY = {"draws": 40, "tune": 0, "chains": 2, "cores": 1, "prior_predictive_draws": 40}


def write_sweep(folder: Path, filename: str = "sweep.yaml", **data) -> Path:
    path = folder / filename
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def synthetic_posterior(n: int = 400, seed: int = 0) -> Posterior:
    """Posterior-shaped draws for tree-only sweeps (no model is fitted)."""
    rng = np.random.default_rng(seed)
    supplied = {name: rng.beta(4, 4, n) for name in SPEC.supplied}
    levels = rng.dirichlet([3, 4, 2], n)
    supplied["p_level_low"], supplied["p_level_partial"], supplied["p_level_full"] = levels.T
    supplied["launches_prevented_per_month"] = rng.gamma(5, 0.5, n)
    supplied["long_range_prevented_per_month"] = rng.gamma(2, 0.25, n)
    headline = {q.name: 0.5 for q in SPEC.headline}
    return Posterior("synthetic", supplied, headline, True, (), False, 0.0)


def raw_ids(results: Path) -> collections.Counter:
    """Scenario ids over every part file, duplicates included."""
    counts: collections.Counter = collections.Counter()
    for part in sorted(results.glob("part-*.parquet")):
        counts.update(pq.read_table(part, columns=["scenario_id"]).column(0).to_pylist())
    return counts


@pytest.fixture(scope="module")
def client():
    """Two single-threaded workers in this process (the fake sampler reaches them)."""
    from distributed import Client

    with local_cluster(2, processes=False) as cluster, Client(cluster) as c:
        yield c


# ------------------------------------------------------------------------ the sweep file


def test_grid_and_latin_hypercube_sample_expand_with_stable_ids(tmp_path):
    path = write_sweep(
        tmp_path,
        name="expand",
        draws=200,
        grid={"china_keeps_if_full": [0.1, 0.3], "priors.china.accepts.alpha": [3, 1.5, 6.0]},
        sample={
            "n": 4,
            "seed": 1,
            "parameters": {
                "w_pressure": {"low": 0.1, "high": 0.3},
                "p_covert_rd": {"distribution": "beta", "alpha": 4, "beta": 6},
            },
        },
    )
    sweep = load_sweep(path)
    assert sweep.keys == [
        "china_keeps_if_full",
        "priors.china.accepts.alpha",
        "w_pressure",
        "p_covert_rd",
    ]
    ids = [s.id for s in sweep.scenarios]
    assert len(ids) == 2 * 3 * 4 == len(set(ids))
    assert ids == [s.id for s in load_sweep(path).scenarios]  # stable across loads
    # Latin hypercube: one point in each quarter of w_pressure's range.
    w = sorted({s.values["w_pressure"] for s in sweep.scenarios})
    assert sorted(int((x - 0.1) / 0.05) for x in w) == [0, 1, 2, 3]
    # auto mode: alpha 3 is China's documented default, so those scenarios use the base fit.
    fits = {}
    for s in sweep.scenarios:
        fits.setdefault(s.values["priors.china.accepts.alpha"], set()).add((s.refit, s.fit_key))
    assert fits[3.0] == {(False, sweep.base_fit_key)}
    assert all(len(fits[a]) == 1 and next(iter(fits[a]))[0] for a in (1.5, 6.0))
    assert sweep.describe()["distinct_fits"] == 2
    # An override is a number; a prior override is not a tree override.
    first = sweep.scenarios[0]
    assert first.overrides == {
        "china_keeps_if_full": 0.1,
        "w_pressure": first.values["w_pressure"],
        "p_covert_rd": first.values["p_covert_rd"],
    }
    # Settings are part of every id: other draws, other ids.
    other = write_sweep(
        tmp_path, "other.yaml", **{**yaml.safe_load(path.read_text()), "draws": 300}
    )
    assert not set(ids) & {s.id for s in load_sweep(other).scenarios}


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"grdi": {}}, "grdi", r"unknown key \(did you mean 'grid'"),
        (
            {"grid": {"china_keeps_if_ful": [0.1]}},
            "grid.china_keeps_if_ful",
            r"unknown key 'china_keeps_if_ful' \(did you mean 'china_keeps_if_full'",
        ),
        (
            {"grid": {"priors.china.acepts.alpha": [1]}},
            "grid.priors.china.acepts.alpha",
            r"unknown prior 'acepts' of model 'china' \(did you mean 'accepts'",
        ),
        (
            {"grid": {"priors.china.accepts.alpha": [0]}},
            r"grid.priors.china.accepts.alpha\[0\]",
            r"expected a positive number",
        ),
        ({"grid": {"w_pressure": 0.2}}, "grid.w_pressure", r"expected a non-empty list"),
        ({"grid": {"w_pressure": [0.2, 0.2]}}, r"grid.w_pressure\[1\]", r"duplicate value"),
        ({"grid": {"w_pressure": ["high"]}}, r"grid.w_pressure\[0\]", r"expected a number or"),
        (
            {"grid": {"w_pressure": [{"distribution": "triangular", "low": 1}]}},
            r"grid.w_pressure\[0\]",
            r".",
        ),
        (
            {"mode": "tree", "grid": {"as_of": ["2017-12-31"]}},
            "grid.as_of",
            r"mode 'tree' re-evaluates the tree on the base posterior",
        ),
        ({"grid": {"as_of": ["2017-13-01"]}}, r"grid.as_of\[0\]", r"expected a date"),
        (
            {"grid": {"observations": ["missing.csv"]}},
            r"grid.observations\[0\]",
            r"observations file not found",
        ),
        (
            {"sample": {"n": 3, "parameters": {"w_pressure": {"low": 0.3, "high": 0.1}}}},
            "sample.parameters.w_pressure",
            r"expected low < high",
        ),
        (
            {"sample": {"n": 3, "parameters": {"w_pressure": {"distribution": "gamma"}}}},
            "sample.parameters.w_pressure.distribution",
            r"unknown distribution 'gamma'",
        ),
        (
            {"sample": {"parameters": {"w_pressure": {"low": 0, "high": 1}}}},
            "sample.n",
            r"expected the number of sampled points",
        ),
        (
            {"sampler": {"cores": 2}, "grid": {"priors.dprk.accept.alpha": [1, 2]}},
            "sampler.cores",
            r"use cores: 1",
        ),
        ({"sampler": {"drawz": 10}}, "sampler.drawz", r"unknown key 'drawz'"),
        ({"mode": "fast"}, "mode", r"expected one of: auto, tree, refit"),
        ({"name": "../escape"}, "name", r"expected a name of letters"),
    ],
)
def test_invalid_sweep_files_name_the_file_and_the_key(tmp_path, data, field, message):
    path = write_sweep(tmp_path, **data)
    with pytest.raises(InputError, match=message) as info:
        load_sweep(path)
    assert str(info.value).startswith(f"{path}, field '")
    assert info.value.field is not None
    import re

    assert re.fullmatch(field, info.value.field), info.value.field


def test_bad_yaml_and_cli_errors_are_one_line_with_status_2(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("grid: [unclosed\n")
    assert main(["sweep", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {path}, row ") and "not valid YAML" in err
    assert len(err.splitlines()) == 1
    good = write_sweep(tmp_path, grid={"w_pressure": [0.1]})
    assert (
        main(
            [
                "sweep",
                str(good),
                "--scheduler",
                "tcp://127.0.0.1:1",
                "--workers",
                "2",
                "--out",
                str(tmp_path / "out"),
            ]
        )
        == 2
    )
    assert "--workers sizes the local cluster" in capsys.readouterr().err


# ------------------------------------------------------------------------ tree-only runs


def test_tree_sweep_resumes_after_an_interruption_without_duplicates(tmp_path, client):
    path = write_sweep(
        tmp_path,
        draws=300,
        batch_size=4,
        value_of_monitoring=True,
        grid={"china_keeps_if_full": [0.1, 0.3, 0.5], "w_pressure": [0.1, 0.2, 0.3, 0.4]},
    )
    sweep = load_sweep(path)
    post = synthetic_posterior()
    out = tmp_path / "out"

    class Stop(Exception):
        pass

    def stop_after_two(info):
        if info["computed"] >= 8:
            raise Stop

    with pytest.raises(Stop):
        run_sweep(sweep, out, client=client, base_posterior=post, on_batch=stop_after_two)
    results = out / sweep.name / "results"
    assert sum(raw_ids(results).values()) == 8
    from filelock import FileLock

    for lock in (out / sweep.name / "_claims").glob("*.lock"):  # claims are released
        with FileLock(str(lock), timeout=0):
            pass

    summary = run_sweep(sweep, out, client=client, base_posterior=post)
    assert (summary.done_before, summary.computed, summary.missing) == (8, 4, 0)
    assert summary.ok
    counts = raw_ids(results)
    assert set(counts) == {s.id for s in sweep.scenarios} and set(counts.values()) == {1}

    again = run_sweep(sweep, out, client=client, base_posterior=post)
    assert (again.done_before, again.computed) == (12, 0)

    frame = read_results(out / sweep.name)
    assert len(frame) == 12 and frame["scenario_id"].is_unique
    assert pd.read_parquet(results).shape == frame.shape  # plain readers see the same rows
    assert set(frame["mode"]) == {"tree"} and frame["error"].isna().all()
    row = frame.set_index("scenario_id").loc[sweep.scenarios[5].id]
    assert row["input.china_keeps_if_full"] == sweep.scenarios[5].values["china_keeps_if_full"]
    # Deterministic: the row is what evaluating the scenario directly gives.
    from decision.sweep import case_for

    direct = evaluate_scenario(
        case_for(sweep.case, sweep.base, {}),
        post,
        sweep.scenarios[5].overrides,
        draws=300,
        seed=sweep.seed,
        value_of_monitoring=True,
    )
    for key, value in direct.items():
        assert row[key] == (pytest.approx(value) if isinstance(value, float) else value), key
    assert row["recommendation"] in ("status quo", "freeze-for-freeze", "freeze-plus-pressure")
    assert row["p_optimal.status quo"] + row["p_optimal.freeze-for-freeze"] + row[
        "p_optimal.freeze-plus-pressure"
    ] == pytest.approx(1.0)
    assert {
        "plan.low",
        "plan.partial",
        "plan.full",
        "value_of_monitoring",
        "p_dprk_complies",
        "p_china_follows_through",
        "diagnostics_ok",
        "seconds",
        "worker",
    } <= set(frame)


def test_readers_skip_temporary_files_and_duplicates_are_dropped(tmp_path, client):
    path = write_sweep(tmp_path, draws=100, batch_size=2, grid={"w_pressure": [0.1, 0.2, 0.3]})
    sweep = load_sweep(path)
    run_sweep(sweep, tmp_path / "out", client=client, base_posterior=synthetic_posterior())
    results = tmp_path / "out" / sweep.name / "results"
    parts = sorted(results.glob("part-*.parquet"))
    assert len(parts) == 2
    # What a killed writer leaves: a truncated temporary file, which readers never see.
    (results / ".part-0123.parquet.x1y2.parquet.tmp").write_bytes(parts[0].read_bytes()[:50])
    # What two sweeps computing one batch at once could leave: the same rows twice.
    shutil.copy(parts[0], results / "part-copy.parquet")
    copied = pq.read_metadata(parts[0]).num_rows
    assert sum(raw_ids(results).values()) == 3 + copied
    assert len(pd.read_parquet(results)) == 3 + copied
    frame = read_results(results)
    assert len(frame) == 3 and frame["scenario_id"].is_unique
    assert set(finished_ids(results)) == {s.id for s in sweep.scenarios}


def test_a_folder_holding_another_definition_is_refused(tmp_path, client, capsys):
    out = tmp_path / "out"
    first = write_sweep(tmp_path, "a.yaml", name="same", draws=100, grid={"w_pressure": [0.1]})
    run_sweep(first, out, client=client, base_posterior=synthetic_posterior())
    second = write_sweep(
        tmp_path, "b.yaml", name="same", draws=100, grid={"w_pressure": [0.1, 0.2]}
    )
    with pytest.raises(
        InputError,
        match=r"sweep.json: this folder holds a different "
        r"definition of sweep 'same'",
    ):
        run_sweep(second, out, client=client, base_posterior=synthetic_posterior())
    # The batch size is not part of the definition.
    third = write_sweep(
        tmp_path, "c.yaml", name="same", draws=100, batch_size=7, grid={"w_pressure": [0.1]}
    )
    assert run_sweep(third, out, client=client, base_posterior=synthetic_posterior()).ok
    manifest = json.loads((out / "same" / "sweep.json").read_text())
    assert manifest["scenarios"] == 1 and manifest["hash"] == load_sweep(first).hash


def test_scenario_errors_are_recorded_once_and_not_retried(tmp_path, client, capsys):
    path = write_sweep(tmp_path, draws=100, grid={"p_accept": [0.5, 1.5]})
    sweep = load_sweep(path)
    summary = run_sweep(
        sweep, tmp_path / "out", client=client, base_posterior=synthetic_posterior()
    )
    assert (summary.computed, summary.errors, summary.missing, summary.ok) == (2, 1, 0, False)
    frame = read_results(tmp_path / "out" / sweep.name).set_index("input.p_accept")
    assert pd.isna(frame.loc[0.5, "error"])
    assert (
        frame.loc[1.5, "error"].startswith("InputError: ") and "p_accept" in frame.loc[1.5, "error"]
    )
    assert pd.isna(frame.loc[1.5, "recommendation"])
    again = run_sweep(sweep, tmp_path / "out", client=client, base_posterior=synthetic_posterior())
    assert (again.computed, again.errors) == (0, 1)


def test_two_sweeps_sharing_a_folder_both_finish_without_duplicates(tmp_path, client):
    path = write_sweep(
        tmp_path,
        draws=300,
        batch_size=2,
        grid={"china_keeps_if_full": [0.1, 0.2, 0.3, 0.4, 0.5], "w_pressure": [0.1, 0.2, 0.3, 0.4]},
    )
    sweep = load_sweep(path)
    out = tmp_path / "out"
    summaries, errors = [], []

    def one():
        try:
            summaries.append(
                run_sweep(
                    load_sweep(path), out, client=client, base_posterior=synthetic_posterior()
                )
            )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors and len(summaries) == 2
    assert all(s.ok and s.missing == 0 for s in summaries)
    counts = raw_ids(out / sweep.name / "results")
    assert set(counts) == {s.id for s in sweep.scenarios}
    assert set(counts.values()) == {1}  # claims kept the two runs off each other's batches
    assert sum(s.computed + s.done_before + s.by_other for s in summaries) == 2 * 20


# ------------------------------------------------------------------------------ refits


def test_auto_mode_refits_only_scenarios_that_change_the_models(tmp_path, client, fake_sampling):
    path = write_sweep(
        tmp_path,
        draws=200,
        sampler=TINY,
        grid={"priors.china.accepts.alpha": [3.0, 0.5], "china_keeps_if_full": [0.2, 0.4]},
    )
    sweep = load_sweep(path)
    assert sweep.refit_count == 2
    summary = run_sweep(sweep, tmp_path / "out", client=client)
    assert summary.computed == 4 and summary.missing == 0 and summary.errors == 0
    frame = read_results(tmp_path / "out" / sweep.name)
    by_alpha = frame.groupby("input.priors.china.accepts.alpha")
    assert set(by_alpha.get_group(3.0)["mode"]) == {"tree"}
    assert set(by_alpha.get_group(0.5)["mode"]) == {"refit"}
    # The fake sampler returns prior draws: a Beta(0.5, 2) prior moves p_china_accepts down.
    accepts = by_alpha["p_china_accepts"].mean()
    assert accepts[0.5] < accepts[3.0]
    assert by_alpha.get_group(0.5)["fit_seconds"].notna().all()
    # Both fits are now in the posterior cache: refit mode evaluates every scenario on its
    # own fit, served from the cache by the workers.
    refit = write_sweep(
        tmp_path,
        "refit.yaml",
        name="again",
        mode="refit",
        draws=200,
        sampler=TINY,
        grid={"priors.china.accepts.alpha": [3.0, 0.5]},
    )
    assert run_sweep(refit, tmp_path / "out", client=client).ok
    again = read_results(tmp_path / "out" / "again")
    assert set(again["mode"]) == {"refit"} and again["fit_from_cache"].all()


def test_observation_files_are_read_by_the_client_and_refit(tmp_path, client, fake_sampling):
    shutil.copy(Path(__file__).parent / "data" / "synthetic_observations.csv", tmp_path / "obs.csv")
    path = write_sweep(
        tmp_path,
        draws=100,
        sampler=TINY,
        as_of="2018-04-30",
        grid={"observations": [None, "obs.csv"]},
    )
    sweep = load_sweep(path)
    refit = [s for s in sweep.scenarios if s.refit]
    assert [s.observations for s in refit] == ["obs.csv"]
    from decision.observations import load_observations

    frame = sweep.fits[refit[0].fit_key].observations  # filtered as of the scenario's date
    assert frame.equals(load_observations(tmp_path / "obs.csv", as_of="2018-04-30"))
    assert 0 < len(frame) < len(load_observations(tmp_path / "obs.csv"))
    summary = run_sweep(sweep, tmp_path / "out", client=client)
    assert summary.ok and summary.computed == 2
    rows = read_results(tmp_path / "out" / sweep.name).set_index("mode")
    assert rows.loc["refit", "observations"] == "obs.csv"
    assert pd.isna(rows.loc["tree", "observations"])
    assert (rows["as_of"] == "2018-04-30").all()
    # The file's content is part of the id: editing it makes a new scenario.
    (tmp_path / "obs.csv").write_text(
        (tmp_path / "obs.csv").read_text().replace("0.3,not a real", "0.4,not a real")
    )
    assert refit[0].id not in {s.id for s in load_sweep(path).scenarios}


def test_cli_dry_run_counts_scenarios(tmp_path, capsys):
    path = write_sweep(
        tmp_path,
        "s.yaml",
        name="counted",
        grid={"w_pressure": [0.1, 0.2], "as_of": ["2017-08-20", "2017-12-31"]},
    )
    assert main(["sweep", str(path), "--dry-run", "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("sweep 'counted': 4 scenarios (2 tree-only, 2 refit on 1 distinct fits)")


# ------------------------------------------------------------- a real cluster, killed


def _descendants(pid: int) -> list:
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_worker_and_sweep_killed_then_rerun_finishes_exactly_once(tmp_path, fake_sampling, capsys):
    """``decision sweep`` on two worker processes: kill a worker mid-sweep, then the sweep
    itself; every part on disk stays readable, and a re-run finishes exactly the rest.
    """
    import psutil

    path = write_sweep(
        tmp_path,
        draws=2000,
        batch_size=8,
        sampler=TINY,
        grid={
            "china_keeps_if_full": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8],
            "w_pressure": [0.1, 0.15, 0.2, 0.25, 0.3, 0.35],
            "c_resume": [0.05, 0.1, 0.15, 0.2],
        },
    )
    sweep = load_sweep(path)
    total = len(sweep.scenarios)
    assert total == 192
    fit_posterior(sweep.fits[sweep.base_fit_key])  # the base fit, into the isolated cache
    out = tmp_path / "out"
    results = out / sweep.name / "results"
    cmd = [
        sys.executable,
        "-m",
        "decision.cli",
        "sweep",
        str(path),
        "--out",
        str(out),
        "--workers",
        "2",
        "--no-progress",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def parts() -> int:
        if proc.poll() is not None and proc.returncode != 0:
            raise AssertionError(f"decision sweep failed: {proc.stderr.read()}")
        return len(list(results.glob("part-*.parquet")))

    started = []
    try:
        _wait_for(parts, 60, "the first part file")
        workers = [p for p in _descendants(proc.pid) if "spawn_main" in " ".join(p.cmdline())]
        assert len(workers) == 2
        started += workers
        os.kill(workers[0].pid, signal.SIGKILL)
        at_kill = parts()
        # The sweep carries on without that worker's process (the nanny starts another).
        _wait_for(
            lambda: parts() >= at_kill + 2 or proc.poll() is not None,
            60,
            "parts written after the worker was killed",
        )
        started += _descendants(proc.pid)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
        _, alive = psutil.wait_procs(started, timeout=15)
        for p in alive:  # pragma: no cover - the workers exit with their parent
            p.kill()
        assert not alive, "worker processes outlived the killed sweep"

    before = raw_ids(results)
    assert set(before.values()) == {1} and len(before) > 0
    assert finished_ids(results).keys() == before.keys()  # every part readable
    assert not list(results.glob(".corrupt-*"))
    status = main(
        ["sweep", str(path), "--out", str(out), "--workers", "2", "--no-progress", "--json"]
    )
    summary = json.loads(capsys.readouterr().out)
    assert status == 0, summary
    assert summary["done_before"] == len(before)
    assert summary["computed"] == total - len(before)
    after = raw_ids(results)
    assert set(after) == {s.id for s in sweep.scenarios} and set(after.values()) == {1}


# ---------------------------------------------------------------------------- reports


@pytest.mark.slow
def test_report_per_scenario_is_rendered_once(tmp_path, client):
    path = write_sweep(
        tmp_path,
        draws=200,
        sampler={"draws": 40, "tune": 40, "chains": 2, "cores": 1},
        grid={"china_keeps_if_full": [0.25]},
    )
    sweep = load_sweep(path)
    out = tmp_path / "out"
    summary = run_sweep(
        sweep, out, client=client, base_posterior=synthetic_posterior(), report=True
    )
    assert summary.ok and summary.reports == 1, summary
    sid = sweep.scenarios[0].id
    scenario = yaml.safe_load((out / sweep.name / "scenarios" / f"{sid}.yaml").read_text())
    assert scenario["parameters"]["china_keeps_if_full"]["value"] == 0.25
    html = (out / sweep.name / "reports" / sid / "report.html").read_text()
    assert sid in html
    again = run_sweep(sweep, out, client=client, base_posterior=synthetic_posterior(), report=True)
    assert again.computed == 0 and again.reports == 1


def test_report_refuses_overrides_of_model_supplied_parameters(tmp_path, client):
    path = write_sweep(tmp_path, draws=100, grid={"p_accept": [0.3]})
    with pytest.raises(
        InputError,
        match=r"field 'p_accept': 'p_accept' comes from the "
        r"models' posterior draws",
    ):
        run_sweep(
            path, tmp_path / "out", client=client, base_posterior=synthetic_posterior(), report=True
        )
