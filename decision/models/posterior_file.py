"""The file a cached posterior is kept in: the whole fit, written and read in milliseconds.

A cached fit is one ``<model>-<key>.npz`` file (``numpy.savez``, no pickle): every group of
the ArviZ ``InferenceData`` as plain arrays, their dimensions, coordinates and attributes as
JSON, and the numbers behind the convergence diagnostics.

* :func:`read_draws` serves a decision (every posterior variable's draws, chains stacked, and
  the diagnostics) without importing ArviZ or xarray;
* :func:`read_idata` rebuilds the ``InferenceData`` for figures and tables, identical to the
  one written (values, dimensions, coordinates, dtypes and attributes).

Why not netCDF: ``InferenceData.to_netcdf`` took 1.1-1.4 s to write the DPRK model's fit on
the 2-core machine and ``arviz.from_netcdf`` 1.2-1.5 s to read it, nearly all of it h5netcdf
handling the groups' many small dimensions (the arrays themselves take 0.05 s); this format
takes about 0.1 s each way. An analyst who wants a fit in netCDF writes it with
``fit.idata.to_netcdf(path)``.

The file is written whole or not at all (:func:`~decision.core.atomic.atomic_path`). One of
another format, truncated, damaged (zip's CRC) or written under another name (a fit's file
copied onto another's) reads as None: the caller samples again.
"""

from __future__ import annotations

import json
import logging
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from decision.core.atomic import atomic_path

if TYPE_CHECKING:
    import arviz as az

__all__ = ["FORMAT", "SUFFIX", "read_draws", "read_idata", "write"]

log = logging.getLogger(__name__)

#: Version of the file's layout; a file of another version is not read (the fit is redone).
FORMAT = 1
#: The cached posterior's file suffix.
SUFFIX = ".npz"

_META = "__meta__"
_READ_ERRORS = (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile)


def _plain(value: Any) -> Any:
    """JSON form of an attribute value (numpy scalars and arrays)."""
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


def write(path: Path, idata: az.InferenceData, diagnostics: dict[str, Any]) -> None:
    """Store ``idata`` and its ``diagnostics`` numbers at ``path``, whole or not at all.

    The posterior's variables are stored with ``chain`` and ``draw`` as their first two
    dimensions, so their stacked draws are a reshape away.

    Raises
    ------
    OSError
        The file could not be written (nothing is left at ``path``).
    TypeError
        An attribute has no JSON form.
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
    # The file's own name (the fit's cache key) is kept: a file copied or renamed onto another
    # fit's name is not served as that fit.
    meta = {"format": FORMAT, "name": path.name, "diagnostics": diagnostics, "groups": layout}
    text = json.dumps(meta, default=_plain, allow_nan=True)
    with atomic_path(path, suffix=SUFFIX) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays, **{_META: np.array(text)})


def _open(path: Path) -> tuple[Any, dict[str, Any]] | None:
    """Open the fit stored at ``path``, or None.

    None when it is missing, unreadable, of another format or written under another name.
    """
    if not path.exists():
        return None
    stored = None
    try:
        stored = np.load(path, allow_pickle=False)
        meta = json.loads(str(stored[_META])) if _META in stored.files else {}
        if meta.get("format") != FORMAT or meta.get("name") != path.name:
            stored.close()
            return None
    except _READ_ERRORS as exc:
        if stored is not None:
            stored.close()
        log.warning("ignoring unreadable cached posterior %s: %s", path, exc)
        return None
    return stored, meta


def _read(path: Path, read: Callable[[Any, dict[str, Any]], Any]) -> Any:
    """Return ``read(stored, meta)`` for the file at ``path``, or None when it cannot be read."""
    opened = _open(path)
    if opened is None:
        return None
    stored, meta = opened
    with stored:
        try:
            return read(stored, meta)
        except _READ_ERRORS as exc:
            log.warning("ignoring unreadable cached posterior %s: %s", path, exc)
            return None


def _stacked_draws(stored, meta: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    draws = {}
    for name in meta["groups"]["posterior"]["data_vars"]:
        values = stored[_key("posterior", "data_vars", name)]
        draws[name] = values.reshape(-1, *values.shape[2:])
    return draws, meta["diagnostics"]


def _datasets(stored, meta: dict[str, Any]) -> dict[str, Any]:
    import xarray as xr

    groups = {}
    for group, entry in meta["groups"].items():
        variables = {
            kind: {
                name: xr.Variable(spec["dims"], stored[_key(group, kind, name)], spec["attrs"])
                for name, spec in entry[kind].items()
            }
            for kind in ("coords", "data_vars")
        }
        groups[group] = xr.Dataset(
            variables["data_vars"], coords=variables["coords"], attrs=entry["attrs"]
        )
    return groups


def read_draws(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
    """Return every posterior variable's draws (chains stacked) and the diagnostics numbers.

    None when the file is missing, unreadable (truncated, damaged), of another format or
    written under another name. Imports neither ArviZ nor xarray.
    """
    return _read(path, _stacked_draws)


def read_idata(path: Path) -> az.InferenceData | None:
    """Return the ``InferenceData`` stored at ``path``, or None (as :func:`read_draws`)."""
    groups = _read(path, _datasets)
    if groups is None:
        return None
    import arviz as az

    return az.InferenceData(**groups)
