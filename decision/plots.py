"""Every figure the notebooks and reports show, built with matplotlib and ArviZ.

Each function takes data (a frame or a :class:`~decision.models.Fit`) and returns a
``matplotlib.figure.Figure``; none of them computes a model. Every axis names its units.
Distributions of draws are shown over their bulk (:data:`BULK_PERCENTILES`), so that a few
extreme draws cannot squash them; how many draws fall outside the axis, and how far, is
written under it. :func:`show` displays a figure in a notebook with a one-line caption.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

__all__ = [
    "BULK_PERCENTILES",
    "show",
    "variable_units",
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
    "trade_series",
]

_BLUE, _RED, _GREY, _ORANGE = "#1f4e79", "#b22222", "#888888", "#d9822b"

#: Axes of distributions span these percentiles of the draws (each series' own, pooled).
BULK_PERCENTILES = (1.0, 99.0)

#: Units of the models' variables (observed and sampled), for axis labels.
_VARIABLE_UNITS = {
    "breach_shape": "Weibull shape, no unit",
    "breach_scale": "months",
    "export_rate": "probability per month",
    "export_detection": "probability",
    "log_rate_init": "log missiles per month",
    "rate_drift": "log missiles per month, per period",
    "rate_steps": "standard-normal steps, no unit",
    "launch_dispersion": "negative-binomial shape, no unit",
    "long_range_share": "share of missiles, 0 to 1",
    "long_range_share_init": "share of missiles, 0 to 1",
    "long_range_drift": "logit of the share, per period",
    "launches_prevented_per_month": "missiles per month",
    "long_range_prevented_per_month": "missiles per month",
    "missiles": "missiles per walk period (a quarter by default)",
    "long_range": "long-range missiles per walk period",
    "cooperation": "share of the plan enforced, 0 to 1",
    "cooperation_mean": "share of the plan enforced, 0 to 1",
    "cooperation_concentration": "beta concentration, no unit",
    "enforcement_record": "quarters enforced, of 4",
    "freeze_accepted": "0 refused, 1 accepted",
    "proposal_accepted": "0 refused, 1 accepted",
}


def variable_units(name: str) -> str:
    """Return the units of a model variable for an axis label (probabilities: 0 to 1)."""
    if name in _VARIABLE_UNITS:
        return _VARIABLE_UNITS[name]
    if name.startswith("p_"):
        return "probability"
    if "fraction" in name or "share" in name:
        return "share, 0 to 1"
    return "model units"


def _axis_label(name: str) -> str:
    units = variable_units(name)
    return units if name.replace("_", " ") in units else f"{name} ({units})"


def _bulk_limits(series: Sequence[np.ndarray], *, pad: float = 0.04) -> tuple[float, float]:
    """Axis limits spanning :data:`BULK_PERCENTILES` of every series, padded a little."""
    finite = [s[np.isfinite(s)] for s in (np.asarray(x, dtype=float).ravel() for x in series)]
    finite = [s for s in finite if s.size]
    if not finite:
        return 0.0, 1.0
    lower, upper = BULK_PERCENTILES
    lo = min(float(np.percentile(s, lower)) for s in finite)
    hi = max(float(np.percentile(s, upper)) for s in finite)
    span = hi - lo if hi > lo else max(abs(hi), 1.0) * 0.1
    return lo - pad * span, hi + pad * span


def _outside_note(series: Sequence[np.ndarray], lo: float, hi: float, *, width: int = 0) -> str:
    """Say how many draws lie outside ``[lo, hi]`` and how far they reach ("" if none).

    With ``width``, the note is wrapped to lines of at most that many characters.
    """
    values = np.concatenate([np.asarray(x, dtype=float).ravel() for x in series])
    values = values[np.isfinite(values)]
    below, above = values[values < lo], values[values > hi]
    count = below.size + above.size
    if not count:
        return ""
    reach = [f"down to {below.min():.3g}"] if below.size else []
    reach += [f"up to {above.max():.3g}"] if above.size else []
    note = (
        f"{count:,} of {values.size:,} draws ({count / values.size:.1%}) off the axis, "
        + " and ".join(reach)
    )
    return "\n".join(textwrap.wrap(note, width)) if width else note


def _with_note(label: str, note: str) -> str:
    return f"{label}\n{note}" if note else label


def show(fig: plt.Figure, caption: str) -> None:
    """Display ``fig`` in a notebook with a one-line caption under it, then close it.

    The caption (what to read from the figure) is HTML-escaped and marked
    ``class="figure-caption"``, so a report's reader and its browser test find it.
    """
    import html

    from IPython.display import HTML, display

    display(fig)
    display(HTML(f'<p class="figure-caption"><em>{html.escape(caption)}</em></p>'))
    plt.close(fig)


def plot_launch_record(
    launches: pd.DataFrame,
    nuclear_tests: pd.DataFrame | None = None,
    *,
    title: str = "DPRK ballistic-missile launches by month",
) -> plt.Figure:
    """Monthly missiles launched, the long-range ones highlighted, nuclear tests marked."""
    months = pd.PeriodIndex(launches["month"], freq="M").to_timestamp()
    fig, ax = plt.subplots(figsize=(10, 3.6))
    other = launches["missiles"] - launches["long_range_missiles"]
    ax.bar(months, other, width=25, color=_BLUE, label="shorter-range missiles")
    ax.bar(
        months,
        launches["long_range_missiles"],
        width=25,
        bottom=other,
        color=_ORANGE,
        label="long-range (IRBM, ICBM, SLV, HGV)",
    )
    if nuclear_tests is not None and len(nuclear_tests):
        dates = pd.to_datetime(nuclear_tests["date"])
        dates = dates[dates >= months.min()]
        for i, d in enumerate(dates):
            ax.axvline(d, color=_RED, ls="--", lw=1, label="nuclear test" if i == 0 else None)
    ax.set_ylabel("missiles per month")
    ax.set_xlabel("month")
    ax.set_title(title)
    ax.legend(loc="upper left", frameon=False)
    fig.tight_layout()
    return fig


def plot_agreement_survival(
    agreements: pd.DataFrame, fit=None, *, horizon: float = 120.0, window: float | None = 6.0
) -> plt.Figure:
    """Time to breakdown of earlier agreements, with the fitted survival curve if given.

    Left: one bar per agreement (a cross marks a breach, an arrow a censored one). Right: the
    Kaplan-Meier steps of the same data and, from the DPRK model, the posterior survival curve
    with its 90% band.
    """
    data = agreements.sort_values("duration_months")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6), gridspec_kw={"width_ratios": [1.2, 1]})
    y = np.arange(len(data))
    ax1.barh(y, data["duration_months"], color=_BLUE, height=0.5)
    for yi, (dur, obs) in enumerate(zip(data["duration_months"], data["observed"], strict=True)):
        ax1.plot(dur, yi, marker="x" if obs else ">", color=_RED if obs else _GREY, ms=9, mew=2)
    ax1.set_yticks(y, data["agreement"])
    ax1.set_ylabel("agreement")
    ax1.set_xscale("log")
    ax1.set_xlabel("months from signing to breach (log scale); > = still holding")
    ax1.set_title("Earlier DPRK agreements")

    times = np.sort(data["duration_months"].to_numpy())
    at_risk = len(times)
    surv, steps_t, steps_s = 1.0, [0.0], [1.0]
    for t, obs in sorted(zip(data["duration_months"], data["observed"], strict=True)):
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


def trade_series(trade: pd.DataFrame) -> tuple[str | None, pd.DataFrame]:
    """Pick one statistical series of annual trade figures: the one with the most years.

    ``trade_annual.csv`` holds one row per year and series (KOTRA, China customs, ITC/WTO);
    their levels differ, so a line joining two of them would show a change that is only a
    change of source. Ties go to the series with the latest year. A frame without a
    ``series`` column is returned whole (name ``None``).
    """
    if "series" not in trade or trade["series"].nunique() <= 1:
        name = None if "series" not in trade or not len(trade) else str(trade["series"].iloc[0])
        return name, trade
    counts = trade.groupby("series")["year"].agg(["count", "max"])
    name = str(counts.sort_values(["count", "max"], ascending=False).index[0])
    return name, trade[trade["series"] == name]


def plot_trade(trade: pd.DataFrame) -> plt.Figure:
    """Annual China-DPRK goods trade, total and by direction, in US$ millions: one series.

    When ``trade`` holds several statistical series, only :func:`trade_series`'s choice is
    drawn (its name in the title); never a line across two series.
    """
    name, trade = trade_series(trade)
    fig, ax = plt.subplots(figsize=(8, 3.4))
    ax.plot(trade["year"], trade["total_usd_m"], marker="o", color=_BLUE, label="total")
    for col, color, label in (
        ("china_exports_usd_m", _ORANGE, "China to DPRK"),
        ("china_imports_usd_m", _RED, "DPRK to China"),
    ):
        if col in trade and trade[col].notna().any():
            ax.plot(trade["year"], trade[col], marker="s", color=color, label=label)
    ax.set_ylabel("US$ millions per year")
    ax.set_xlabel("year")
    ax.set_title("China-DPRK trade" + (f" ({name})" if name else ""))
    ax.set_ylim(bottom=0)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def plot_enforcement_record(
    record: pd.DataFrame, weights: Sequence[float] | None = None
) -> plt.Figure:
    """China's coded enforcement extent per episode; marker size shows the recency weight."""
    dates = pd.to_datetime(record["commitment_date"])
    sizes = 40 + 160 * np.asarray(weights if weights is not None else np.ones(len(record)))
    fig, ax = plt.subplots(figsize=(9, 3.2))
    ax.scatter(dates, record["extent"], s=sizes, color=_BLUE, alpha=0.8)
    label_col = "episode" if "episode" in record else record.columns[0]
    for d, e, label in zip(dates, record["extent"], record[label_col], strict=True):
        ax.annotate(str(label), (d, e), textcoords="offset points", xytext=(4, 6), fontsize=7)
    ax.set_ylim(-0.1, 1.15)
    ax.set_ylabel("share enforced, 0 to 1 (analyst coding)")
    ax.set_xlabel("date of China's commitment")
    ax.set_title("China's enforcement record (marker size: weight in the model)")
    fig.tight_layout()
    return fig


