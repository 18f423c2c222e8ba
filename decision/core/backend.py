"""The NUTS backend the models are sampled with, and where compiled code is cached.

The backend was chosen by measurement (issue 15; both models, 4 chains of 1,000 + 1,000,
empty compile caches, this project's 2-core machine): numpyro through
``pymc.sample(nuts_sampler="numpyro")`` took 38 s, nutpie 80 s and PyMC's own C backend
118 s; numpyro gave no divergences and the same draws for the same seed. ``"pymc"`` stays
available (``sampler={"nuts_sampler": "pymc"}``) as the fallback.

Compiled code lives in the package's cache folder beside the cached posteriors
(:func:`compile_cache_dir`): PyTensor's compile directory and JAX's persistent compilation
cache (and fitted elicitation answers). Both libraries read their settings when first
imported, so
:func:`configure_compile_caches` runs when :mod:`decision.models` is imported (before PyMC
or JAX are) and only fills in what the environment has not already set.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
from pathlib import Path
from typing import Any

from decision.core.errors import InputError

__all__ = [
    "COMPILE_CACHE_VARIABLE",
    "DEFAULT_NUTS_SAMPLER",
    "NUTS_SAMPLERS",
    "backend_info",
    "cache_root",
    "check_nuts_sampler",
    "compile_cache_dir",
    "configure_compile_caches",
]

#: NUTS backends a model can be sampled with -> the distribution whose version is recorded.
NUTS_SAMPLERS: dict[str, str] = {"numpyro": "numpyro", "pymc": "pymc"}

#: The backend used unless the sampler settings name another (see the module docstring).
DEFAULT_NUTS_SAMPLER = "numpyro"

#: JAX caches every compiled program, however quick to compile or small (its defaults skip
#: programs under one second, which are most of a small model's).
_JAX_CACHE_THRESHOLDS = {
    "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
    "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
}


def cache_root() -> Path:
    """Return the package's cache folder: ``$DECISION_CACHE_DIR`` or ``~/.cache/decision``."""
    return Path(os.environ.get("DECISION_CACHE_DIR") or Path.home() / ".cache" / "decision")


#: Names the compile cache's folder; :func:`configure_compile_caches` sets it for subprocesses.
COMPILE_CACHE_VARIABLE = "DECISION_COMPILE_CACHE_DIR"


def compile_cache_dir() -> Path:
    """Return the folder of compiled code: ``$DECISION_COMPILE_CACHE_DIR`` or ``compile/``.

    ``compile/`` is in :func:`cache_root`. It holds PyTensor's compile directory
    (``pytensor/``), JAX's persistent compilation cache (``jax/``), fitted elicitation
    answers (``elicitation/``, :mod:`decision.elicitation.stored`) and validated evidence
    tables (``evidence/``, :mod:`decision.evidence.loading`): what is derived
    deterministically from code, inputs and library versions, never from sampling.
    """
    return Path(os.environ.get(COMPILE_CACHE_VARIABLE) or cache_root() / "compile")


def configure_compile_caches() -> dict[str, str]:
    """Point PyTensor's and JAX's compile caches at :func:`compile_cache_dir`.

    Settings already in the environment win (a user's ``PYTENSOR_FLAGS`` with its own
    ``base_compiledir``, a ``JAX_COMPILATION_CACHE_DIR``). PyTensor fixes its compile
    directory on import, so once it is imported its setting is left alone; JAX's cache can
    still be set after import and is. The variables are inherited by subprocesses (a report's
    kernel), which so share the cache.

    Returns
    -------
    dict
        The environment variables that now configure the caches.
    """
    root = compile_cache_dir()
    os.environ.setdefault(COMPILE_CACHE_VARIABLE, str(root))
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    if "base_compiledir" not in flags and "pytensor" not in sys.modules:
        setting = f"base_compiledir={root / 'pytensor'}"
        os.environ["PYTENSOR_FLAGS"] = f"{flags},{setting}" if flags else setting
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(root / "jax"))
    for name, value in _JAX_CACHE_THRESHOLDS.items():
        os.environ.setdefault(name, value)
    if "jax" in sys.modules:
        import jax

        jax.config.update("jax_compilation_cache_dir", os.environ["JAX_COMPILATION_CACHE_DIR"])
        jax.config.update(
            "jax_persistent_cache_min_compile_time_secs",
            float(os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]),
        )
        jax.config.update(
            "jax_persistent_cache_min_entry_size_bytes",
            int(os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"]),
        )
    names = (
        COMPILE_CACHE_VARIABLE,
        "PYTENSOR_FLAGS",
        "JAX_COMPILATION_CACHE_DIR",
        *_JAX_CACHE_THRESHOLDS,
    )
    return {name: os.environ[name] for name in names if name in os.environ}


def check_nuts_sampler(name: Any, *, field: str = "sampler.nuts_sampler") -> str:
    """Return ``name`` if it is a known backend, else raise :class:`InputError` naming it."""
    if name not in NUTS_SAMPLERS:
        raise InputError(
            f"unknown NUTS backend {name!r} (expected one of: {', '.join(NUTS_SAMPLERS)})",
            field=field,
        )
    return name


def backend_info(name: str) -> dict[str, str | None]:
    """Return ``{"nuts_sampler": name, "version": installed version or None}``."""
    try:
        version = importlib.metadata.version(NUTS_SAMPLERS[check_nuts_sampler(name)])
    except importlib.metadata.PackageNotFoundError:
        version = None
    return {"nuts_sampler": name, "version": version}
