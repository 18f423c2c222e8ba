"""The sweep file: its format, its validation against the case, and the scenarios it expands to.

A sweep file (YAML, see ``docs/sweeps.md``) names a case, a base scenario, the settings every
scenario shares, and the inputs that vary: tree parameters, model priors
(``priors.<model>.<prior>.<parameter>``), the ``as_of`` date and the observations file, each
as a ``grid`` of values or a ``sample`` of a design (:mod:`decision.sweep.sampling`).

:func:`load_sweep` reads it in two steps, and every error names the file, the key path
(``grid.priors.china.accepts.alpha[2]``) and the line:

1. the file's shape, types and ranges: the pydantic models :class:`SweepFile`,
   :class:`SampleSection` and :class:`SamplerSettings`;
2. what needs the case: the varied keys and their values
   (:class:`~decision.sweep.inputs.VariedInputs`), the sampled design, and the modes.

It then expands the sweep into :class:`SweepScenario` objects, each with a stable id (a hash of
its canonical inputs and of the sweep's settings), so that a re-run recognises the scenarios
already finished, and into the distinct fits they need
(:class:`~decision.sweep.fits.FitCatalog`).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from decision.case import DEFAULT_CASE, Scenario, load_case, load_scenario, load_spec
from decision.core.config import DEFAULT_AS_OF, DEFAULT_SEED, deep_merge
from decision.core.dates import parse_date
from decision.core.errors import InputError
from decision.core.validation import KeyPath, YamlDocument, read_yaml_document
from decision.sweep.fits import FitCatalog, FitSpec
from decision.sweep.ids import canonical_json, digest
from decision.sweep.inputs import VariedInputs
from decision.sweep.sampling import unit_points

__all__ = [
    "MAX_SCENARIOS",
    "MODES",
    "SWEEP_FORMAT",
    "SWEEP_SAMPLER_OVERRIDES",
    "SampleSection",
    "SamplerSettings",
    "Sweep",
    "SweepFile",
    "SweepScenario",
    "load_sweep",
]

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
#: Most scenarios in one sweep.
MAX_SCENARIOS = 1_000_000
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
_PATTERNS = {
    _NAME: "a name of letters, digits, '.', '_' or '-' (not starting with '.' or '-'; at "
    "most 100 characters)"
}
_CONFIG = ConfigDict(extra="forbid", frozen=True, strict=True)

# ------------------------------------------------------------------------- the file's shape


def _iso_date(value: Any) -> Any:
    """Write a date (or ``YYYY-MM-DD`` text) as ISO text; refuse anything else."""
    try:
        return parse_date(value).isoformat()
    except InputError as exc:
        raise ValueError(exc.detail) from None


Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]
IsoDate = Annotated[str, BeforeValidator(_iso_date)]


class SampleSection(BaseModel):
    """The ``sample`` section: ``n`` points of a design over the sampled keys."""

    model_config = _CONFIG

    n: Annotated[int, Field(ge=1, le=MAX_SCENARIOS, description="the number of sampled points")]
    seed: Annotated[Seed | None, Field(description="a whole number (the design's seed)")] = None
    method: Literal["lhs", "random"] = "lhs"
    parameters: Annotated[
        dict[str, Any], Field(min_length=1, description="a mapping of key: distribution")
    ]


class SamplerSettings(BaseModel):
    """The sampler settings of every fit, once merged over the models' defaults.

    Unknown keys are refused by the merge (:func:`decision.core.config.deep_merge`), which
    names the keys known.
    """

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)

    draws: Annotated[int, Field(ge=1)]
    tune: Annotated[int, Field(ge=0)]
    chains: Annotated[int, Field(ge=1)]
    cores: Annotated[int, Field(ge=1)]
    target_accept: Annotated[float, Field(gt=0, lt=1)]
    random_seed: Annotated[int, Field(ge=0)]
    prior_predictive_draws: Annotated[int, Field(ge=1)]
    posterior_predictive_draws: Annotated[int, Field(ge=1)]


class SweepFile(BaseModel):
    """The top level of a sweep file (see ``docs/sweeps.md``); every key but ``name`` optional.

    ``name`` defaults to the file's name (without ``.yaml``) before validation.
    """

    model_config = _CONFIG

    name: Annotated[
        str,
        StringConstraints(pattern=_NAME),
        Field(strict=False, coerce_numbers_to_str=True, description="the sweep's name"),
    ]
    description: Annotated[str | None, Field(description="text")] = None
    case: Annotated[str | None, Field(description="a shipped case's name or a case folder")] = None
    base: Annotated[
        str, Field(min_length=1, description="a shipped scenario's name or a scenario file")
    ] = "baseline"
    mode: Literal["auto", "tree", "refit"] = "auto"
    draws: Annotated[
        Annotated[int, Field(ge=10, le=10_000_000)] | None,
        Field(description="a whole number of tree draws, or null (one per posterior draw)"),
    ] = 2000
    seed: Annotated[Seed, Field(description="a whole number")] = DEFAULT_SEED
    value_of_monitoring: bool = False
    batch_size: Annotated[int, Field(ge=1, le=100_000, description="a whole number")] = 100
    as_of: IsoDate = DEFAULT_AS_OF.isoformat()
    observations: Annotated[
        str | None, Field(description="an observations file (relative to this file) or null")
    ] = None
    sampler: Annotated[
        dict[str, Any] | None, Field(description="a mapping of sampler settings")
    ] = None
    strict: bool = False
    use_cache: bool = True
    grid: Annotated[
        dict[str, Annotated[list[Any], Field(min_length=1)]] | None,
        Field(description="a mapping of key: [values]"),
    ] = None
    sample: SampleSection | None = None


# ------------------------------------------------------------------------- what it expands to


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
        return digest(self.definition)

    @property
    def refit_count(self) -> int:
        """Count the scenarios evaluated on their own fit."""
        return sum(s.refit for s in self.scenarios)

    def describe(self) -> dict[str, Any]:
        """Count for ``--dry-run``: scenarios, refits, distinct fits, batches."""
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
        """Group the scenarios by the posterior they use, in chunks of ``batch_size``."""
        groups: dict[str, list[SweepScenario]] = {}
        for scenario in self.scenarios:
            source = scenario.fit_key if scenario.refit else "base"
            groups.setdefault(source, []).append(scenario)
        out = []
        for members in groups.values():
            for start in range(0, len(members), self.batch_size):
                out.append(members[start : start + self.batch_size])
        return out


def _loc(field: str | None) -> KeyPath:
    """Turn an error's ``field`` text (``sampler.drawz``) into a key path."""
    return tuple(field.split(".")) if field else ()


