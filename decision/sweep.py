"""Scenario sweeps: a grid or a sample of scenarios, evaluated on Dask, results in Parquet.

A sweep file (YAML, see ``docs/sweeps.md``) names a case, a base scenario, and the inputs
that vary: tree parameters, model priors (``priors.<model>.<prior>.<parameter>``), the
``as_of`` date and the observations file. :func:`load_sweep` validates it and expands it into
:class:`SweepScenario` objects, each with a stable id (a hash of its canonical inputs and of
the sweep's settings), so a re-run recognises the scenarios already finished.

:func:`run_sweep` evaluates them on a Dask cluster (a local one by default):

* scenarios whose models are those of the base (tree-only) share one posterior, fitted (or
  read from the cache) once on the client and scattered to the workers; they are evaluated in
  batches, many per task;
* scenarios that change priors, ``as_of`` or observations refit the models on a worker, once
  per distinct set of model inputs, through :func:`decision.models.fit_models` and its cache.

Every finished batch becomes one Parquet part file in ``<out>/<name>/results/``, written under
a temporary name starting with ``.`` (which Parquet readers skip), flushed to disk and renamed
into place: a killed sweep never leaves a partial part, and a re-run schedules only the
scenarios missing from the finished parts. :func:`read_results` reads the folder and drops
duplicate scenario ids (possible only when two sweeps computed the same scenario at once;
the rows are identical apart from timing columns).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import itertools
import json
import logging
import math
import os
import re
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from decision.case import (
    DEFAULT_CASE,
    Case,
    Scenario,
    contingent_plan,
    load_case,
    load_scenario,
    load_spec,
    value_of_deciding_later,
)
from decision.core.atomic import atomic_path, atomic_write_text
from decision.core.config import DEFAULT_AS_OF, DEFAULT_SEED, deep_merge
from decision.core.dates import parse_date
from decision.core.errors import DecisionError, InputError
from decision.core.suggest import did_you_mean
from decision.core.yaml import read_yaml_file

__all__ = [
    "MODES",
    "Posterior",
    "Sweep",
    "SweepScenario",
    "SweepSummary",
    "evaluate_scenario",
    "finished_ids",
    "fit_posterior",
    "load_sweep",
    "local_cluster",
    "read_results",
    "results_schema",
    "run_sweep",
    "sweep_folder",
]

log = logging.getLogger(__name__)

#: Version of the sweep format and of the id scheme: a change gives every scenario a new id.
SWEEP_FORMAT = 1
#: ``tree``: every scenario re-evaluates the tree on the base posterior; ``refit``: every
#: scenario is evaluated on its own fit (served from the cache when the model inputs are
#: unchanged); ``auto``: refit only the scenarios whose priors, as_of or observations differ
#: from the base.
MODES = ("auto", "tree", "refit")
#: Sampler settings of a sweep's fits unless the sweep file overrides them: the models'
#: defaults, one process per fit (a Dask worker runs one fit per thread).
SWEEP_SAMPLER_OVERRIDES = {"cores": 1}
_FILE_KEYS = (
    "name",
    "description",
    "case",
    "base",
    "mode",
    "draws",
    "seed",
    "value_of_monitoring",
    "batch_size",
    "as_of",
    "observations",
    "sampler",
    "strict",
    "use_cache",
    "grid",
    "sample",
)
_SAMPLE_KEYS = ("n", "seed", "method", "parameters")
_DISTRIBUTIONS = {
    "uniform": ("low", "high"),
    "loguniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "normal": ("mean", "sd"),
    "beta": ("alpha", "beta"),
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_MAX_SCENARIOS = 1_000_000
_POSITIVE_SUFFIXES = ("alpha", "beta", "sigma", "scale", "rate")
#: Temporary part files older than this (seconds) are left over from a killed run.
_STALE_TEMP_SECONDS = 3600


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def _digest(obj: Any, length: int = 64) -> str:
    text = obj if isinstance(obj, str) else _canonical(obj)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --------------------------------------------------------------------------- definitions


@dataclasses.dataclass(frozen=True)
class FitSpec:
    """Everything a fit of the case's models depends on (and the observations to fit on)."""

    key: str
    case: str
    as_of: str
    observations: Any  # a validated observations frame, or None
    priors: dict[str, dict[str, Any]]
    settings: dict[str, Any]
    sampler: dict[str, Any]
    strict: bool
    use_cache: bool


@dataclasses.dataclass(frozen=True)
class SweepScenario:
    """One scenario of a sweep.

    Attributes
    ----------
    id
        Hash of the scenario's inputs and of the sweep's settings (stable across runs).
    values
        Varied key -> value: numbers as floats, dates as ISO strings, observation files as
        written in the sweep file (``None`` for none), parameter specs as mappings.
    overrides
        Tree parameter -> number, replacing the parameter in every draw.
    specs
        Tree parameter -> spec mapping, replacing the parameter's spec.
    as_of, observations
        The effective date and observations file (as written; ``None`` for none).
    fit_key
        Key of the model inputs the scenario is evaluated on.
    refit
        True when the scenario is evaluated on its own fit rather than the base posterior.
    """

    id: str
    values: Mapping[str, Any]
    overrides: Mapping[str, float]
    specs: Mapping[str, Any]
    as_of: str
    observations: str | None
    fit_key: str
    refit: bool


@dataclasses.dataclass
class Sweep:
    """A validated sweep definition and its scenarios (see :func:`load_sweep`)."""

    name: str
    description: str
    path: str
    case: str
    base: Scenario
    mode: str
    draws: int | None
    seed: int
    value_of_monitoring: bool
    batch_size: int
    sampler: dict[str, Any]
    strict: bool
    use_cache: bool
    keys: list[str]
    key_kinds: dict[str, tuple]
    scenarios: list[SweepScenario]
    fits: dict[str, FitSpec]
    base_fit_key: str
    duplicates: int
    definition: dict[str, Any]

    @property
    def hash(self) -> str:
        """Hash of everything that determines the results (not the batch size)."""
        return _digest(self.definition)

    @property
    def refit_count(self) -> int:
        return sum(s.refit for s in self.scenarios)

    def describe(self) -> dict[str, Any]:
        """Counts for ``--dry-run``: scenarios, refits, distinct fits, batches."""
        sources = {s.fit_key for s in self.scenarios if s.refit}
        return {
            "name": self.name,
            "case": self.case,
            "base": self.base.name,
            "mode": self.mode,
            "keys": list(self.keys),
            "scenarios": len(self.scenarios),
            "tree_only": len(self.scenarios) - self.refit_count,
            "refit": self.refit_count,
            "distinct_fits": len(sources),
            "duplicates_removed": self.duplicates,
            "batches": len(self.batches()),
            "hash": self.hash,
        }

    def batches(self) -> list[list[SweepScenario]]:
        """Scenarios grouped by the posterior they use, in chunks of ``batch_size``."""
        groups: dict[str, list[SweepScenario]] = {}
        for scenario in self.scenarios:
            source = scenario.fit_key if scenario.refit else "base"
            groups.setdefault(source, []).append(scenario)
        out = []
        for members in groups.values():
            for start in range(0, len(members), self.batch_size):
                out.append(members[start : start + self.batch_size])
        return out


def sweep_folder(out: str | os.PathLike, name: str) -> Path:
    """The folder of sweep ``name`` under ``out``: ``sweep.json``, ``results/``, ..."""
    return Path(out) / name


