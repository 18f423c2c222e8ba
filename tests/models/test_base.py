"""Configuration merging, diagnostics, caching and recorded inputs of the model base class."""

from __future__ import annotations

import json

import arviz as az
import numpy as np
import pytest
import xarray as xr

from decision.core.errors import ConvergenceError, InputError
from decision.models import ChinaFollowThroughModel, Diagnostics, build_models


def test_prior_overrides_merge_over_defaults():
    model = ChinaFollowThroughModel(priors={"cooperation_mean": {"alpha": 5.0}})
    assert model.priors["cooperation_mean"] == {"alpha": 5.0, "beta": 2.0}
    assert model.priors["accepts"] == ChinaFollowThroughModel.default_priors["accepts"]


def test_unknown_prior_key_names_the_key():
    with pytest.raises(InputError, match="cooperation_men"):
        ChinaFollowThroughModel(priors={"cooperation_men": {"alpha": 1.0}})


def test_non_positive_prior_parameter_is_rejected():
    with pytest.raises(InputError, match=r"china_follow_through\.priors\.accepts\.beta"):
        ChinaFollowThroughModel(priors={"accepts": {"beta": -1.0}})


def test_unknown_model_key_is_rejected():
    with pytest.raises(InputError, match="unknown model 'korea'"):
        build_models(priors={"korea": {}})


def _idata(chain_means, draws=500, seed=0):
    rng = np.random.default_rng(seed)
    values = np.stack([rng.normal(m, 1.0, draws) for m in chain_means])
    post = xr.Dataset(
        {"x": (("chain", "draw"), values)},
        coords={"chain": np.arange(len(chain_means)), "draw": np.arange(draws)},
    )
    stats = xr.Dataset({"diverging": (("chain", "draw"), np.zeros_like(values, bool))})
    return az.InferenceData(posterior=post, sample_stats=stats)


def test_diagnostics_pass_for_well_mixed_chains():
    diag = Diagnostics.from_idata(_idata([0, 0, 0, 0]), ["x"])
    assert diag.ok, diag.flags


def test_diagnostics_flag_disagreeing_chains_and_divergences():
    idata = _idata([0, 0, 3, 3])
    idata.sample_stats["diverging"][0, :3] = True
    diag = Diagnostics.from_idata(idata, ["x"])
    assert not diag.ok
    text = " ".join(diag.flags)
    assert "r_hat" in text and "3 divergences" in text


def test_diagnostics_flag_low_ess():
    diag = Diagnostics.from_idata(_idata([0, 0], draws=100), ["x"])
    assert any("ESS" in f for f in diag.flags)


def test_fit_is_cached_and_reused(fake_sampling, tiny_sampler):
    first = ChinaFollowThroughModel(sampler=tiny_sampler).fit()
    second = ChinaFollowThroughModel(sampler=tiny_sampler).fit()
    assert not first.from_cache and second.from_cache
    np.testing.assert_array_equal(first.draws("cooperation"), second.draws("cooperation"))


def test_changed_prior_misses_the_cache(fake_sampling, tiny_sampler):
    ChinaFollowThroughModel(sampler=tiny_sampler).fit()
    changed = ChinaFollowThroughModel(
        sampler=tiny_sampler, priors={"accepts": {"alpha": 9.0}}
    ).fit()
    assert not changed.from_cache


def test_damaged_cache_file_is_refit(fake_sampling, tiny_sampler):
    model = ChinaFollowThroughModel(sampler=tiny_sampler)
    model.fit()
    model.cache_path().write_bytes(b"not a netcdf file")
    refit = ChinaFollowThroughModel(sampler=tiny_sampler).fit()
    assert not refit.from_cache


def test_inputs_are_recorded_on_the_posterior(fake_sampling, tiny_sampler):
    fit = ChinaFollowThroughModel(sampler=tiny_sampler, as_of="2017-08-20").fit()
    recorded = json.loads(fit.idata.posterior.attrs["decision_inputs"])
    for key in ("data_hash", "priors", "sampler", "seed", "package_version", "as_of"):
        assert key in recorded
    assert recorded["as_of"] == "2017-08-20"
    assert recorded == json.loads(json.dumps(fit.inputs, default=str))


def test_strict_mode_raises_on_flagged_fit(fake_sampling):
    # Fake sampling gives too few draws for a bulk ESS of 400: strict must refuse it.
    model = ChinaFollowThroughModel(
        sampler={"draws": 20, "chains": 2, "cores": 1, "prior_predictive_draws": 10}
    )
    with pytest.raises(ConvergenceError, match="bulk ESS"):
        model.fit(strict=True)


def test_cache_key_follows_the_model_code(monkeypatch):
    model = ChinaFollowThroughModel()
    key = model.cache_key()
    monkeypatch.setattr(ChinaFollowThroughModel, "source_hash", classmethod(lambda cls: "edited"))
    assert ChinaFollowThroughModel().cache_key() != key
