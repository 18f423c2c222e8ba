"""Test plumbing shared by the test suite and the benchmarks: never for an analysis.

* Sampler budgets: :data:`TINY_SAMPLER` (a real but short MCMC run, for reports and
  notebooks executed in the fast lane; not expected to converge), :data:`SHORT_SAMPLER` (a
  short real run for slow-lane checks that compare estimates), :data:`FAKE_SAMPLER` (with
  :func:`fake_sample`), :func:`report_parameters` and :func:`cli_parameters` (the same budget
  as report parameters and as ``-p`` options).
* :func:`fake_sample`: a stand-in for ``pymc.sample`` that returns prior draws shaped like a
  posterior (no MCMC): for plumbing tests (shapes, names, caching, diagnostics wiring), never
  inference. The slow lane checks inference. :func:`patch_fake_sampling` puts it in place of
  both NUTS paths (``pymc.sample`` and :func:`decision.models.compiled.sample`).

:func:`synthetic_fits` and :func:`synthetic_supplied_draws` make **synthetic** posterior draws
without MCMC: the two
models' variables drawn from fixed distributions shaped like plausible posteriors (not fitted
to any evidence), pushed through closed-form versions of the models' headline formulas so
that the tree's supplied quantities are consistent with the model variables they come from
(which the preposterior analysis needs). Never use them for the analysis itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from decision.case import Case, load_case

__all__ = [
    "FAKE_SAMPLER",
    "SHORT_SAMPLER",
    "TINY_SAMPLER",
    "SyntheticFit",
    "cli_parameters",
    "fake_compiled_prepare",
    "fake_compiled_sample",
    "fake_sample",
    "patch_fake_sampling",
    "python_log_density",
    "report_parameters",
    "synthetic_fits",
    "synthetic_posterior",
    "synthetic_supplied_draws",
]


#: A real but short MCMC run: reports, notebooks and CLI runs in the fast lane.
TINY_SAMPLER: dict[str, Any] = {"draws": 30, "tune": 30, "chains": 2, "cores": 1}

#: A short real run whose means settle to a few hundredths: slow-lane checks that compare
#: estimates. One budget for all of them, so its program compiles once per run.
SHORT_SAMPLER: dict[str, Any] = {"draws": 500, "tune": 500, "chains": 2, "cores": 1}

#: Sampler settings for plumbing tests with :func:`fake_sample` (prior draws, no tuning).
FAKE_SAMPLER: dict[str, Any] = {
    "draws": 40,
    "tune": 0,
    "chains": 2,
    "cores": 1,
    "prior_predictive_draws": 40,
}


def python_log_density(model) -> Callable[[dict], float]:
    """Return ``point -> model's log density``, summed term by term in Python.

    For tests that compare log densities: PyTensor's Python linker compiles no C code (an
    empty compile cache spends tens of seconds of gcc on a model's log density), and the
    terms are summed one by one because NumPy caps an elementwise operation (PyTensor's
    whole sum) at 32 operands.
    """
    import math

    terms = model.compile_fn(
        [term.sum() for term in model.logp(sum=False)], mode="FAST_COMPILE", point_fn=True
    )
    return lambda point: math.fsum(float(t) for t in terms(point))


def report_parameters(**extra: Any) -> dict[str, Any]:
    """Report parameters that run the models on :data:`TINY_SAMPLER`, plus ``extra``."""
    return {**TINY_SAMPLER, **extra}


def cli_parameters(**extra: Any) -> list[str]:
    """Return :func:`report_parameters` as ``-p NAME=VALUE`` options of ``decision report``."""
    return [arg for k, v in report_parameters(**extra).items() for arg in ("-p", f"{k}={v}")]


def fake_sample(draws=1000, tune=0, chains=2, random_seed=None, model=None, **kwargs):
    """Return prior draws shaped like ``pymc.sample``'s posterior (no MCMC, no divergences).

    Use it in place of ``pymc.sample`` (the ``fake_sampling`` fixture of ``tests/conftest.py``
    does): the draws ignore the likelihood.
    """
    import warnings

    import arviz as az
    import pymc as pm
    import xarray as xr
    from pymc.backends.arviz import (
        coords_and_dims_for_inferencedata,
        find_constants,
        find_observations,
    )

    model = pm.modelcontext(model)
    model_coords, model_dims = coords_and_dims_for_inferencedata(model)
    names = [v.name for v in model.free_RVs + model.deterministics]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The effect of Potentials")
        # FAST_COMPILE: no C compilation for a function that runs once (same draws).
        prior = pm.sample_prior_predictive(
            draws=draws * chains,
            model=model,
            var_names=names,
            random_seed=random_seed,
            compile_kwargs={"mode": "FAST_COMPILE"},
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
    # The data groups as the real samplers store them (scalars come back with shape (1,)).
    data = az.from_dict(
        observed_data=find_observations(model),
        constant_data=find_constants(model),
        coords=model_coords,
        dims=model_dims,
    )
    return az.InferenceData(
        posterior=xr.Dataset(posterior, coords=coords),
        sample_stats=stats,
        observed_data=data.observed_data,
        constant_data=data.constant_data,
    )


def fake_compiled_sample(bayes_model, model, *, while_sampling=None, **kwargs):
    """Stand-in for :func:`decision.models.compiled.sample`: :func:`fake_sample` on ``model``.

    ``model`` is the unpadded ``pymc.Model``; ``bayes_model`` (the padded one's source) is
    not used: no MCMC, no compilation. ``while_sampling`` is called, as the real one does.
    """
    idata = fake_sample(model=model, **kwargs)
    if while_sampling is not None:
        while_sampling()
    return idata


def fake_compiled_prepare(bayes_model, **kwargs) -> None:
    """Stand-in for :func:`decision.models.compiled.prepare`: nothing to compile."""


def patch_fake_sampling(patch) -> None:
    """Make every NUTS path of the models fake (``patch``: a ``pytest.MonkeyPatch``).

    Replaces ``pymc.sample`` with :func:`fake_sample` and the compiled path
    (:func:`decision.models.compiled.sample`, the numpyro default) with
    :func:`fake_compiled_sample`, and its ahead-of-time compilation
    (:func:`decision.models.compiled.prepare`) with :func:`fake_compiled_prepare`.
    """
    import pymc as pm

    from decision.models import compiled

    patch.setattr(pm, "sample", fake_sample)
    patch.setattr(compiled, "sample", fake_compiled_sample)
    patch.setattr(compiled, "prepare", fake_compiled_prepare)


@dataclasses.dataclass
class SyntheticFit:
    """Synthetic posterior draws with the interface of :class:`decision.models.Fit` used here.

    Attributes
    ----------
    model_name
        ``dprk_compliance`` or ``china_follow_through``.
    posterior
        Variable name -> flat array of draws.
    inputs
        ``{"priors": ..., "synthetic": True, "seed": ...}``: the models' default priors (for
        prior-sensitivity plumbing) and the seed.
    headline_names
        The quantities a decision tree consumes.
    """

    model_name: str
    posterior: dict[str, np.ndarray]
    inputs: dict[str, Any]
    headline_names: tuple[str, ...]
    from_cache: bool = False

    @property
    def diagnostics(self):
        """Diagnostics that pass: synthetic draws are not a sampler's output to check."""
        from decision.models import Diagnostics

        return Diagnostics(1.0, float(len(next(iter(self.posterior.values())))), 0, ())

    def flagged_message(self) -> str | None:
        """No convergence flag (see :attr:`diagnostics`)."""
        return None

    def draws(self, name: str) -> np.ndarray:
        """Draws of one variable."""
        return self.posterior[name]

    def headline_draws(self) -> dict[str, np.ndarray]:
        """Draws of the headline quantities."""
        return {k: self.posterior[k] for k in self.headline_names}