def _read_yaml(path: Path) -> Mapping[str, Any]:
    data = read_yaml_file(path, what="a sweep file (YAML)")
    if not isinstance(data, Mapping):
        raise InputError("expected a mapping with name, base, grid and/or sample", file=path)
    return data


class _Loader:
    """Validates a sweep file; every error names the file and the key path."""

    def __init__(self, path: Path):
        self.path = path
        self.file = str(path)
        self.folder = path.parent
        self._observations: dict[str, tuple[str, Any]] = {}
        self._spec_ok: set[str] = set()

    def error(self, message: str, field: str | None = None) -> InputError:
        return InputError(message, file=self.file, field=field)

    def rewrap(self, exc: InputError, field: str | None = None) -> InputError:
        if exc.file is not None:
            return exc
        return InputError(exc.detail, file=self.file, row=exc.row, field=field or exc.field)

    # -- scalars ----------------------------------------------------------------------
    def integer(self, value, field, low, high=None):
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(f"expected a whole number, got {value!r}", field)
        if value < low or (high is not None and value > high):
            bound = f">= {low}" if high is None else f"from {low} to {high}"
            raise self.error(f"expected a whole number {bound}, got {value}", field)
        return int(value)

    def boolean(self, value, field):
        if not isinstance(value, bool):
            raise self.error(f"expected true or false, got {value!r}", field)
        return value

    def date(self, value, field) -> str:
        try:
            return parse_date(value, field=field).isoformat()
        except InputError as exc:
            raise self.rewrap(exc, field) from None

    def observations(self, value, field) -> str | None:
        """Validate an observations file (relative to the sweep file); ``None`` for none."""
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.error(f"expected a file path or null, got {value!r}", field)
        if value not in self._observations:
            path = Path(value) if Path(value).is_absolute() else self.folder / value
            if not path.is_file():
                raise self.error(f"observations file not found: {path}", field)
            from decision.observations import load_observations

            load_observations(path)  # errors name the CSV file, row and column
            self._observations[value] = (
                str(path.resolve()),
                hashlib.sha256(path.read_bytes()).hexdigest(),
            )
        return value

    def observations_file(self, value: str | None) -> tuple[str | None, str | None]:
        """(absolute path, content hash) of a validated observations value."""
        if value is None:
            return None, None
        return self._observations[value]


def _key_kind(loader: _Loader, key: Any, params: Mapping[str, Any], field: str) -> tuple:
    """Classify a varied key: ``("param", name)``, ``("prior", model, prior, parameter)``,
    ``("as_of",)`` or ``("observations",)``.
    """
    from decision.models import MODELS

    if not isinstance(key, str):
        raise loader.error(f"expected a parameter name, got {key!r}", field)
    if key in ("as_of", "observations"):
        return (key,)
    if key.startswith("priors."):
        parts = key.split(".")
        if len(parts) != 4:
            raise loader.error(
                "expected priors.<model>.<prior>.<parameter>, e.g. priors.china.accepts.alpha",
                field,
            )
        _, model, prior, param = parts
        if model not in MODELS:
            raise loader.error(
                f"unknown model '{model}' (expected one of: {', '.join(MODELS)})", field
            )
        defaults = MODELS[model].default_priors
        if prior not in defaults or not isinstance(defaults[prior], Mapping):
            raise loader.error(
                f"unknown prior '{prior}' of model '{model}'"
                f"{did_you_mean(prior, defaults)} (known: {', '.join(defaults)})",
                field,
            )
        if param not in defaults[prior]:
            raise loader.error(
                f"prior '{model}.{prior}' has no parameter '{param}' (expected "
                f"one of: {', '.join(defaults[prior])})",
                field,
            )
        return ("prior", model, prior, param)
    name = key.removeprefix("parameters.")
    if name in params:
        return ("param", name)
    known = list(params) + ["as_of", "observations", "priors.<model>.<prior>.<parameter>"]
    raise loader.error(
        f"unknown key '{key}'{did_you_mean(name, known)}: expected a tree parameter "
        "of the case, priors.<model>.<prior>.<parameter>, as_of or observations",
        field,
    )


def _value(
    loader: _Loader, kind: tuple, value: Any, field: str, *, case: str, base: Scenario
) -> Any:
    """Validate and normalise one value of a varied key."""
    if kind[0] == "as_of":
        return loader.date(value, field)
    if kind[0] == "observations":
        return loader.observations(value, field)
    if kind[0] == "prior":
        if not _is_number(value) or not math.isfinite(value):
            raise loader.error(f"expected a number, got {value!r}", field)
        if kind[3] in _POSITIVE_SUFFIXES and not value > 0:
            raise loader.error(f"expected a positive number, got {value!r}", field)
        return float(value)
    if _is_number(value):
        if not math.isfinite(value):
            raise loader.error(f"expected a finite number, got {value!r}", field)
        return float(value)
    if isinstance(value, Mapping):
        spec = json.loads(json.dumps(dict(value), default=str))
        token = _canonical({kind[1]: spec})
        if token not in loader._spec_ok:
            trial = dataclasses.replace(
                base, parameters={**base.parameters, kind[1]: spec}, path=loader.file
            )
            try:
                load_case(trial, case)
            except InputError as exc:
                raise InputError(exc.detail, file=loader.file, field=field) from None
            loader._spec_ok.add(token)
        return spec
    raise loader.error(f"expected a number or a parameter spec (a mapping), got {value!r}", field)


def _unit_points(loader: _Loader, n: int, d: int, seed: int, method: str) -> np.ndarray:
    if method == "random":
        return np.random.default_rng(seed).random((n, d))
    from scipy.stats import qmc

    try:
        sampler = qmc.LatinHypercube(d=d, rng=seed)
    except TypeError:  # scipy < 1.15
        sampler = qmc.LatinHypercube(d=d, seed=seed)
    return sampler.random(n)


