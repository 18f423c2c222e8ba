"""Throughput and memory of the decision-tree engine, as ratios against a numpy baseline.

Run: ``python benchmarks/bench_tree.py`` (``make bench`` runs every ``bench_*.py``).

The tree is generated: a root decision over three launches and a do-nothing option; each
launch has a three-way market chance node whose outcomes lead to a later decision (expand,
itself a chance node, or hold): 28 leaves, 10 decision nodes, 17 uncertain parameters.

The baseline, measured in the same run on the same draws, is what one would write by hand
in plain numpy: the expected value of each root option as a sum over its leaves of
(path probability x path payoff), with every later decision fixed (no rollback, no checks).
Ratios above 1 mean the engine takes that many times the baseline's time (or memory).

The engine runs on one core: BLAS and OpenMP threads are limited to one before numpy loads.
For N = 10^6 draws the run reports sampling the parameters, the rollback and both together,
with the linear and with the exponential utility. Goals (issue 15, on the project's 2-core
machine): sampling and rollback of 10^6 draws in at most 0.3 s; the exponential utility's
rollback at most 1.5 times the linear one; memory linear in N.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_variable] = "1"  # one core, as measured (set before numpy is imported)

import gc  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

from decision.tree import evaluate, load_tree  # noqa: E402

LAUNCHES = ("alpha", "beta", "gamma")
SIZES = (10_000, 100_000, 1_000_000)
GOAL_SECONDS = 0.3  # sampling and rollback of 10^6 draws, linear utility
GOAL_EXPONENTIAL = 1.5  # exponential rollback / linear rollback
RISK_TOLERANCE = 200


def tree_spec() -> dict:
    """Return the generated benchmark tree as a mapping."""
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
        f"{'x baseline':>11} {'sample s':>9} {'x baseline':>11} {'peak MB':>8} "
        f"{'x baseline':>11} {'B/draw':>7}"
    )
    print(header)
    rows = []
    for n in SIZES:
        repeat = 5 if n < 1_000_000 else 3
        draws = tree.sample_parameters(n, seed=1)
        t_sample = timed(lambda n=n: tree.sample_parameters(n, seed=1), repeat)
        t_rollback = timed(lambda d=draws: evaluate(tree, draws=d), repeat)
        t_all = timed(lambda n=n: evaluate(tree, n=n, seed=1), repeat)
        t_base = timed(lambda d=draws: baseline(d), repeat)
        mem = peak_bytes(lambda d=draws: evaluate(tree, draws=d))
        mem_base = peak_bytes(lambda d=draws: baseline(d))
        rows.append((n, t_rollback, mem))
        print(
            f"{n:>9,} {n / t_all:>14,.0f} {n / t_rollback:>19,.0f} {t_rollback:>11.3f} "
            f"{t_rollback / t_base:>11.2f} {t_sample:>9.3f} {t_sample / t_base:>11.2f} "
            f"{mem / 1e6:>8.1f} {mem / mem_base:>11.2f} {mem / n:>7.0f}"
        )

    n = SIZES[-1]
    exponential = {"type": "exponential", "risk_tolerance": RISK_TOLERANCE}
    risky = load_tree(dict(tree_spec(), utility=exponential))
    draws = tree.sample_parameters(n, seed=1)
    times = {"base": [], "linear": [], "exponential": []}
    for _ in range(5):  # interleaved, so that a busy machine slows all alike
        times["base"].append(timed(lambda: baseline(draws), 1))
        for label, engine in (("linear", tree), ("exponential", risky)):
            times[label].append(
                (
                    timed(lambda t=engine: t.sample_parameters(n, seed=1), 1),
                    timed(lambda t=engine: evaluate(t, draws=draws), 1),
                    timed(lambda t=engine: evaluate(t, n=n, seed=1), 1),
                )
            )
    base = min(times["base"])
    best = {label: np.min(times[label], axis=0) for label in ("linear", "exponential")}
    print(
        f"\nN = {n:,} on one core; x baseline = time / the baseline's {base:.3f} s "
        f"(exponential utility: R = {RISK_TOLERANCE})"
    )
    print(f"{'':22} {'linear s':>9} {'x baseline':>11} {'exponential s':>14} {'x baseline':>11}")
    for i, step in enumerate(("sampling parameters", "rollback", "both (evaluate)")):
        linear, exponential = best["linear"][i], best["exponential"][i]
        print(
            f"{step:22} {linear:>9.3f} {linear / base:>11.2f} {exponential:>14.3f} "
            f"{exponential / base:>11.2f}"
        )
    ratio = best["exponential"][1] / best["linear"][1]
    print(
        f"exponential / linear: rollback {ratio:.2f}, both "
        f"{best['exponential'][2] / best['linear'][2]:.2f}"
    )
    total = best["linear"][2]
    print(
        f"goal: sampling and rollback of {n:,} draws in <= {GOAL_SECONDS} s: "
        f"{'met' if total <= GOAL_SECONDS else 'NOT met'} ({total:.3f} s)"
    )
    print(
        f"goal: exponential rollback <= {GOAL_EXPONENTIAL} x linear: "
        f"{'met' if ratio <= GOAL_EXPONENTIAL else 'NOT met'} ({ratio:.2f})"
    )
    growth = rows[-1][2] / rows[0][2] / (rows[-1][0] / rows[0][0])
    print(
        f"memory growth from N={rows[0][0]:,} to N={rows[-1][0]:,}, relative to linear: "
        f"{growth:.2f} (1.00 = linear)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
