"""Scenario sweeps on Dask: tree-only throughput and refit scaling, as in-run ratios.

Run: ``python benchmarks/bench_sweep.py`` (``make bench`` runs every ``bench_*.py``).

1. **Tree-only sweep.** 1,000 scenarios (a 10 x 10 x 10 grid over three judgments of the
   Korea case), 2,000 tree draws each, on a local cluster of two worker processes, on
   synthetic posterior draws (no MCMC). The baseline, measured in the same run, evaluates
   the same scenarios in a plain loop in this process. The sweep's time includes starting
   and closing the cluster and writing the Parquet parts. Goal (2 cores): under 30 s. The
   same sweep with the value of monitoring (five more rollbacks per scenario) is timed too.
2. **Refit sweep.** Four scenarios with different DPRK priors, each refitting both models
   with a small real sampler budget (``use_cache: false``: always sampled), on one and then
   on two workers. Each cluster first runs the same sweep once (imports, and PyTensor's
   compiled graphs: a new prior value is a new graph, compiled once per machine under
   PyTensor's cache lock, which serialises compilation across processes); the timed run
   measures sampling on the workers. Goal: a speed-up of at least 1.7x from one to two
   workers.

3. **Load.** Tree-only sweeps of 1,000 and 10,000 sampled scenarios: the peak memory of the
   client and of the largest worker, and their ratio (bounded memory: far below 10x).

The machine may be shared: ratios, not absolute times, are what to compare between runs.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import yaml
from bench_issue15 import SCENARIO_REFIT_SAMPLER

from decision.sweep import (
    Posterior,
    case_for,
    evaluate_scenario,
    load_sweep,
    local_cluster,
    read_results,
    run_sweep,
)
from decision.testing import synthetic_posterior

TREE_GOAL_SECONDS = 30.0
SPEEDUP_GOAL = 1.7
WORKERS = 2
REFIT_SAMPLER = SCENARIO_REFIT_SAMPLER


def write(folder: Path, name: str, data: dict) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(dict(data, name=name), sort_keys=False))
    return path


def _grid() -> dict:
    return {
        "china_keeps_if_full": [round(0.05 + 0.07 * i, 2) for i in range(10)],
        "china_pressure_if_refused": [round(0.1 + 0.03 * i, 2) for i in range(10)],
        "c_resume": [round(0.02 + 0.02 * i, 2) for i in range(10)],
    }


def _timed_sweep(folder: Path, name: str, spec: dict, post: Posterior):
    sweep = load_sweep(write(folder, name, spec))
    start = time.perf_counter()
    summary = run_sweep(sweep, folder / "out", workers=WORKERS, base_posterior=post, progress=False)
    elapsed = time.perf_counter() - start
    frame = read_results(folder / "out" / sweep.name)
    assert summary.ok and len(frame) == len(sweep.scenarios), (summary, len(frame))
    return sweep, elapsed, float(frame["cpu_seconds"].sum())


def _verdict(elapsed: float) -> str:
    verdict = "meets" if elapsed < TREE_GOAL_SECONDS else "MISSES"
    return (
        f"goal < {TREE_GOAL_SECONDS:.0f} s: {elapsed / TREE_GOAL_SECONDS:.2f} of the goal "
        f"({verdict} it)"
    )


def bench_tree_only(folder: Path) -> None:
    post = synthetic_posterior()
    spec = {"draws": 2000, "batch_size": 100, "grid": _grid()}
    sweep = load_sweep(write(folder, "loop", spec))
    n = len(sweep.scenarios)
    tree = case_for(sweep.case, sweep.base, {})
    start, cpu = time.perf_counter(), time.process_time()
    for scenario in sweep.scenarios:
        evaluate_scenario(tree, post, scenario.overrides, draws=sweep.draws, seed=sweep.seed)
    loop, loop_cpu = time.perf_counter() - start, time.process_time() - cpu

    sweep, elapsed, worker_cpu = _timed_sweep(folder, "tree-1000", spec, post)
    _, elapsed_vom, vom_cpu = _timed_sweep(
        folder, "tree-1000-vom", dict(spec, value_of_monitoring=True), post
    )

    print(
        f"tree-only sweep: {n} scenarios x {sweep.draws} draws, {WORKERS} workers, "
        f"batches of {sweep.batch_size}"
    )
    print(f"  baseline (plain loop, 1 process)   {loop:7.2f} s  {1000 * loop / n:6.1f} ms/scenario")
    print(
        f"  sweep (cluster start included)     {elapsed:7.2f} s  {1000 * elapsed / n:6.1f} "
        "ms/scenario"
    )
    print(f"  ratio sweep / baseline: {elapsed / loop:.2f}  (speed-up {loop / elapsed:.2f}x)")
    print(
        f"  CPU per scenario: baseline {1000 * loop_cpu / n:.1f} ms, in the workers "
        f"{1000 * worker_cpu / n:.1f} ms (ratio {worker_cpu / loop_cpu:.2f}); wall/CPU of "
        f"the baseline {loop / loop_cpu:.2f} (above 1: the machine is shared)"
    )
    print(f"  {_verdict(elapsed)}")
    print(
        f"  with value_of_monitoring: true     {elapsed_vom:7.2f} s  "
        f"{1000 * elapsed_vom / n:6.1f} ms/scenario (workers' CPU "
        f"{1000 * vom_cpu / n:.1f} ms/scenario); {_verdict(elapsed_vom)}"
    )


def bench_refit(folder: Path) -> None:
    from distributed import Client

    alphas = [1.5, 2.5, 3.5, 4.5]
    spec = {
        "draws": 500,
        "use_cache": False,
        "sampler": REFIT_SAMPLER,
        "grid": {"priors.dprk.accept.alpha": alphas},
    }
    timings, warm = {}, {}
    for workers in (WORKERS, 1):
        with local_cluster(workers) as cluster, Client(cluster) as client:
            # Warm-up, untimed: imports in every worker and, the first time on this machine,
            # PyTensor's compilation of the model graphs (one per prior value).
            warm_spec = dict(
                spec,
                grid={"priors.dprk.accept.alpha": alphas if workers == WORKERS else alphas[:1]},
            )
            start = time.perf_counter()
            run_sweep(
                load_sweep(write(folder, f"warm-{workers}", warm_spec)),
                folder / "out",
                client=client,
                progress=False,
            )
            warm[workers] = time.perf_counter() - start
            sweep = load_sweep(write(folder, f"refit-{workers}", spec))
            start = time.perf_counter()
            summary = run_sweep(sweep, folder / "out", client=client, progress=False)
            timings[workers] = time.perf_counter() - start
        assert summary.ok and summary.computed == len(alphas), summary
    speedup = timings[1] / timings[WORKERS]
    s = REFIT_SAMPLER
    print(
        f"refit sweep: {len(alphas)} scenarios with different DPRK priors, each sampling "
        f"both models ({s['chains']} chains x {s['tune']} tune + {s['draws']} draws)"
    )
    print(
        f"  (untimed warm-ups: {warm[WORKERS]:.1f} s with {WORKERS} workers, "
        f"{warm[1]:.1f} s with 1)"
    )
    print(f"  1 worker  {timings[1]:7.2f} s")
    print(f"  {WORKERS} workers {timings[WORKERS]:7.2f} s")
    verdict = "meets" if speedup >= SPEEDUP_GOAL else "MISSES"
    print(
        f"  speed-up 1 -> {WORKERS} workers: {speedup:.2f}x  (goal >= {SPEEDUP_GOAL}x: "
        f"{speedup / SPEEDUP_GOAL:.2f} of the goal, {verdict} it)"
    )


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_load(folder: Path) -> None:
    """Peak memory of a 10,000-scenario tree-only sweep against a 1,000-scenario one."""
    from distributed import Client

    post = synthetic_posterior()
    peaks = {}
    for n in (1000, 10_000):
        spec = {
            "draws": 200,
            "batch_size": 200,
            "sample": {
                "n": n,
                "seed": 3,
                "method": "lhs",
                "parameters": {
                    "china_pressure_if_refused": {"low": 0.1, "high": 0.4},
                    "china_keeps_if_full": {"low": 0.0, "high": 0.7},
                },
            },
        }
        sweep = load_sweep(write(folder, f"load-{n}", spec))
        with local_cluster(WORKERS) as cluster, Client(cluster) as client:
            start = time.perf_counter()
            summary = run_sweep(
                sweep, folder / "out", client=client, base_posterior=post, progress=False
            )
            elapsed = time.perf_counter() - start
            workers = client.run(_peak_mb)
        frame = read_results(folder / "out" / sweep.name)
        assert summary.ok and len(frame) == n == frame["scenario_id"].nunique(), summary
        peaks[n] = (elapsed, _peak_mb(), max(workers.values()))
    print("load: tree-only sweeps of 1,000 and 10,000 scenarios (200 draws each), peak memory")
    for n, (elapsed, client_mb, worker_mb) in peaks.items():
        print(
            f"  {n:6,d} scenarios  {elapsed:7.1f} s  client peak {client_mb:6.0f} MB  "
            f"largest worker peak {worker_mb:6.0f} MB"
        )
    (_, c1, w1), (_, c10, w10) = peaks[1000], peaks[10_000]
    print(
        f"  10x the scenarios -> client peak x{c10 / c1:.2f}, worker peak x{w10 / w1:.2f} "
        "(bounded: far below 10x)"
    )


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def main() -> None:
    print(f"machine: {_load()}; other processes' load stretches every time below")
    previous = os.environ.get("DECISION_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        folder = Path(tmp)
        try:
            os.environ["DECISION_CACHE_DIR"] = str(folder / "cache")
            bench_tree_only(folder)
            bench_refit(folder)
            bench_load(folder)
            print(f"machine: {_load()}")
        finally:
            if previous is None:
                os.environ.pop("DECISION_CACHE_DIR", None)
            else:
                os.environ["DECISION_CACHE_DIR"] = previous


if __name__ == "__main__":
    main()