def _ppf(loader: _Loader, kind: tuple, spec: Any, u: np.ndarray, field: str, *, case, base) -> list:
    """Map uniform points ``u`` through the distribution ``spec`` of a sampled key."""
    if not isinstance(spec, Mapping):
        raise loader.error(
            "expected a distribution: {low, high}, {distribution: ..., ...} or {values: [...]}",
            field,
        )
    if "values" in spec:
        extra = set(spec) - {"values"}
        if extra:
            raise loader.error(
                f"unexpected key(s) {', '.join(sorted(map(str, extra)))} beside 'values'", field
            )
        values = spec["values"]
        if not isinstance(values, list) or not values:
            raise loader.error("expected 'values' to be a non-empty list", f"{field}.values")
        normal = [
            _value(loader, kind, v, f"{field}.values[{i}]", case=case, base=base)
            for i, v in enumerate(values)
        ]
        idx = np.minimum((u * len(normal)).astype(int), len(normal) - 1)
        return [normal[i] for i in idx]
    dist = spec.get("distribution", "uniform")
    if dist not in _DISTRIBUTIONS:
        raise loader.error(
            f"unknown distribution '{dist}' (expected one of: "
            f"{', '.join(_DISTRIBUTIONS)}, or values: [...])",
            f"{field}.distribution",
        )
    needed = _DISTRIBUTIONS[dist]
    extra = set(spec) - set(needed) - {"distribution"}
    if extra:
        raise loader.error(
            f"unexpected key(s) for {dist}: {', '.join(sorted(map(str, extra)))}"
            f" (expected {', '.join(needed)})",
            field,
        )
    for key in needed:
        if key not in spec:
            raise loader.error(f"{dist} needs '{key}' (expected {', '.join(needed)})", field)
    if kind[0] == "as_of":
        if dist != "uniform":
            raise loader.error(
                "as_of can be sampled uniformly between low and high dates, or from values: [...]",
                field,
            )
        low = parse_date(loader.date(spec["low"], f"{field}.low"))
        high = parse_date(loader.date(spec["high"], f"{field}.high"))
        if high < low:
            raise loader.error("expected high on or after low", field)
        days = (high - low).days + 1
        return [(low + dt.timedelta(days=int(min(x * days, days - 1)))).isoformat() for x in u]
    if kind[0] == "observations":
        raise loader.error("observations can be sampled from values: [...] only", field)
    p = {}
    for key in needed:
        if not _is_number(spec[key]) or not math.isfinite(spec[key]):
            raise loader.error(f"expected a number, got {spec[key]!r}", f"{field}.{key}")
        p[key] = float(spec[key])
    u = np.clip(u, 1e-12, 1 - 1e-12)
    if dist in ("uniform", "loguniform", "triangular") and not p["low"] < p["high"]:
        raise loader.error("expected low < high", field)
    if dist == "uniform":
        x = p["low"] + u * (p["high"] - p["low"])
    elif dist == "loguniform":
        if not p["low"] > 0:
            raise loader.error("loguniform needs low > 0", f"{field}.low")
        x = np.exp(np.log(p["low"]) + u * (np.log(p["high"]) - np.log(p["low"])))
    elif dist == "triangular":
        from scipy import stats

        if not p["low"] <= p["mode"] <= p["high"]:
            raise loader.error("expected low <= mode <= high", field)
        width = p["high"] - p["low"]
        x = stats.triang.ppf(u, (p["mode"] - p["low"]) / width, loc=p["low"], scale=width)
    elif dist == "normal":
        from scipy import stats

        if not p["sd"] > 0:
            raise loader.error("normal needs sd > 0", f"{field}.sd")
        x = stats.norm.ppf(u, loc=p["mean"], scale=p["sd"])
    else:
        from scipy import stats

        if not (p["alpha"] > 0 and p["beta"] > 0):
            raise loader.error("beta needs alpha > 0 and beta > 0", field)
        x = stats.beta.ppf(u, p["alpha"], p["beta"])
    return [_value(loader, kind, float(v), field, case=case, base=base) for v in x]