def plot_posteriors(fit, var_names: Sequence[str] | None = None) -> plt.Figure:
    """Posterior densities of the headline quantities with 90% HDIs, over their bulk."""
    names = list(var_names or fit.headline_names)
    axes = az.plot_posterior(
        fit.idata,
        var_names=names,
        hdi_prob=0.9,
        textsize=9,
        figsize=(3.2 * min(len(names), 4), 2.6 * int(np.ceil(len(names) / 4))),
        grid=(int(np.ceil(len(names) / 4)), min(len(names), 4)),
    )
    for ax in np.atleast_1d(axes).ravel():
        name = ax.get_title().split("\n")[0]
        if name not in fit.idata.posterior:
            continue
        draws = np.asarray(fit.idata.posterior[name]).ravel()
        lo, hi = _bulk_limits([draws])
        ax.set_xlim(lo, hi)
        note = _outside_note([draws], lo, hi, width=48)
        ax.set_xlabel(_with_note(variable_units(name), note), fontsize=8)
    fig = np.atleast_1d(axes).ravel()[0].figure
    fig.tight_layout()
    return fig


def plot_trace(fit, var_names: Sequence[str] | None = None) -> plt.Figure:
    """Rank plots of the sampled variables, one per chain: flat bars mean good mixing."""
    names = [
        v for v in (var_names or fit.idata.posterior.data_vars) if fit.idata.posterior[v].ndim == 2
    ]
    axes = az.plot_rank(
        fit.idata,
        var_names=names,
        kind="vlines",
        figsize=(3.0 * min(len(names), 4), 2.2 * int(np.ceil(len(names) / 4))),
        grid=(int(np.ceil(len(names) / 4)), min(len(names), 4)),
    )
    fig = np.atleast_1d(axes).ravel()[0].figure
    fig.tight_layout()
    return fig


