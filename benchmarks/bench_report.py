"""Benchmark the default report: cold run, unchanged re-run, re-run after a prior changed.

Times are printed in seconds and as ratios against a baseline measured in the same run: the
papermill round trip of a notebook that only imports the package (kernel start and imports,
the floor any report pays). Goals on 2 cores: cold < 60 s, unchanged < 10 s, changed prior
< 25 s. Run with ``python benchmarks/bench_report.py``.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import nbformat
import papermill

from decision.report import render_report

GOALS = {
    "cold run (empty caches)": 60.0,
    "re-run, nothing changed": 10.0,
    "re-run, one prior changed": 25.0,
}


def _baseline(workdir: Path) -> float:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import decision, decision.models, decision.plots")]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    src = workdir / "baseline.ipynb"
    nbformat.write(nb, src)
    start = time.perf_counter()
    papermill.execute_notebook(
        str(src), str(workdir / "baseline-out.ipynb"), progress_bar=False, kernel_name="python3"
    )
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ["DECISION_CACHE_DIR"] = str(tmp / "cache")
        baseline = _baseline(tmp)
        runs = {}
        for label, params in (
            ("cold run (empty caches)", {}),
            ("re-run, nothing changed", {}),
            ("re-run, one prior changed", {"priors": {"china": {"accepts": {"alpha": 4.0}}}}),
        ):
            start = time.perf_counter()
            render_report(params, out_dir=tmp / "reports", name="bench")
            runs[label] = time.perf_counter() - start
    print(f"baseline (papermill round trip importing the package): {baseline:.1f} s")
    for label, seconds in runs.items():
        goal = GOALS[label]
        status = "meets" if seconds < goal else "misses"
        print(
            f"{label:30s} {seconds:6.1f} s  = {seconds / baseline:5.1f} x baseline  "
            f"({status} the {goal:.0f} s goal)"
        )


if __name__ == "__main__":
    main()