def load_sweep(path: str | os.PathLike) -> Sweep:
    """Read, validate and expand a sweep file.

    Raises
    ------
    InputError
        Naming the sweep file and the key path (``grid.priors.china.accepts.alpha``,
        ``sample.parameters.w_pressure.high``, ...), or the scenario / observations file at
        fault.
    """
    from decision import __version__
    from decision.models import DEFAULT_SAMPLER, MODELS

    path = Path(path)
    loader = _Loader(path)
    data = _read_yaml(path)
    for key in data:
        if key not in _FILE_KEYS:
            raise loader.error(
                f"unknown key{did_you_mean(str(key), _FILE_KEYS)} (expected one of: "
                f"{', '.join(_FILE_KEYS)})",
                str(key),
            )
    name = str(data.get("name") or path.stem)
    if not _NAME.match(name):
        raise loader.error(
            "expected a name of letters, digits, '.', '_' or '-' (not starting "
            "with '.' or '-'; at most 100 characters)",
            "name",
        )
    case = str(data.get("case") or DEFAULT_CASE)
    try:
        load_spec(case)
    except InputError as exc:
        raise loader.rewrap(exc, "case") from None
    base_ref = data.get("base", "baseline")
    if not isinstance(base_ref, str) or not base_ref:
        raise loader.error("expected a shipped scenario's name or a scenario file", "base")
    local = path.parent / base_ref
    base = load_scenario(local if local.is_file() else base_ref, case)
    try:
        base_case = load_case(base, case)
    except InputError as exc:
        raise loader.rewrap(exc) from None
    params = base_case.tree.parameters
    mode = data.get("mode", "auto")
    if mode not in MODES:
        raise loader.error(f"expected one of: {', '.join(MODES)}, got {mode!r}", "mode")
    draws = data.get("draws", 2000)
    if draws is not None:
        draws = loader.integer(draws, "draws", 10, 10_000_000)
    seed = loader.integer(data.get("seed", DEFAULT_SEED), "seed", 0, 2**32 - 1)
    vom = loader.boolean(data.get("value_of_monitoring", False), "value_of_monitoring")
    batch_size = loader.integer(data.get("batch_size", 100), "batch_size", 1, 100_000)
    strict = loader.boolean(data.get("strict", False), "strict")
    use_cache = loader.boolean(data.get("use_cache", True), "use_cache")
    base_as_of = loader.date(data.get("as_of", DEFAULT_AS_OF), "as_of")
    base_obs = loader.observations(data.get("observations"), "observations")
    sampler_given = data.get("sampler") or {}
    if not isinstance(sampler_given, Mapping):
        raise loader.error("expected a mapping of sampler settings", "sampler")
    try:
        sampler = deep_merge(
            deep_merge(DEFAULT_SAMPLER, SWEEP_SAMPLER_OVERRIDES), sampler_given, where="sampler"
        )
    except InputError as exc:
        raise loader.rewrap(exc) from None
    for key in ("draws", "tune", "chains", "cores", "random_seed", "prior_predictive_draws"):
        loader.integer(sampler[key], f"sampler.{key}", 0 if key in ("random_seed", "tune") else 1)
    if not _is_number(sampler["target_accept"]) or not 0 < sampler["target_accept"] < 1:
        raise loader.error("expected a number between 0 and 1", "sampler.target_accept")

    # ---- the varied keys and their values
    keys: list[str] = []
    kinds: dict[str, tuple] = {}
    canonical: dict[str, str] = {}

    def add_key(key, field):
        kind = _key_kind(loader, key, params, field)
        norm = kind[1] if kind[0] == "param" else key
        if norm in kinds:
            raise loader.error(
                f"'{key}' is varied twice (grid and sample, or two spellings)", field
            )
        keys.append(norm)
        kinds[norm] = kind
        canonical[key] = norm
        return norm

    grid = data.get("grid") or {}
    if not isinstance(grid, Mapping):
        raise loader.error("expected a mapping of key: [values]", "grid")
    grid_columns: list[list] = []
    grid_keys: list[str] = []
    for key, values in grid.items():
        field = f"grid.{key}"
        norm = add_key(key, field)
        if not isinstance(values, list) or not values:
            raise loader.error("expected a non-empty list of values", field)
        normal = [
            _value(loader, kinds[norm], v, f"{field}[{i}]", case=case, base=base)
            for i, v in enumerate(values)
        ]
        tokens = [_canonical(v) for v in normal]
        for i, token in enumerate(tokens):
            if token in tokens[:i]:
                raise loader.error(f"duplicate value {values[i]!r}", f"{field}[{i}]")
        grid_keys.append(norm)
        grid_columns.append(normal)

    sample = data.get("sample")
    sample_keys: list[str] = []
    sample_rows: list[tuple] = [()]
    if sample is not None:
        if not isinstance(sample, Mapping):
            raise loader.error("expected a mapping with n, seed, method and parameters", "sample")
        for key in sample:
            if key not in _SAMPLE_KEYS:
                raise loader.error(
                    f"unknown key (expected one of: {', '.join(_SAMPLE_KEYS)})", f"sample.{key}"
                )
        if "n" not in sample:
            raise loader.error("expected the number of sampled points", "sample.n")
        n = loader.integer(sample["n"], "sample.n", 1, _MAX_SCENARIOS)
        sample_seed = loader.integer(sample.get("seed", seed), "sample.seed", 0, 2**32 - 1)
        method = sample.get("method", "lhs")
        if method not in ("lhs", "random"):
            raise loader.error(f"expected lhs or random, got {method!r}", "sample.method")
        dists = sample.get("parameters")
        if not isinstance(dists, Mapping) or not dists:
            raise loader.error("expected a mapping of key: distribution", "sample.parameters")
        for key in dists:
            sample_keys.append(add_key(key, f"sample.parameters.{key}"))
        u = _unit_points(loader, n, len(sample_keys), sample_seed, method)
        columns = [
            _ppf(
                loader,
                kinds[norm],
                dists[key],
                u[:, j],
                f"sample.parameters.{key}",
                case=case,
                base=base,
            )
            for j, (key, norm) in enumerate(zip(dists, sample_keys, strict=True))
        ]
        sample_rows = list(zip(*columns, strict=True))

    total = math.prod(len(c) for c in grid_columns) * len(sample_rows)
    if total > _MAX_SCENARIOS:
        raise loader.error(
            f"{total} scenarios: at most {_MAX_SCENARIOS} per sweep", "grid" if grid else "sample"
        )
    if sampler["cores"] != 1 and (mode == "refit" or any(kinds[k][0] != "param" for k in keys)):
        raise loader.error(
            "refits run inside Dask worker processes, which cannot start "
            "sampler processes: use cores: 1 (the workers give the "
            "parallelism)",
            "sampler.cores",
        )
    if mode == "tree":
        for key in keys:
            if kinds[key][0] != "param":
                where = "grid" if key in grid_keys else "sample.parameters"
                raise loader.error(
                    "mode 'tree' re-evaluates the tree on the base posterior; "
                    f"varying '{key}' needs the models refitted (mode: auto "
                    "or refit)",
                    f"{where}.{key}",
                )

    # ---- settings every id depends on
    obs_sha = loader.observations_file(base_obs)[1]
    settings = {
        "format": SWEEP_FORMAT,
        "case": case,
        "base": {
            "name": base.name,
            "parameters": base.parameters,
            "priors": base.priors,
            "settings": base.settings,
        },
        "as_of": base_as_of,
        "observations": obs_sha,
        "draws": draws,
        "seed": seed,
        "value_of_monitoring": vom,
        "sampler": sampler,
        "strict": strict,
    }
    settings_token = _canonical(settings)

    from decision.case import merged_priors

    fits: dict[str, FitSpec] = {}
    fit_cache: dict[str, str] = {}
    frames: dict[tuple, Any] = {}

    def fit_key_for(as_of: str, obs: str | None, prior_values: dict) -> str:
        token = _canonical([as_of, obs, sorted([list(k), v] for k, v in prior_values.items())])
        if token in fit_cache:
            return fit_cache[token]
        extra: dict[str, dict] = {}
        for (model, prior, param), value in prior_values.items():
            extra.setdefault(model, {}).setdefault(prior, {})[param] = value
        try:
            merged = merged_priors(base, extra, case=case)
        except InputError as exc:
            raise loader.rewrap(exc) from None
        full = {m: deep_merge(cls.default_priors, merged.get(m)) for m, cls in MODELS.items()}
        path_abs, sha = loader.observations_file(obs)
        key = _digest(
            {
                "as_of": as_of,
                "observations": sha,
                "priors": full,
                "settings": base.settings,
                "sampler": sampler,
                "strict": strict,
                "version": __version__,
            }
        )
        if key not in fits:
            frame = None
            if path_abs is not None:
                if (path_abs, as_of) not in frames:
                    from decision.observations import load_observations

                    frames[(path_abs, as_of)] = load_observations(path_abs, as_of=as_of)
                frame = frames[(path_abs, as_of)]
            fits[key] = FitSpec(
                key=key,
                case=case,
                as_of=as_of,
                observations=frame,
                priors=full,
                settings=dict(base.settings),
                sampler=dict(sampler),
                strict=strict,
                use_cache=use_cache,
            )
        fit_cache[token] = key
        return key

    base_fit_key = fit_key_for(base_as_of, base_obs, {})
    scenarios: list[SweepScenario] = []
    seen: set[str] = set()
    duplicates = 0
    for combo in itertools.product(*grid_columns):
        for point in sample_rows:
            values = dict(zip(grid_keys, combo, strict=True))
            values.update(zip(sample_keys, point, strict=True))
            overrides, specs, prior_values = {}, {}, {}
            as_of, obs = base_as_of, base_obs
            for key, value in values.items():
                kind = kinds[key]
                if kind[0] == "param":
                    (specs if isinstance(value, Mapping) else overrides)[kind[1]] = value
                elif kind[0] == "prior":
                    prior_values[kind[1:]] = value
                elif kind[0] == "as_of":
                    as_of = value
                else:
                    obs = value
            identity = {
                k: (loader.observations_file(v)[1] if kinds[k][0] == "observations" else v)
                for k, v in values.items()
            }
            sid = _digest(settings_token + _canonical(identity), 20)
            if sid in seen:
                duplicates += 1
                continue
            seen.add(sid)
            fit_key = fit_key_for(as_of, obs, {k: prior_values[k] for k in sorted(prior_values)})
            refit = mode == "refit" or (mode == "auto" and fit_key != base_fit_key)
            scenarios.append(
                SweepScenario(
                    id=sid,
                    values=values,
                    overrides=overrides,
                    specs=specs,
                    as_of=as_of,
                    observations=obs,
                    fit_key=fit_key,
                    refit=refit,
                )
            )
    definition = dict(
        settings,
        mode=mode,
        keys=keys,
        scenarios=_digest(sorted(s.id for s in scenarios)),
        count=len(scenarios),
    )
    return Sweep(
        name=name,
        description=str(data.get("description") or ""),
        path=str(path),
        case=case,
        base=base,
        mode=mode,
        draws=draws,
        seed=seed,
        value_of_monitoring=vom,
        batch_size=batch_size,
        sampler=sampler,
        strict=strict,
        use_cache=use_cache,
        keys=keys,
        key_kinds=kinds,
        scenarios=scenarios,
        fits=fits,
        base_fit_key=base_fit_key,
        duplicates=duplicates,
        definition=definition,
    )


# ------------------------------------------------------------------------ posteriors


@dataclasses.dataclass
class Posterior:
    """Posterior draws of both models, reduced to what a tree evaluation needs.

    Attributes
    ----------
    fit_key
        The :class:`FitSpec` key it was fitted for.
    supplied
        Tree parameter -> 1-D array of posterior draws (one length, aligned draw by draw).
    headline
        Posterior means of the case's headline quantities, recorded on every row.
    diagnostics_ok, flags
        Convergence checks of both fits.
    error
        Set (and nothing else) when the fit failed on purpose (a ``DecisionError``, e.g. a
        convergence failure with ``strict``); every scenario on it gets this error.
    """

    fit_key: str
    supplied: dict[str, np.ndarray]
    headline: dict[str, float]
    diagnostics_ok: bool | None = None
    flags: tuple[str, ...] = ()
    from_cache: bool | None = None
    seconds: float | None = None
    error: str | None = None

    @property
    def n(self) -> int:
        return len(next(iter(self.supplied.values()))) if self.supplied else 0

    @classmethod
    def from_fits(
        cls,
        fits: Mapping[str, Any],
        spec,
        fit_key: str = "",
        seconds: float | None = None,
    ) -> Posterior:
        """Reduce fitted models (``decision.models.Fit`` by model key) to what a case uses."""
        supplied = {
            param: np.ascontiguousarray(fits[model].draws(var), dtype=float)
            for param, (model, var) in spec.supplied.items()
        }
        headline = {q.name: float(np.mean(fits[q.model].draws(q.variable))) for q in spec.headline}
        flags = tuple(m for m in (f.flagged_message() for f in fits.values()) if m)
        return cls(
            fit_key,
            supplied,
            headline,
            all(f.diagnostics.ok for f in fits.values()),
            flags,
            all(f.from_cache for f in fits.values()),
            seconds,
        )


