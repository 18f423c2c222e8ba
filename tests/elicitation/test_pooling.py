"""Pooling: the linear opinion pool as a mixture, equal and Cooke performance weights."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy.signal import find_peaks

from decision.core.errors import InputError
from decision.elicitation import (
    Fit,
    calibration_score,
    elicit_case,
    linear_pool,
    load_records,
    load_seeds,
    performance_weights,
)
from decision.elicitation.records import Elicited, Judgment, Method, Record
from decision.tree.parameters import MixtureParameter, sample_parameters


def _fit(expert: str, spec: dict, name: str = "x") -> Fit:
    method = Method(name="three-point", distribution="triangular")
    judgment = Judgment(
        question="q?", units="u", answers={"low": 0, "mode": 1, "high": 2}, rationale="synthetic"
    )
    record = Record(
        expert={"id": expert, "name": expert},
        date=dt.date(2017, 8, 20),
        case="freeze_plus_pressure",
        horizon="h",
        method=method,
        judgments={name: judgment},
    )
    return Fit(Elicited(name, judgment, method, record, f"{expert}.yaml"), spec, 0.0, "")


TRIANGLE = {"distribution": "triangular", "low": 0.0, "mode": 1.0, "high": 2.0}
FAR = {"distribution": "triangular", "low": 10.0, "mode": 11.0, "high": 12.0}


def test_a_pool_of_two_identical_experts_equals_one():
    one = linear_pool([_fit("a", TRIANGLE)])
    two = linear_pool([_fit("a", TRIANGLE), _fit("b", dict(TRIANGLE))])
    assert two.spec == one.spec == TRIANGLE
    x = np.linspace(-1, 3, 81)
    np.testing.assert_array_equal(two.parameter.frozen().cdf(x), one.parameter.frozen().cdf(x))
    draws_one = sample_parameters({"x": one.parameter}, 5000, seed=4)["x"]
    draws_two = sample_parameters({"x": two.parameter}, 5000, seed=4)["x"]
    np.testing.assert_array_equal(draws_one, draws_two)
    assert two.spread() == "medians 1 to 1 (2 experts)"


def test_a_pool_of_two_disjoint_experts_is_bimodal():
    pool = linear_pool([_fit("a", TRIANGLE), _fit("b", FAR)])
    parameter = pool.parameter
    assert isinstance(parameter, MixtureParameter)
    assert parameter.weights == (0.5, 0.5)
    x = np.linspace(-1, 13, 1401)
    density = parameter.frozen().pdf(x)
    peaks, _ = find_peaks(density)
    assert sorted(x[peaks].round(2)) == [1.0, 11.0]
    assert density[(x > 2.5) & (x < 9.5)].max() == 0  # nothing between the two experts
    draws = sample_parameters({"x": parameter}, 20000, seed=1)["x"]
    counts, _ = np.histogram(draws, bins=[-1, 2, 10, 13])
    assert counts[1] == 0 and abs(counts[0] / counts[2] - 1) < 0.05
    assert parameter.ppf(0.25) == pytest.approx(1.0, abs=1e-6)
    assert parameter.ppf(0.75) == pytest.approx(11.0, abs=1e-6)
    assert parameter.mean() == pytest.approx(6.0)


def test_weights_are_normalised_and_an_expert_without_weight_has_none():
    pool = linear_pool([_fit("a", TRIANGLE), _fit("b", FAR)], {"a": 3.0, "b": 1.0})
    assert pool.weights == (0.75, 0.25)
    assert pool.spec["components"][0]["weight"] == 0.75
    only = linear_pool([_fit("a", TRIANGLE), _fit("b", FAR)], {"a": 1.0})
    assert only.spec == TRIANGLE
    with pytest.raises(InputError, match="positive weight"):
        linear_pool([_fit("a", TRIANGLE)], {"b": 1.0})


def test_calibration_is_one_for_realisations_spread_as_stated_and_low_for_overconfidence():
    assert calibration_score([1, 9, 9, 1]) == pytest.approx(1.0)
    assert calibration_score([10, 0, 0, 10]) < 1e-6
    assert calibration_score([2, 8, 9, 1]) > 0.5


SEEDS = """seeds:
{items}
"""


def _seed_files(tmp_path, write_record, minimal_record, answers_by_expert, truths):
    items = "\n".join(
        f"  s{i}: {{question: 'Synthetic seed {i}?', units: u, realization: {t}, "
        f"source: synthetic}}"
        for i, t in enumerate(truths)
    )
    (tmp_path / "seeds.yaml").write_text(SEEDS.format(items=items))
    for expert, answers in answers_by_expert.items():
        seeds = {f"s{i}": {"p05": a[0], "p50": a[1], "p95": a[2]} for i, a in enumerate(answers)}
        write_record(
            minimal_record(expert={"id": expert, "name": expert}, seeds=seeds), f"{expert}.yaml"
        )


def test_performance_weights_favour_the_calibrated_and_informative_expert(
    tmp_path, write_record, minimal_record
):
    truths = [float(t) for t in range(1, 11)]
    calibrated = [(t - 2, t + 0.3, t + 3) for t in truths]  # truths fall near the middle
    overconfident = [(t + 0.5, t + 0.8, t + 1.0) for t in truths]  # every truth below p05
    _seed_files(
        tmp_path,
        write_record,
        minimal_record,
        {"calibrated": calibrated, "overconfident": overconfident},
        truths,
    )
    table = performance_weights(load_records(tmp_path), load_seeds(tmp_path / "seeds.yaml"))
    assert table.loc["calibrated", "weight"] > 0.99
    assert table["weight"].sum() == pytest.approx(1.0)
    assert table.loc["overconfident", "information"] > table.loc["calibrated", "information"]
    elicitation = elicit_case(folder=tmp_path)
    assert elicitation.scheme == "performance weights"
    assert elicitation.pools["s_readiness"].weights[0] > 0.99
    equal = elicit_case(folder=tmp_path, pool="equal")
    assert equal.scheme == "equal weights" and equal.weights == {
        "calibrated": 0.5,
        "overconfident": 0.5,
    }


def test_performance_weights_need_every_expert_to_answer_every_seed(
    tmp_path, write_record, minimal_record
):
    _seed_files(
        tmp_path,
        write_record,
        minimal_record,
        {"a": [(0, 1, 2), (0, 1, 2)], "b": [(0, 1, 2)]},
        [1.0, 1.5],
    )
    with pytest.raises(InputError, match=r"b\.yaml, field 'seeds': .*missing: s1"):
        elicit_case(folder=tmp_path)


def test_a_seed_answer_for_an_unknown_question_names_the_record(
    tmp_path, write_record, minimal_record
):
    _seed_files(tmp_path, write_record, minimal_record, {"a": [(0, 1, 2)]}, [1.0])
    write_record(
        minimal_record(
            expert={"id": "c", "name": "c"},
            seeds={"s0": {"p05": 0, "p50": 1, "p95": 2}, "s9": {"p05": 0, "p50": 1, "p95": 2}},
        ),
        "c.yaml",
    )
    with pytest.raises(InputError, match=r"c\.yaml, field 'seeds\.s9': unknown seed question"):
        elicit_case(folder=tmp_path)
