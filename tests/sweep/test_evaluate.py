"""Evaluating one scenario: the computation of ``decision analyze``, on a sweep's posterior."""

from __future__ import annotations

import numpy as np
import pytest

from decision.case import analyze, load_case
from decision.core.errors import InputError
from decision.sweep import Posterior, case_for, evaluate_scenario, fit_posterior, load_sweep


def test_a_scenario_without_overrides_is_what_analyze_gives():
    from decision.testing import synthetic_fits

    fits = synthetic_fits(600, seed=4)
    analysis = analyze(fits=fits, seed=9)
    case = load_case()
    posterior = Posterior("synthetic", case.supplied_draws(fits), {})
    row = evaluate_scenario(case, posterior, draws=None, seed=9, value_of_monitoring=True)
    assert row["recommendation"] == analysis.recommendation
    table = analysis.strategy_table()
    for strategy, values in table.iterrows():
        assert row[f"ev.{strategy}"] == pytest.approx(values["expected value"])
        assert row[f"ev_5.{strategy}"] == pytest.approx(values["5%"])
        assert row[f"ev_95.{strategy}"] == pytest.approx(values["95%"])
        assert row[f"p_optimal.{strategy}"] == pytest.approx(values["probability optimal"])
    for level, option in analysis.contingent_plan.items():
        assert row[f"plan.{level}"] == option
        assert row[f"plan_share.{level}"] == pytest.approx(
            analysis.contingent_plan_probability[level]
        )
    assert row["value_of_monitoring"] == pytest.approx(analysis.value_of_monitoring)
    for option, value in analysis.fixed_plan_values.items():
        assert row[f"fixed_plan.{option}"] == pytest.approx(value)


def test_overrides_change_the_row_and_invalid_ones_are_input_errors(synthetic_posterior):
    case = load_case()
    plain = evaluate_scenario(case, synthetic_posterior, draws=300)
    assert "value_of_monitoring" not in plain
    heavy = evaluate_scenario(
        case, synthetic_posterior, {"china_pressure_if_refused": 0.9}, draws=300
    )
    assert heavy["ev.freeze-plus-pressure"] != plain["ev.freeze-plus-pressure"]
    assert heavy["ev.status quo"] == plain["ev.status quo"] == 0.0
    with pytest.raises(InputError, match="p_accept_f4f"):
        evaluate_scenario(case, synthetic_posterior, {"p_accept_f4f": 1.5}, draws=300)


def test_case_for_applies_a_scenario_spec_and_is_cached():
    base = load_case().scenario
    spec = {"distribution": "uniform", "low": 0.1, "high": 0.2}
    case = case_for("freeze_plus_pressure", base, {"china_pressure_if_refused": spec})
    assert case.tree.parameters["china_pressure_if_refused"].distribution == "uniform"
    assert case_for("freeze_plus_pressure", base, {"china_pressure_if_refused": spec}) is case
    assert case_for("freeze_plus_pressure", base, {}) is not case


def test_fit_posterior_reduces_the_fits_and_reuses_the_cache(
    write_sweep, fake_sampling, tiny_sampler
):
    sweep = load_sweep(write_sweep(sampler=tiny_sampler))
    spec = sweep.fits[sweep.base_fit_key]
    first = fit_posterior(spec)
    assert first.error is None and first.fit_key == spec.key
    case = load_case()
    from_evidence = set(case.evidence_inputs(spec.as_of, 1))
    assert from_evidence  # the exercise calendar rides with the posterior draws
    assert set(first.supplied) == set(case.spec.supplied) | from_evidence
    n = tiny_sampler["draws"] * tiny_sampler["chains"]
    assert {len(v) for v in first.supplied.values()} == {n} and first.n == n
    assert all(np.all((v >= 0) & (v <= 1)) for k, v in first.supplied.items() if k[:2] == "p_")
    assert set(first.headline) == {q.name for q in load_case().spec.headline}
    assert first.from_cache is False and isinstance(first.diagnostics_ok, bool)
    again = fit_posterior(spec)
    assert again.from_cache is True
    np.testing.assert_array_equal(again.supplied["p_accept_f4f"], first.supplied["p_accept_f4f"])
