"""Shared fixtures: an isolated posterior cache for every test, and fake sampling."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own empty posterior cache."""
    path = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("DECISION_CACHE_DIR", str(path))
    return path


@pytest.fixture
def fake_sampling(monkeypatch):
    """Replace ``pymc.sample`` with prior draws shaped like a posterior (no MCMC).

    The draws ignore the likelihood, so tests using this check plumbing (shapes, names,
    caching, diagnostics wiring), never inference. The slow lane checks inference.
    """
    import arviz as az
    import pymc as pm

    def fake_sample(draws=1000, tune=0, chains=2, random_seed=None, model=None, **kwargs):
        model = pm.modelcontext(model)
        names = [v.name for v in model.free_RVs + model.deterministics]
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The effect of Potentials")
            prior = pm.sample_prior_predictive(
                draws=draws * chains, model=model, var_names=names, random_seed=random_seed
            ).prior
        posterior = {}
        for name in names:
            values = prior[name].values.reshape((chains, draws) + prior[name].shape[2:])
            dims = ("chain", "draw") + tuple(prior[name].dims[2:])
            posterior[name] = (dims, values)
        coords = {"chain": np.arange(chains), "draw": np.arange(draws)}
        coords.update({d: prior.coords[d].values for d in prior.dims if d not in ("chain", "draw")})
        stats = xr.Dataset(
            {"diverging": (("chain", "draw"), np.zeros((chains, draws), bool))},
            coords={"chain": coords["chain"], "draw": coords["draw"]},
        )
        return az.InferenceData(posterior=xr.Dataset(posterior, coords=coords), sample_stats=stats)

    monkeypatch.setattr(pm, "sample", fake_sample)
    return fake_sample


@pytest.fixture
def tiny_sampler():
    """Sampler settings for plumbing tests: few draws, one process."""
    return {"draws": 40, "tune": 0, "chains": 2, "cores": 1, "prior_predictive_draws": 40}
