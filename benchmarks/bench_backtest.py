"""The backtest on Dask: one and two workers, as an in-run ratio.

Run: ``python benchmarks/bench_backtest.py`` (``make bench`` runs every ``bench_*.py``).

Four quarterly origins (2016-01 .. 2016-10), horizons 6 and 12 months, no replay, each origin
refitting both models with a small real sampler budget (``use_cache=False``: always sampled),
first on one worker (the baseline, measured in this run) and then on two. Each cluster first
runs one origin per worker untimed (imports and PyTensor's compiled graphs, compiled once per
machine).
Goal: a speed-up of at least 1.7x from one to two workers on 2 cores. The per-origin time at
this budget, scaled by the default budget's draws, gives a rough estimate of ``make backtest``
(the real run is timed by ``time make backtest``; docs/backtest.md gives the last one).

The machine may be shared: ratios, not absolute times, are what to compare between runs.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from decision.backtest import origin_months, run_backtest
from decision.sweep import local_cluster

SPEEDUP_GOAL = 1.7
SAMPLER = {"draws": 200, "tune": 200, "chains": 2, "prior_predictive_draws": 50}
ORIGINS = origin_months("2016-01", "2016-10", "3M")
HORIZONS = (6, 12)


def timed(workers: int, folder: Path) -> float:
    from distributed import Client

    with local_cluster(workers) as cluster, Client(cluster) as client:
        run_backtest(
            ORIGINS[:workers],
            HORIZONS,
            folder / "warm",
            name=f"w{workers}",
            sampler=SAMPLER,
            client=client,
            progress=False,
        )
        start = time.perf_counter()
        summary = run_backtest(
            ORIGINS,
            HORIZONS,
            folder / "timed",
            name=f"w{workers}",
            sampler=SAMPLER,
            client=client,
            use_cache=False,
            progress=False,
        )
        seconds = time.perf_counter() - start
    assert summary.ok and summary.computed == len(ORIGINS), summary
    return seconds


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DECISION_CACHE_DIR"] = str(Path(tmp) / "cache")
        one = timed(1, Path(tmp))
        two = timed(2, Path(tmp))
    speedup = one / two
    print(
        f"backtest, {len(ORIGINS)} origins x {len(HORIZONS)} horizons, refits at "
        f"{SAMPLER['draws']}+{SAMPLER['tune']} x {SAMPLER['chains']} chains:"
    )
    print(f"  1 worker  {one:7.1f} s  ({one / len(ORIGINS):.1f} s an origin)  baseline")
    print(
        f"  2 workers {two:7.1f} s  speed-up {speedup:.2f}x (goal >= {SPEEDUP_GOAL}x)"
        + ("" if speedup >= SPEEDUP_GOAL else "  BELOW GOAL")
    )


if __name__ == "__main__":
    main()
