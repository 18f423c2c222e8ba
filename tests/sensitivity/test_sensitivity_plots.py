"""Every sensitivity figure draws from the library's results (smoke tests, Agg backend)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from decision import plots  # noqa: E402
from decision.sensitivity import (  # noqa: E402
    acceptability,
    evppi,
    one_way,
    prior_sensitivity,
    sobol,
    tornado,
    two_way,
)
from decision.tree import evaluate  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_sensitivity_plots(small_tree, korea_case, synthetic_fits_small, synthetic_supplied):
    data = one_way(small_tree, n=300, seed=1, points=5)
    figures = [
        plots.plot_tornado(tornado(data)),
        plots.plot_tornado(tornado(data, "a")),
        plots.plot_spider(data),
        plots.plot_strategy_region(two_way(small_tree, "p", "q", n=200, seed=1, points=7)),
        plots.plot_acceptability(acceptability(small_tree, "p", n=500, seed=1, points=5)),
        plots.plot_evppi(
            evppi(
                evaluate(small_tree, n=1000, seed=1),
                groups={"pq": ["p", "q"]},
                config={"se_samples": 20},
            )
        ),
        plots.plot_sobol(sobol(small_tree, n=100, seed=1, n_base=64, config={"num_resamples": 10})),
        plots.plot_prior_sensitivity(
            prior_sensitivity(
                synthetic_fits_small,
                case=korea_case,
                priors=["china.accepts", "dprk.accept_willingness"],
            )
        ),
    ]
    for figure in figures:
        assert isinstance(figure, plt.Figure)
    for name in (
        "plot_tornado",
        "plot_spider",
        "plot_strategy_region",
        "plot_acceptability",
        "plot_evppi",
        "plot_sobol",
        "plot_prior_sensitivity",
    ):
        assert name in plots.__all__
