"""Benchmark the sensitivity library on the Korea case tree, as ratios against an in-run baseline.

The tree is the freeze-plus-pressure case (baseline scenario) with **synthetic** supplied
draws (``decision.testing.synthetic_supplied_draws``: no MCMC). The baseline,
measured in the same run, is one plain ``evaluate`` of the same tree at the same number of
draws: the ratio says how many rollbacks' worth of time an analysis costs.

Goals on 2 cores: one-way analysis over 20 parameters in under 2 s; EVPPI of every
parameter of the Korea case at 10^4 draws in under 10 s.

Run: ``python benchmarks/bench_sensitivity.py`` (``make bench`` runs every ``bench_*.py``).
"""

from __future__ import annotations

import gc
import time

import numpy as np

from decision.case import load_case
from decision.sensitivity import evppi, one_way, sobol, thresholds
from decision.testing import synthetic_supplied_draws
from decision.tree import evaluate

ONE_WAY_DRAWS = 1_000
EVPPI_DRAWS = 10_000
ONE_WAY_GOAL = 2.0
EVPPI_GOAL = 10.0


def timed(function, repeat: int = 3) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        out = function()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> int:
    case = load_case()
    tree = case.tree
    supplied = synthetic_supplied_draws(case, EVPPI_DRAWS, seed=1)
    small = {k: v[:ONE_WAY_DRAWS] for k, v in supplied.items()}
    draws_small = tree.sample_parameters(ONE_WAY_DRAWS, seed=2, supplied=small)
    result = evaluate(tree, n=EVPPI_DRAWS, seed=3, supplied=supplied)
    uncertain = [k for k, s in tree.parameters.items() if s.kind in ("distribution", "supplied")]
    twenty = uncertain[:20]
    print(
        f"tree: {tree.name}, {len(tree.nodes)} nodes, {len(uncertain)} uncertain parameters "
        "(supplied draws synthetic)"
    )

    base_small, _ = timed(lambda: evaluate(tree, draws=draws_small), 5)
    base_large, _ = timed(lambda: evaluate(tree, draws=result.parameters), 5)
    print(
        f"baseline: evaluate at N={ONE_WAY_DRAWS:,}: {base_small * 1e3:.1f} ms; "
        f"at N={EVPPI_DRAWS:,}: {base_large * 1e3:.1f} ms"
    )

    print(f"{'analysis':66s} {'seconds':>8s} {'x baseline':>11s}")

    def row(label: str, seconds: float, baseline: float) -> None:
        print(f"{label:66s} {seconds:8.3f} {seconds / baseline:11.1f}")

    t_mean, _ = timed(lambda: one_way(tree, draws=draws_small, parameters=twenty))
    row("one-way, 20 parameters x 11 points, others at base case", t_mean, base_small)
    t_draws, _ = timed(lambda: one_way(tree, draws=draws_small, parameters=twenty, others="draws"))
    row(
        f"one-way, 20 parameters x 11 points, others at N={ONE_WAY_DRAWS:,} draws",
        t_draws,
        base_small,
    )
    t_thr, _ = timed(lambda: thresholds(tree, draws=draws_small, parameters=twenty), 1)
    row("thresholds, 20 parameters (grid 41 + Brent)", t_thr, base_small)
    t_evppi, table = timed(lambda: evppi(result), 1)
    row(
        f"EVPPI, each of {len(table)} parameters, N={EVPPI_DRAWS:,} (gam, 200 SE draws)",
        t_evppi,
        base_large,
    )
    t_groups, groups = timed(lambda: evppi(result, [], groups=case.parameter_groups()), 1)
    row(
        f"EVPPI, {len(groups)} named groups, N={EVPPI_DRAWS:,} (gp for > 3 parameters)",
        t_groups,
        base_large,
    )
    t_sobol, _ = timed(
        lambda: sobol(tree, draws=draws_small, joint=case.supplied_by_model(), seed=4), 1
    )
    row("Sobol indices, n_base 512 (SALib + one batched rollback)", t_sobol, base_small)

    worst = max(t_mean, t_draws)
    print(
        f"goal: one-way over 20 parameters < {ONE_WAY_GOAL:g} s: "
        f"{'met' if worst < ONE_WAY_GOAL else 'NOT met'} ({worst:.2f} s, the slower mode)"
    )
    print(
        f"goal: EVPPI of every parameter at N={EVPPI_DRAWS:,} < {EVPPI_GOAL:g} s: "
        f"{'met' if t_evppi < EVPPI_GOAL else 'NOT met'} ({t_evppi:.2f} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