def fit_posterior(spec: FitSpec, *, raise_errors: bool = False) -> Posterior:
    """Fit both models for ``spec`` (or load them from the posterior cache).

    A :class:`~decision.core.errors.DecisionError` (bad input, or a convergence failure with
    ``strict``) is returned as ``Posterior.error`` so the scenarios record it, unless
    ``raise_errors``; anything else raises (and the sweep retries the batch).
    """
    from decision.models import fit_models

    start = time.perf_counter()
    case = load_spec(spec.case)
    try:
        fits = fit_models(
            keys=case.models,
            as_of=spec.as_of,
            observations=spec.observations,
            priors=spec.priors,
            settings=spec.settings,
            sampler=spec.sampler,
            use_cache=spec.use_cache,
            strict=spec.strict,
        )
    except DecisionError as exc:
        if raise_errors:
            raise
        return Posterior(
            spec.key, {}, {}, error=_one_line(exc), seconds=time.perf_counter() - start
        )
    return Posterior.from_fits(fits, case, spec.key, time.perf_counter() - start)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip()


# ------------------------------------------------------------------------ evaluation


_CASES: dict[str, Case] = {}


def case_for(case: str, base: Scenario, specs: Mapping[str, Any]) -> Case:
    """The case with the base scenario's and ``specs``'s parameter specs applied (cached)."""
    key = _canonical({"case": case, "base": [base.name, base.parameters], "specs": specs})
    loaded = _CASES.get(key)
    if loaded is None:
        if len(_CASES) >= 64:
            _CASES.clear()
        scenario = dataclasses.replace(base, parameters={**base.parameters, **specs})
        loaded = load_case(scenario, case)
        _CASES[key] = loaded
    return loaded


def _warm_up(case: str, base: Scenario) -> None:
    """Import the evaluation code and load the case tree on a worker."""
    import xarray  # noqa: F401  (the per-draw values the rows summarise)

    case_for(case, base, {})


def _warm_up_workers(client, sweep: Sweep) -> None:
    """Workers import the evaluation code while the client fits or loads the base."""
    from distributed import fire_and_forget

    for address in client.scheduler_info().get("workers", {}):
        fire_and_forget(
            client.submit(
                _warm_up,
                sweep.case,
                sweep.base,
                pure=False,
                workers=[address],
                allow_other_workers=True,
                key=f"sweep-warm-up-{address}-{time.time_ns()}",
            )
        )


def evaluate_scenario(
    case: Case,
    posterior: Posterior,
    overrides: Mapping[str, float] | None = None,
    *,
    draws: int | None = 2000,
    seed: int = DEFAULT_SEED,
    value_of_monitoring: bool = False,
) -> dict[str, Any]:
    """Evaluate the case tree on posterior draws with parameter overrides: one row's outputs.

    The same computation as :func:`decision.case.analyze` (recommendation, expected values
    with 90% intervals, probability optimal, contingent plan, and with
    ``value_of_monitoring`` the value of monitoring: five more rollbacks, about 2.5 times
    the cost) with ``draws`` tree draws (``None``: one per posterior draw) and parameter
    ``overrides``.
    """
    from decision.tree import evaluate

    tree = case.tree
    supplied = {
        k: v
        for k, v in posterior.supplied.items()
        if getattr(tree.parameters.get(k), "kind", None) == "supplied"
    }
    n = draws or posterior.n
    result = evaluate(tree, n=n, seed=seed, supplied=supplied, overrides=dict(overrides or {}))
    labels = list(result.options)
    values = np.asarray(result.root_values_per_draw)
    low, high = np.percentile(values, [5, 95], axis=0)
    row: dict[str, Any] = {"recommendation": result.optimal}
    optimal = result.probability_optimal
    for i, label in enumerate(labels):
        row[f"ev.{label}"] = float(result.options[label])
        row[f"ev_5.{label}"] = float(low[i])
        row[f"ev_95.{label}"] = float(high[i])
        row[f"p_optimal.{label}"] = float(optimal.get(label, 0.0))
    plan, share = contingent_plan(result, case.spec)
    for level, option in plan.items():
        row[f"plan.{level}"] = option
        row[f"plan_share.{level}"] = share[level]
    if value_of_monitoring:
        value, fixed = value_of_deciding_later(tree, result, case.spec)
        for option, option_value in fixed.items():
            row[f"fixed_plan.{option}"] = option_value
        row["value_of_monitoring"] = value
    return row


@dataclasses.dataclass
class _Batch:
    """What a worker needs to evaluate one batch (small: no draws, no trees)."""

    part: str
    sweep: str
    case: str
    base: Scenario
    draws: int | None
    seed: int
    value_of_monitoring: bool
    mode: str
    items: list[tuple[str, dict, dict, dict]]  # (id, overrides, specs, input columns)


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return f"local-{os.getpid()}"


def _run_batch(batch: _Batch, posterior: Posterior) -> list[dict[str, Any]]:
    """Evaluate every scenario of ``batch`` on ``posterior``; one row per scenario.

    A scenario that fails on purpose (a ``DecisionError``: an override that makes a
    probability invalid, a fit that failed its checks with ``strict``) gets a row with
    ``error`` set, so that a re-run does not retry a deterministic failure.
    """
    worker = _worker_name()
    common = {
        "diagnostics_ok": posterior.diagnostics_ok,
        "flags": "; ".join(posterior.flags) if posterior.flags else None,
        "fit_from_cache": posterior.from_cache,
        "fit_seconds": posterior.seconds,
        **posterior.headline,
    }
    rows = []
    for sid, overrides, specs, inputs in batch.items:
        start, cpu = time.perf_counter(), time.thread_time()
        row = {
            "scenario_id": sid,
            "sweep": batch.sweep,
            "mode": batch.mode,
            **inputs,
            "draws": batch.draws or posterior.n,
            "seed": batch.seed,
            **common,
        }
        if posterior.error:
            row["error"] = posterior.error
        else:
            try:
                row.update(
                    evaluate_scenario(
                        case_for(batch.case, batch.base, specs),
                        posterior,
                        overrides,
                        draws=batch.draws,
                        seed=batch.seed,
                        value_of_monitoring=batch.value_of_monitoring,
                    )
                )
            except DecisionError as exc:
                row["error"] = _one_line(exc)
        row["seconds"] = time.perf_counter() - start
        row["cpu_seconds"] = time.thread_time() - cpu
        row["worker"] = worker
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------- output


def _output_labels(case: Case) -> tuple[list[str], list[str], list[str]]:
    tree, stage = case.tree, case.spec.second_stage
    root = list(tree.root.labels)
    if stage is None:
        return root, [], []
    second = next(
        (list(n.labels) for n in tree.decision_nodes.values() if n.name == stage.decision), []
    )
    levels = next((list(n.labels) for n in tree.nodes.values() if n.name == stage.condition), [])
    return root, second, levels or (["always"] if second else [])


