"""Fitting answers with PreliZ: known answers recovered, the fit error, refusal of a poor fit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from decision.core.backend import COMPILE_CACHE_VARIABLE
from decision.elicitation import FitRefused, fit_answers, ks_distance
from decision.elicitation.fitting import spec_parameter
from decision.elicitation.records import Method


@pytest.fixture(autouse=True)
def fits_not_stored(tmp_path, monkeypatch):
    """Fit afresh with PreliZ: stored fits of earlier runs must not answer these checks."""
    monkeypatch.setenv(COMPILE_CACHE_VARIABLE, str(tmp_path / "compile"))


KNOWN = [
    ("beta", stats.beta(2, 8), {"alpha": 2, "beta": 8}),
    ("beta", stats.beta(5, 3), {"alpha": 5, "beta": 3}),
    ("normal", stats.norm(10, 3), {"mean": 10, "sd": 3}),
    ("lognormal", stats.lognorm(s=0.5, scale=np.exp(1.2)), {"mu": 1.2, "sigma": 0.5}),
]


@pytest.mark.parametrize("family, truth, arguments", KNOWN, ids=lambda v: str(v)[:20])
@pytest.mark.parametrize("percentiles", [(5, 50, 95), (10, 50, 90), (25, 50, 75), (5, 95)])
def test_quantiles_of_a_known_distribution_are_recovered(
    family, truth, arguments, percentiles, elicited
):
    answers = {f"p{p:02d}": float(truth.ppf(p / 100)) for p in percentiles}
    fit = fit_answers(elicited(Method(name="quantiles", distribution=family), answers))
    assert fit.spec["distribution"] == family
    for key, value in arguments.items():
        assert fit.spec[key] == pytest.approx(value, rel=0.01, abs=0.01), (key, fit.spec)
    assert fit.error < 0.001
    known = spec_parameter({"distribution": family, **arguments})
    assert ks_distance(fit.parameter, known) < 0.005
    fit.check()  # within the default tolerance


@pytest.mark.parametrize(
    "family, truth, mode",
    [
        ("beta", stats.beta(2, 8), 1 / 8),
        ("beta", stats.beta(4, 3), 3 / 5),
        ("normal", stats.norm(10, 3), 10.0),
        ("lognormal", stats.lognorm(s=0.5, scale=np.exp(1.2)), np.exp(1.2 - 0.25)),
    ],
    ids=["beta-2-8", "beta-4-3", "normal", "lognormal"],
)
def test_a_mode_and_an_interval_of_a_known_distribution_are_recovered(
    family, truth, mode, elicited
):
    low, high = (float(x) for x in truth.ppf([0.1, 0.95]))
    answers = {"mode": float(mode), "low": low, "high": high, "mass": 0.85}
    fit = fit_answers(elicited(Method(name="mode-interval", distribution=family), answers))
    assert fit.error < 0.005
    x = np.linspace(*truth.ppf([0.001, 0.999]), 400)
    assert np.max(np.abs(fit.parameter.frozen().cdf(x) - truth.cdf(x))) < 0.01


@pytest.mark.parametrize("family", ["triangular", "pert"])
def test_three_points_are_read_exactly_as_the_ends_and_the_mode(family, elicited):
    fit = fit_answers(
        elicited(Method(name="three-point", distribution=family), {"low": 2, "mode": 3, "high": 7})
    )
    assert fit.spec == {"distribution": family, "low": 2, "mode": 3, "high": 7}
    assert fit.error == 0
    frozen = fit.parameter.frozen()
    assert frozen.cdf(2) == 0 and frozen.cdf(7) == 1


def test_answers_no_distribution_of_the_family_fits_are_refused_naming_file_and_field(elicited):
    skewed = {"p05": 1.0, "p50": 2.0, "p95": 9.0}  # no normal has these three quantiles
    fit = fit_answers(elicited(Method(name="quantiles", distribution="normal"), skewed))
    assert fit.error > 0.01
    with pytest.raises(FitRefused) as caught:
        fit.check(0.01)
    message = str(caught.value)
    assert message.startswith("synthetic.yaml, field 'judgments.x.answers': the normal")
    assert "tolerance 0.01" in message and "\n" not in message
    fit.check(0.5)  # a stated, larger tolerance accepts it


def test_the_fit_error_is_measured_on_the_spec_as_written(elicited):
    truth = stats.beta(2, 8)
    answers = {f"p{p:02d}": float(truth.ppf(p / 100)) for p in (5, 50, 95)}
    fit = fit_answers(elicited(Method(name="quantiles", distribution="beta"), answers))
    frozen = spec_parameter(fit.spec).frozen()
    misses = [abs(frozen.cdf(answers[f"p{p:02d}"]) - p / 100) for p in (5, 50, 95)]
    assert fit.error == pytest.approx(max(misses))
    assert all(
        len(f"{v:g}".replace(".", "").lstrip("0")) <= 4
        for v in fit.spec.values()
        if isinstance(v, float)
    )
