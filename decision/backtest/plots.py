"""The backtest report's figures: calibration per quantity, the launch fan chart, the replay.

Figures only; every number comes from :mod:`decision.backtest.summary` or the tables.
"""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from decision.backtest.summary import QUANTITY_LABELS
from decision.backtest.truth import QUANTITIES

__all__ = ["plan_table", "plot_coverage", "plot_launch_fan", "plot_pit", "plot_replay"]


def _present(table: pd.DataFrame, forecaster: str = "model") -> list[str]:
    have = set(table.loc[table["forecaster"] == forecaster, "quantity"])
    return [q for q in QUANTITIES if q in have]


def plot_pit(table: pd.DataFrame, *, forecaster: str = "model", bins: int = 10) -> plt.Figure:
    """Histogram the randomised PIT per quantity (all horizons): flat when calibrated."""
    names = _present(table, forecaster)
    fig, axes = plt.subplots(1, max(len(names), 1), figsize=(3.1 * max(len(names), 1), 2.7))
    axes = np.atleast_1d(axes)
    for ax, quantity in zip(axes, names, strict=False):
        values = table.loc[
            (table["forecaster"] == forecaster) & (table["quantity"] == quantity), "pit"
        ].dropna()
        ax.hist(values, bins=np.linspace(0, 1, bins + 1), density=True, color="#4c72b0")
        ax.axhline(1.0, color="black", lw=1, ls="--")
        ax.set_title(f"{QUANTITY_LABELS[quantity]}\n({len(values)} outcomes)", fontsize=8)
        ax.set_xlabel("PIT")
    axes[0].set_ylabel("density (1 = calibrated)")
    fig.suptitle(f"PIT histograms: {forecaster}", fontsize=10)
    fig.tight_layout()
    return fig


def plot_coverage(coverage: pd.DataFrame) -> plt.Figure:
    """Plot empirical against nominal coverage (50% and 90%) per quantity and forecaster."""
    names = [q for q in QUANTITIES if q in set(coverage["quantity"])]
    fig, axes = plt.subplots(1, max(len(names), 1), figsize=(3.1 * max(len(names), 1), 3.0))
    axes = np.atleast_1d(axes)
    markers = {"model": "o", "last_12_months": "s", "long_run_mean": "^", "poisson_mle": "v"}
    colours = {
        "model": "#1f3b73",
        "last_12_months": "#dd8452",
        "long_run_mean": "#55a868",
        "poisson_mle": "#8172b3",
    }
    horizons = sorted(coverage["horizon"].unique())
    styles = dict(zip(horizons, ("-", "--", ":", "-."), strict=False))
    for ax, quantity in zip(axes, names, strict=False):
        rows = coverage[coverage["quantity"] == quantity]
        for (forecaster, horizon), group in rows.groupby(["forecaster", "horizon"]):
            weights = group["outcomes"].to_numpy(dtype=float)
            observed = [
                np.average(group["covered_50"], weights=weights),
                np.average(group["covered_90"], weights=weights),
            ]
            ax.plot(
                [0.5, 0.9],
                observed,
                marker=markers.get(forecaster, "x"),
                color=colours.get(forecaster, "grey"),
                ls=styles.get(horizon, "-"),
                lw=2 if forecaster == "model" else 0.8,
                label=f"{forecaster} {horizon}m",
            )
        ax.plot([0, 1], [0, 1], color="black", lw=0.6)
        ax.set(xlim=(0.3, 1.0), ylim=(0, 1.02), xlabel="nominal", title=QUANTITY_LABELS[quantity])
        ax.title.set_fontsize(8)
    axes[0].set_ylabel("share of outcomes inside")
    axes[-1].legend(fontsize=6, loc="lower right")
    fig.suptitle("Coverage of the central 50% and 90% intervals against nominal", fontsize=10)
    fig.tight_layout()
    return fig


def plot_launch_fan(table: pd.DataFrame, monthly: pd.DataFrame, *, horizon: int) -> plt.Figure:
    """Fan chart: the model's predicted missiles a month against the launches that happened.

    Each origin's forecast of the next ``horizon`` months, divided by ``horizon``, is drawn
    over its window (median, 50% and 90% bands); bars are the monthly launch counts.
    """
    rows = table[
        (table["forecaster"] == "model")
        & (table["quantity"] == "launches_all")
        & (table["horizon"] == horizon)
    ].sort_values("origin")
    fig, ax = plt.subplots(figsize=(11, 3.8))
    months = pd.PeriodIndex(monthly["month"], freq="M").to_timestamp()
    ax.bar(months, monthly["missiles"], width=25, color="#bbbbbb", label="missiles launched")
    starts = pd.PeriodIndex(rows["origin"], freq="M").to_timestamp()
    mid = starts + pd.to_timedelta(15 * horizon, unit="D")
    scale = 1.0 / horizon
    ax.fill_between(
        mid, rows["q05"] * scale, rows["q95"] * scale, color="#4c72b0", alpha=0.2, label="90%"
    )
    ax.fill_between(
        mid, rows["q25"] * scale, rows["q75"] * scale, color="#4c72b0", alpha=0.4, label="50%"
    )
    ax.plot(mid, rows["q50"] * scale, color="#1f3b73", lw=1.5, label="median")
    ax.plot(
        mid,
        rows["observed"] * scale,
        color="#c44e52",
        marker="o",
        ms=3,
        lw=1,
        label=f"actual mean over the {horizon} months",
    )
    ax.set_ylabel("missiles a month")
    ax.set_title(
        f"Model forecasts of missiles a month over the next {horizon} months (at the window's "
        "middle) against what happened",
        fontsize=10,
    )
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def plot_replay(replay: pd.DataFrame) -> plt.Figure:
    """Plot each strategy's probability of being optimal, month by month."""
    fig, ax = plt.subplots(figsize=(9, 3.4))
    for strategy, group in replay.groupby("strategy", sort=False):
        ax.plot(group["month"], group["p_optimal"], marker="o", label=strategy)
    ax.set(ylim=(0, 1), ylabel="P(optimal)", title="What the brief would have said, month by month")
    ax.tick_params(axis="x", rotation=45)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plan_table(replay: pd.DataFrame) -> pd.DataFrame:
    """Return the contingent plan per month: recommendation and option per cooperation level."""
    rows = []
    for month, group in replay.groupby("month"):
        first = group.iloc[0]
        plan = json.loads(first["plan"]) if isinstance(first["plan"], str) else {}
        share = json.loads(first["plan_share"]) if isinstance(first["plan_share"], str) else {}
        rows.append(
            {
                "month": month,
                "recommendation": first["recommendation"],
                **{
                    f"plan if {k}": f"{v} ({share.get(k, float('nan')):.0%})"
                    for k, v in plan.items()
                },
            }
        )
    return pd.DataFrame(rows).set_index("month")
