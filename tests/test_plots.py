"""Figures: axes over the bulk of the draws with the tails noted, units, captions (Agg backend).

The draws here are synthetic (seeded), never fitted: the tests check what the figures show.
"""

from __future__ import annotations

import types

import matplotlib

matplotlib.use("Agg")

import arviz as az  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from decision import plots  # noqa: E402
from decision.tree import evaluate, load_tree  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def synthetic_strategies(extreme: float = 20.0, count: int = 5):
    """Evaluate a synthetic two-strategy tree whose values are near 0.1, a few draws extreme."""
    n = 2000
    rng = np.random.default_rng(7)
    risky = rng.normal(0.12, 0.04, n)
    risky[:count] = extreme  # a handful of extreme draws
    tree = load_tree(
        {
            "name": "Synthetic strategies",
            "units": "synthetic points",
            "parameters": {
                "risky": {"supplied": True},
                "safe": {"distribution": "normal", "mean": 0.08, "sd": 0.02},
            },
            "root": {
                "type": "decision",
                "name": "Choose",
                "options": {
                    "nothing": {"payoff": 0},
                    "safe": {"payoff": "safe"},
                    "risky": {"payoff": "risky"},
                },
            },
        }
    )
    result = evaluate(tree, n=n, seed=3, supplied={"risky": risky})
    return types.SimpleNamespace(result=result, recommendation=result.optimal)


def synthetic_fit(seed: int = 5):
    """Build a stand-in for a fitted model: synthetic prior, posterior and predictive draws."""
    rng = np.random.default_rng(seed)
    shape = (2, 500)
    scale = rng.lognormal(np.log(20), 0.4, shape)
    scale[0, :3] = 5_000.0  # a heavy tail the axis must not follow
    posterior = {"breach_scale": scale, "p_accept": rng.beta(4, 6, shape)}
    prior = {
        "breach_scale": rng.lognormal(np.log(24), 1.0, shape),
        "p_accept": rng.beta(2, 3, shape),
    }
    missiles = rng.negative_binomial(1, 0.3, (2, 500, 40)).astype(float)
    missiles[0, 0, 0] = 900.0
    idata = az.from_dict(
        posterior=posterior,
        prior=prior,
        posterior_predictive={"missiles": missiles},
        observed_data={"missiles": rng.negative_binomial(1, 0.3, 40).astype(float)},
    )
    return types.SimpleNamespace(idata=idata, headline_names=("breach_scale", "p_accept"))


def test_strategy_values_span_the_bulk_and_note_the_tails():
    analysis = synthetic_strategies()
    figure = plots.plot_strategy_values(analysis)
    ax = figure.axes[0]
    lo, hi = ax.get_xlim()
    assert hi < 1.0 and lo < 0.0 < hi  # not 20: the bulk is around 0.1, the status quo at 0
    label = ax.get_xlabel()
    assert label.startswith("expected value (synthetic points)")
    count = int(label.split("\n")[1].split(" of ")[0])
    assert 5 <= count <= 0.02 * 6000 and "of 6,000 draws" in label and "up to 20" in label
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["nothing", "safe", "risky"]
    # the diamond of the risky strategy is the mean of all its draws, extremes included
    means = [line.get_xdata()[0] for line in ax.lines if line.get_marker() in "D<>"]
    risky = np.asarray(analysis.result.root_values_per_draw)[:, 2]
    assert means[2] == pytest.approx(min(risky.mean(), hi))


def test_no_tail_note_when_every_draw_is_on_the_axis():
    figure = plots.plot_strategy_values(synthetic_strategies(extreme=0.12, count=1))
    assert "off the axis" in figure.axes[0].get_xlabel()  # 1st-99th: some draws always lie out
    assert plots._outside_note([np.array([0.1, 0.2])], 0.0, 1.0) == ""


