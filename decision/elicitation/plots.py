"""Figures of elicited judgments: each expert's fitted distribution, the pool, the answers.

Like :mod:`decision.plots`, each function takes results and returns a
``matplotlib.figure.Figure``; show it with :func:`decision.plots.show`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from decision.elicitation.records import answer_quantiles

__all__ = ["plot_judgment"]

_POOL, _HIGHLIGHT, _OTHER = "#1f4e79", "#d9822b", "#888888"


def _stated_points(fit) -> list[tuple[float, float]]:
    """``(value, stated CDF)`` of an answer: its percentiles, or a three-point's ends."""
    answers, method = fit.elicited.judgment.answers, fit.elicited.method
    if method.name == "quantiles":
        return [(x, p) for p, x in answer_quantiles(answers)]
    if method.name == "three-point":
        return [(answers["low"], 0.0), (answers["high"], 1.0)]
    return []


def plot_judgment(elicitation, name: str, *, highlight: str | None = None) -> plt.Figure:
    """One judgment: the experts' fitted densities and the pool (left), their CDFs (right).

    The answers of the ``highlight`` expert (default: the first) are marked: the stated
    percentiles (or a three-point's ends) on the CDF, the stated mode on the density, so the
    fit can be judged against them.
    """
    pool = elicitation.pools[name]
    fits = list(pool.fits)
    highlight = highlight if highlight in pool.experts else fits[0].expert
    parameters = [f.parameter for f in fits] + [pool.parameter]
    q = np.array([0.001, 0.999])
    ends = np.concatenate([np.asarray(p.ppf(q), dtype=float) for p in parameters])
    for fit in fits:
        ends = np.concatenate([ends, list(fit.elicited.judgment.answers.values())])
    ends = ends[np.isfinite(ends)]
    low, high = float(ends.min()), float(ends.max())
    pad = 0.05 * (high - low or 1.0)
    x = np.linspace(low - pad, high + pad, 600)
    fig, (ax_pdf, ax_cdf) = plt.subplots(1, 2, figsize=(11, 3.6))
    for fit in fits:
        mine = fit.expert == highlight
        style = {"color": _HIGHLIGHT if mine else _OTHER, "lw": 2 if mine else 1.2}
        frozen = fit.parameter.frozen()
        label = f"{fit.expert} ({fit.elicited.date.isoformat()})"
        ax_pdf.plot(x, frozen.pdf(x), label=label, **style)
        ax_cdf.plot(x, frozen.cdf(x), **style)
        if mine:
            points = _stated_points(fit)
            if points:
                ax_cdf.plot(
                    *zip(*points, strict=True), "o", color=_HIGHLIGHT, label="stated answers"
                )
            mode = fit.elicited.judgment.answers.get("mode")
            if mode is not None:
                ax_pdf.axvline(mode, color=_HIGHLIGHT, ls=":", lw=1, label="stated mode")
    if len(fits) > 1:
        frozen = pool.parameter.frozen()
        ax_pdf.plot(x, frozen.pdf(x), color=_POOL, lw=2.5, ls="--", label=f"pool ({pool.scheme})")
        ax_cdf.plot(x, frozen.cdf(x), color=_POOL, lw=2.5, ls="--")
    units = fits[0].elicited.judgment.units
    error = pool.fits[pool.experts.index(highlight)].error
    ax_pdf.set(xlabel=units, ylabel="density", title=f"{name}: fitted distributions")
    ax_cdf.set(
        xlabel=units,
        ylabel="cumulative probability",
        ylim=(-0.02, 1.02),
        title=f"fit error of {highlight}: {error:.4f}",
    )
    ax_pdf.legend(fontsize=8, frameon=False)
    if ax_cdf.get_legend_handles_labels()[0]:
        ax_cdf.legend(fontsize=8, frameon=False, loc="lower right")
    fig.tight_layout()
    return fig