def plot_ppc(
    fit, var_name: str, *, group: str = "posterior", num_pp_samples: int = 100
) -> plt.Figure:
    """Prior or posterior predictive check of one observed variable.

    The axis spans the bulk of the replicates and every observation.
    """
    predictive = fit.idata[f"{group}_predictive"][var_name]
    available = predictive.sizes["chain"] * predictive.sizes["draw"]
    ax = az.plot_ppc(
        fit.idata,
        var_names=[var_name],
        group=group,
        num_pp_samples=min(num_pp_samples, available),
        figsize=(6, 3),
        textsize=9,
        random_seed=0,
    )
    observed = np.asarray(fit.idata.observed_data[var_name]).ravel()
    replicates = np.asarray(predictive).ravel()
    lo, hi = _bulk_limits([observed, replicates])
    observed = observed[np.isfinite(observed)]
    if observed.size:  # every observation stays in view
        lo, hi = min(lo, float(observed.min())), max(hi, float(observed.max()))
    for axis in np.atleast_1d(ax).ravel():
        axis.set_xlim(lo, hi)
        axis.set_xlabel(
            _with_note(_axis_label(var_name), _outside_note([replicates], lo, hi)), fontsize=9
        )
        axis.set_ylabel("density")
    fig = np.atleast_1d(ax).ravel()[0].figure
    fig.tight_layout()
    return fig


