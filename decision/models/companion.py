"""The companion file beside each cached posterior: the whole fit, readable in milliseconds.

A cached posterior ``<model>-<key>.nc`` is ArviZ ``InferenceData`` in netCDF, the format an
analyst opens with ``arviz.from_netcdf``. Reading it back costs about 1.2-1.5 s per model on
the 2-core machine, nearly all of it h5netcdf resolving dimensions (the arrays themselves take
0.05 s), and every process that draws the models' figures paid it again. The companion
``<model>-<key>.draws.npz`` holds the same groups as plain arrays (``numpy.savez``, no pickle)
with their dimensions, coordinates and attributes as JSON, plus the numbers behind the
diagnostics and the SHA-256 of the ``.nc`` it was written with:

* :func:`read_draws` serves a decision (every posterior variable's draws, chains stacked, and
  the diagnostics) without importing ArviZ or xarray;
* :func:`read_idata` rebuilds the ``InferenceData`` for figures and tables (about 0.05 s).

A companion whose hash does not match the ``.nc`` beside it (rewritten, damaged), of another
format, or unreadable is ignored: the caller reads the ``.nc`` and writes the companion again.
Failing to write one only costs speed, so the failure is logged and the fit goes on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from decision.core.atomic import atomic_path

if TYPE_CHECKING:
    import arviz as az

__all__ = ["FORMAT", "draws_path", "read_draws", "read_idata", "write"]

log = logging.getLogger(__name__)

#: Version of the companion's layout; a file of another version is ignored and rewritten.
#: 1 held the posterior's stacked draws only; 2 holds every group of the ``InferenceData``.
FORMAT = 2

_META = "__meta__"
_READ_ERRORS = (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile)


def draws_path(posterior_path: Path) -> Path:
    """Return the companion of a cached posterior (``.nc`` -> ``.draws.npz``)."""
    return posterior_path.with_suffix(".draws.npz")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _plain(value: Any) -> Any:
    """JSON form of an attribute value netCDF accepted (numpy scalars and arrays)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"attribute of type {type(value).__name__} has no JSON form")


def _key(group: str, kind: str, name: str) -> str:
    return f"{group}:{kind}:{name}"


def _storable(values: np.ndarray) -> np.ndarray:
    """``values`` as an array ``numpy.load`` reads without pickle (strings as fixed width)."""
    if values.dtype == object:
        return values.astype(str)
    return values


def write(posterior_path: Path, idata: az.InferenceData, diagnostics: dict[str, Any]) -> None:
    """Store ``idata`` and its ``diagnostics`` numbers beside ``posterior_path`` (written first).

    The posterior's variables are stored with ``chain`` and ``draw`` as their first two
    dimensions, so their stacked draws are a reshape away.
    """
    arrays: dict[str, np.ndarray] = {}
    layout: dict[str, Any] = {}
    for group in idata.groups():
        dataset = idata[group]
        if group == "posterior":
            dataset = dataset.transpose("chain", "draw", ...)
        entry: dict[str, Any] = {"attrs": dict(dataset.attrs), "coords": {}, "data_vars": {}}
        for kind, variables in (("coords", dataset.coords), ("data_vars", dataset.data_vars)):
            for name, variable in variables.items():
                arrays[_key(group, kind, str(name))] = _storable(np.asarray(variable.values))
                entry[kind][str(name)] = {"dims": list(variable.dims), "attrs": variable.attrs}
        layout[group] = entry
    target = draws_path(posterior_path)
    try:
        meta = {
            "format": FORMAT,
            "posterior_sha256": _sha256(posterior_path),
            "diagnostics": diagnostics,
            "groups": layout,
        }
        text = json.dumps(meta, default=_plain, allow_nan=True)
        with atomic_path(target, suffix=".npz") as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **arrays, **{_META: np.array(text)})
    except (OSError, TypeError, ValueError) as exc:
        log.warning("could not write the companion file %s: %s", target, exc)


def _open(posterior_path: Path) -> tuple[Any, dict[str, Any]] | None:
    """Open the companion of ``posterior_path``; None unless it is valid for that file."""
    path = draws_path(posterior_path)
    if not path.exists():
        return None
    stored = None
    try:
        stored = np.load(path, allow_pickle=False)
        if _META not in stored.files:  # written by an earlier layout (format 1)
            stored.close()
            return None
        meta = json.loads(str(stored[_META]))
        if meta.get("format") != FORMAT or meta.get("posterior_sha256") != _sha256(posterior_path):
            stored.close()
            return None
    except _READ_ERRORS as exc:
        if stored is not None:
            stored.close()
        log.warning("ignoring unreadable companion file %s: %s", path, exc)
        return None
    return stored, meta


def read_draws(posterior_path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
    """Return every posterior variable's draws (chains stacked) and the diagnostics numbers.

    None when the companion is missing, unreadable, of another format, or was written for
    another content of ``posterior_path``.
    """
    opened = _open(posterior_path)
    if opened is None:
        return None
    stored, meta = opened
    with stored:
        try:
            posterior = meta["groups"]["posterior"]["data_vars"]
            draws = {}
            for name in posterior:
                values = stored[_key("posterior", "data_vars", name)]
                draws[name] = values.reshape(-1, *values.shape[2:])
            return draws, meta["diagnostics"]
        except _READ_ERRORS as exc:
            log.warning("ignoring unreadable companion of %s: %s", posterior_path, exc)
            return None


def read_idata(posterior_path: Path) -> az.InferenceData | None:
    """Return the ``InferenceData`` kept in the companion, or None (read the ``.nc`` then)."""
    opened = _open(posterior_path)
    if opened is None:
        return None
    import arviz as az
    import xarray as xr

    stored, meta = opened
    with stored:
        try:
            groups = {}
            for group, entry in meta["groups"].items():
                variables = {}
                for kind in ("coords", "data_vars"):
                    variables[kind] = {
                        name: xr.Variable(
                            spec["dims"], stored[_key(group, kind, name)], spec["attrs"]
                        )
                        for name, spec in entry[kind].items()
                    }
                groups[group] = xr.Dataset(
                    variables["data_vars"], coords=variables["coords"], attrs=entry["attrs"]
                )
        except _READ_ERRORS as exc:
            log.warning("ignoring unreadable companion of %s: %s", posterior_path, exc)
            return None
    return az.InferenceData(**groups)