def results_schema(sweep: Sweep):
    """The Arrow schema of a sweep's rows (the same for every part file)."""
    import pyarrow as pa

    case = load_case(sweep.base, sweep.case)
    root, second, levels = _output_labels(case)
    fields = [
        ("scenario_id", pa.string()),
        ("sweep", pa.string()),
        ("mode", pa.string()),
        ("as_of", pa.string()),
        ("observations", pa.string()),
    ]
    for key in sweep.keys:
        kind = sweep.key_kinds[key]
        if kind[0] in ("as_of", "observations"):
            continue
        numeric = all(_is_number(s.values[key]) for s in sweep.scenarios)
        fields.append((f"input.{key}", pa.float64() if numeric else pa.string()))
    fields += [("draws", pa.int64()), ("seed", pa.int64()), ("recommendation", pa.string())]
    for prefix in ("ev", "ev_5", "ev_95", "p_optimal"):
        fields += [(f"{prefix}.{label}", pa.float64()) for label in root]
    for level in levels:
        fields += [(f"plan.{level}", pa.string()), (f"plan_share.{level}", pa.float64())]
    fields += [(f"fixed_plan.{option}", pa.float64()) for option in second]
    fields += [("value_of_monitoring", pa.float64())]
    fields += [(q.name, pa.float64()) for q in case.spec.headline]
    fields += [
        ("diagnostics_ok", pa.bool_()),
        ("flags", pa.string()),
        ("fit_from_cache", pa.bool_()),
        ("fit_seconds", pa.float64()),
        ("error", pa.string()),
        ("seconds", pa.float64()),
        ("cpu_seconds", pa.float64()),
        ("worker", pa.string()),
    ]
    return pa.schema(
        fields, metadata={"decision.sweep": sweep.name, "decision.sweep_hash": sweep.hash}
    )


def _input_columns(sweep: Sweep, scenario: SweepScenario, schema) -> dict[str, Any]:
    out = {"as_of": scenario.as_of, "observations": scenario.observations}
    for key, value in scenario.values.items():
        column = f"input.{key}"
        if column not in schema.names:
            continue
        if isinstance(value, float) and str(schema.field(column).type) == "double":
            out[column] = value
        else:
            out[column] = value if isinstance(value, str) else _canonical(value)
    return out


def _part_name(ids) -> str:
    return f"part-{_digest(sorted(ids), 24)}.parquet"


