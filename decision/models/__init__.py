"""The two Bayesian models and a helper that fits both."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from decision.core.config import DEFAULT_AS_OF
from decision.core.errors import InputError
from decision.models.base import (
    CONVERGENCE_THRESHOLDS,
    DEFAULT_SAMPLER,
    TINY_SAMPLER,
    BayesianModel,
    Diagnostics,
    Fit,
    cache_dir,
)
from decision.models.china import ChinaFollowThroughModel
from decision.models.dprk import DPRKComplianceModel

__all__ = [
    "MODELS",
    "MODEL_LABELS",
    "BayesianModel",
    "ChinaFollowThroughModel",
    "CONVERGENCE_THRESHOLDS",
    "DEFAULT_SAMPLER",
    "DPRKComplianceModel",
    "Diagnostics",
    "Fit",
    "TINY_SAMPLER",
    "cache_dir",
    "build_models",
    "fit_models",
]

#: Model classes by the short key used in parameter files (``priors: {dprk: ..., china: ...}``).
MODELS: dict[str, type[BayesianModel]] = {
    "dprk": DPRKComplianceModel,
    "china": ChinaFollowThroughModel,
}

#: Short display names of the models, by key.
MODEL_LABELS: dict[str, str] = {"dprk": "DPRK model", "china": "China model"}


def build_models(
    *,
    keys: Sequence[str] | None = None,
    as_of: dt.date | str = DEFAULT_AS_OF,
    observations: pd.DataFrame | None = None,
    priors: Mapping[str, Any] | None = None,
    settings: Mapping[str, Any] | None = None,
    sampler: Mapping[str, Any] | None = None,
) -> dict[str, BayesianModel]:
    """Instantiate the models with per-model prior and setting overrides.

    ``keys`` picks models by key (default: all of :data:`MODELS`); ``priors`` and ``settings``
    are keyed by model (``dprk``, ``china``); ``sampler`` applies to every model.
    """
    keys = tuple(MODELS) if keys is None else tuple(keys)
    for key in keys:
        if key not in MODELS:
            raise InputError(
                f"unknown model '{key}' (expected one of: {', '.join(MODELS)})", field="models"
            )
    for label, given in (("priors", priors), ("settings", settings)):
        for key in given or {}:
            if key not in MODELS:
                raise InputError(
                    f"unknown model '{key}' (expected one of: {', '.join(MODELS)})",
                    field=f"{label}.{key}",
                )
    return {
        key: cls(
            priors=(priors or {}).get(key),
            settings=(settings or {}).get(key),
            sampler=sampler,
            as_of=as_of,
            observations=observations,
        )
        for key, cls in MODELS.items()
        if key in keys
    }


def fit_models(
    *, use_cache: bool = True, strict: bool = False, progress=None, **kwargs
) -> dict[str, Fit]:
    """Fit (or load from the cache) both models; keyword arguments go to :func:`build_models`.

    ``progress`` (a :class:`decision.core.progress.Progress`; default: the active one, silent
    unless a command made one active) shows a stage per model, saying whether its posterior
    is sampled or served from the cache, and hands the terminal to PyMC's sampling bar.
    """
    from decision.core.progress import current

    progress = progress or current()
    fits = {}
    for key, model in build_models(**kwargs).items():
        label = MODEL_LABELS.get(key, key)
        if use_cache and model.cache_path().exists():
            title = f"{label}: loading the posterior from the cache"
        else:
            s = model.sampler
            title = f"{label}: sampling {s['chains']} chains x {s['draws']} draws"
        with progress.stage(title), progress.sampler_display() as bar:
            fits[key] = model.fit(use_cache=use_cache, strict=strict, progressbar=bar)
    if fits and all(fit.from_cache for fit in fits.values()):
        progress.note("posteriors served from the cache")
    return fits
