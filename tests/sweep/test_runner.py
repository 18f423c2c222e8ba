"""Running sweeps on Dask: resume, recorded errors, concurrent runs, refits, killed workers.

``test_worker_and_sweep_killed_then_rerun_finishes_exactly_once`` runs ``decision sweep`` on a
real local cluster of worker processes and kills them; the others use the cluster of threads.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest

from decision.cli import main
from decision.core.errors import InputError
from decision.sweep import (
    case_for,
    evaluate_scenario,
    finished_ids,
    fit_posterior,
    load_sweep,
    read_results,
    run_sweep,
)

# ------------------------------------------------------------------------ tree-only runs


def test_tree_sweep_resumes_after_an_interruption_without_duplicates(
    write_sweep, tmp_path, client, synthetic_posterior, part_ids
):
    path = write_sweep(
        draws=300,
        batch_size=4,
        value_of_monitoring=True,
        grid={
            "china_keeps_if_full": [0.1, 0.3, 0.5],
            "china_pressure_if_refused": [0.1, 0.2, 0.3, 0.4],
        },
    )
    sweep = load_sweep(path)
    post = synthetic_posterior
    out = tmp_path / "out"

    class Stop(Exception):
        pass

    def stop_after_two(info):
        if info["computed"] >= 8:
            raise Stop

    with pytest.raises(Stop):
        run_sweep(sweep, out, client=client, base_posterior=post, on_batch=stop_after_two)
    results = out / sweep.name / "results"
    assert sum(part_ids(results).values()) == 8
    from filelock import FileLock

    for lock in (out / sweep.name / "_claims").glob("*.lock"):  # claims are released
        with FileLock(str(lock), timeout=0):
            pass

    summary = run_sweep(sweep, out, client=client, base_posterior=post)
    assert (summary.done_before, summary.computed, summary.missing) == (8, 4, 0)
    assert summary.ok
    counts = part_ids(results)
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
    for name, mean in post.headline.items():  # the posterior's means, on every row
        assert row[name] == pytest.approx(mean)
    assert {
        "plan.low",
        "plan.partial",
        "plan.full",
        "value_of_monitoring",
        "diagnostics_ok",
        "seconds",
        "worker",
    } <= set(frame)


def test_scenario_errors_are_recorded_once_and_not_retried(
    write_sweep, tmp_path, client, synthetic_posterior
):
    path = write_sweep(draws=100, grid={"p_accept_f4f": [0.5, 1.5]})
    sweep = load_sweep(path)
    summary = run_sweep(sweep, tmp_path / "out", client=client, base_posterior=synthetic_posterior)
    assert (summary.computed, summary.errors, summary.missing, summary.ok) == (2, 1, 0, False)
    frame = read_results(tmp_path / "out" / sweep.name).set_index("input.p_accept_f4f")
    assert pd.isna(frame.loc[0.5, "error"])
    assert (
        frame.loc[1.5, "error"].startswith("InputError: ")
        and "p_accept_f4f" in frame.loc[1.5, "error"]
    )
    assert pd.isna(frame.loc[1.5, "recommendation"])
    again = run_sweep(sweep, tmp_path / "out", client=client, base_posterior=synthetic_posterior)
    assert (again.computed, again.errors) == (0, 1)


def test_two_sweeps_sharing_a_folder_both_finish_without_duplicates(
    write_sweep, tmp_path, client, synthetic_posterior, part_ids
):
    path = write_sweep(
        draws=300,
        batch_size=2,
        grid={
            "china_keeps_if_full": [0.1, 0.2, 0.3, 0.4, 0.5],
            "china_pressure_if_refused": [0.1, 0.2, 0.3, 0.4],
        },
    )
    sweep = load_sweep(path)
    out = tmp_path / "out"
    summaries, errors = [], []

    def one():
        try:
            summaries.append(
                run_sweep(load_sweep(path), out, client=client, base_posterior=synthetic_posterior)
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
    counts = part_ids(out / sweep.name / "results")
    assert set(counts) == {s.id for s in sweep.scenarios}
    assert set(counts.values()) == {1}  # claims kept the two runs off each other's batches
    assert sum(s.computed + s.done_before + s.by_other for s in summaries) == 2 * 20


def test_workers_and_a_scheduler_together_are_refused(write_sweep, tmp_path, capsys):
    good = write_sweep(grid={"china_pressure_if_refused": [0.1]})
    with pytest.raises(InputError, match="--workers sizes the local cluster"):
        run_sweep(good, tmp_path / "out", scheduler="tcp://127.0.0.1:1", workers=2)
    args = ["sweep", str(good), "--scheduler", "tcp://127.0.0.1:1", "--workers", "2"]
    assert main([*args, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "--workers sizes the local cluster" in err and len(err.strip().splitlines()) == 1


# ------------------------------------------------------------------------------ refits


def test_auto_mode_refits_only_scenarios_that_change_the_models(
    write_sweep, tmp_path, client, fake_sampling, tiny_sampler
):
    path = write_sweep(
        draws=200,
        sampler=tiny_sampler,
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
        "refit.yaml",
        name="again",
        mode="refit",
        draws=200,
        sampler=tiny_sampler,
        grid={"priors.china.accepts.alpha": [3.0, 0.5]},
    )
    assert run_sweep(refit, tmp_path / "out", client=client).ok
    again = read_results(tmp_path / "out" / "again")
    assert set(again["mode"]) == {"refit"} and again["fit_from_cache"].all()


def test_observation_files_are_read_by_the_client_and_refit(
    write_sweep, tmp_path, client, fake_sampling, tiny_sampler, observations_csv
):
    path = write_sweep(
        draws=100,
        sampler=tiny_sampler,
        as_of="2018-04-30",
        grid={"observations": [None, "obs.csv"]},
    )
    sweep = load_sweep(path)
    refit = [s for s in sweep.scenarios if s.refit]
    assert [s.observations for s in refit] == ["obs.csv"]
    from decision.observations import load_observations

    frame = sweep.fits[refit[0].fit_key].observations  # filtered as of the scenario's date
    assert frame.equals(load_observations(observations_csv, as_of="2018-04-30"))
    assert 0 < len(frame) < len(load_observations(observations_csv))
    summary = run_sweep(sweep, tmp_path / "out", client=client)
    assert summary.ok and summary.computed == 2
    rows = read_results(tmp_path / "out" / sweep.name).set_index("mode")
    assert rows.loc["refit", "observations"] == "obs.csv"
    assert pd.isna(rows.loc["tree", "observations"])
    assert (rows["as_of"] == "2018-04-30").all()


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


def test_worker_and_sweep_killed_then_rerun_finishes_exactly_once(
    write_sweep, tmp_path, fake_sampling, tiny_sampler, capsys, part_ids
):
    """Kill a worker of ``decision sweep`` mid-sweep, then the sweep; re-run it.

    Every part on disk stays readable, and the re-run finishes exactly the rest.
    """
    import psutil

    path = write_sweep(
        draws=2000,
        batch_size=8,
        sampler=tiny_sampler,
        grid={
            "china_keeps_if_full": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8],
            "china_pressure_if_refused": [0.1, 0.15, 0.2, 0.25, 0.3, 0.35],
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
        _wait_for(parts, 180, "the first part file")
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

    before = part_ids(results)
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
    after = part_ids(results)
    assert set(after) == {s.id for s in sweep.scenarios} and set(after.values()) == {1}
