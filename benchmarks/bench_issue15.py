"""Issue 15's table: what a user waits for, from a fresh clone to an unchanged re-render.

Every row is measured in this run, in a new process, and printed in seconds and as a ratio
against a baseline measured in the same run: a fresh Python process that imports the package
(``python -c "import decision.case, decision.models"``), the floor of any command.

"Cold" means a new machine: the PyTensor compile directory, the JAX compilation cache and the
posterior cache all start empty (``PYTENSOR_FLAGS=base_compiledir=...``,
``JAX_COMPILATION_CACHE_DIR`` and ``DECISION_CACHE_DIR`` point into a fresh temporary
folder). "Warm" rows reuse what the cold rows left.

The first rows are a user's first contact: ``git clone`` of this checkout's ``HEAD`` into a
temporary folder, then the README's two commands there, with empty uv, pip and compile caches
(wheels come from the configured index): ``make report`` (its install, ``make bootstrap``,
timed apart from its render) and ``make test``. Uncommitted changes are not in the clone.
The other rows run the clone's installed package. The tree rows run
``benchmarks/bench_tree.py``'s 28-leaf tree on one core. "Refit of one scenario" is the
issue's refit-sweep case: both models refitted with new priors at a scenario's budget
(:data:`SCENARIO_REFIT_SAMPLER`, as ``bench_sweep.py``) in a process whose compiled model is
available (it fitted once before); the default budget's refit in a new process is printed
beside it.

Run: ``python benchmarks/bench_issue15.py`` (``--skip-tests`` leaves out ``make test``, about
15 minutes on 2 cores; ``--compare-pymc`` adds a cold fit with PyMC's own C backend).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: The issue's goals in seconds (None: a ratio goal, printed with the row).
GOALS = {
    "clone -> first brief (install + cold report)": 150.0,
    "install: git clone + make bootstrap": None,
    "decision fit, all caches empty": 40.0,
    "decision fit, PyMC C backend, all caches empty": None,
    "decision report, all caches empty": 60.0,
    "decision report, nothing changed": 5.0,
    "decision report --force, caches warm": None,
    "decision analyze --json, posteriors cached": 3.0,
    "refit of one scenario (new priors), compiled model available": 3.0,
    "refit, new process, default budget, both models": None,
    "rollback of 10^6 draws + sampling them (one core)": 0.3,
    "the same, exponential utility (x linear)": 1.5,
    "make test from a fresh clone": 720.0,
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


#: A scenario refit's budget in a refit sweep (``bench_sweep.py``), where the issue measured
#: "about 18 s per scenario, of which sampling is about 1 s".
SCENARIO_REFIT_SAMPLER = {
    "draws": 100,
    "tune": 100,
    "chains": 2,
    "cores": 1,
    "prior_predictive_draws": 50,
}

#: Refits of one scenario in a process that already fitted one (its compiled model
#: available, as in a sweep worker): the median seconds of three refits with new priors.
_SCENARIO_REFITS = """
import json, statistics, sys, time
from decision.models import fit_models
sampler = json.loads(sys.argv[1])
fit_models(sampler=sampler, use_cache=False)  # the first fit compiles: not timed
seconds = []
for mu in (0.1, 0.2, 0.3):
    began = time.perf_counter()
    fit_models(priors={"dprk": {"breach_shape": {"mu": mu}}}, sampler=sampler, use_cache=False)
    seconds.append(time.perf_counter() - began)
