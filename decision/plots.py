"""Every figure the notebooks and reports show, built with matplotlib and ArviZ.

Each function takes data (a frame or a :class:`~decision.models.Fit`) and returns a
``matplotlib.figure.Figure``; none of them computes a model.
"""

from __future__ import annotations

from collections.abc import Sequence

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

__all__ = [
    "plot_agreement_survival",
    "plot_enforcement_record",
    "plot_launch_record",
    "plot_monitoring_trend",
    "plot_posteriors",
    "plot_ppc",
    "plot_strategy_values",
    "plot_prior_posterior",
    "plot_trace",
    "plot_trade",
]

_BLUE, _RED, _GREY, _ORANGE = "#1f4e79", "#b22222", "#888888", "#d9822b"


def plot_launch_record(launches: pd.DataFrame, nuclear_tests: pd.DataFrame | None = None,
                       *, title: str = "DPRK ballistic-missile launches by month") -> plt.Figure:
    """Monthly missiles launched, the long-range ones highlighted, nuclear tests marked."""
    months = pd.PeriodIndex(launches["month"], freq="M").to_timestamp()
    fig, ax = plt.subplots(figsize=(10, 3.6))
    other = launches["missiles"] - launches["long_range_missiles"]
    ax.bar(months, other, width=25, color=_BLUE, label="shorter-range missiles")
    ax.bar(months, launches["long_range_missiles"], width=25, bottom=other, color=_ORANGE,
           label="long-range (IRBM, ICBM, SLV, HGV)")
    if nuclear_tests is not None and len(nuclear_tests):
        dates = pd.to_datetime(nuclear_tests["date"])
        dates = dates[dates >= months.min()]
        for i, d in enumerate(dates):
            ax.axvline(d, color=_RED, ls="--", lw=1, label="nuclear test" if i == 0 else None)
    ax.set_ylabel("missiles per month")
    ax.set_title(title)
    ax.legend(loc="upper left", frameon=False)
    fig.tight_layout()
    return fig


def plot_agreement_survival(agreements: pd.DataFrame, fit=None, *, horizon: float = 120.0,
                            window: float | None = 6.0) -> plt.Figure:
    """Time to breakdown of earlier agreements, with the fitted survival curve if given.

    Left: one bar per agreement (a cross marks a breach, an arrow a censored one). Right: the
    Kaplan-Meier steps of the same data and, from the DPRK model, the posterior survival curve
    with its 90% band.
    """
    data = agreements.sort_values("duration_months")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6), gridspec_kw={"width_ratios": [1.2, 1]})
    y = np.arange(len(data))
    ax1.barh(y, data["duration_months"], color=_BLUE, height=0.5)
    for yi, (dur, obs) in enumerate(zip(data["duration_months"], data["observed"])):
        ax1.plot(dur, yi, marker="x" if obs else ">", color=_RED if obs else _GREY, ms=9, mew=2)
    ax1.set_yticks(y, data["agreement"])
    ax1.set_xscale("log")
    ax1.set_xlabel("months from signing to breach (log scale); > = still holding")
    ax1.set_title("Earlier DPRK agreements")

    times = np.sort(data["duration_months"].to_numpy())
    at_risk = len(times)
    surv, steps_t, steps_s = 1.0, [0.0], [1.0]
    for t, obs in sorted(zip(data["duration_months"], data["observed"])):
        if obs:
            surv *= 1 - 1 / at_risk
        at_risk -= 1
        steps_t.append(t)
        steps_s.append(surv)
    ax2.step(steps_t, steps_s, where="post", color=_GREY, label="Kaplan-Meier (data)")
    if fit is not None:
        grid = np.linspace(0.01, horizon, 200)
        k = fit.draws("breach_shape")[:, None]
        lam = fit.draws("breach_scale")[:, None]
        curves = np.exp(-((grid / lam) ** k))
        lo, mid, hi = np.percentile(curves, [5, 50, 95], axis=0)
        ax2.fill_between(grid, lo, hi, color=_BLUE, alpha=0.2, label="posterior 90% band")
        ax2.plot(grid, mid, color=_BLUE, label="posterior median")
    if window:
        ax2.axvline(window, color=_ORANGE, ls=":", label=f"{window:g}-month monitoring window")
    ax2.set_xlim(0, horizon)
    ax2.set_ylim(0, 1.02)
    ax2.set_xlabel("months since signing")
    ax2.set_ylabel("probability still holding")
    ax2.set_title("Survival of a freeze")
    ax2.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def plot_trade(trade: pd.DataFrame) -> plt.Figure:
    """Annual China-DPRK goods trade, total and by direction, in US$ millions."""
    fig, ax = plt.subplots(figsize=(8, 3.4))
    ax.plot(trade["year"], trade["total_usd_m"], marker="o", color=_BLUE, label="total")
    for col, color, label in (("china_exports_usd_m", _ORANGE, "China to DPRK"),
                              ("china_imports_usd_m", _RED, "DPRK to China")):
        if col in trade and trade[col].notna().any():
            ax.plot(trade["year"], trade[col], marker="s", color=color, label=label)
    ax.set_ylabel("US$ millions")
    ax.set_title("China-DPRK trade")
    ax.set_ylim(bottom=0)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def plot_enforcement_record(record: pd.DataFrame, weights: Sequence[float] | None = None
                            ) -> plt.Figure:
    """China's coded enforcement extent per episode; marker size shows the recency weight."""
    dates = pd.to_datetime(record["commitment_date"])
    sizes = 40 + 160 * np.asarray(weights if weights is not None else np.ones(len(record)))
    fig, ax = plt.subplots(figsize=(9, 3.2))
    ax.scatter(dates, record["extent"], s=sizes, color=_BLUE, alpha=0.8)
    label_col = "episode" if "episode" in record else record.columns[0]
    for d, e, label in zip(dates, record["extent"], record[label_col]):
        ax.annotate(str(label), (d, e), textcoords="offset points", xytext=(4, 6), fontsize=7)
    ax.set_ylim(-0.1, 1.15)
    ax.set_ylabel("share enforced (analyst coding)")
    ax.set_title("China's enforcement record (marker size: weight in the model)")
    fig.tight_layout()
    return fig


