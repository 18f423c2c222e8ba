"""Throughput and memory of the decision-tree engine, as ratios against a numpy baseline.

Run: ``python benchmarks/bench_tree.py`` (``make bench`` runs every ``bench_*.py``).

The tree is generated: a root decision over three launches and a do-nothing option; each
launch has a three-way market chance node whose outcomes lead to a later decision (expand,
itself a chance node, or hold): 28 leaves, 10 decision nodes, 16 uncertain parameters.

The baseline, measured in the same run on the same draws, is what one would write by hand
in plain numpy: the expected value of each root option as a sum over its leaves of
(path probability x path payoff), with every later decision fixed (no rollback, no checks).
Ratios above 1 mean the engine takes that many times the baseline's time (or memory).
Goal: 10^6 draws through the rollback in under 0.5 s on one core; memory linear in N.
"""

from __future__ import annotations

import gc
import time
import tracemalloc

import numpy as np

from decision.tree import evaluate, load_tree

LAUNCHES = ("alpha", "beta", "gamma")
SIZES = (10_000, 100_000, 1_000_000)
GOAL_SECONDS = 0.5


def tree_spec() -> dict:
    """The generated benchmark tree, as a mapping."""
    parameters = {
        "p_success": {"distribution": "beta", "alpha": 6, "beta": 4},
        "expansion_cost": {"distribution": "triangular", "low": 20, "mode": 30, "high": 50},
        "discount": 0.9,
    }
    options = {}
    for i, name in enumerate(LAUNCHES):
        parameters[f"p_high_{name}"] = {"distribution": "beta", "alpha": 2 + i, "beta": 6}
        parameters[f"s_mid_{name}"] = {"distribution": "uniform", "low": 0.3, "high": 0.6}
        parameters[f"revenue_{name}"] = {
            "distribution": "lognormal",
            "mu": 4 + 0.1 * i,
            "sigma": 0.3,
        }
        parameters[f"cost_{name}"] = {"distribution": "normal", "mean": 40 + 5 * i, "sd": 8}
        parameters[f"upside_{name}"] = {
            "distribution": "pert",
            "low": 1.2,
            "mode": 1.5,
            "high": 2.5,
        }
        markets = {}
        shares = {
            "high": f"p_high_{name}",
            "medium": f"(1 - p_high_{name}) * s_mid_{name}",
            "low": f"(1 - p_high_{name}) * (1 - s_mid_{name})",
        }
        factors = {"high": f"upside_{name}", "medium": "1", "low": "0.4"}
        for market, probability in shares.items():
            revenue = f"revenue_{name} * {factors[market]}"
            markets[market] = {
                "probability": probability,
                "payoff": f"{revenue} - cost_{name}",
                "type": "decision",
                "name": "Scale",
                "options": {
                    "expand": {
                        "payoff": "-expansion_cost",
                        "type": "chance",
                        "name": "Execution",
                        "outcomes": {
                            "success": {
                                "probability": "p_success",
                                "payoff": f"discount * {revenue} * 1.2",
                            },
                            "failure": {
                                "probability": "1 - p_success",
                                "payoff": f"discount * {revenue} * 0.3",
                            },
                        },
                    },
                    "hold": {"payoff": f"discount * 0.5 * {revenue}"},
                },
            }
        options[f"launch {name}"] = {"type": "chance", "name": "Market", "outcomes": markets}
    options["do nothing"] = {"payoff": 0}
    return {
        "name": "Benchmark",
        "units": "M",
        "parameters": parameters,
        "root": {"type": "decision", "name": "Strategy", "options": options},
    }


def baseline(draws: dict[str, np.ndarray]) -> np.ndarray:
    """Plain numpy: expected value of each root option with every later decision 'expand'."""
    d = draws
    p_s = d["p_success"]
    values = []
    for name in LAUNCHES:
        high, mid = d[f"p_high_{name}"], d[f"s_mid_{name}"]
        shares = {"high": high, "medium": (1 - high) * mid, "low": (1 - high) * (1 - mid)}
        factors = {"high": d[f"upside_{name}"], "medium": 1.0, "low": 0.4}
        total = np.zeros_like(p_s)
        for market, share in shares.items():
            revenue = d[f"revenue_{name}"] * factors[market]
            first = revenue - d[f"cost_{name}"] - d["expansion_cost"]
            total += share * p_s * (first + 0.9 * revenue * 1.2)
            total += share * (1 - p_s) * (first + 0.9 * revenue * 0.3)
        values.append(total.mean())
    values.append(0.0)
    return np.array(values)


def timed(function, repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def peak_bytes(function) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> int:
    tree = load_tree(tree_spec())
    leaves = sum(1 for node in tree.nodes.values() if node.kind == "terminal")
    decisions = len(tree.decision_nodes)
    uncertain = sum(p.is_uncertain for p in tree.parameters.values())
    print(f"tree: {leaves} leaves, {decisions} decision nodes, {uncertain} uncertain parameters")
    header = (
        f"{'N':>9} {'draws/s (all)':>14} {'draws/s (rollback)':>19} {'rollback s':>11} "
        f"{'x baseline':>11} {'sample s':>9} {'peak MB':>8} {'x baseline':>11} "
        f"{'B/draw':>7}"
    )
    print(header)
    rows = []
    for n in SIZES:
        repeat = 5 if n < 1_000_000 else 3
        draws = tree.sample_parameters(n, seed=1)
        t_sample = timed(lambda: tree.sample_parameters(n, seed=1), repeat)
        t_rollback = timed(lambda: evaluate(tree, draws=draws), repeat)
        t_all = timed(lambda: evaluate(tree, n=n, seed=1), repeat)
        t_base = timed(lambda: baseline(draws), repeat)
        mem = peak_bytes(lambda: evaluate(tree, draws=draws))
        mem_base = peak_bytes(lambda: baseline(draws))
        rows.append((n, t_rollback, mem))
        print(
            f"{n:>9,} {n / t_all:>14,.0f} {n / t_rollback:>19,.0f} {t_rollback:>11.3f} "
            f"{t_rollback / t_base:>11.2f} {t_sample:>9.3f} {mem / 1e6:>8.1f} "
            f"{mem / mem_base:>11.2f} {mem / n:>7.0f}"
        )
    n = SIZES[-1]
    risky = dict(tree_spec(), utility={"type": "exponential", "risk_tolerance": 200})
    risky_tree = load_tree(risky)
    draws = risky_tree.sample_parameters(n, seed=1)
    t_risky = timed(lambda: evaluate(risky_tree, draws=draws), 3)
    print(
        f"exponential utility, N={n:,}: rollback {t_risky:.3f} s "
        f"({t_risky / rows[-1][1]:.2f} x the linear rollback)"
    )
    n, seconds, _ = rows[-1]
    verdict = "met" if seconds < GOAL_SECONDS else "NOT met"
    print(
        f"goal: {n:,} draws through the rollback in < {GOAL_SECONDS} s: {verdict} ({seconds:.3f} s)"
    )
    growth = rows[-1][2] / rows[0][2] / (rows[-1][0] / rows[0][0])
    print(
        f"memory growth from N={rows[0][0]:,} to N={rows[-1][0]:,}, relative to linear: "
        f"{growth:.2f} (1.00 = linear)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
