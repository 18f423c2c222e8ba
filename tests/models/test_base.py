"""Configuration merging, diagnostics, caching and recorded inputs of the model base class."""

from __future__ import annotations

import importlib.metadata
import json
import logging
import re
import shutil
import sys

import arviz as az
import numpy as np
import pytest
import xarray as xr

from decision.core import backend
from decision.core.errors import ConvergenceError, InputError
from decision.models import (
    DEFAULT_SAMPLER,
    ChinaFollowThroughModel,
    Diagnostics,
    DPRKComplianceModel,
    base,
    build_models,
)


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


def test_a_cached_fit_is_served_whole_from_its_file(fake_sampling, tiny_sampler):
    sampled = ChinaFollowThroughModel(sampler=tiny_sampler).fit()
    model = ChinaFollowThroughModel(sampler=tiny_sampler)
    assert model.cache_path().exists() and model.cache_path().suffix == ".npz"
    cached = model.fit()
    assert cached.from_cache and cached.diagnostics == sampled.diagnostics
    for name in sampled.idata.posterior:
        np.testing.assert_array_equal(cached.draws(name), sampled.draws(name))
    # The whole posterior is there too, every group, read when first asked for.
    assert cached.idata.groups() == sampled.idata.groups()
    for group in sampled.idata.groups():
        xr.testing.assert_equal(cached.idata[group], sampled.idata[group])
    assert cached.idata.posterior.attrs == sampled.idata.posterior.attrs


@pytest.mark.parametrize(
    "damage", ["another fit's file", "truncated", "not a zip file", "an earlier layout"]
)
def test_a_cache_file_that_cannot_be_served_is_refit_and_replaced(
    fake_sampling, tiny_sampler, damage
):
    sampled = ChinaFollowThroughModel(sampler=tiny_sampler).fit()
    path = ChinaFollowThroughModel(sampler=tiny_sampler).cache_path()
    if damage == "another fit's file":
        other = ChinaFollowThroughModel(sampler={**tiny_sampler, "random_seed": 1})
        other.fit()
        shutil.copyfile(other.cache_path(), path)
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:1000])
    elif damage == "an earlier layout":
        with open(path, "wb") as fh:
            np.savez(fh, **{"__format__": np.array(1), "draws:cooperation": np.zeros(3)})
    else:
        path.write_bytes(b"not a zip file")
    refit = ChinaFollowThroughModel(sampler=tiny_sampler).fit()
    assert not refit.from_cache
    np.testing.assert_array_equal(refit.draws("cooperation"), sampled.draws("cooperation"))
    again = ChinaFollowThroughModel(sampler=tiny_sampler).fit()
    assert again.from_cache  # the file was replaced
    np.testing.assert_array_equal(again.draws("cooperation"), sampled.draws("cooperation"))
    xr.testing.assert_equal(again.idata.prior, sampled.idata.prior)


def test_changed_prior_misses_the_cache(fake_sampling, tiny_sampler):
    ChinaFollowThroughModel(sampler=tiny_sampler).fit()
    changed = ChinaFollowThroughModel(
        sampler=tiny_sampler, priors={"accepts": {"alpha": 9.0}}
    ).fit()
    assert not changed.from_cache


def test_inputs_are_recorded_on_the_posterior(fake_sampling, tiny_sampler):
    fit = ChinaFollowThroughModel(sampler=tiny_sampler, as_of="2017-08-20").fit()
    recorded = json.loads(fit.idata.posterior.attrs["decision_inputs"])
    for key in ("data_hash", "priors", "sampler", "seed", "package_version", "as_of"):
        assert key in recorded
    assert recorded["as_of"] == "2017-08-20"
    assert recorded == json.loads(json.dumps(fit.inputs, default=str))


@pytest.mark.parametrize("draws, chains, asked, expected", [(15, 2, 500, 30), (15, 2, 12, 12)])
def test_the_prior_predictive_has_at_most_the_posteriors_draws(
    fake_sampling, draws, chains, asked, expected
):
    sampler = {"draws": draws, "chains": chains, "cores": 1, "prior_predictive_draws": asked}
    idata = ChinaFollowThroughModel(sampler=sampler).fit(use_cache=False).idata
    assert idata.prior_predictive.sizes["draw"] == expected
    assert idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"] == draws * chains


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


@pytest.mark.parametrize("backend", ["numpyro", "pymc"])
def test_a_fit_on_one_core_serves_a_run_on_two(backend):
    # Each chain's seed comes from random_seed, whatever the number of processes: the same
    # draws (checked by hand on both backends: 2 chains x 50 draws, identical arrays).
    one, two = (
        ChinaFollowThroughModel(sampler={"nuts_sampler": backend, "cores": n}) for n in (1, 2)
    )
    assert one.cache_path() == two.cache_path()  # the file fit() looks for
    assert one.inputs()["sampler"]["cores"] == 1  # the run's own setting is still recorded
    more = ChinaFollowThroughModel(sampler={"nuts_sampler": backend, "draws": 1001})
    assert more.cache_path() != one.cache_path()


def test_models_sample_with_numpyro_by_default_and_pymc_on_request():
    assert DEFAULT_SAMPLER["nuts_sampler"] == "numpyro"
    assert ChinaFollowThroughModel().sampler["nuts_sampler"] == "numpyro"
    model = ChinaFollowThroughModel(sampler={"nuts_sampler": "pymc"})
    assert model.sampler["nuts_sampler"] == "pymc"
    assert model.cache_key() != ChinaFollowThroughModel().cache_key()


