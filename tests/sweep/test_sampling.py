"""Sampled designs: the tree engine's distributions, values, dates; Latin hypercube strata."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import numpy as np
import pytest

from decision.core.errors import InputError
from decision.sweep import load_sweep
from decision.tree.parameters import DISTRIBUTIONS, parse_parameters

#: Valid arguments of every distribution of the tree engine.
EXAMPLES = {
    "beta": {"alpha": 4, "beta": 6},
    "normal": {"mean": 0.3, "sd": 0.05},
    "lognormal": {"mu": -1.5, "sigma": 0.3},
    "uniform": {"low": 0.1, "high": 0.5},
    "triangular": {"low": 0.1, "mode": 0.2, "high": 0.5},
    "pert": {"low": 0.1, "mode": 0.2, "high": 0.5, "lambda": 6},
}


def test_every_distribution_of_the_tree_engine_has_an_example():
    assert set(EXAMPLES) == set(DISTRIBUTIONS)


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_a_latin_hypercube_puts_one_point_in_each_stratum_of_every_distribution(write_sweep, name):
    n = 8
    spec = {"distribution": name, **EXAMPLES[name]}
    sweep = load_sweep(
        write_sweep(sample={"n": n, "seed": 3, "parameters": {"china_pressure_if_refused": spec}})
    )
    values = np.array([s.values["china_pressure_if_refused"] for s in sweep.scenarios])
    assert len(values) == n
    # The tree engine's own distribution: each value sits in its own 1/n quantile stratum.
    tree_parameter = parse_parameters({"x": spec})["x"]
    strata = np.floor(tree_parameter.frozen().cdf(values) * n).astype(int)
    assert sorted(strata) == list(range(n))


def test_an_unknown_distribution_lists_the_tree_engines(write_sweep):
    path = write_sweep(
        sample={
            "n": 3,
            "parameters": {
                "china_pressure_if_refused": {"distribution": "loguniform", "low": 0.1, "high": 1}
            },
        }
    )
    with pytest.raises(InputError) as info:
        load_sweep(path)
    assert info.value.field == "sample.parameters.china_pressure_if_refused.distribution"
    assert f"expected one of: {', '.join(DISTRIBUTIONS)}, or values: [...]" in str(info.value)


def test_bad_arguments_are_refused_as_in_a_tree_file(write_sweep):
    spec = {"distribution": "normal", "mean": 0.3, "sd": 0}
    with pytest.raises(InputError, match="normal distribution: sd must be > 0"):
        load_sweep(write_sweep(sample={"n": 3, "parameters": {"china_pressure_if_refused": spec}}))
    spec = {"distribution": "normal", "mean": "high", "sd": 1}
    with pytest.raises(InputError, match="mean must be a number, got 'high'") as info:
        load_sweep(write_sweep(sample={"n": 3, "parameters": {"china_pressure_if_refused": spec}}))
    assert info.value.field == "sample.parameters.china_pressure_if_refused.mean"


def test_values_are_equally_likely_and_repeated_points_are_one_scenario(write_sweep):
    only_values = {"r_suspend": {"values": [0.6, 0.8, 1.0]}}
    sweep = load_sweep(write_sweep("a.yaml", sample={"n": 300, "parameters": only_values}))
    assert len(sweep.scenarios) == 3 and sweep.duplicates == 297
    with_uniform = {**only_values, "china_pressure_if_refused": {"low": 0.1, "high": 0.5}}
    sweep = load_sweep(write_sweep("b.yaml", sample={"n": 300, "parameters": with_uniform}))
    assert len(sweep.scenarios) == 300
    assert Counter(s.values["r_suspend"] for s in sweep.scenarios) == {
        0.6: 100,
        0.8: 100,
        1.0: 100,
    }


def test_dates_are_spread_over_the_days_between_low_and_high(write_sweep):
    sweep = load_sweep(
        write_sweep(
            sample={"n": 10, "parameters": {"as_of": {"low": "2017-08-20", "high": "2017-12-31"}}}
        )
    )
    days = sorted(dt.date.fromisoformat(s.values["as_of"]) for s in sweep.scenarios)
    assert days[0] >= dt.date(2017, 8, 20) and days[-1] <= dt.date(2017, 12, 31)
    width = (dt.date(2017, 12, 31) - dt.date(2017, 8, 20)).days + 1
    strata = [(d - dt.date(2017, 8, 20)).days * 10 // width for d in days]
    assert strata == list(range(10))
    assert all(s.refit for s in sweep.scenarios if s.as_of != "2017-08-20")


def test_the_design_seed_and_method(write_sweep):
    def points(filename, **sample):
        parameters = {"china_pressure_if_refused": {"low": 0.0, "high": 1.0}}
        sweep = load_sweep(
            write_sweep(filename, seed=5, sample={"n": 6, "parameters": parameters, **sample})
        )
        return [s.values["china_pressure_if_refused"] for s in sweep.scenarios]

    default = points("a.yaml")
    assert default == points("b.yaml", seed=5)  # the design's seed defaults to the sweep's
    assert default != points("c.yaml", seed=6)
    assert default != points("d.yaml", method="random")
    # Plain random points need not stratify; a Latin hypercube does.
    assert sorted(int(x * 6) for x in default) == list(range(6))
