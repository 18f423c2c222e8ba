"""The tree engine's mixture distribution (a linear pool) and the provenance metadata."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy import stats

from decision.core.errors import InputError
from decision.tree import evaluate, load_tree
from decision.tree.parameters import MixtureParameter, parse_parameters, sample_parameters

MIXTURE = {
    "distribution": "mixture",
    "components": [
        {"weight": 3, "distribution": "triangular", "low": 0, "mode": 1, "high": 2},
        {"weight": 1, "distribution": "normal", "mean": 10, "sd": 1},
    ],
}


def _parse(spec):
    return parse_parameters({"m": spec}, file="tree.yaml")["m"]


def test_a_mixture_has_the_weighted_cdf_mean_and_quantiles():
    m = _parse(MIXTURE)
    assert isinstance(m, MixtureParameter) and m.weights == (0.75, 0.25)
    tri, norm = stats.triang(c=0.5, loc=0, scale=2), stats.norm(10, 1)
    x = np.linspace(-1, 14, 301)
    np.testing.assert_allclose(m.frozen().cdf(x), 0.75 * tri.cdf(x) + 0.25 * norm.cdf(x))
    assert m.mean() == pytest.approx(0.75 * 1 + 0.25 * 10)
    q = np.array([0.01, 0.3, 0.74, 0.9, 0.99])
    np.testing.assert_allclose(m.frozen().cdf(m.ppf(q)), q, atol=1e-9)
    assert m.ppf(0.5) == pytest.approx(tri.ppf(0.5 / 0.75), abs=1e-6)
    assert np.isscalar(m.ppf(0.5)) or np.ndim(m.ppf(0.5)) == 0
    assert m.frozen().std() == pytest.approx(
        np.sqrt(0.75 * (tri.var() + 1) + 0.25 * (1 + 100) - 3.25**2)
    )


def test_mixture_draws_are_vectorised_seeded_and_follow_the_weights():
    specs = {"m": _parse(MIXTURE)}
    first = sample_parameters(specs, 40000, seed=11)["m"]
    again = sample_parameters(specs, 40000, seed=11)["m"]
    other = sample_parameters(specs, 40000, seed=12)["m"]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert first.shape == (40000,)
    assert np.mean(first > 5) == pytest.approx(0.25, abs=0.01)
    assert stats.kstest(first, _parse(MIXTURE).frozen().cdf).pvalue > 0.001


def test_a_tree_with_a_mixture_evaluates():
    tree = load_tree(
        {
            "name": "mixture",
            "parameters": {"gain": MIXTURE},
            "root": {
                "type": "decision",
                "name": "d",
                "options": {"take": {"payoff": "gain - 3"}, "leave": {"payoff": 0}},
            },
        }
    )
    result = evaluate(tree, n=20000, seed=3)
    assert result.options["take"] == pytest.approx(0.75 + 2.5 - 3, abs=0.05)


@pytest.mark.parametrize(
    "components, field, words",
    [
        ([], "parameters.m.components", "a list of 1 to"),
        (
            [{"weight": 1, "distribution": "mixture", "components": []}],
            "parameters.m.components[0].distribution",
            "not a mixture",
        ),
        (
            [{"weight": 0, "distribution": "beta", "alpha": 1, "beta": 1}],
            "parameters.m.components[0].weight",
            "weight must be > 0",
        ),
        (
            [{"distribution": "beta", "alpha": 1, "beta": 1}],
            "parameters.m.components[0].weight",
            "weight must be a number",
        ),
        (
            [{"weight": 1, "distribution": "beta", "alpha": -1, "beta": 1}],
            "parameters.m.components[0]",
            "alpha and beta must be > 0",
        ),
        (
            [{"weight": 1, "distribution": "beta", "alpha": 1, "beta": 1, "mode": 2}],
            "parameters.m.components[0]",
            "unknown key 'mode'",
        ),
    ],
)
def test_a_bad_mixture_names_the_component_and_field(components, field, words):
    with pytest.raises(InputError) as caught:
        _parse({"distribution": "mixture", "components": components})
    assert f"tree.yaml, field '{field}'" in str(caught.value)
    assert words in str(caught.value)


def test_provenance_is_kept_as_plain_data_and_checked():
    spec = {
        "distribution": "beta",
        "alpha": 2,
        "beta": 8,
        "judgment": True,
        "provenance": {"experts": ["a"], "dates": [dt.date(2017, 8, 20)], "fit_error": 0.0},
    }
    parameter = _parse(spec)
    assert parameter.provenance == {"experts": ["a"], "dates": ["2017-08-20"], "fit_error": 0.0}
    assert parameter.metadata()["provenance"]["experts"] == ["a"]
    with pytest.raises(InputError, match=r"field 'parameters\.m\.provenance': expected a mapping"):
        _parse({**spec, "provenance": "me"})
    with pytest.raises(InputError, match=r"provenance\.bad': must be finite"):
        _parse({**spec, "provenance": {"bad": float("nan")}})