def plot_prior_posterior(fit, var_names: Sequence[str]) -> plt.Figure:
    """Prior against posterior density of each variable: how far the evidence moved it."""
    names = [v for v in var_names if v in fit.idata.prior]
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 2.6), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        prior = np.asarray(fit.idata.prior[name]).ravel()
        post = np.asarray(fit.idata.posterior[name]).ravel()
        lo, hi = _bulk_limits([prior, post], pad=0.0)
        bins = np.linspace(lo, hi, 40)
        ax.hist(prior, bins=bins, density=True, color=_GREY, alpha=0.5, label="prior")
        ax.hist(post, bins=bins, density=True, color=_BLUE, alpha=0.6, label="posterior")
        ax.set_xlim(lo, hi)
        ax.set_title(name, fontsize=9)
        note = _outside_note([prior, post], lo, hi, width=44)
        ax.set_xlabel(_with_note(variable_units(name), note), fontsize=8)
        ax.set_yticks([])
        ax.set_ylabel("density", fontsize=8)
    axes[0][0].legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def plot_monitoring_trend(
    trend: pd.DataFrame | None, month: str, current: dict[str, float]
) -> plt.Figure:
    """Headline numbers by month from recorded runs, with this month's values added.

    ``trend`` has columns ``month, name, value`` (:meth:`decision.monitoring.RunHistory.trend`).
    """
    rows = (
        []
        if trend is None or not len(trend)
        else [
            r for r in trend[["month", "name", "value"]].itertuples(index=False) if r.month != month
        ]
    )
    frame = pd.DataFrame(rows, columns=["month", "name", "value"])
    frame = pd.concat(
        [
            frame,
            pd.DataFrame({"month": month, "name": list(current), "value": list(current.values())}),
        ]
    )
    probs = [n for n in frame["name"].unique() if n.startswith("p_") or n.startswith("P(")]
    values = [n for n in frame["name"].unique() if n.startswith("value")]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    panels = ((axes[0], probs, "probability, 0 to 1"), (axes[1], values, "value (weighted points)"))
    for ax, names, label in panels:
        for name in names:
            series = frame[frame["name"] == name].sort_values("month")
            ax.plot(series["month"], series["value"], marker="o", label=name)
        ax.set_ylabel(label)
        ax.set_xlabel("month")
        ax.tick_params(axis="x", rotation=45)
        ax.legend(frameon=False, fontsize=7)
    axes[0].set_ylim(-0.02, 1.02)
    axes[0].set_title("Probabilities by month")
    axes[1].set_title("Strategy values by month")
    fig.tight_layout()
    return fig