# ------------------------------------------------------------------------- reading a sweep


@dataclasses.dataclass
class _Design:
    """The varied keys and their values: grid columns and sampled rows."""

    keys: list[str] = dataclasses.field(default_factory=list)
    kinds: dict[str, tuple] = dataclasses.field(default_factory=dict)
    grid_keys: list[str] = dataclasses.field(default_factory=list)
    grid_columns: list[list] = dataclasses.field(default_factory=list)
    sample_keys: list[str] = dataclasses.field(default_factory=list)
    sample_rows: list[tuple] = dataclasses.field(default_factory=lambda: [()])

    @property
    def size(self) -> int:
        return math.prod(len(c) for c in self.grid_columns) * len(self.sample_rows)

    def points(self) -> Iterator[dict[str, Any]]:
        """Yield key -> value for every scenario, grid-major."""
        for combo in itertools.product(*self.grid_columns):
            for row in self.sample_rows:
                values = dict(zip(self.grid_keys, combo, strict=True))
                values.update(zip(self.sample_keys, row, strict=True))
                yield values


def _read(path: Path) -> tuple[YamlDocument, SweepFile]:
    """Read a sweep file and check its shape (the name defaults to the file's)."""
    document = read_yaml_document(path, what="a sweep file (YAML)")
    if not isinstance(document.data, Mapping):
        raise InputError("expected a mapping with name, base, grid and/or sample", file=path)
    data = dict(document.data)
    if not data.get("name"):
        data["name"] = path.stem
    return document, document.validate(SweepFile, data, patterns=_PATTERNS)


