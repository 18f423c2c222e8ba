"""Parameter specs: kinds, metadata, quantiles, sampling, supplied draws and overrides."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from decision.core.errors import InputError
from decision.tree import (
    DistributionParameter,
    ExpressionParameter,
    FixedParameter,
    SuppliedParameter,
    load_tree,
)

ROOT = {"type": "decision", "name": "D", "options": {"a": {"payoff": "x"}}}


def tree_with(parameters: dict):
    parameters = {"x": 1, **parameters}
    return load_tree({"name": "P", "parameters": parameters, "root": ROOT})


def test_kinds_and_metadata():
    tree = tree_with(
        {
            "fixed": {
                "value": 2,
                "description": "d",
                "rationale": "r",
                "source": "s",
                "judgment": True,
                "range": [1, 3],
                "bounds": [0, 10],
                "units": "kg",
            },
            "beta": {"distribution": "beta", "alpha": 2, "beta": 6, "description": "prior"},
            "drawn": {"supplied": True, "description": "posterior draws", "default": 0.4},
            "derived": "2 * fixed + beta",
            "derived2": {"expression": "fixed / 2", "rationale": "half"},
        }
    )
    specs = tree.parameters
    assert isinstance(specs["x"], FixedParameter) and specs["x"].value == 1
    fixed = specs["fixed"]
    assert fixed.metadata() == {
        "description": "d",
        "rationale": "r",
        "source": "s",
        "judgment": True,
        "units": "kg",
        "range": (1.0, 3.0),
        "bounds": (0.0, 10.0),
    }
    assert isinstance(specs["beta"], DistributionParameter) and specs["beta"].is_uncertain
    assert specs["beta"].description == "prior"
    assert isinstance(specs["drawn"], SuppliedParameter) and specs["drawn"].default == 0.4
    assert isinstance(specs["derived"], ExpressionParameter)
    assert specs["derived"].expression.names == {"fixed", "beta"}
    assert specs["derived2"].rationale == "half"
    assert tree.is_uncertain
    assert not tree_with({}).is_uncertain


@pytest.mark.parametrize(
    "spec, frozen",
    [
        ({"distribution": "beta", "alpha": 2, "beta": 6}, stats.beta(2, 6)),
        ({"distribution": "normal", "mean": 5, "sd": 2}, stats.norm(5, 2)),
        (
            {"distribution": "lognormal", "mu": 1, "sigma": 0.5},
            stats.lognorm(s=0.5, scale=np.exp(1)),
        ),
        ({"distribution": "uniform", "low": 2, "high": 6}, stats.uniform(2, 4)),
        (
            {"distribution": "triangular", "low": 0, "mode": 1, "high": 4},
            stats.triang(c=0.25, loc=0, scale=4),
        ),
        # PERT(0, 1, 4), lambda 4: alpha = 1 + 4 * 1/4 = 2, beta = 1 + 4 * 3/4 = 4.
        ({"distribution": "pert", "low": 0, "mode": 1, "high": 4}, stats.beta(2, 4, 0, 4)),
        (
            {"distribution": "pert", "low": 0, "mode": 1, "high": 4, "lambda": 8},
            stats.beta(3, 7, 0, 4),
        ),
    ],
)
def test_distributions_quantiles_and_draws(spec, frozen):
    parameter = tree_with({"q": spec}).parameters["q"]
    assert parameter.ppf(0.05) == pytest.approx(frozen.ppf(0.05))
    assert parameter.ppf(0.95) == pytest.approx(frozen.ppf(0.95))
    np.testing.assert_allclose(parameter.ppf([0.05, 0.5, 0.95]), frozen.ppf([0.05, 0.5, 0.95]))
    assert parameter.mean() == pytest.approx(frozen.mean())
    draws = parameter.sample(20_000, np.random.default_rng(1))
    assert draws.shape == (20_000,)
    assert np.mean(draws) == pytest.approx(frozen.mean(), rel=0.03, abs=0.01)
    # A two-sample KS test against the frozen distribution's own draws.
    reference = frozen.rvs(size=20_000, random_state=2)
    assert stats.ks_2samp(draws, reference).pvalue > 1e-4


def test_pert_mean_is_the_classic_formula():
    # (low + 4 mode + high) / 6 = (0 + 4 + 4) / 6.
    parameter = tree_with({"q": {"distribution": "pert", "low": 0, "mode": 1, "high": 4}})
    assert parameter.parameters["q"].mean() == pytest.approx(8 / 6)


def test_quantiles_of_numbers_and_supplied():
    tree = tree_with({"s": {"supplied": True}, "e": "x + 1", "c": "2 * 3"})
    assert tree.parameters["x"].ppf(0.05) == 1
    assert tree.parameters["c"].ppf(0.95) == 6
    with pytest.raises(InputError, match="no closed-form quantiles"):
        tree.parameters["s"].ppf(0.05)
    with pytest.raises(InputError, match="no closed-form quantiles"):
        tree.parameters["e"].ppf(0.05)


def test_sampling_is_seeded_per_parameter():
    tree = tree_with(
        {
            "a": {"distribution": "normal", "mean": 0, "sd": 1},
            "b": {"distribution": "uniform", "low": 0, "high": 1},
            "c": "a + b",
        }
    )
    one = tree.sample_parameters(100, seed=3)
    two = tree.sample_parameters(100, seed=3)
    for name in one:
        np.testing.assert_array_equal(one[name], two[name])
    assert list(one) == ["x", "a", "b", "c"]
    np.testing.assert_allclose(one["c"], one["a"] + one["b"])
    assert one["x"].shape == (100,) and not one["x"].flags.writeable
    other = tree.sample_parameters(100, seed=4)
    assert not np.array_equal(one["a"], other["a"])
    # Adding a parameter leaves the others' draws unchanged.
    bigger = tree_with(
        {
            "a": {"distribution": "normal", "mean": 0, "sd": 1},
            "zz": {"distribution": "normal", "mean": 0, "sd": 1},
            "b": {"distribution": "uniform", "low": 0, "high": 1},
        }
    )
    np.testing.assert_array_equal(bigger.sample_parameters(100, seed=3)["a"], one["a"])


def test_supplied_draws_used_as_is_or_resampled_jointly():
    tree = tree_with(
        {"p": {"supplied": True}, "q": {"supplied": True}, "r": {"supplied": True, "default": 0.5}}
    )
    p = np.linspace(0, 1, 50)
    q = p * 10
    same = tree.sample_parameters(50, supplied={"p": p, "q": q})
    np.testing.assert_array_equal(same["p"], p)
    assert float(same["r"][0]) == 0.5
    more = tree.sample_parameters(500, seed=1, supplied={"p": p, "q": q})
    assert more["p"].shape == (500,)
    assert set(np.round(more["p"], 12)) <= set(np.round(p, 12))
    # Joint draws stay together: q is still 10 p after resampling.
    np.testing.assert_allclose(more["q"], 10 * more["p"])
    chains = tree.sample_parameters(
        8, supplied={"p": np.arange(8.0).reshape(2, 4), "q": np.ones(8)}
    )
    np.testing.assert_array_equal(chains["p"], np.arange(8.0))


def test_supplied_errors():
    tree = tree_with({"p": {"supplied": True}})
    with pytest.raises(InputError, match="'p' is declared 'supplied: true'"):
        tree.sample_parameters(10)
    with pytest.raises(InputError, match="unknown parameter 'pp'.*did you mean 'p'"):
        tree.sample_parameters(10, supplied={"pp": [1.0]})
    with pytest.raises(InputError, match="not declared 'supplied: true'"):
        tree.sample_parameters(10, supplied={"x": [1.0]})
    with pytest.raises(InputError, match="non-finite"):
        tree.sample_parameters(10, supplied={"p": [1.0, np.nan]})
    with pytest.raises(InputError, match="1-D"):
        tree.sample_parameters(10, supplied={"p": np.ones((2, 2, 2))})


def test_overrides_replace_any_parameter_and_flow_into_expressions():
    tree = tree_with({"a": {"distribution": "beta", "alpha": 2, "beta": 2}, "b": "a * 2"})
    draws = tree.sample_parameters(5, seed=0, overrides={"a": 0.25})
    np.testing.assert_array_equal(draws["b"], np.full(5, 0.5))
    draws = tree.sample_parameters(3, overrides={"b": [1.0, 2.0, 3.0]})
    np.testing.assert_array_equal(draws["b"], [1, 2, 3])
    with pytest.raises(InputError, match="unknown parameter 'aa'.*did you mean 'a'"):
        tree.sample_parameters(3, overrides={"aa": 1})
    with pytest.raises(InputError, match="array of 3 draws"):
        tree.sample_parameters(3, overrides={"a": [1.0, 2.0]})
    with pytest.raises(InputError, match="finite"):
        tree.sample_parameters(3, overrides={"a": float("inf")})


def test_complete_draws_and_draw_counts():
    tree = tree_with(
        {
            "a": {"distribution": "beta", "alpha": 2, "beta": 2},
            "b": "a * 2",
            "c": {"distribution": "normal", "mean": 0, "sd": 1},
        }
    )
    full = tree.complete_draws({"a": [0.1, 0.2], "c": [0.0, 1.0]}, overrides={"c": 5})
    np.testing.assert_allclose(full["b"], [0.2, 0.4])
    np.testing.assert_array_equal(full["c"], [5, 5])
    assert float(full["x"][1]) == 1
    with pytest.raises(InputError, match="draws lack parameter 'c'"):
        tree.complete_draws({"a": [0.1, 0.2]})
    with pytest.raises(InputError, match="different lengths"):
        tree.complete_draws({"a": [0.1, 0.2], "c": [1.0]})
    for bad in (0, -1, 2.5, True):
        with pytest.raises(InputError, match="positive integer"):
            tree.sample_parameters(bad)
    with pytest.raises(InputError, match="limit"):
        tree.sample_parameters(10**9)


def test_expression_parameter_that_is_not_finite():
    tree = tree_with({"a": {"distribution": "uniform", "low": -1, "high": 1}, "b": "log(a)"})
    with pytest.raises(InputError, match="not finite in") as info:
        tree.sample_parameters(100, seed=0)
    assert info.value.field == "parameters.b"
