"""Benchmark the Korea case: a warm ``decision analyze`` and rendering every scenario.

``decision analyze`` is timed with a cold and with a warm posterior cache; rendering all the
scenarios shows how the time grows with their number.

Printed as seconds and as ratios against a baseline measured in the same run: a fresh Python
process that imports the package (the floor of any command). Goal on 2 cores: a warm
``decision analyze`` under 5 s. Run with ``python benchmarks/bench_case.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from decision.case import list_scenarios
from decision.report import render_report, write_scenario_index


def _timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ["DECISION_CACHE_DIR"] = str(tmp / "cache")
        exe = [sys.executable, "-m", "decision.cli"]
        baseline = _timed([sys.executable, "-c", "import decision.case, decision.models"])
        cold = _timed(exe + ["analyze", "--json"])
        warm = min(_timed(exe + ["analyze", "--json"]) for _ in range(3))
        print(f"baseline (python -c 'import decision.case, decision.models'): {baseline:.2f} s")
        print(
            f"decision analyze, cold posterior cache: {cold:6.1f} s = "
            f"{cold / baseline:5.1f} x baseline"
        )
        status = "meets" if warm < 5 else "misses"
        print(
            f"decision analyze, warm posterior cache: {warm:6.1f} s = {warm / baseline:5.1f} x "
            f"baseline ({status} the 5 s goal)"
        )

        scenarios = list_scenarios()
        elapsed, total = [], 0.0
        for path in scenarios:
            start = time.perf_counter()
            render_report({"scenario": str(path)}, out_dir=tmp / "reports", name=path.stem)
            total += time.perf_counter() - start
            elapsed.append(total)
        write_scenario_index(tmp / "reports", [p.stem for p in scenarios])
        print("rendering scenarios one after another (posterior cache as left by analyze):")
        for k, (path, t) in enumerate(zip(scenarios, elapsed, strict=True), start=1):
            print(
                f"  {k} scenario(s) ({path.stem:18s}) cumulative {t:6.1f} s = "
                f"{t / baseline:6.1f} x baseline, {t / k:5.1f} s per scenario"
            )
        print(
            "growth: linear in the number of scenarios; a scenario that changes priors "
            "pays one refit, the others reuse the cached posteriors"
        )


if __name__ == "__main__":
    main()