def plot_strategy_values(analysis) -> plt.Figure:
    """Distribution over draws of each strategy's value, over the bulk of the draws.

    Each violin shows a strategy's draws inside the axis (:data:`BULK_PERCENTILES` of each
    strategy, pooled); the diamond is the mean of all its draws, extreme ones included; the
    recommended strategy is orange. How many draws fall outside the axis is written under it.
    """
    result = analysis.result
    values = np.asarray(result.root_values_per_draw)
    names = list(result.options)
    columns = [values[:, i] for i in range(len(names))]
    lo, hi = _bulk_limits(columns)
    fig, ax = plt.subplots(figsize=(8, 1.3 + 0.8 * len(names)))
    for y, (name, column) in enumerate(zip(names, columns, strict=True), start=1):
        color = _ORANGE if name == analysis.recommendation else _BLUE
        inside = column[(column >= lo) & (column <= hi)]
        if inside.size > 1 and np.ptp(inside) > 0:
            body = ax.violinplot(
                inside, positions=[y], orientation="horizontal", showextrema=False, widths=0.8
            )["bodies"][0]
            body.set_facecolor(color)
            body.set_edgecolor(color)
            body.set_alpha(0.6)
        elif inside.size:  # the same value in every draw (e.g. the status quo): a tick
            ax.plot([inside[0], inside[0]], [y - 0.3, y + 0.3], color=color, lw=3)
        mean = float(np.mean(column))
        marker = "<" if mean < lo else ">" if mean > hi else "D"
        ax.plot(
            min(max(mean, lo), hi),
            y,
            marker=marker,
            color="white",
            markeredgecolor="black",
            ms=7,
            ls="none",
            label="mean of all draws" if y == 1 else None,
        )
    ax.set_xlim(lo, hi)
    ax.set_ylim(0.4, len(names) + 0.6)
    ax.set_yticks(range(1, len(names) + 1), names)
    if lo < 0 < hi:
        ax.axvline(0, color=_GREY, lw=1, ls=":")
    units = result.tree.units
    label = result.value_kind + (f" ({units})" if units else "")
    ax.set_xlabel(_with_note(label, _outside_note(columns, lo, hi)))
    ax.set_title("Value of each strategy across draws (orange: recommended)")
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# Sensitivity analysis and value of information (data from decision.sensitivity)
# --------------------------------------------------------------------------------------------

__all__ += [
    "plot_acceptability",
    "plot_evppi",
    "plot_prior_sensitivity",
    "plot_sobol",
    "plot_spider",
    "plot_strategy_region",
    "plot_tornado",
]


def _sensitivity_units(attrs) -> str:
    units = attrs.get("units", "") if hasattr(attrs, "get") else ""
    return f" ({units})" if units else ""