# ArviZ 0.23's plot_posterior passes matplotlib 3.11 a deprecated argument: not ours to fix.
@pytest.mark.filterwarnings("ignore:Passing a dict or None as alias_mapping")
def test_posteriors_prior_posterior_and_ppc_use_the_bulk_with_units():
    fit = synthetic_fit()
    figure = plots.plot_posteriors(fit)
    scale_axis = next(a for a in figure.axes if a.get_title().startswith("breach_scale"))
    assert scale_axis.get_xlim()[1] < 200  # not 5,000
    label = scale_axis.get_xlabel()
    assert label.startswith("months\n") and "of 1,000 draws" in label and "up to 5e+03" in label
    p_axis = next(a for a in figure.axes if a.get_title().startswith("p_accept"))
    assert p_axis.get_xlabel().startswith("probability")

    figure = plots.plot_prior_posterior(fit, ["breach_scale", "p_accept"])
    assert figure.axes[0].get_xlim()[1] < 1_000
    assert figure.axes[0].get_xlabel().startswith("months\n")
    assert "off the axis" in figure.axes[0].get_xlabel()
    assert figure.axes[1].get_ylabel() == "density"

    figure = plots.plot_ppc(fit, "missiles", num_pp_samples=20)
    ax = figure.axes[0]
    assert ax.get_xlim()[1] < 900
    assert ax.get_xlim()[1] >= fit.idata.observed_data["missiles"].values.max()
    assert ax.get_xlabel().startswith("missiles per walk period (a quarter by default)\n")


def test_every_axis_names_its_units():
    import pandas as pd

    launches = pd.DataFrame(
        {"month": ["2017-01", "2017-02"], "missiles": [2, 5], "long_range_missiles": [0, 1]}
    )
    trade = pd.DataFrame({"year": [2015, 2016], "total_usd_m": [5700.0, 5600.0]})
    record = pd.DataFrame(
        {
            "commitment_date": ["2016-03-02", "2016-11-30"],
            "extent": [0.25, 0.75],
            "episode": ["a", "b"],
        }
    )
    trend = pd.DataFrame({"month": ["2017-09"], "name": ["p_accept"], "value": [0.4]})
    figures = [
        plots.plot_launch_record(launches),
        plots.plot_trade(trade),
        plots.plot_enforcement_record(record),
        plots.plot_monitoring_trend(trend, "2017-10", {"p_accept": 0.5, "value_x": 0.1}),
    ]
    for figure in figures:
        for ax in figure.axes:
            assert ax.get_xlabel() and ax.get_ylabel(), figure
    assert figures[1].axes[0].get_ylabel() == "US$ millions per year"
    assert plots.variable_units("p_hold_after") == "probability"
    assert plots.variable_units("breach_fraction_after") == "share, 0 to 1"


def test_show_puts_an_escaped_caption_under_the_figure(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    figure = plots.plot_strategy_values(synthetic_strategies())
    plots.show(figure, "Read: <b>this</b> & that.")
    assert shown[0] is figure
    assert shown[1].data == (
        '<p class="figure-caption"><em>Read: &lt;b&gt;this&lt;/b&gt; &amp; that.</em></p>'
    )
    assert not plt.fignum_exists(figure.number)  # not drawn a second time at the cell's end


def test_trade_plot_draws_one_statistical_series_never_a_line_across_two():
    import pandas as pd

    trade = pd.DataFrame(  # synthetic figures in the shape of trade_annual.csv
        {
            "year": [2013, 2014, 2015, 2016, 2016, 2017],
            "series": ["KOTRA", "KOTRA", "KOTRA", "ITC/WTO", "GACC", "GACC"],
            "total_usd_m": [6500.0, 6400.0, 5700.0, 5500.0, 5650.0, 5060.0],
            "source": ["synthetic test data"] * 6,
        }
    )
    name, rows = plots.trade_series(trade)
    assert name == "KOTRA" and list(rows["year"]) == [2013, 2014, 2015]
    figure = plots.plot_trade(trade)
    (line,) = figure.axes[0].get_lines()
    assert list(line.get_xdata()) == [2013, 2014, 2015]
    assert figure.axes[0].get_title() == "China-DPRK trade (KOTRA)"
    tie = trade[trade["series"] != "ITC/WTO"].iloc[1:]  # KOTRA 2014-15 and GACC 2016-17
    assert plots.trade_series(tie)[0] == "GACC"  # same count: the latest year wins
