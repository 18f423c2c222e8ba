"""The backtest's score table read for people: means, paired differences, calibration, verdicts.

Scores are first averaged within an origin (an origin may score several agreements or
resolutions), then compared across origins. The model is compared with each baseline on the
origins both forecast; the uncertainty of the mean difference is a Newey-West standard error
with ``ceil(horizon / step) - 1`` lags, because windows of origins closer than the horizon
overlap and their scores are correlated. A difference is *clear* when it is more than twice
its standard error.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from decision.backtest.forecasts import BASELINES
from decision.backtest.truth import QUANTITIES

__all__ = [
    "METRICS",
    "QUANTITY_LABELS",
    "comparison_table",
    "coverage_table",
    "headline_table",
    "mean_scores",
    "newey_west_se",
    "origin_scores",
    "verdicts",
]

#: Scores compared, and whether higher is better.
METRICS = {"log_score": True, "crps": False, "brier": False}

#: How each quantity is written in a report.
QUANTITY_LABELS = {
    "launches_all": "missiles launched",
    "launches_long_range": "long-range missiles launched",
    "nuclear_test": "a nuclear test",
    "agreement_breach": "the breach of a standing agreement",
    "china_lag_days": "China's enforcement lag (days)",
    "china_extent": "the extent of China's enforcement",
}


def newey_west_se(values, lags: int) -> float:
    """Return the Newey-West (Bartlett kernel) standard error of the mean of ``values``."""
    x = np.asarray(values, dtype=float)
    n = x.size
    if n < 2:
        return float("nan")
    d = x - x.mean()
    variance = d @ d / n
    for lag in range(1, min(lags, n - 1) + 1):
        variance += 2 * (1 - lag / (lags + 1)) * (d[lag:] @ d[:-lag]) / n
    return float(math.sqrt(max(variance, 0.0) / n))


def _step_months(origins: pd.Series) -> int:
    months = sorted(pd.Period(o, freq="M").ordinal for o in origins.unique())
    return int(np.median(np.diff(months))) if len(months) > 1 else 1


def origin_scores(table: pd.DataFrame) -> pd.DataFrame:
    """Average the scores within each origin, quantity, horizon and forecaster."""
    rows = table[table["quantity"].isin(QUANTITIES) & table["error"].isna()]
    return (
        rows.groupby(["quantity", "horizon", "forecaster", "origin"], as_index=False)[
            ["log_score", "crps", "brier", "covered_50", "covered_90", "pit"]
        ]
        .mean()
        .sort_values(["quantity", "horizon", "forecaster", "origin"])
    )


def mean_scores(table: pd.DataFrame) -> pd.DataFrame:
    """Return the mean of each score over origins, by quantity, horizon and forecaster."""
    per_origin = origin_scores(table)
    out = per_origin.groupby(["quantity", "horizon", "forecaster"]).agg(
        origins=("origin", "nunique"),
        log_score=("log_score", "mean"),
        crps=("crps", "mean"),
        brier=("brier", "mean"),
    )
    return out.reset_index()


def comparison_table(table: pd.DataFrame) -> pd.DataFrame:
    """Compare the model with every baseline: mean difference over shared origins and its SE.

    ``difference`` is model minus baseline, so it is better for the model when positive for
    the log score and negative for CRPS and Brier; ``model_better`` says which, and ``clear``
    whether the difference exceeds twice its standard error.
    """
    per_origin = origin_scores(table)
    step = _step_months(per_origin["origin"]) if len(per_origin) else 1
    rows = []
    for (quantity, horizon), group in per_origin.groupby(["quantity", "horizon"]):
        model = group[group["forecaster"] == "model"].set_index("origin")
        if model.empty:
            continue
        lags = max(math.ceil(horizon / step) - 1, 0)
        for baseline in BASELINES:
            other = group[group["forecaster"] == baseline].set_index("origin")
            shared = model.index.intersection(other.index)
            if not len(shared):
                continue
            for metric, higher in METRICS.items():
                diff = (model.loc[shared, metric] - other.loc[shared, metric]).dropna()
                if diff.empty:
                    continue
                mean, se = float(diff.mean()), newey_west_se(diff.to_numpy(), lags)
                better = mean > 0 if higher else mean < 0
                rows.append(
                    {
                        "quantity": quantity,
                        "horizon": int(horizon),
                        "baseline": baseline,
                        "metric": metric,
                        "origins": int(diff.size),
                        "model": float(model.loc[diff.index, metric].mean()),
                        "baseline_score": float(other.loc[diff.index, metric].mean()),
                        "difference": mean,
                        "se": se,
                        "model_better": bool(better) if mean != 0 else False,
                        "clear": bool(np.isfinite(se) and abs(mean) > 2 * se and se > 0),
                    }
                )
    return pd.DataFrame(rows)


def headline_table(table: pd.DataFrame, metric: str = "crps") -> pd.DataFrame:
    """Return the model against the best baseline (by ``metric``) per quantity and horizon."""
    comparison = comparison_table(table)
    if comparison.empty:
        return comparison
    chosen = comparison[comparison["metric"] == metric]
    higher = METRICS[metric]
    best = chosen.loc[
        chosen.groupby(["quantity", "horizon"])["baseline_score"].idxmax()
        if higher
        else chosen.groupby(["quantity", "horizon"])["baseline_score"].idxmin()
    ]
    return best.sort_values(["quantity", "horizon"]).reset_index(drop=True)


def coverage_table(table: pd.DataFrame) -> pd.DataFrame:
    """Return the share of outcomes inside the 50% and 90% central intervals, per forecaster."""
    rows = table[table["quantity"].isin(QUANTITIES) & table["error"].isna()]
    return (
        rows.groupby(["quantity", "horizon", "forecaster"])
        .agg(
            outcomes=("observed", "size"),
            covered_50=("covered_50", "mean"),
            covered_90=("covered_90", "mean"),
            mean_pit=("pit", "mean"),
        )
        .reset_index()
    )


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def _upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _loss(row) -> str:
    """Describe one comparison the model loses: baseline, metric, scores, difference +- SE."""
    return (
        f"{row.baseline.replace('_', ' ')} on {row.metric.replace('_', ' ')} "
        f"({_fmt(row.model)} against {_fmt(row.baseline_score)}, difference "
        f"{_fmt(row.difference)} +- {_fmt(row.se)})"
    )


def verdicts(table: pd.DataFrame) -> dict[str, str]:
    """Say in plain words, per quantity, where the model wins or loses and how calibrated it is."""
    comparison = comparison_table(table)
    coverage = coverage_table(table)
    out: dict[str, str] = {}
    for quantity in QUANTITIES:
        label = QUANTITY_LABELS[quantity]
        mine = comparison[comparison["quantity"] == quantity] if len(comparison) else comparison
        if mine.empty:
            out[quantity] = (
                f"{_upper(label)}: "
                + (
                    "the model makes no forecast (the China model has no distribution of "
                    "enforcement lags); only the baselines are scored"
                    if quantity == "china_lag_days"
                    else "no outcome in the scored windows"
                    if not (
                        (table["quantity"] == quantity) & (table["forecaster"] == "model")
                    ).any()
                    else "no baseline could be computed at the origins the model forecast "
                    "(no earlier record public then), so there is no comparison"
                )
                + "."
            )
            continue
        sentences = []
        for horizon, group in mine.groupby("horizon"):
            n = int(group["origins"].max())
            losses = group[~group["model_better"] & (group["metric"] != "brier")]
            if losses.empty:
                sentences.append(
                    f"at {horizon} months ({n} origins) the model beats every baseline on both "
                    "the log score and CRPS"
                )
                continue
            said = []
            for clear, verb in (
                (True, "loses clearly to"),
                (False, "is worse, within noise, than"),
            ):
                chosen = losses[losses["clear"] == clear]
                if len(chosen):
                    said.append(f"{verb} " + "; ".join(_loss(row) for row in chosen.itertuples()))
            sentences.append(f"at {horizon} months ({n} origins) the model " + ", and ".join(said))
        cov = coverage[(coverage["quantity"] == quantity) & (coverage["forecaster"] == "model")]
        calib = ", ".join(
            f"{r.covered_90:.0%} of {r.outcomes} outcomes inside the 90% interval at {r.horizon} "
            "months"
            for r in cov.itertuples()
        )
        out[quantity] = f"{_upper(label)}: " + "; ".join(sentences) + f". Calibration: {calib}."
    return out