print(statistics.median(seconds))
"""


def cold_environment(folder: Path) -> dict[str, str]:
    """Return an environment whose compile and posterior caches are empty folders in ``folder``."""
    env = dict(os.environ)
    env["DECISION_CACHE_DIR"] = str(folder / "decision")
    env["DECISION_COMPILE_CACHE_DIR"] = str(folder / "compile")
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
        raise SystemExit(
            f"{' '.join(command)} failed:\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}"
        )
    return seconds, done.stdout


def fresh_clone(work: Path) -> tuple[Path, float, dict[str, str]]:
    """Clone this checkout's ``HEAD`` into ``work``.

    Returns the clone, the seconds the clone took, and the environment ``make`` runs in
    there: empty uv and pip caches, no active virtualenv.
    """
    clone = work / "clone"
    start = time.perf_counter()
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    seconds = time.perf_counter() - start
    env = dict(os.environ, UV_CACHE_DIR=str(work / "uv-cache"), PIP_NO_CACHE_DIR="1")
    env.pop("VIRTUAL_ENV", None)
    return clone, seconds, env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-tests", action="store_true", help="leave out make test")
    parser.add_argument("--compare-pymc", action="store_true")
    args = parser.parse_args()
    rows: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="decision-bench-") as tmp:
        tmp = Path(tmp)
        clone, clone_seconds, make_env = fresh_clone(tmp)
        report_env = cold_environment(tmp / "caches-report")
        bootstrap, _ = timed(["make", "bootstrap"], {**make_env, **_caches(report_env)}, clone)
        rows["install: git clone + make bootstrap"] = clone_seconds + bootstrap
        rows["decision report, all caches empty"], _ = timed(
            ["make", "report"], {**make_env, **_caches(report_env)}, clone
        )
        rows["clone -> first brief (install + cold report)"] = (
            rows["install: git clone + make bootstrap"] + rows["decision report, all caches empty"]
        )
        python = str(clone / ".venv" / "bin" / "python")
        cli = [python, "-m", "decision.cli"]
        env = cold_environment(tmp / "caches")
        # The best of three: the first import also fills the OS's file cache.
        baseline = min(
            timed([python, "-c", "import decision.case, decision.models"], env, clone)[0]
            for _ in range(3)
        )
        report = cli + ["report", "--quiet"]
        seconds, said = timed(report, report_env, clone)
        if "up to date" not in said:
            raise SystemExit(f"an unchanged re-render rendered again: {said}")
        rows["decision report, nothing changed"] = seconds
        rows["decision report --force, caches warm"], _ = timed(
            report + ["--force"], report_env, clone
        )
        analyze = cli + ["analyze", "--json", "--quiet"]
        rows["decision analyze --json, posteriors cached"] = min(
            timed(analyze, report_env, clone)[0] for _ in range(3)
        )
        _, said = timed(
            [python, "-c", _SCENARIO_REFITS, json.dumps(SCENARIO_REFIT_SAMPLER)], report_env, clone
        )
        rows["refit of one scenario (new priors), compiled model available"] = float(
            said.strip().splitlines()[-1]
        )
        rows["refit, new process, default budget, both models"], _ = timed(
            [
                python,
                "-c",
                "from decision.models import fit_models; "
                "fit_models(priors={'china': {'accepts': {'alpha': 4.0}}, "
                "'dprk': {'breach_shape': {'mu': 0.1}}})",
            ],
            report_env,
            clone,
        )
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
                clone,
            )
        rows["decision fit, all caches empty"], fitted = timed(
            cli + ["fit", "--quiet", "--json"], env, clone
        )
        diagnostics = {k: v["diagnostics"] for k, v in json.loads(fitted).items()}
        _, out = timed(
            [python, "-c", _TREE.format(benchmarks=str(ROOT / "benchmarks"))], env, clone
        )
        tree_seconds, exponential_ratio = (float(v) for v in out.split())
        rows["rollback of 10^6 draws + sampling them (one core)"] = tree_seconds
        if not args.skip_tests:
            test_env = {**make_env, **_caches(cold_environment(tmp / "caches-test"))}
            rows["make test from a fresh clone"], _ = timed(["make", "test"], test_env, clone)

    print(f"baseline (new process importing decision.case and decision.models): {baseline:.2f} s")
    print(f"{'step':62} {'seconds':>8} {'x baseline':>11}  goal")
    for label, goal in GOALS.items():
        if label == "the same, exponential utility (x linear)":
            status = "met" if exponential_ratio <= goal else "NOT met"
            print(f"{label:62} {exponential_ratio:>8.2f} {'':>11}  <= {goal} x linear: {status}")
            continue
        if label not in rows:
            continue
        seconds = rows[label]
        verdict = (
            "" if goal is None else f"<= {goal:g} s: {'met' if seconds <= goal else 'NOT met'}"
        )
        print(f"{label:62} {seconds:>8.1f} {seconds / baseline:>11.1f}  {verdict}")
    print(f"diagnostics of the cold fit: {json.dumps(diagnostics)}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


def _caches(env: dict[str, str]) -> dict[str, str]:
    """Return the cache variables of a :func:`cold_environment`, to lay over another one."""
    names = (
        "DECISION_CACHE_DIR",
        "DECISION_COMPILE_CACHE_DIR",
        "PYTENSOR_FLAGS",
        "JAX_COMPILATION_CACHE_DIR",
    )
    return {k: v for k, v in env.items() if k in names or k.startswith("JAX_PERSISTENT_CACHE")}


if __name__ == "__main__":
    raise SystemExit(main())