def plot_posteriors(fit, var_names: Sequence[str] | None = None) -> plt.Figure:
    """Posterior densities of the headline quantities with 90% HDIs."""
    names = list(var_names or fit.headline_names)
    axes = az.plot_posterior(fit.idata, var_names=names, hdi_prob=0.9, textsize=9,
                             figsize=(3.2 * min(len(names), 4), 2.6 * int(np.ceil(len(names) / 4))),
                             grid=(int(np.ceil(len(names) / 4)), min(len(names), 4)))
    fig = np.atleast_1d(axes).ravel()[0].figure
    fig.tight_layout()
    return fig


def plot_trace(fit, var_names: Sequence[str] | None = None) -> plt.Figure:
    """Rank plots of the sampled variables, one per chain: flat bars mean good mixing."""
    names = [v for v in (var_names or fit.idata.posterior.data_vars)
             if fit.idata.posterior[v].ndim == 2]
    axes = az.plot_rank(fit.idata, var_names=names, kind="vlines",
                        figsize=(3.0 * min(len(names), 4), 2.2 * int(np.ceil(len(names) / 4))),
                        grid=(int(np.ceil(len(names) / 4)), min(len(names), 4)))
    fig = np.atleast_1d(axes).ravel()[0].figure
    fig.tight_layout()
    return fig


def plot_ppc(fit, var_name: str, *, group: str = "posterior", num_pp_samples: int = 100
             ) -> plt.Figure:
    """Prior or posterior predictive check of one observed variable."""
    predictive = fit.idata[f"{group}_predictive"][var_name]
    available = predictive.sizes["chain"] * predictive.sizes["draw"]
    ax = az.plot_ppc(fit.idata, var_names=[var_name], group=group,
                     num_pp_samples=min(num_pp_samples, available),
                     figsize=(6, 3), textsize=9, random_seed=0)
    fig = np.atleast_1d(ax).ravel()[0].figure
    fig.tight_layout()
    return fig


def plot_prior_posterior(fit, var_names: Sequence[str]) -> plt.Figure:
    """Prior against posterior density of each variable: how far the evidence moved it."""
    names = [v for v in var_names if v in fit.idata.prior]
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 2.6), squeeze=False)
    for ax, name in zip(axes[0], names):
        prior = np.asarray(fit.idata.prior[name]).ravel()
        post = np.asarray(fit.idata.posterior[name]).ravel()
        hi = np.percentile(np.concatenate([prior, post]), 99)
        lo = min(0.0, np.percentile(np.concatenate([prior, post]), 1))
        bins = np.linspace(lo, hi, 40)
        ax.hist(prior, bins=bins, density=True, color=_GREY, alpha=0.5, label="prior")
        ax.hist(post, bins=bins, density=True, color=_BLUE, alpha=0.6, label="posterior")
        ax.set_title(name, fontsize=9)
        ax.set_yticks([])
    axes[0][0].legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def plot_monitoring_trend(trend: pd.DataFrame | None, month: str,
                          current: dict[str, float]) -> plt.Figure:
    """Headline numbers by month from recorded runs, with this month's values added.

    ``trend`` has columns ``month, name, value`` (:meth:`decision.history.RunHistory.trend`).
    """
    rows = [] if trend is None or not len(trend) else [
        r for r in trend[["month", "name", "value"]].itertuples(index=False) if r.month != month]
    frame = pd.DataFrame(rows, columns=["month", "name", "value"])
    frame = pd.concat([frame, pd.DataFrame({"month": month, "name": list(current),
                                            "value": list(current.values())})])
    probs = [n for n in frame["name"].unique() if n.startswith("p_") or n.startswith("P(")]
    values = [n for n in frame["name"].unique() if n.startswith("value")]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for ax, names, label in ((axes[0], probs, "probability"), (axes[1], values, "value (points)")):
        for name in names:
            series = frame[frame["name"] == name].sort_values("month")
            ax.plot(series["month"], series["value"], marker="o", label=name)
        ax.set_ylabel(label)
        ax.tick_params(axis="x", rotation=45)
        ax.legend(frameon=False, fontsize=7)
    axes[0].set_ylim(-0.02, 1.02)
    axes[0].set_title("Probabilities by month")
    axes[1].set_title("Strategy values by month")
    fig.tight_layout()
    return fig


def plot_strategy_values(analysis) -> plt.Figure:
    """Distribution over draws of each strategy's value; the recommended one highlighted."""
    values = np.asarray(analysis.result.root_values_per_draw)
    names = list(analysis.result.options)
    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.8 * len(names)))
    parts = ax.violinplot([values[:, i] for i in range(len(names))], vert=False,
                          showmeans=True, showextrema=False)
    for body, name in zip(parts["bodies"], names):
        body.set_facecolor(_ORANGE if name == analysis.recommendation else _BLUE)
        body.set_alpha(0.6)
    ax.set_yticks(range(1, len(names) + 1), names)
    ax.axvline(0, color=_GREY, lw=1, ls=":")
    ax.set_xlabel("value in weighted points (status quo = 0); line = mean")
    ax.set_title("Value of each strategy across draws")
    fig.tight_layout()
    return fig
