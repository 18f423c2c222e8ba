"""The companion file beside a cached posterior: the same InferenceData, read without netCDF."""

from __future__ import annotations

import logging

import arviz as az
import numpy as np
import pytest
import xarray as xr

from decision.models import DPRKComplianceModel, companion


@pytest.fixture
def dprk_fit(fake_sampling, tiny_sampler):
    """Fit the DPRK model with fake draws (every group: posterior, predictive, data), cached."""
    model = DPRKComplianceModel(sampler=tiny_sampler)
    return model.fit(), model.cache_path()


def test_the_companion_holds_what_the_netcdf_file_holds(dprk_fit):
    fit, path = dprk_fit
    from_netcdf = az.from_netcdf(path)
    from_companion = companion.read_idata(path)
    assert from_companion.groups() == from_netcdf.groups() == fit.idata.groups()
    for group in from_netcdf.groups():
        # Values, dimensions, coordinates, dtypes and attributes, as ArviZ reads the file.
        xr.testing.assert_identical(from_companion[group], from_netcdf[group])


def test_stacked_draws_are_the_posteriors_chains_one_after_another(dprk_fit):
    fit, path = dprk_fit
    draws, numbers = companion.read_draws(path)
    posterior = fit.idata.posterior
    assert set(draws) == set(posterior.data_vars)
    for name, values in draws.items():
        variable = posterior[name].transpose("chain", "draw", ...)
        expected = np.concatenate([variable.values[c] for c in range(posterior.sizes["chain"])])
        np.testing.assert_array_equal(values, expected)
    assert numbers["divergences"] == fit.diagnostics.divergences


def test_a_rewritten_netcdf_file_makes_its_companion_stale(dprk_fit):
    _, path = dprk_fit
    path.write_bytes(path.read_bytes() + b"\0")
    assert companion.read_draws(path) is None and companion.read_idata(path) is None


def test_a_companion_that_cannot_be_written_costs_only_speed(dprk_fit, tmp_path, caplog):
    fit, path = dprk_fit
    copy = tmp_path / path.name
    copy.write_bytes(path.read_bytes())
    companion.draws_path(copy).mkdir()  # a folder where the file would go
    with caplog.at_level(logging.WARNING, logger="decision.models.companion"):
        companion.write(copy, fit.idata, {"max_r_hat": 1.0})
    assert "could not write the companion file" in caplog.text
    assert companion.draws_path(copy).is_dir() and companion.read_idata(copy) is None