def plot_tornado(table: pd.DataFrame, *, top: int | None = 15) -> plt.Figure:
    """Tornado chart of :func:`decision.sensitivity.tornado`: the widest swing on top.

    Each bar runs from the quantity at the low end of a parameter's range to its value at the
    high end (blue: low end, orange: high end); the labels give the range. For the decision
    margin, a red line marks zero: where a bar crosses it the recommendation switches.
    """
    shown = table if top is None else table.head(top)
    shown = shown.iloc[::-1]
    base = float(shown["base"].iloc[0]) if len(shown) else 0.0
    fig, ax = plt.subplots(figsize=(9, 1.0 + 0.38 * max(len(shown), 1)))
    y = np.arange(len(shown))
    for yi, (_, row) in zip(y, shown.iterrows(), strict=True):
        for end, color in (("at_low", _BLUE), ("at_high", _ORANGE)):
            ax.barh(yi, row[end] - base, left=base, color=color, height=0.6, alpha=0.85)
        ax.plot([row["minimum"], row["maximum"]], [yi, yi], color=_GREY, lw=0.8)
    labels = [f"{name}  [{row['low']:.3g} – {row['high']:.3g}]" for name, row in shown.iterrows()]
    ax.set_yticks(y, labels, fontsize=8)
    ax.axvline(base, color="black", lw=1)
    quantity = table.attrs.get("quantity", "margin")
    if quantity == "margin":
        ax.axvline(0.0, color=_RED, lw=1, ls="--", label="switch (margin = 0)")
        ax.set_xlabel(f"decision margin{_sensitivity_units(table.attrs)}")
    else:
        ax.set_xlabel(f"value of '{quantity}'{_sensitivity_units(table.attrs)}")
    from matplotlib.patches import Patch

    handles = [
        Patch(color=_BLUE, label="low end of range"),
        Patch(color=_ORANGE, label="high end of range"),
    ]
    if quantity == "margin":
        handles.append(plt.Line2D([], [], color=_RED, ls="--", label="switch (margin = 0)"))
    ax.legend(handles=handles, frameon=False, fontsize=8, loc="lower right")
    others = table.attrs.get("others", "mean")
    title = "One-way sensitivity (others at " + (
        "their base case)" if others == "mean" else "their draws)"
    )
    if quantity == "margin" and table.attrs.get("margin"):
        title += f"\nmargin: {table.attrs['margin']}"
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_spider(
    data, quantity: str = "margin", *, parameters: Sequence[str] | None = None, top: int = 8
) -> plt.Figure:
    """Spider chart of a :func:`decision.sensitivity.one_way` result.

    One line per parameter: the quantity along the parameter's range, in normalised units
    (0 = low end, 1 = high end). Without ``parameters``, the ``top`` with the widest swing.
    """
    values = data["margin"] if quantity == "margin" else data["value"].sel(option=quantity)
    names = [str(p) for p in data.coords["parameter"].values]
    if parameters is None:
        swing = np.nanmax(values.values, axis=1) - np.nanmin(values.values, axis=1)
        parameters = [names[i] for i in np.argsort(-swing, kind="stable")[:top]]
    fig, ax = plt.subplots(figsize=(8, 4.2))
    position = data["position"].values
    for name in parameters:
        ax.plot(position, values.sel(parameter=name).values, marker=".", label=name)
    if quantity == "margin":
        ax.axhline(0.0, color=_RED, lw=1, ls="--")
        ax.set_ylabel(f"decision margin{_sensitivity_units(data.attrs)}")
    else:
        ax.set_ylabel(f"value of '{quantity}'{_sensitivity_units(data.attrs)}")
    ax.set_xlabel("position in the parameter's range (0 = low end, 1 = high end)")
    ax.set_title("Spider plot")
    ax.legend(frameon=False, fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def plot_strategy_region(data) -> plt.Figure:
    """Which option is optimal where, on a :func:`decision.sensitivity.two_way` grid.

    The base case is marked with a cross; cells where the linked probabilities cannot be
    satisfied are left white.
    """
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    x, y = data.attrs["x"], data.attrs["y"]
    options = [str(o) for o in data.coords["option"].values]
    palette = [_BLUE, _ORANGE, _RED, "#4c956c", "#7b2cbf", "#8d6e63", _GREY][: len(options)]
    index = np.ma.masked_less(data["optimal_index"].values.T, 0)
    cmap = ListedColormap(palette).with_extremes(bad="white")
    fig, ax = plt.subplots(figsize=(7, 5))
    ax.pcolormesh(
        data.coords[x].values,
        data.coords[y].values,
        index,
        cmap=cmap,
        norm=BoundaryNorm(np.arange(len(options) + 1) - 0.5, len(options)),
        shading="nearest",
    )
    ax.plot(
        data.attrs.get("base_x", np.nan),
        data.attrs.get("base_y", np.nan),
        marker="x",
        color="black",
        ms=10,
        mew=2,
        ls="none",
        label="base case",
    )
    present = sorted({int(i) for i in data["optimal_index"].values.ravel() if i >= 0})
    handles = [Patch(color=palette[i], label=options[i]) for i in present]
    handles.append(plt.Line2D([], [], marker="x", color="black", ls="none", label="base case"))
    ax.legend(handles=handles, frameon=True, fontsize=8, loc="best")
    ax.set_xlabel(data.attrs.get("x_description") or x)
    ax.set_ylabel(data.attrs.get("y_description") or y)
    ax.set_title(f"Optimal strategy by {x} and {y}")
    fig.tight_layout()
    return fig


def plot_acceptability(data) -> plt.Figure:
    """Plot the acceptability curve of :func:`decision.sensitivity.acceptability`.

    The probability that each option is optimal against the parameter's value; the band at
    the top shows the option with the highest expected value; the dotted line the base case.
    """
    parameter = data.attrs.get("parameter", "parameter")
    grid = data.coords["value"].values
    options = [str(o) for o in data.coords["option"].values]
    palette = [_BLUE, _ORANGE, _RED, "#4c956c", "#7b2cbf", "#8d6e63", _GREY]
    fig, ax = plt.subplots(figsize=(8, 4))
    for i, option in enumerate(options):
        ax.plot(
            grid,
            data["probability_optimal"].sel(option=option).values,
            marker=".",
            color=palette[i % len(palette)],
            label=option,
        )
    optimal = data["optimal"].values
    step = np.diff(grid).mean() if grid.size > 1 else 1.0
    for value, option in zip(grid, optimal, strict=True):
        if option in options:
            ax.axvspan(
                value - step / 2,
                value + step / 2,
                ymin=0.97,
                ymax=1.0,
                color=palette[options.index(option) % len(palette)],
                lw=0,
            )
    if "base_input" in data.attrs:
        ax.axvline(float(data.attrs["base_input"]), color=_GREY, ls=":", label="base case")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(data.attrs.get("parameter_description") or parameter)
    ax.set_ylabel("probability optimal, 0 to 1")
    ax.set_title(f"Acceptability curve over {parameter} (band: best in expectation)")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def plot_evppi(table: pd.DataFrame, *, top: int | None = 20) -> plt.Figure:
    """Bar chart of the EVPPI of :func:`decision.sensitivity.evppi`, with 95% intervals.

    The intervals are ±1.96 standard errors; the EVPI (the bound) is a dashed line.
    """
    shown = table.sort_values("evppi", ascending=False, kind="stable")
    if top is not None:
        shown = shown.head(top)
    shown = shown.iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 1.0 + 0.35 * max(len(shown), 1)))
    y = np.arange(len(shown))
    colors = [_ORANGE if kind == "group" else _BLUE for kind in shown["kind"]]
    ax.barh(
        y,
        shown["evppi"],
        xerr=1.96 * shown["se"],
        color=colors,
        height=0.6,
        error_kw={"ecolor": _GREY, "lw": 1},
    )
    ax.set_yticks(y, shown.index, fontsize=8)
    if "evpi" in table.attrs:
        ax.axvline(float(table.attrs["evpi"]), color=_RED, ls="--", lw=1, label="EVPI")
        ax.legend(frameon=False, fontsize=8, loc="lower right")
    ax.set_xlabel(f"EVPPI{_sensitivity_units(table.attrs)} (orange: groups)")
    ax.set_title("Expected value of partial perfect information")
    fig.tight_layout()
    return fig