def _sampler(document: YamlDocument, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge the file's sampler settings over the sweep's defaults, and check them."""
    from decision.models import DEFAULT_SAMPLER

    try:
        sampler = deep_merge(
            deep_merge(DEFAULT_SAMPLER, SWEEP_SAMPLER_OVERRIDES), given or {}, where="sampler"
        )
    except InputError as exc:
        raise document.error(exc.detail, _loc(exc.field)) from None
    document.validate(SamplerSettings, sampler, loc=("sampler",))
    return sampler


def _design(inputs: VariedInputs, sweep_file: SweepFile) -> _Design:
    """Check the varied keys and their values; draw the sampled points."""
    design = _Design()

    def add_key(key: str, loc: KeyPath) -> str:
        kind = inputs.key_kind(key, loc)
        norm = kind[1] if kind[0] == "param" else key
        if norm in design.kinds:
            raise inputs.error(f"'{key}' is varied twice (grid and sample, or two spellings)", loc)
        design.keys.append(norm)
        design.kinds[norm] = kind
        return norm

    for key, values in (sweep_file.grid or {}).items():
        loc = ("grid", key)
        norm = add_key(key, loc)
        kind = design.kinds[norm]
        normal = [inputs.value(kind, v, loc + (i,)) for i, v in enumerate(values)]
        tokens = [canonical_json(v) for v in normal]
        for i, token in enumerate(tokens):
            if token in tokens[:i]:
                raise inputs.error(f"duplicate value {values[i]!r}", loc + (i,))
        design.grid_keys.append(norm)
        design.grid_columns.append(normal)

    sample = sweep_file.sample
    if sample is not None:
        where = ("sample", "parameters")
        design.sample_keys = [add_key(key, where + (key,)) for key in sample.parameters]
        seed = sweep_file.seed if sample.seed is None else sample.seed
        u = unit_points(sample.n, len(design.sample_keys), seed, sample.method)
        columns = [
            inputs.sampled(design.kinds[norm], spec, u[:, j], where + (key,))
            for j, (key, spec, norm) in enumerate(
                zip(sample.parameters, sample.parameters.values(), design.sample_keys, strict=True)
            )
        ]
        design.sample_rows = list(zip(*columns, strict=True))

    if design.size > MAX_SCENARIOS:
        raise inputs.error(
            f"{design.size} scenarios: at most {MAX_SCENARIOS} per sweep",
            ("grid",) if sweep_file.grid else ("sample",),
        )
    return design


def _check_modes(
    document: YamlDocument, design: _Design, mode: str, sampler: Mapping[str, Any]
) -> None:
    """Refuse sampler processes inside refits, and varied model inputs in mode ``tree``."""
    model_inputs = [k for k in design.keys if design.kinds[k][0] != "param"]
    if sampler["cores"] != 1 and (mode == "refit" or model_inputs):
        raise document.error(
            "refits run inside Dask worker processes, which cannot start sampler processes: "
            "use cores: 1 (the workers give the parallelism)",
            ("sampler", "cores"),
        )
    if mode == "tree" and model_inputs:
        key = model_inputs[0]
        where = ("grid", key) if key in design.grid_keys else ("sample", "parameters", key)
        raise document.error(
            "mode 'tree' re-evaluates the tree on the base posterior; varying "
            f"'{key}' needs the models refitted (mode: auto or refit)",
            where,
        )


def _scenarios(
    design: _Design,
    inputs: VariedInputs,
    fits: FitCatalog,
    *,
    settings: Mapping[str, Any],
    base_obs: str | None,
    mode: str,
) -> tuple[list[SweepScenario], int]:
    """Expand the design into scenarios with stable ids; also count the duplicates dropped.

    A scenario's id hashes ``settings`` (what every scenario shares) and its varied values
    (an observations file by its content).
    """
    settings_token = canonical_json(settings)
    base_as_of = settings["as_of"]
    base_fit_key = fits.key_for(base_as_of, base_obs, {})
    kinds = design.kinds
    scenarios: list[SweepScenario] = []
    seen: set[str] = set()
    duplicates = 0
    for values in design.points():
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
            k: (inputs.observations_file(v)[1] if kinds[k][0] == "observations" else v)
            for k, v in values.items()
        }
        sid = digest(settings_token + canonical_json(identity), 20)
        if sid in seen:
            duplicates += 1
            continue
        seen.add(sid)
        fit_key = fits.key_for(as_of, obs, {k: prior_values[k] for k in sorted(prior_values)})
        scenarios.append(
            SweepScenario(
                id=sid,
                values=values,
                overrides=overrides,
                specs=specs,
                as_of=as_of,
                observations=obs,
                fit_key=fit_key,
                refit=mode == "refit" or (mode == "auto" and fit_key != base_fit_key),
            )
        )
    return scenarios, duplicates


def load_sweep(path: str | os.PathLike) -> Sweep:
    """Read, validate and expand a sweep file.

    Raises
    ------
    InputError
        Naming the sweep file, the key path (``grid.priors.china.accepts.alpha``,
        ``sample.parameters.china_pressure_if_refused.high``, ...) and the line, or the scenario /
        observations file at fault.
    """
    path = Path(path)
    document, sweep_file = _read(path)
    case = sweep_file.case or DEFAULT_CASE
    try:
        load_spec(case)
    except InputError as exc:
        raise (exc if exc.file else document.error(exc.detail, ("case",))) from None
    local = path.parent / sweep_file.base
    base = load_scenario(local if local.is_file() else sweep_file.base, case)
    try:
        params = load_case(base, case).tree.parameters
    except InputError as exc:
        raise (exc if exc.file else document.error(exc.detail, _loc(exc.field))) from None
    inputs = VariedInputs(document, case, base, params)
    base_obs = inputs.observations(sweep_file.observations, ("observations",))
    sampler = _sampler(document, sweep_file.sampler)
    design = _design(inputs, sweep_file)
    _check_modes(document, design, sweep_file.mode, sampler)

    # Everything every scenario's id depends on.
    settings = {
        "format": SWEEP_FORMAT,
        "case": case,
        "base": {
            "name": base.name,
            "parameters": base.parameters,
            "priors": base.priors,
            "settings": base.settings,
        },
        "as_of": sweep_file.as_of,
        "observations": inputs.observations_file(base_obs)[1],
        "draws": sweep_file.draws,
        "seed": sweep_file.seed,
        "value_of_monitoring": sweep_file.value_of_monitoring,
        "sampler": sampler,
        "strict": sweep_file.strict,
    }
    fits = FitCatalog(
        inputs, sampler=sampler, strict=sweep_file.strict, use_cache=sweep_file.use_cache
    )
    scenarios, duplicates = _scenarios(
        design, inputs, fits, settings=settings, base_obs=base_obs, mode=sweep_file.mode
    )
    definition = dict(
        settings,
        mode=sweep_file.mode,
        keys=design.keys,
        scenarios=digest(sorted(s.id for s in scenarios)),
        count=len(scenarios),
    )
    return Sweep(
        name=sweep_file.name,
        description=sweep_file.description or "",
        path=str(path),
        case=case,
        base=base,
        mode=sweep_file.mode,
        draws=sweep_file.draws,
        seed=sweep_file.seed,
        value_of_monitoring=sweep_file.value_of_monitoring,
        batch_size=sweep_file.batch_size,
        sampler=sampler,
        strict=sweep_file.strict,
        use_cache=sweep_file.use_cache,
        keys=design.keys,
        key_kinds=design.kinds,
        scenarios=scenarios,
        fits=fits.specs,
        base_fit_key=fits.key_for(sweep_file.as_of, base_obs, {}),
        duplicates=duplicates,
        definition=definition,
    )
