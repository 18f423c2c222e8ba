"""Refits without recompiling: the compiled-once sampler against ``pymc.sample`` (issue 15).

For each model (the default sampler budget: 4 chains of 1,000 draws after 1,000 tuning
steps) and each NUTS path, a fresh process with empty compile and posterior caches fits, in
order: the default ``as_of`` (the first fit: it compiles), the same date under other priors
(a scenario's refit), and a second ``as_of`` with the worked 2017-18 ledger. A second fresh
process, sharing only the compile caches the first left on disk, then fits a third prior (a
refit in a new process: a report kernel, a backtest worker). Posteriors are never served
from the cache (``use_cache=False``).

The baseline is ``pymc.sample(nuts_sampler="numpyro")`` (``compile_once: False``), which
compiles the data into the program, measured in the same run; the other rows are
``compile_once: True`` (:mod:`decision.models.compiled`). Printed: seconds per fit and the
ratio compiled / baseline for the same fit.

Run: ``python benchmarks/bench_refit.py`` (``--models china`` to time one model, ``--draws``
and ``--tune`` for another budget).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_issue15 import cold_environment  # the same empty caches as the issue's table

ROOT = Path(__file__).resolve().parents[1]

_FITS = """
import json, sys, time
from decision.models import MODELS
from decision.observations import load_observations
key, once, steps, ledger_file = sys.argv[1], sys.argv[2] == "1", sys.argv[5], sys.argv[6]
draws, tune = int(sys.argv[3]), int(sys.argv[4])
cls = MODELS[key]
sampler = {"compile_once": once, "draws": draws, "tune": tune}
ledger = load_observations(ledger_file)
first_key = next(iter(cls.default_priors))
first = cls.default_priors[first_key]
def scaled(factor):
    return {first_key: {p: (v * factor if v > 0 else v - 0.2) for p, v in first.items()}}
fits = {
    "first fit (compiles)": dict(),
    "refit, new priors": dict(priors=scaled(1.25)),
    "refit, second as_of + ledger": dict(as_of="2017-12-31", observations=ledger),
    "new process, new priors": dict(priors=scaled(0.8)),
}
out = {}
for label in steps.split("|"):
    began = time.perf_counter()
    fit = cls(sampler=sampler, **fits[label]).fit(use_cache=False)
    out[label] = {"seconds": time.perf_counter() - began, **fit.diagnostics.to_dict()}
print(json.dumps(out))
"""

LEDGER = ROOT / "examples" / "monitoring-2017" / "observations.csv"
IN_PROCESS = "first fit (compiles)|refit, new priors|refit, second as_of + ledger"
NEW_PROCESS = "new process, new priors"


def run_fits(key: str, once: bool, steps: str, env: dict, draws: int, tune: int) -> dict:
    """Run the fits named in ``steps`` in one new process; return their seconds and checks."""
    done = subprocess.run(
        [sys.executable, "-c", _FITS, key, str(int(once)), str(draws), str(tune), steps, LEDGER],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr[-4000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Time the refits of each model under both NUTS paths and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="china,dprk")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    args = parser.parse_args(argv)
    rows = []
    for key in args.models.split(","):
        results = {}
        for once in (False, True):
            with tempfile.TemporaryDirectory(prefix="bench-refit-") as tmp:
                env = cold_environment(Path(tmp))
                results[once] = run_fits(key, once, IN_PROCESS, env, args.draws, args.tune)
                results[once].update(run_fits(key, once, NEW_PROCESS, env, args.draws, args.tune))
        for label, base in results[False].items():
            new = results[True][label]
            rows.append((key, label, base, new))
    print(f"{'model':6} {'fit':32} {'pymc.sample':>12} {'compiled':>9} {'ratio':>6}  checks")
    for key, label, base, new in rows:
        ratio = new["seconds"] / base["seconds"]
        checks = "ok" if new["ok"] and base["ok"] else f"{base['flags']} / {new['flags']}"
        print(
            f"{key:6} {label:32} {base['seconds']:11.1f}s {new['seconds']:8.1f}s "
            f"{ratio:6.2f}  {checks}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
