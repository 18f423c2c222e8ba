"""The padded models and the sampler compiled once per model structure.

Fast lane: the padded model (``build(padded=True)``) has the unpadded model's log density,
for several ``as_of`` dates, the worked ledger and changed priors, through *one* compiled
padded log density whose data are switched between cases; more data than a capacity is a
clear error. Slow lane: refits on another ``as_of`` and another prior compile nothing, and the
compiled path's ``InferenceData`` is laid out like ``pymc.sample``'s.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytensor
import pytest

from decision.core.errors import InputError
from decision.models import ChinaFollowThroughModel, DPRKComplianceModel
from decision.observations import load_observations
from decision.testing import TINY_SAMPLER, python_log_density

ROOT = Path(__file__).resolve().parents[2]
LEDGER = ROOT / "examples" / "monitoring-2017" / "observations.csv"


def _scaled_priors(cls, factor: float) -> dict:
    return {
        key: {par: value * factor if value > 0 else value - 0.3 for par, value in spec.items()}
        for key, spec in cls.default_priors.items()
    }


def _cases(cls) -> list[dict]:
    ledger = load_observations(LEDGER)
    return [
        {"as_of": "2017-08-20"},
        {"as_of": "2017-12-31", "observations": ledger},
        {"as_of": "2018-02-28", "observations": ledger},
        {"as_of": "2013-06-30"},  # China: no enforcement episode yet (all padding)
        {"as_of": "2020-12-31", "priors": _scaled_priors(cls, 1.3)},
    ]


def _padded_point(unpadded_point: dict, padded_start: dict, rng) -> tuple[dict, float]:
    """Return the padded model's point holding ``unpadded_point`` first in every array.

    The padded model's extra entries (the walks' prior-only steps) get random values; their
    standard-normal log density is returned so it can be taken out of the comparison.
    """
    from scipy import stats

    point, extra = {}, 0.0
    for name, start in padded_start.items():
        value = np.array(start, dtype=float)
        if value.ndim:
            value = value + rng.normal(size=value.shape)
            n = np.size(unpadded_point[name])
            value[:n] = unpadded_point[name]
            extra += float(stats.norm.logpdf(value[n:]).sum())
        else:
            value = np.asarray(unpadded_point[name], dtype=float)
        point[name] = value
    return point, extra


@pytest.mark.parametrize("cls", [DPRKComplianceModel, ChinaFollowThroughModel])
def test_one_padded_log_density_equals_each_cases_unpadded_one(cls):
    rng = np.random.default_rng(20170820)
    cases = _cases(cls)
    padded = cls(**cases[0]).build(padded=True)
    padded_logp = python_log_density(padded)  # compiled once: the cases only change its data
    data_names = sorted(v.name for v in padded.data_vars)
    start = padded.initial_point()
    seen_data = set()
    for case in cases:
        model = cls(**case)
        values = model.build(padded=True)
        assert sorted(v.name for v in values.data_vars) == data_names
        for name in data_names:
            padded[name].set_value(values[name].get_value())
        seen_data.add(tuple(np.asarray(values[n].get_value()).tobytes() for n in data_names))
        unpadded = model.build()
        unpadded_logp = python_log_density(unpadded)
        for _ in range(3):
            point = {
                k: v + rng.uniform(-0.7, 0.7, np.shape(v))
                for k, v in unpadded.initial_point().items()
            }
            padded_point, extra = _padded_point(point, start, rng)
            expected = float(unpadded_logp(point))
            assert np.isfinite(expected)
            assert float(padded_logp(padded_point)) - extra == pytest.approx(
                expected, abs=1e-8, rel=1e-12
            ), case
    assert len(seen_data) == len(cases)  # each case really gave the padded model other data


def test_the_padded_walks_hold_the_data_periods_first_and_the_coming_year_after_them():
    model = DPRKComplianceModel(as_of="2017-08-20")
    padded = model.build(padded=True)
    n_periods = model.data["n_periods"]
    assert padded["launch_periods_seen"].get_value() == n_periods
    assert len(padded.coords["period"]) == model.launch_period_capacity() > n_periods
    assert padded.coords["ahead"] == model.build().coords["ahead"]
    steps = np.linspace(-1, 1, len(padded.coords["period"]) + model.data["periods_ahead"] - 1)
    point = {**padded.initial_point(), "rate_steps": steps, "rate_drift_log__": np.log(0.5)}
    outputs = padded.replace_rvs_by_values([padded["log_rate"], padded["log_rate_ahead"]])
    inputs = [
        padded.rvs_to_values[padded[n]] for n in ("log_rate_init", "rate_drift", "rate_steps")
    ]
    log_rate, ahead = pytensor.function(inputs, outputs)(
        point["log_rate_init"], point["rate_drift_log__"], steps
    )
    walk = point["log_rate_init"] + np.concatenate([[0.0], np.cumsum(steps)]) * 0.5
    np.testing.assert_allclose(log_rate, walk[: len(log_rate)])
    np.testing.assert_allclose(ahead, walk[n_periods : n_periods + model.data["periods_ahead"]])


@pytest.mark.parametrize(
    "cls, capacity, field",
    [
        (DPRKComplianceModel, {"offers": 3}, "dprk_compliance.capacities.offers"),
        (DPRKComplianceModel, {"launch_months": 24}, "dprk_compliance.capacities.launch_months"),
        (ChinaFollowThroughModel, {"episodes": 2}, "china_follow_through.capacities.episodes"),
    ],
)
def test_data_beyond_a_capacity_is_a_clear_error(monkeypatch, cls, capacity, field):
    monkeypatch.setattr(cls, "capacities", {**cls.capacities, **capacity})
    model = cls(as_of="2017-12-31")
    model.build()  # the unpadded model has no capacity
    with pytest.raises(InputError, match="capacity") as err:
        model.build(padded=True)
    assert err.value.field == field


def test_compile_once_must_be_a_boolean():
    with pytest.raises(InputError, match="expected true or false") as err:
        ChinaFollowThroughModel(sampler={"compile_once": "yes"})
    assert err.value.field == "sampler.compile_once"


# -- slow lane: real compiled sampling ----------------------------------------------------------
# Refits run at the reports' tiny budget: its program is one the slow lane's renders compile
# anyway, and whether a refit compiles is the same question at any budget.


@pytest.fixture
def backend_compiles():
    """Count the XLA programs built while the test runs: compiled, or read from JAX's cache.

    A program read from the persistent compilation cache counts too, so a refit that needs a
    program of its own is caught even when an earlier run left that program on disk.
    """
    import jax

    events: list[str] = []

    def compiled(event: str, duration: float, **kwargs) -> None:
        if event == "/jax/core/compile/backend_compile_duration":
            events.append(event)

    def loaded(event: str, **kwargs) -> None:
        if event == "/jax/compilation_cache/cache_hits":
            events.append(event)

    jax.monitoring.register_event_duration_secs_listener(compiled)
    jax.monitoring.register_event_listener(loaded)
    yield events
    jax.monitoring.unregister_event_duration_listener(compiled)
    jax.monitoring.unregister_event_listener(loaded)


@pytest.mark.slow
@pytest.mark.parametrize("cls", [DPRKComplianceModel, ChinaFollowThroughModel])
def test_refits_on_another_date_ledger_or_prior_compile_nothing(cls, backend_compiles):
    ledger = load_observations(LEDGER)
    first = cls(sampler=TINY_SAMPLER, as_of="2017-08-20").fit(use_cache=False)
    after_first = len(backend_compiles)
    refits = [
        cls(sampler=TINY_SAMPLER, as_of="2017-12-31", observations=ledger).fit(use_cache=False),
        cls(sampler=TINY_SAMPLER, priors=_scaled_priors(cls, 1.3)).fit(use_cache=False),
    ]
    assert len(backend_compiles) == after_first  # the refits compiled nothing
    means = [f.draws(f.headline_names[0]).mean() for f in (first, *refits)]
    assert len(set(np.round(means, 6))) == 3  # and really sampled other posteriors
    # Compiled ahead of the fit (as fit_models does, side by side): the same draws.
    again = cls(sampler=TINY_SAMPLER, as_of="2017-08-20")
    again.prepare_sampler()
    name = first.headline_names[0]
    np.testing.assert_array_equal(again.fit(use_cache=False).draws(name), first.draws(name))
    assert len(backend_compiles) == after_first


@pytest.mark.slow
def test_the_compiled_path_gives_pymc_samples_layout_and_trims_the_padding():
    ledger = load_observations(LEDGER)
    budget = {"draws": 30, "tune": 30, "chains": 2}
    fits = {
        once: DPRKComplianceModel(
            sampler={**budget, "compile_once": once}, as_of="2017-12-31", observations=ledger
        ).fit(use_cache=False)
        for once in (True, False)
    }
    compiled, reference = fits[True].idata, fits[False].idata
    assert set(compiled.groups()) == set(reference.groups())
    for group in ("posterior", "observed_data", "constant_data", "prior", "posterior_predictive"):
        ours, theirs = compiled[group], reference[group]
        assert set(ours.data_vars) == set(theirs.data_vars), group
        for name in theirs.data_vars:
            assert ours[name].dims == theirs[name].dims, (group, name)
            assert ours[name].shape == theirs[name].shape, (group, name)
    for name in reference.observed_data.data_vars:
        np.testing.assert_array_equal(compiled.observed_data[name], reference.observed_data[name])
    assert {"diverging", "acceptance_rate", "step_size", "tree_depth"} <= set(
        compiled.sample_stats.data_vars
    )
    assert compiled.posterior.attrs["nuts_sampler"] == "numpyro"
