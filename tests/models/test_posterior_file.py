"""The cached posterior's file: the same InferenceData back, fast, or nothing."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest
import xarray as xr

from decision.models import DPRKComplianceModel, posterior_file


@pytest.fixture
def dprk_fit(fake_sampling, tiny_sampler):
    """Fit the DPRK model with fake draws (every group: posterior, predictive, data), cached."""
    model = DPRKComplianceModel(sampler=tiny_sampler)
    return model.fit(), model.cache_path()


def test_the_file_gives_back_what_netcdf_would(dprk_fit, tmp_path):
    fit, path = dprk_fit
    fit.idata.to_netcdf(tmp_path / "fit.nc")
    from_netcdf = az.from_netcdf(tmp_path / "fit.nc")
    from_file = posterior_file.read_idata(path)
    assert from_file.groups() == from_netcdf.groups() == fit.idata.groups()
    for group in from_netcdf.groups():
        # Values, dimensions, coordinates, dtypes and attributes, as ArviZ reads netCDF.
        xr.testing.assert_identical(from_file[group], from_netcdf[group])
        xr.testing.assert_identical(from_file[group], fit.idata[group])


def test_stacked_draws_are_the_posteriors_chains_one_after_another(dprk_fit):
    fit, path = dprk_fit
    draws, numbers = posterior_file.read_draws(path)
    posterior = fit.idata.posterior
    assert set(draws) == set(posterior.data_vars)
    for name, values in draws.items():
        variable = posterior[name].transpose("chain", "draw", ...)
        expected = np.concatenate([variable.values[c] for c in range(posterior.sizes["chain"])])
        np.testing.assert_array_equal(values, expected)
    assert numbers["divergences"] == fit.diagnostics.divergences


def test_a_file_moved_to_another_fits_name_is_not_read(dprk_fit):
    _, path = dprk_fit
    moved = path.with_name("dprk_compliance-0123456789abcdef0123456789abcdef.npz")
    path.rename(moved)
    assert posterior_file.read_draws(moved) is None and posterior_file.read_idata(moved) is None


def test_a_file_that_cannot_be_written_leaves_nothing(dprk_fit, tmp_path):
    fit, _ = dprk_fit
    target = tmp_path / "fit.npz"
    target.mkdir()  # a folder where the file would go
    with pytest.raises(OSError):
        posterior_file.write(target, fit.idata, {"max_r_hat": 1.0})
    assert [p.name for p in tmp_path.iterdir()] == ["fit.npz"] and target.is_dir()