def synthetic_fits(
    n: int = 4000,
    seed: int = 0,
    priors: Mapping[str, Any] | None = None,
    *,
    cooperation_mean: float | None = None,
) -> dict[str, SyntheticFit]:
    """Synthetic posterior draws of both models (see the module docstring).

    Parameters
    ----------
    n
        Draws per model.
    seed
        Seed.
    priors
        Recorded as the fits' priors, by model (default: the models' documented defaults).
    cooperation_mean
        Centre China's cooperation propensity on this value (default: about 0.44).

    Returns
    -------
    dict
        ``{"dprk": SyntheticFit, "china": SyntheticFit}``.
    """
    import xarray as xr

    from decision.core.config import deep_merge
    from decision.models import ChinaFollowThroughModel, DPRKComplianceModel

    rng = np.random.default_rng(seed)
    dprk_model = DPRKComplianceModel()
    willingness = rng.normal(-0.3, 0.6, n)  # shared: the two acceptances are correlated
    latent = {
        "accept_willingness": willingness,
        "breach_shape": rng.lognormal(np.log(0.8), 0.25, n),
        "breach_scale": rng.lognormal(np.log(20.0), 0.4, n),
        "export_rate": rng.beta(2.0, 80.0, n),
        "export_detection": rng.beta(3.0, 5.0, n),
        "accept_propensity_freeze_for_freeze": _expit(willingness + rng.normal(0.4, 0.3, n)),
        "accept_propensity_freeze_plus_pressure": _expit(willingness + rng.normal(-0.2, 0.3, n)),
    }
    launches = rng.lognormal(np.log(2.5), 0.3, n)
    share = rng.beta(3.0, 12.0, n)
    dprk = {
        **latent,
        "launches_prevented_per_month": launches,
        "long_range_prevented_per_month": launches * share,
        "long_range_share": share,
        "nuclear_rate": rng.gamma(2.0, 0.02, n),
        # The launch model's variables, for prior-sensitivity plumbing (they feed nothing
        # here: the synthetic launch rate is drawn directly).
        "log_rate_init": rng.normal(0.9, 0.2, n),
        "rate_drift": np.abs(rng.normal(0.0, 0.3, n)),
        "launch_dispersion": rng.gamma(4.0, 0.5, n),
        "long_range_share_init": share,
        "long_range_drift": np.abs(rng.normal(0.0, 0.3, n)),
    }
    # The model's own derived quantities (acceptance branches, visible compliance, undetected
    # exports, breach fractions, the nuclear-test rate) on these draws (one chain).
    dprk.update(_derived(dprk_model, {**latent, "nuclear_rate": dprk["nuclear_rate"]}, xr))
    centre = 8.0 / 18.0 if cooperation_mean is None else float(cooperation_mean)
    mean = rng.beta(18.0 * centre, 18.0 * (1.0 - centre), n)
    concentration = rng.gamma(6.0, 1.0, n)
    china_model = ChinaFollowThroughModel()
    china_latent = {
        "cooperation_mean": mean,
        "cooperation_concentration": concentration,
        "china_accept_propensity": rng.beta(6.0, 4.0, n),
    }
    china = dict(china_latent)
    china.update(_derived(china_model, china_latent, xr))
    priors = priors or {}
    return {
        "dprk": SyntheticFit(
            dprk_model.name,
            dprk,
            {
                "priors": deep_merge(DPRKComplianceModel.default_priors, priors.get("dprk")),
                "synthetic": True,
                "seed": seed,
            },
            tuple(dprk_model.headline),
        ),
        "china": SyntheticFit(
            china_model.name,
            china,
            {
                "priors": deep_merge(ChinaFollowThroughModel.default_priors, priors.get("china")),
                "synthetic": True,
                "seed": seed,
            },
            tuple(china_model.headline),
        ),
    }


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _derived(model, variables: Mapping[str, np.ndarray], xr) -> dict[str, np.ndarray]:
    posterior = xr.Dataset(
        {k: (("chain", "draw"), v[None, :]) for k, v in variables.items()},
        coords={"chain": [0], "draw": np.arange(len(next(iter(variables.values()))))},
    )
    return {k: np.asarray(v).reshape(-1) for k, v in model.derived(posterior).items()}


def synthetic_supplied_draws(
    case: Case | None = None, n: int = 4000, seed: int = 0
) -> dict[str, np.ndarray]:
    """Synthetic draws of the case tree's supplied parameters (see :func:`synthetic_fits`)."""
    case = case or load_case()
    return case.supplied_draws(synthetic_fits(n, seed))


def synthetic_posterior(case: Case | None = None, n: int = 4000, seed: int = 0):
    """Synthetic draws for tree-only sweeps, as :class:`decision.sweep.Posterior` holds them.

    The case's supplied parameters and the means of its headline quantities, from
    :func:`synthetic_fits`; no model is fitted.
    """
    from decision.sweep import Posterior

    case = case or load_case()
    fits = synthetic_fits(n, seed)
    headline = {q.name: float(np.mean(fits[q.model].draws(q.variable))) for q in case.spec.headline}
    return Posterior(
        "synthetic",
        case.supplied_draws(fits),
        headline,
        diagnostics_ok=True,
        from_cache=False,
        seconds=0.0,
    )