def test_an_unknown_nuts_backend_is_refused_naming_the_field():
    with pytest.raises(InputError, match="unknown NUTS backend 'stan'") as err:
        ChinaFollowThroughModel(sampler={"nuts_sampler": "stan"})
    assert err.value.field == "sampler.nuts_sampler"


@pytest.mark.parametrize("backend", ["numpyro", "pymc"])
def test_the_backend_and_its_version_are_recorded_on_the_posterior(
    fake_sampling, tiny_sampler, backend
):
    fit = ChinaFollowThroughModel(sampler={**tiny_sampler, "nuts_sampler": backend}).fit()
    attrs = fit.idata.posterior.attrs
    assert attrs["nuts_sampler"] == backend
    assert attrs["nuts_sampler_version"] == importlib.metadata.version(backend)
    assert json.loads(attrs["decision_inputs"])["sampler"]["nuts_sampler"] == backend
    cached = ChinaFollowThroughModel(sampler={**tiny_sampler, "nuts_sampler": backend}).fit()
    assert cached.from_cache and cached.idata.posterior.attrs["nuts_sampler"] == backend


def test_compile_caches_live_in_the_package_cache_unless_already_set(tmp_path, monkeypatch):
    monkeypatch.setenv("DECISION_CACHE_DIR", str(tmp_path))
    for name in ("JAX_COMPILATION_CACHE_DIR", "PYTENSOR_FLAGS", backend.COMPILE_CACHE_VARIABLE):
        monkeypatch.delenv(name, raising=False)
    # As in a fresh process: neither library imported yet.
    monkeypatch.delitem(sys.modules, "pytensor", raising=False)
    monkeypatch.delitem(sys.modules, "jax", raising=False)
    settings = backend.configure_compile_caches()
    assert settings["PYTENSOR_FLAGS"] == f"base_compiledir={tmp_path / 'compile' / 'pytensor'}"
    assert settings["JAX_COMPILATION_CACHE_DIR"] == str(tmp_path / "compile" / "jax")
    assert settings["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] == "0"
    # Subprocesses (a report's kernel) inherit the folder, wherever their posteriors go.
    assert settings[backend.COMPILE_CACHE_VARIABLE] == str(tmp_path / "compile")
    monkeypatch.setenv("DECISION_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert backend.compile_cache_dir() == tmp_path / "compile"
    # A user's own settings win.
    monkeypatch.setenv("PYTENSOR_FLAGS", "floatX=float64,base_compiledir=/elsewhere")
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", "/elsewhere-jax")
    settings = backend.configure_compile_caches()
    assert settings["PYTENSOR_FLAGS"] == "floatX=float64,base_compiledir=/elsewhere"
    assert settings["JAX_COMPILATION_CACHE_DIR"] == "/elsewhere-jax"


@pytest.mark.parametrize("model_cls", [DPRKComplianceModel, ChinaFollowThroughModel])
def test_the_posterior_predictive_draws_only_the_observed_variables(
    model_cls, fake_sampling, tiny_sampler, caplog
):
    """Replicates come from the posterior, not from priors drawn again.

    The priors' hyper-parameters are shared data; a trace whose stored copies do not match
    them exactly makes PyMC redraw every variable they feed (the replicates of the launch
    record once reached millions of missiles a quarter).
    """
    caplog.set_level(logging.INFO, logger="pymc")
    model = model_cls(sampler=tiny_sampler)
    fit = model.fit(use_cache=False)
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Sampling: [")]
    assert len(said) >= 2  # the last: the posterior predictive
    redrawn = set(re.findall(r"\w+", said[-1].removeprefix("Sampling: ")))
    observed = {v.name for v in model.build().observed_RVs}
    assert redrawn == observed
    assert set(fit.idata.posterior_predictive.data_vars) == observed


def test_an_identical_fit_running_elsewhere_is_waited_for_not_sampled_twice(
    fake_sampling, tiny_sampler, monkeypatch
):
    import threading
    import time

    sampled = []
    sample = base.BayesianModel._sample

    def slow_sample(self, **kwargs):
        sampled.append(self.name)
        time.sleep(1.0)  # long enough for the other caller to arrive while this one samples
        return sample(self, **kwargs)

    monkeypatch.setattr(base.BayesianModel, "_sample", slow_sample)
    fits = [None, None]

    def fit(i):
        fits[i] = ChinaFollowThroughModel(sampler=tiny_sampler).fit()

    threads = [threading.Thread(target=fit, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sampled == ["china_follow_through"]
    assert sorted(f.from_cache for f in fits) == [False, True]
    np.testing.assert_array_equal(fits[0].draws("cooperation"), fits[1].draws("cooperation"))


def test_zero_predictive_draws_draw_no_predictive_checks(fake_sampling, tiny_sampler):
    sampler = {**tiny_sampler, "prior_predictive_draws": 0, "posterior_predictive_draws": 0}
    fit = DPRKComplianceModel(sampler=sampler).fit()
    assert {"prior", "prior_predictive", "posterior_predictive"}.isdisjoint(fit.idata.groups())
    assert fit.prior_draws("p_accept") is None
    assert fit.draws("p_accept").size == tiny_sampler["draws"] * tiny_sampler["chains"]
    served = DPRKComplianceModel(sampler=sampler).fit()
    assert served.from_cache and served.idata.groups() == fit.idata.groups()
