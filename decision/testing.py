"""Synthetic stand-ins for tests, benchmarks and demonstrations: never for an analysis.

:func:`synthetic_fits` and :func:`synthetic_supplied_draws` make **synthetic** posterior draws
without MCMC: the two
models' variables drawn from fixed distributions shaped like plausible posteriors (not fitted
to any evidence), pushed through closed-form versions of the models' headline formulas so
that the tree's supplied quantities are consistent with the model variables they come from
(which the preposterior analysis needs). Never use them for the analysis itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from decision.case import Case, load_case

__all__ = [
    "SyntheticFit",
    "synthetic_fits",
    "synthetic_posterior",
    "synthetic_supplied_draws",
]


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

    def draws(self, name: str) -> np.ndarray:
        """Draws of one variable."""
        return self.posterior[name]

    def headline_draws(self) -> dict[str, np.ndarray]:
        """Draws of the headline quantities."""
        return {k: self.posterior[k] for k in self.headline_names}


def synthetic_fits(
    n: int = 4000, seed: int = 0, priors: Mapping[str, Any] | None = None
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

    Returns
    -------
    dict
        ``{"dprk": SyntheticFit, "china": SyntheticFit}``.
    """
    import xarray as xr

    from decision.core.config import deep_merge
    from decision.models import ChinaFollowThroughModel, DPRKComplianceModel

    rng = np.random.default_rng(seed)
    shape = rng.lognormal(np.log(0.8), 0.25, n)
    scale = rng.lognormal(np.log(20.0), 0.4, n)
    export_rate = rng.beta(2.0, 40.0, n)
    detection = rng.beta(2.0, 6.0, n)
    p_accept = rng.beta(4.0, 6.0, n)
    launches = rng.lognormal(np.log(2.5), 0.3, n)
    share = rng.beta(3.0, 12.0, n)

    def survival(t):
        return np.exp(-((t / scale) ** shape))

    dprk_model = DPRKComplianceModel()
    window = float(dprk_model.settings["monitoring_months"])
    after_months = float(dprk_model.settings["after_months"])
    hold = survival(window) * (1 - export_rate) ** window
    after = survival(window + after_months) / survival(window) * (1 - export_rate) ** after_months
    dprk = {
        "breach_shape": shape,
        "breach_scale": scale,
        "export_rate": export_rate,
        "export_detection": detection,
        "p_accept": p_accept,
        "p_hold_monitoring": hold,
        "p_hold_after": after,
        "p_dprk_complies": p_accept * hold * after,
        "p_hold_new_freeze": hold,
        "launches_prevented_per_month": launches,
        "long_range_prevented_per_month": launches * share,
        "long_range_share": share,
        # The launch model's variables, for prior-sensitivity plumbing (they feed nothing
        # here: the synthetic launch rate is drawn directly).
        "log_rate_init": rng.normal(0.9, 0.2, n),
        "rate_drift": np.abs(rng.normal(0.0, 0.3, n)),
        "launch_dispersion": rng.gamma(4.0, 0.5, n),
    }
    # The models' own closed-form conditionals, on these draws (one chain).
    dprk.update(_derived(dprk_model, {"breach_shape": shape, "breach_scale": scale}, xr))
    mean = rng.beta(8.0, 10.0, n)
    concentration = rng.gamma(6.0, 1.0, n)
    a, b = mean * concentration, (1 - mean) * concentration
    china_model = ChinaFollowThroughModel()
    china = {
        "cooperation_mean": mean,
        "cooperation_concentration": concentration,
        "cooperation": rng.beta(a, b),
        "p_china_accepts": rng.beta(6.0, 4.0, n),
    }
    china.update(
        _derived(
            china_model, {"cooperation_mean": mean, "cooperation_concentration": concentration}, xr
        )
    )
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
