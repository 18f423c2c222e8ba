"""The two Bayesian models and helpers that fit both and compare their priors and posteriors.

Quantities the case tree reads (``Fit.draws(name)``; each model's docstring defines them):

``dprk``
    ``p_accept`` (the monitored offer's branch probability, kept for one-offer trees),
    ``p_accept_freeze_for_freeze``, ``p_accept_freeze_plus_pressure`` (branch-conditioned:
    1 or 0 once observed), ``accept_propensity_*`` (latent), ``p_hold_monitoring``,
    ``p_hold_after`` (visible compliance), ``p_undetected_export_monitoring``,
    ``p_undetected_export_after``, ``breach_fraction_monitoring``, ``breach_fraction_after``,
    ``launches_prevented_per_month``, ``long_range_prevented_per_month``,
    ``nuclear_tests_prevented_per_month``, ``p_dprk_complies``,
    ``p_accepts_and_holds_monitoring``, ``p_hold_new_freeze``, ``export_rate``.
``china``
    ``p_china_accepts`` (branch-conditioned), ``china_accept_propensity`` (latent),
    ``p_level_<name>`` (observed share of scheduled steps met), ``p_china_follows_through``,
    ``status_quo_enforcement``, ``cooperation``, ``cooperation_mean``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd

from decision.core.config import DEFAULT_AS_OF
from decision.core.errors import InputError
from decision.models.base import (
    CONVERGENCE_THRESHOLDS,
    DEFAULT_SAMPLER,
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
    "cache_dir",
    "build_models",
    "fit_models",
    "prior_posterior_tables",
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
    models = build_models(**kwargs)
    cached = {key: use_cache and model.cache_path().exists() for key, model in models.items()}
    to_compile = {k: m for k, m in models.items() if not cached[k] and m.compiles_once}
    if len(to_compile) > 1 and (os.cpu_count() or 1) > 1:
        names = ", ".join(MODEL_LABELS.get(key, key) for key in to_compile)
        # Compiling is most of a cold fit, and XLA compiles without the GIL: both models'
        # samplers compile side by side (cold fit about 3 s faster), then sample one by one.
        with progress.stage(f"{names}: compiling the samplers side by side"):
            with ThreadPoolExecutor(max_workers=len(to_compile)) as pool:
                for done in [pool.submit(m.prepare_sampler) for m in to_compile.values()]:
                    done.result()
    fits = {}
    for key, model in models.items():
        label = MODEL_LABELS.get(key, key)
        if cached[key]:
            title = f"{label}: loading the posterior from the cache"
        else:
            s = model.sampler
            title = f"{label}: sampling {s['chains']} chains x {s['draws']} draws"
        # A cached posterior needs no sampler, nor its display (which imports PyMC).
        display = contextlib.nullcontext(False) if cached[key] else progress.sampler_display()
        with progress.stage(title), display as bar:
            fits[key] = model.fit(use_cache=use_cache, strict=strict, progressbar=bar)
    if fits and all(fit.from_cache for fit in fits.values()):
        progress.note("posteriors served from the cache")
    return fits


def prior_posterior_tables(fits: Mapping[str, Fit]) -> pd.DataFrame:
    """Prior and posterior mean and 90% interval of every headline quantity of ``fits``.

    One row per model and quantity (columns ``model`` and those of
    :meth:`Fit.prior_posterior_table`), for the brief's "how far the data moved it" table.
    """
    frames = [fit.prior_posterior_table().assign(model=key) for key, fit in fits.items()]
    table = pd.concat(frames, ignore_index=True)
    return table[["model", *[c for c in table.columns if c != "model"]]]