def plot_sobol(table: pd.DataFrame, *, top: int | None = 15) -> plt.Figure:
    """Bar chart of the first-order and total Sobol indices of :func:`decision.sensitivity.sobol`.

    The error bars are the indices' bootstrap confidence intervals.
    """
    shown = table if top is None else table.head(top)
    fig, ax = plt.subplots(figsize=(8, 1.0 + 0.4 * max(len(shown), 1)))
    y = np.arange(len(shown))[::-1]
    ax.barh(
        y + 0.18,
        shown["ST"],
        xerr=shown["ST_conf"],
        height=0.36,
        color=_ORANGE,
        label="total (ST)",
        error_kw={"ecolor": _GREY, "lw": 1},
    )
    ax.barh(
        y - 0.18,
        shown["S1"],
        xerr=shown["S1_conf"],
        height=0.36,
        color=_BLUE,
        label="first order (S1)",
        error_kw={"ecolor": _GREY, "lw": 1},
    )
    ax.set_yticks(y, shown.index, fontsize=8)
    ax.axvline(0, color=_GREY, lw=0.8)
    ax.set_xlabel(f"share of the variance of {table.attrs.get('output', 'the output')}")
    ax.set_title("Sobol sensitivity indices")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def plot_prior_sensitivity(data) -> plt.Figure:
    """Prior sensitivity of :func:`decision.sensitivity.prior_sensitivity`.

    One heat map per power (alpha): the cumulative Jensen-Shannon distance between the base
    and the power-scaled posterior of each tree quantity (blank: the quantity comes from the
    other model). A prior whose power-scaling changes the recommendation is marked with "!"
    and one whose importance weights are unreliable (Pareto k > 0.7) with "?".
    """
    alphas = [float(a) for a in data.coords["alpha"].values]
    priors = [str(p) for p in data.coords["prior"].values]
    quantities = [str(q) for q in data.coords["quantity"].values]
    cjs = data["cjs"].values
    top = max(float(np.nanmax(cjs)) if np.isfinite(cjs).any() else 0.0, 0.1)
    fig, axes = plt.subplots(
        1,
        len(alphas),
        figsize=(3.2 * len(alphas) + 3.5, 2.5 + 0.3 * len(priors)),
        squeeze=False,
        sharey=True,
        layout="constrained",
    )
    image = None
    for ax, (a, alpha) in zip(axes[0], enumerate(alphas), strict=True):
        image = ax.imshow(
            np.ma.masked_invalid(cjs[:, a, :]), cmap="Oranges", vmin=0, vmax=top, aspect="auto"
        )
        ax.set_xticks(range(len(quantities)), quantities, rotation=60, ha="right", fontsize=7)
        marks = []
        for i, prior in enumerate(priors):
            mark = ""
            if bool(data["recommendation_changes"].values[i, a]):
                mark += " !"
            if not bool(data["reliable"].values[i, a]):
                mark += " ?"
            marks.append(prior + mark)
        if a == 0:
            ax.set_yticks(range(len(priors)), marks, fontsize=7)
        ax.set_title(f"prior power alpha = {alpha:g}", fontsize=9)
    fig.colorbar(image, ax=axes[0].tolist(), label="CJS distance", shrink=0.8)
    fig.suptitle(
        "Prior sensitivity of the posterior quantities the tree uses\n"
        "(! the recommendation changes, ? importance weights unreliable)",
        fontsize=9,
    )
    return fig


