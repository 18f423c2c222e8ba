"""Issue 15's table: what a user waits for, from a fresh install to an unchanged re-render.

Every row is measured in this run, in a new process, and printed in seconds and as a ratio
against a baseline measured in the same run: a fresh Python process that imports the package
(``python -c "import decision.case, decision.models"``), the floor of any command.

"Cold" means a new machine: the PyTensor compile directory, the JAX compilation cache and the
posterior cache all start empty (``PYTENSOR_FLAGS=base_compiledir=...``,
``JAX_COMPILATION_CACHE_DIR`` and ``DECISION_CACHE_DIR`` point into a fresh temporary
folder). "Warm" rows reuse what the cold rows left. The install row creates a virtual
environment and installs ``requirements.lock`` with ``uv pip install`` and an empty uv cache
(wheels come from the configured index); the clone-to-first-brief row adds it to the cold
report. The tree rows run ``benchmarks/bench_tree.py``'s 28-leaf tree on one core.
``make test`` is not timed here (about 10 minutes): run ``time make test``.

Run: ``python benchmarks/bench_issue15.py`` (``--skip-install`` to leave out the install;
``--compare-pymc`` adds a cold fit with PyMC's own C backend for comparison).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: The issue's goals in seconds (None: a ratio goal, printed with the row).
GOALS = {
    "clone -> first brief (install + cold report)": 150.0,
    "install (uv, empty uv cache, from the lock)": None,
    "decision fit, all caches empty": 40.0,
    "decision fit, PyMC C backend, all caches empty": None,
    "decision report, all caches empty": 60.0,
    "decision report, nothing changed": 5.0,
    "decision report --force, caches warm": None,
    "decision analyze --json, posteriors cached": 3.0,
    "refit with new priors, compiled code cached": 3.0,
    "rollback of 10^6 draws + sampling them (one core)": 0.3,
    "the same, exponential utility (x linear)": 1.5,
}

_TREE = """
import os, sys, time
sys.path.insert(0, {benchmarks!r})
import bench_tree as b  # sets one thread before numpy loads
import numpy as np
from decision.tree import evaluate, load_tree
n = 1_000_000
tree = load_tree(b.tree_spec())
risky = load_tree(dict(b.tree_spec(), utility={{"type": "exponential", "risk_tolerance": 200}}))
draws = tree.sample_parameters(n, seed=1)
best = {{}}
for label, t in (("linear", tree), ("exponential", risky)):
    best[label, "all"] = b.timed(lambda t=t: evaluate(t, n=n, seed=1), 3)
    best[label, "rollback"] = b.timed(lambda t=t: evaluate(t, draws=draws), 3)
print(best["linear", "all"], best["exponential", "rollback"] / best["linear", "rollback"])
"""


def cold_environment(folder: Path) -> dict[str, str]:
    """Return an environment whose compile and posterior caches are empty folders in ``folder``."""
    env = dict(os.environ)
    env["DECISION_CACHE_DIR"] = str(folder / "decision")
    env["PYTENSOR_FLAGS"] = f"base_compiledir={folder / 'pytensor'}"
    env["JAX_COMPILATION_CACHE_DIR"] = str(folder / "jax")
    for name in (
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS",
        "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES",
    ):
        env[name] = "0"
    return env


def timed(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    """Run ``command`` in a new process; return its wall time and its standard output."""
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def install_seconds(work: Path) -> float:
    """Create a venv and install the lock and the package with uv (empty uv cache)."""
    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    venv = work / "venv"
    env = dict(os.environ, UV_CACHE_DIR=str(work / "uv-cache"))
    start = time.perf_counter()
    for command in (
        [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv / "bin" / "python"),
            "--require-hashes",
            "-r",
            str(ROOT / "requirements.lock"),
        ],
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv / "bin" / "python"),
            "--no-deps",
            "-e",
            str(ROOT),
        ],
    ):
        subprocess.run(command, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-install", action="store_true")
    parser.add_argument("--compare-pymc", action="store_true")
    args = parser.parse_args()
    python = sys.executable
    cli = [python, "-m", "decision.cli"]
    rows: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="decision-bench-") as tmp:
        tmp = Path(tmp)
        env = cold_environment(tmp / "caches")
        # The best of three: the first import also fills the OS's file cache.
        baseline = min(
            timed([python, "-c", "import decision.case, decision.models"], env, tmp)[0]
            for _ in range(3)
        )
        if not args.skip_install:
            rows["install (uv, empty uv cache, from the lock)"] = install_seconds(tmp / "install")
        if args.compare_pymc:
            pymc_env = cold_environment(tmp / "caches-pymc")
            rows["decision fit, PyMC C backend, all caches empty"], _ = timed(
                [
                    python,
                    "-c",
                    "from decision.models import fit_models; "
                    "fit_models(sampler={'nuts_sampler': 'pymc'})",
                ],
                pymc_env,
                tmp,
            )
        rows["decision fit, all caches empty"], fitted = timed(
            cli + ["fit", "--quiet", "--json"], env, tmp
        )
        diagnostics = {k: v["diagnostics"] for k, v in json.loads(fitted).items()}
        # The report on a new machine: its own empty caches (the fit above filled the others).
        report_env = cold_environment(tmp / "caches-report")
        report = cli + ["report", "--quiet", "--out", str(tmp / "reports")]
        rows["decision report, all caches empty"], _ = timed(report, report_env, tmp)
        seconds, said = timed(report, report_env, tmp)
        if "up to date" not in said:
            raise SystemExit(f"an unchanged re-render rendered again: {said}")
        rows["decision report, nothing changed"] = seconds
        rows["decision report --force, caches warm"], _ = timed(
            report + ["--force"], report_env, tmp
        )
        analyze = cli + ["analyze", "--json", "--quiet"]
        rows["decision analyze --json, posteriors cached"] = min(
            timed(analyze, report_env, tmp)[0] for _ in range(3)
        )
        rows["refit with new priors, compiled code cached"], _ = timed(
            [
                python,
                "-c",
                "from decision.models import fit_models; "
                "fit_models(priors={'china': {'accepts': {'alpha': 4.0}}, "
                "'dprk': {'breach_shape': {'mu': 0.1}}})",
            ],
            report_env,
            tmp,
        )
        _, out = timed([python, "-c", _TREE.format(benchmarks=str(ROOT / "benchmarks"))], env, tmp)
        tree_seconds, exponential_ratio = (float(v) for v in out.split())
        rows["rollback of 10^6 draws + sampling them (one core)"] = tree_seconds
        if "install (uv, empty uv cache, from the lock)" in rows:
            rows["clone -> first brief (install + cold report)"] = (
                rows["install (uv, empty uv cache, from the lock)"]
                + rows["decision report, all caches empty"]
            )

    print(f"baseline (new process importing decision.case and decision.models): {baseline:.2f} s")
    print(f"{'step':52} {'seconds':>8} {'x baseline':>11}  goal")
    for label, goal in GOALS.items():
        if label == "the same, exponential utility (x linear)":
            status = "met" if exponential_ratio <= goal else "NOT met"
            print(f"{label:52} {exponential_ratio:>8.2f} {'':>11}  <= {goal} x linear: {status}")
            continue
        if label not in rows:
            continue
        seconds = rows[label]
        verdict = (
            "" if goal is None else f"<= {goal:g} s: {'met' if seconds <= goal else 'NOT met'}"
        )
        print(f"{label:52} {seconds:>8.1f} {seconds / baseline:>11.1f}  {verdict}")
    print(f"diagnostics of the cold fit: {json.dumps(diagnostics)}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