def _write_part(results: Path, name: str, rows: list[dict], schema) -> Path:
    """Write rows as one Parquet file, atomically (temporary name, fsync, rename, folder fsync)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    unknown = set().union(*(r.keys() for r in rows)) - set(schema.names)
    if unknown:
        raise RuntimeError(f"rows have columns outside the sweep's schema: {sorted(unknown)}")
    table = pa.Table.from_pylist(rows, schema=schema)
    target = results / name
    with atomic_path(target, suffix=".parquet") as tmp:
        pq.write_table(table, tmp)
    return target


def _part_files(results: Path) -> list[Path]:
    if not results.is_dir():
        return []
    return sorted(
        p
        for p in results.iterdir()
        if p.is_file() and p.suffix == ".parquet" and not p.name.startswith((".", "_"))
    )


def _results_dir(folder: str | os.PathLike) -> Path:
    folder = Path(folder)
    return folder / "results" if (folder / "results").is_dir() else folder


def finished_ids(folder: str | os.PathLike) -> dict[str, str | None]:
    """Scenario id -> error (``None`` when it succeeded) for every finished scenario.

    ``folder`` is a sweep folder or its ``results`` folder. Only the id and error columns
    are read. A part file that cannot be read (which atomic writes make impossible unless the
    file was damaged from outside) is renamed aside (``.corrupt-...``) and its scenarios
    count as missing.
    """
    import pyarrow.parquet as pq

    results = _results_dir(folder)
    out: dict[str, str | None] = {}
    for part in _part_files(results):
        try:
            table = pq.read_table(part, columns=["scenario_id", "error"])
        except (OSError, ValueError) as exc:  # pyarrow.ArrowInvalid is a ValueError
            log.warning("moving aside unreadable part file %s: %s", part, exc)
            with contextlib.suppress(OSError):
                os.replace(part, part.with_name(f".corrupt-{part.name}"))
            continue
        for sid, err in zip(
            table.column("scenario_id").to_pylist(), table.column("error").to_pylist(), strict=True
        ):
            if sid not in out or out[sid] is not None:
                out[sid] = err
    return out


def read_results(folder: str | os.PathLike, *, columns: list[str] | None = None):
    """A sweep's results as a pandas DataFrame, one row per scenario (duplicates dropped).

    ``folder`` is a sweep folder (``<out>/<name>``) or its ``results`` folder. Equivalent to
    ``pandas.read_parquet(results)`` followed by dropping repeated ``scenario_id`` values.
    """
    import pandas as pd
    import pyarrow.dataset as ds

    parts = _part_files(_results_dir(folder))
    if not parts:
        return pd.DataFrame(columns=["scenario_id"])
    if columns is not None and "scenario_id" not in columns:
        columns = ["scenario_id", *columns]
    table = ds.dataset([str(p) for p in parts], format="parquet").to_table(columns=columns)
    frame = table.to_pandas()
    # Prefer a successful row when the same scenario was written twice.
    if "error" in frame.columns:
        frame = (
            frame.assign(_failed=frame["error"].notna())
            .sort_values("_failed", kind="stable")
            .drop(columns="_failed")
        )
    return frame.drop_duplicates("scenario_id", keep="first").reset_index(drop=True)


def _clean_stale_temps(results: Path) -> None:
    now = time.time()
    for path in results.glob(".part-*.tmp"):
        with contextlib.suppress(OSError):
            if now - path.stat().st_mtime > _STALE_TEMP_SECONDS:
                path.unlink()


def _check_manifest(folder: Path, sweep: Sweep) -> None:
    """Write ``sweep.json`` once; refuse a folder that holds a different sweep."""
    from filelock import FileLock

    from decision import __version__

    manifest = folder / "sweep.json"
    with FileLock(str(folder / ".sweep.json.lock")):
        if manifest.exists():
            try:
                existing = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise InputError(
                    f"cannot read the sweep manifest ({exc}); remove the folder "
                    "or use another --out",
                    file=manifest,
                ) from None
            if existing.get("hash") != sweep.hash:
                raise InputError(
                    f"this folder holds a different definition of sweep '{sweep.name}' "
                    f"(hash {str(existing.get('hash'))[:12]}, from "
                    f"{existing.get('sweep_file')}); {sweep.path} has hash {sweep.hash[:12]}. "
                    "Use another --out or name, or remove the folder",
                    file=manifest,
                )
            return
        atomic_write_text(
            manifest,
            json.dumps(
                {
                    "name": sweep.name,
                    "description": sweep.description,
                    "hash": sweep.hash,
                    "sweep_file": str(Path(sweep.path).resolve()),
                    "scenarios": len(sweep.scenarios),
                    "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "package_version": __version__,
                    "definition": sweep.definition,
                },
                indent=2,
                sort_keys=True,
                default=str,
            )
            + "\n",
        )


# ---------------------------------------------------------------------------- running


@dataclasses.dataclass
class SweepSummary:
    """What a run did. ``ok`` when every scenario is finished without error."""

    name: str
    folder: str
    total: int
    done_before: int
    computed: int = 0
    by_other: int = 0
    missing: int = 0
    errors: int = 0
    failures: list[str] = dataclasses.field(default_factory=list)
    reports: int = 0
    report_failures: list[str] = dataclasses.field(default_factory=list)
    workers: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.missing == 0 and self.errors == 0 and not self.report_failures

    def to_dict(self) -> dict[str, Any]:
        return {
            **dataclasses.asdict(self),
            "ok": self.ok,
            "results": str(Path(self.folder) / "results"),
        }


@contextlib.contextmanager
def _cluster(client, scheduler: str | None, workers: int | None, processes: bool) -> Iterator[Any]:
    if client is not None:
        yield client
        return
    from distributed import Client

    if scheduler is not None:
        try:
            own = Client(scheduler)
        except (OSError, TimeoutError) as exc:
            raise DecisionError(
                f"cannot connect to the Dask scheduler at {scheduler}: {_one_line(exc)}"
            ) from None
        with own:
            yield own
        return
    with (
        local_cluster(workers or os.cpu_count() or 1, processes=processes) as cluster,
        Client(cluster) as own,
    ):
        yield own


def local_cluster(n_workers: int, *, processes: bool = True):
    """A ``distributed.LocalCluster`` of single-threaded workers, without a dashboard.

    The scheduler's HTTP server (health checks) listens on a random port, so that clusters
    started side by side do not compete for 8787.
    """
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=processes,
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": ":0"},
        silence_logs=logging.ERROR,
    )


def _progress(enabled: bool | None):
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    if enabled is None:
        enabled = console.is_terminal
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("elapsed"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=console,
        disable=not enabled,
    )


class _Runner:
    """Submits batches in a bounded window, writes parts, claims batches, retries."""

    def __init__(
        self,
        sweep: Sweep,
        client,
        folder: Path,
        schema,
        *,
        retries: int,
        base_posterior: Posterior | None,
        progress,
        task,
        summary: SweepSummary,
        on_batch: Callable[[dict], None] | None,
    ):
        self.sweep, self.client, self.folder, self.schema = sweep, client, folder, schema
        self.results = folder / "results"
        self.claims = folder / "_claims"
        self.retries = retries
        self.base_posterior = base_posterior
        self.progress, self.task, self.summary = progress, task, summary
        self.on_batch = on_batch
        self.base_future = None
        self.fit_futures: dict[str, Any] = {}
        self.fit_pending: dict[str, int] = {}
        self.held: dict[str, Any] = {}
        self.generation = 0

    # -- claims: one lock file per batch, held while the batch is in flight --------------
    def claim(self, part: str, *, wait: bool):
        from filelock import FileLock, Timeout

        self.claims.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.claims / f"{part}.lock"), thread_local=False)
        try:
            lock.acquire(timeout=-1 if wait else 0)
        except Timeout:
            return None
        self.held[part] = lock
        return lock

    def release(self, part: str) -> None:
        lock = self.held.pop(part, None)
        if lock is not None:
            lock.release()

    def release_all(self) -> None:
        for part in list(self.held):
            self.release(part)

    # -- posteriors ----------------------------------------------------------------------
    def posterior_for(self, source: str):
        if source == "base":
            if self.base_future is None or self.base_future.status != "finished":
                self.base_future = self.client.scatter(
                    self.base_posterior, broadcast=True, hash=False
                )
            return self.base_future
        future = self.fit_futures.get(source)
        if future is None or future.status in ("error", "cancelled", "lost"):
            self.generation += 1
            future = self.client.submit(
                fit_posterior,
                self.sweep.fits[source],
                pure=False,
                key=f"sweep-fit-{source[:16]}-{self.generation}",
            )
            self.fit_futures[source] = future
        return future

    def done_with(self, source: str) -> None:
        if source == "base":
            return
        self.fit_pending[source] -= 1
        if self.fit_pending[source] == 0:
            self.fit_futures.pop(source, None)

    # -- the loop ------------------------------------------------------------------------
    def run(self, batches: list[tuple[str, _Batch]]) -> None:
        from distributed import as_completed

        for source, _ in batches:
            self.fit_pending[source] = self.fit_pending.get(source, 0) + 1
        workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        self.summary.workers = workers
        window = max(4, 3 * workers)
        pending = deque(batches)
        deferred: deque = deque()
        inflight: dict[Any, tuple[str, _Batch, int]] = {}
        queue = as_completed()

        def submit(source: str, batch: _Batch, attempt: int) -> None:
            self.generation += 1
            future = self.client.submit(
                _run_batch,
                batch,
                self.posterior_for(source),
                pure=False,
                key=f"sweep-batch-{batch.part[5:21]}-{self.generation}",
            )
            inflight[future] = (source, batch, attempt)
            queue.add(future)

        def finished_elsewhere(source: str, batch: _Batch) -> bool:
            if (self.results / batch.part).exists():
                self.release(batch.part)
                self.done_with(source)
                self.summary.by_other += len(batch.items)
                self.progress.advance(self.task, len(batch.items))
                return True
            return False

        try:
            while True:
                while pending and len(inflight) < window:
                    source, batch = pending.popleft()
                    if self.claim(batch.part, wait=False) is None:
                        deferred.append((source, batch))  # another sweep is computing it
                    elif not finished_elsewhere(source, batch):
                        submit(source, batch, 0)
                if not inflight:
                    if not deferred:
                        break
                    source, batch = deferred.popleft()
                    self.claim(batch.part, wait=True)  # until the other sweep lets go
                    if not finished_elsewhere(source, batch):
                        submit(source, batch, 0)
                    continue
                future = next(queue)
                source, batch, attempt = inflight.pop(future)
                try:
                    rows = future.result()
                except Exception as exc:  # a worker died, data was lost, a bug
                    future.release()
                    if attempt < self.retries:
                        log.warning("retrying batch %s after: %s", batch.part, _one_line(exc))
                        submit(source, batch, attempt + 1)
                    else:
                        self.release(batch.part)
                        self.done_with(source)
                        self.summary.failures.append(f"{batch.part}: {_one_line(exc)}")
                    continue
                future.release()
                _write_part(self.results, batch.part, rows, self.schema)
                with contextlib.suppress(OSError):
                    (self.claims / f"{batch.part}.lock").unlink()
                self.release(batch.part)
                self.done_with(source)
                self.summary.computed += len(rows)
                self.progress.advance(self.task, len(rows))
                if self.on_batch is not None:
                    self.on_batch(
                        {
                            "part": batch.part,
                            "scenarios": len(rows),
                            "computed": self.summary.computed,
                        }
                    )
        finally:
            if inflight:
                self.client.cancel(list(inflight))
            self.release_all()
            self.fit_futures.clear()
            self.base_future = None


def _batches_to_run(sweep: Sweep, done: Mapping[str, Any], schema) -> list[tuple[str, _Batch]]:
    out = []
    for members in sweep.batches():
        missing = [s for s in members if s.id not in done]
        if not missing:
            continue
        source = missing[0].fit_key if missing[0].refit else "base"
        items = [
            (s.id, dict(s.overrides), dict(s.specs), _input_columns(sweep, s, schema))
            for s in missing
        ]
        out.append(
            (
                source,
                _Batch(
                    part=_part_name(s.id for s in missing),
                    sweep=sweep.name,
                    case=sweep.case,
                    base=sweep.base,
                    draws=sweep.draws,
                    seed=sweep.seed,
                    value_of_monitoring=sweep.value_of_monitoring,
                    mode="refit" if missing[0].refit else "tree",
                    items=items,
                ),
            )
        )
    return out


def run_sweep(
    sweep: Sweep | str | os.PathLike,
    out: str | os.PathLike = "sweeps",
    *,
    client=None,
    scheduler: str | None = None,
    workers: int | None = None,
    processes: bool = True,
    progress: bool | None = None,
    report: bool = False,
    retries: int = 2,
    base_posterior: Posterior | None = None,
    on_batch: Callable[[dict], None] | None = None,
) -> SweepSummary:
    """Run the scenarios of ``sweep`` that are not finished yet, on Dask.

    Parameters
    ----------
    sweep
        A :class:`Sweep` or a sweep file.
    out
        Results go to ``<out>/<sweep name>/``: ``sweep.json`` (the definition), ``results/``
        (the Parquet dataset), and with ``report`` ``scenarios/`` and ``reports/``.
    client
        An existing ``distributed.Client`` (not closed here).
    scheduler
        Address of an existing Dask scheduler; else a local cluster of ``workers`` worker
        processes (default: one per core), one thread each (``processes=False``: threads of
        this process, for tests). The cluster is closed on return.
    progress
        Show a progress bar (default: when standard error is a terminal).
    report
        Also render a report per scenario (``reports/<scenario id>/report.html``).
    retries
        How many times a batch whose task failed (a worker died, data was lost) is
        resubmitted before it is left for the next run.
    base_posterior
        Draws to use instead of fitting the base models (tests, benchmarks).
    on_batch
        Called after each part file is written, with a small dict (tests).

    Returns
    -------
    SweepSummary

    Raises
    ------
    InputError
        When the output folder holds a different sweep of the same name, or with ``report``
        for overrides of model-supplied parameters (a report cannot express them).
    """
    start = time.perf_counter()
    if scheduler is not None and workers is not None:
        raise InputError(
            "--workers sizes the local cluster; with --scheduler the cluster's "
            "own workers are used",
            field="workers",
        )
    if not isinstance(sweep, Sweep):
        sweep = load_sweep(sweep)
    folder = sweep_folder(out, sweep.name)
    results = folder / "results"
    results.mkdir(parents=True, exist_ok=True)
    _check_manifest(folder, sweep)
    if report:
        _check_reportable(sweep)
    _clean_stale_temps(results)
    schema = results_schema(sweep)
    done = finished_ids(results)
    ids = [s.id for s in sweep.scenarios]
    summary = SweepSummary(sweep.name, str(folder), len(ids), sum(1 for i in ids if i in done))
    batches = _batches_to_run(sweep, done, schema)
    need_reports = _missing_reports(sweep, folder, done) if report else []
    if batches or need_reports:
        with (
            _cluster(client, scheduler, workers, processes) as dask_client,
            _progress(progress) as bar,
        ):
            _warm_up_workers(dask_client, sweep)
            task = bar.add_task(
                f"sweep {sweep.name}", total=len(ids), completed=summary.done_before
            )
            if any(source == "base" for source, _ in batches) and base_posterior is None:
                # Once, here: every tree-only scenario shares these draws.
                bar.update(task, description=f"sweep {sweep.name} (base fit)")
                base_posterior = fit_posterior(sweep.fits[sweep.base_fit_key], raise_errors=True)
                bar.update(task, description=f"sweep {sweep.name}")
            runner = _Runner(
                sweep,
                dask_client,
                folder,
                schema,
                retries=retries,
                base_posterior=base_posterior,
                progress=bar,
                task=task,
                summary=summary,
                on_batch=on_batch,
            )
            runner.run(batches)
            if report:
                done = finished_ids(results)
                _render_reports(
                    sweep, dask_client, folder, _missing_reports(sweep, folder, done), bar, summary
                )
    final = finished_ids(results)
    summary.missing = sum(1 for i in ids if i not in final)
    summary.errors = sum(1 for i in ids if i in final and final[i] is not None)
    if report:
        summary.reports = sum(
            1 for s in sweep.scenarios if (folder / "reports" / s.id / "report.html").is_file()
        )
    summary.seconds = time.perf_counter() - start
    return summary


# ---------------------------------------------------------------------------- reports


def _check_reportable(sweep: Sweep) -> None:
    for key in sweep.keys:
        kind = sweep.key_kinds[key]
        if kind[0] == "param" and kind[1] in load_spec(sweep.case).supplied:
            raise InputError(
                f"'{key}' comes from the models' posterior draws: a report "
                "cannot override it, so --report is not available for this "
                "sweep",
                file=sweep.path,
                field=key,
            )


def _missing_reports(sweep: Sweep, folder: Path, done: Mapping[str, Any]) -> list:
    return [
        s
        for s in sweep.scenarios
        if s.id in done
        and done[s.id] is None
        and not (folder / "reports" / s.id / "report.html").is_file()
    ]


def _report_inputs(
    sweep: Sweep, scenario: SweepScenario, folder: Path
) -> tuple[Path, dict[str, Any]]:
    """Write the scenario file of one scenario and return it with the report parameters."""
    params = dict(sweep.base.parameters)
    params.update(scenario.specs)
    for name, value in scenario.overrides.items():
        params[name] = {
            "value": value,
            "description": f"set by sweep {sweep.name} (scenario {scenario.id})",
        }
    priors: dict[str, dict] = json.loads(json.dumps(dict(sweep.base.priors)))
    for key, value in scenario.values.items():
        kind = sweep.key_kinds[key]
        if kind[0] == "prior":
            priors.setdefault(kind[1], {}).setdefault(kind[2], {})[kind[3]] = value
    described = ", ".join(
        f"{k}={v if not isinstance(v, Mapping) else _canonical(v)}"
        for k, v in scenario.values.items()
    )
    text = yaml.safe_dump(
        {
            "name": f"{sweep.name}-{scenario.id}",
            "description": f"Scenario {scenario.id} of sweep {sweep.name} (base "
            f"{sweep.base.name}): {described or 'the base'}",
            "parameters": params,
            "priors": priors,
            "settings": dict(sweep.base.settings),
        },
        sort_keys=False,
        allow_unicode=True,
    )
    path = folder / "scenarios" / f"{scenario.id}.yaml"
    atomic_write_text(path, text)
    obs = None
    if scenario.observations is not None:
        obs = str(
            Path(scenario.observations)
            if Path(scenario.observations).is_absolute()
            else (Path(sweep.path).parent / scenario.observations).resolve()
        )
    s = sweep.sampler
    values = {
        "as_of": scenario.as_of,
        "scenario": str(path.resolve()),
        "observations_file": obs or "",
        "draws": int(s["draws"]),
        "tune": int(s["tune"]),
        "chains": int(s["chains"]),
        "cores": int(s["cores"]),
        "seed": int(s["random_seed"]),
        "strict": sweep.strict,
        "use_cache": sweep.use_cache,
    }
    return path, values


def _render_one(values: dict[str, Any], out_dir: str, name: str, source: str) -> str:
    from decision.report import render_report

    return str(render_report(values, out_dir=out_dir, name=name, source=source))


def _render_reports(
    sweep: Sweep, client, folder: Path, scenarios: list, bar, summary: SweepSummary
) -> None:
    from distributed import as_completed

    if not scenarios:
        return
    task = bar.add_task("reports", total=len(scenarios))
    futures = {}
    for scenario in scenarios:
        path, values = _report_inputs(sweep, scenario, folder)
        future = client.submit(
            _render_one,
            values,
            str((folder / "reports").resolve()),
            scenario.id,
            str(path),
            pure=False,
            key=f"sweep-report-{scenario.id}",
        )
        futures[future] = scenario.id
    for future in as_completed(futures):
        try:
            future.result()
        except Exception as exc:
            summary.report_failures.append(f"{futures[future]}: {_one_line(exc)}")
        bar.advance(task)