# --------------------------------------------------------------------------------------------
# Why a strategy wins: value by attribute
# --------------------------------------------------------------------------------------------

__all__ += ["plot_value_by_attribute"]


def plot_value_by_attribute(table: pd.DataFrame, *, units: str = "") -> plt.Figure:
    """Stacked bars: each strategy's expected value split by attribute (gains right, costs left).

    ``table`` is :attr:`decision.case.Analysis.value_by_attribute` (strategy x attribute); a
    black dot marks each strategy's total.
    """
    names = list(table.index)
    fig, ax = plt.subplots(figsize=(8, 1.0 + 0.7 * len(names)))
    colors = plt.get_cmap("tab10").colors
    right = np.zeros(len(names))
    left = np.zeros(len(names))
    y = np.arange(len(names))
    for k, attribute in enumerate(table.columns):
        values = table[attribute].to_numpy(dtype=float)
        start = np.where(values >= 0, right, left)
        ax.barh(y, values, left=start, color=colors[k % len(colors)], label=str(attribute))
        right += np.clip(values, 0, None)
        left += np.clip(values, None, 0)
    ax.plot(table.sum(axis=1).to_numpy(dtype=float), y, "ko", label="total")
    ax.axvline(0, color=_GREY, lw=1)
    ax.set_yticks(y, names)
    ax.set_xlabel(f"expected value{f' ({units})' if units else ''}")
    ax.set_title("Which attribute carries each strategy's value")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small")
    fig.tight_layout()
    return fig
