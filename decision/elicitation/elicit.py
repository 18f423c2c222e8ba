"""A case's elicitation: records checked against its tree, fitted, pooled, written as a scenario.

:func:`elicit_case` is what ``decision elicit fit`` and ``decision elicit check`` run: read the
records of the case's elicitation folder (and any extra record files), check them against the
case tree (every answer is for one of its judgments; judgments never elicited are reported),
apply the hindsight rule to every rationale, fit each expert's answers (refusing a poor fit),
pool the experts per judgment and return an :class:`Elicitation`, which writes the pooled specs
with their provenance as a scenario file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from decision.case.spec import CaseSpec, load_spec
from decision.core.errors import InputError
from decision.elicitation.fitting import (
    DEFAULT_TOLERANCE,
    Fit,
    describe_parameter,
    describe_spec,
    fit_answers,
    ks_distance,
    method_words,
)
from decision.elicitation.hindsight import check_rationale, hindsight_flags
from decision.elicitation.pooling import (
    Pool,
    equal_weights,
    linear_pool,
    performance_weights,
)
from decision.elicitation.records import (
    SEEDS_FILE,
    Expert,
    Record,
    check_against_tree,
    coverage,
    latest_answers,
    load_records,
    load_seeds,
    record_files,
)

__all__ = [
    "POOLS",
    "Elicitation",
    "cached_elicitation",
    "elicit_case",
    "elicitation_folder",
]

#: ``--pool`` choices: ``linear`` (performance weights where seed questions exist, else equal
#: weights) and ``equal`` (equal weights whatever the seeds).
POOLS = ("linear", "equal")


def elicitation_folder(case: str | Path | CaseSpec | None = None) -> Path:
    """Return the folder of a case's elicitation records (``<case folder>/elicitation``)."""
    return load_spec(case).folder / "elicitation"


@dataclasses.dataclass
class Elicitation:
    """A case's records, fitted and pooled.

    Attributes
    ----------
    spec
        The case.
    tree
        The case tree as written (its own specs, no scenario).
    records
        Record file -> record.
    fits
        Judgment -> each expert's fit (the expert's latest answer), in tree order.
    pools
        Judgment -> the experts' linear pool.
    coverage
        Every judgment of the tree -> the experts who answered it (empty: never elicited).
    weights
        Expert -> weight in the pools.
    performance
        Cooke's calibration, information and weight per expert, when seed questions exist.
    scheme
        ``equal weights`` or ``performance weights``.
    tolerance
        The largest fit error accepted, in probability.
    folder
        The records folder.
    """

    spec: CaseSpec
    tree: Any
    records: dict[str, Record]
    fits: dict[str, list[Fit]]
    pools: dict[str, Pool]
    coverage: dict[str, list[str]]
    weights: dict[str, float]
    performance: pd.DataFrame | None
    scheme: str
    tolerance: float
    folder: Path | None

    @property
    def missing(self) -> list[str]:
        """Judgments of the tree no record answers (the tree's own spec stays in force)."""
        return [name for name, experts in self.coverage.items() if not experts]

    @property
    def experts(self) -> dict[str, Expert]:
        """Expert id -> the expert (as described in their latest record)."""
        out = {}
        for record in sorted(self.records.values(), key=lambda r: r.date):
            out[record.expert.id] = record.expert
        return out

    def dates(self, expert: str) -> list[dt.date]:
        """Return the dates of an expert's sessions."""
        return sorted({r.date for r in self.records.values() if r.expert.id == expert})

    def refused(self) -> list[Fit]:
        """Fits that miss their answers by more than the tolerance."""
        return [f for fits in self.fits.values() for f in fits if f.error > self.tolerance]

    def fit_table(self) -> pd.DataFrame:
        """One row per judgment and expert: method, fitted distribution, fit error."""
        rows = []
        for name, fits in self.fits.items():
            for fit in fits:
                rows.append(
                    {
                        "judgment": name,
                        "expert": fit.expert,
                        "date": fit.elicited.date.isoformat(),
                        "method": f"{fit.elicited.method.name} -> "
                        f"{fit.elicited.method.distribution}",
                        "distribution": describe_spec(fit.spec),
                        "fit error": fit.error,
                        "accepted": fit.error <= self.tolerance,
                    }
                )
        return pd.DataFrame(rows).set_index(["judgment", "expert"])

    def pool_table(self) -> pd.DataFrame:
        """One row per judgment: the pooled distribution, the experts and their spread."""
        rows = []
        for name, pool in self.pools.items():
            rows.append(
                {
                    "judgment": name,
                    "pooled": describe_spec(pool.spec),
                    "experts": ", ".join(pool.experts),
                    "spread": pool.spread(),
                    "pool": pool.scheme,
                }
            )
        return pd.DataFrame(rows).set_index("judgment")

    def drift(self, tree=None) -> pd.DataFrame:
        """How far each pooled judgment is from a tree's spec (default: the case tree's).

        ``distance`` is the largest distance between the two CDFs; ``agrees`` is whether it
        is within the tolerance.
        """
        tree = self.tree if tree is None else tree
        rows = []
        for name, pool in self.pools.items():
            current = tree.parameters[name]
            distance = ks_distance(pool.parameter, current)
            rows.append(
                {
                    "judgment": name,
                    "tree": describe_parameter(current),
                    "pooled": describe_spec(pool.spec),
                    "distance": distance,
                    "agrees": distance <= self.tolerance,
                }
            )
        return pd.DataFrame(rows).set_index("judgment")

    def provenance(self, name: str, fits: list[Fit] | None = None) -> dict[str, Any]:
        """Who judged a judgment, when and how: the ``provenance`` of its written spec."""
        if fits is None:
            pool = self.pools[name]
            fits, weights, scheme = list(pool.fits), pool.weights, pool.scheme
        else:
            weights, scheme = [1.0 / len(fits)] * len(fits), "one expert"
        out = {
            "experts": [f.expert for f in fits],
            "dates": [f.elicited.date.isoformat() for f in fits],
            "records": [Path(f.elicited.file).name for f in fits],
            "method": "; ".join(dict.fromkeys(method_words(f.elicited.method) for f in fits)),
            "pool": scheme,
            "weights": {f.expert: round(w, 4) for f, w in zip(fits, weights, strict=True)},
            "fit_error": round(max(f.error for f in fits), 5),
            "medians": {f.expert: _round(float(f.parameter.ppf(0.5))) for f in fits},
        }
        illustrative = [f.expert for f in fits if f.elicited.record.expert.illustrative]
        if illustrative:
            out["illustrative"] = illustrative
        return out

    def _spec_with_metadata(self, name: str, spec: Mapping[str, Any], fits: list[Fit]) -> dict:
        current = self.tree.parameters[name]
        out = dict(spec)
        out["judgment"] = True
        if current.description:
            out["description"] = current.description
        if current.units:
            out["units"] = current.units
        if len(fits) == 1:
            out["rationale"] = fits[0].elicited.judgment.rationale
        else:
            out["rationale"] = " ".join(
                f"{f.expert}: {f.elicited.judgment.rationale}" for f in fits
            )
        return out

    def pooled_specs(self) -> dict[str, dict[str, Any]]:
        """Judgment -> the pooled spec with its metadata and provenance, in tree order."""
        out = {}
        for name, pool in self.pools.items():
            out[name] = self._spec_with_metadata(name, pool.spec, list(pool.fits))
            out[name]["provenance"] = self.provenance(name)
        return out

    def expert_specs(self, expert: str) -> dict[str, dict[str, Any]]:
        """Judgment -> one expert's own fitted spec, for the judgments that expert answered."""
        if expert not in self.experts:
            raise InputError(
                f"no expert '{expert}' in the records (experts: {', '.join(self.experts)})",
                field="expert",
            )
        out = {}
        for name, fits in self.fits.items():
            for fit in fits:
                if fit.expert == expert:
                    out[name] = self._spec_with_metadata(name, fit.spec, [fit])
                    out[name]["provenance"] = self.provenance(name, [fit])
        return out

    def scenario(self, name: str = "elicited", description: str | None = None) -> dict:
        """Return the pooled judgments as a scenario (``name``, ``description``, ``parameters``)."""
        experts = ", ".join(self.experts)
        if description is None:
            how = (
                f"{len(self.experts)} experts ({experts}), pooled with {self.scheme}"
                if len(self.experts) > 1
                else f"one expert ({experts})"
            )
            description = (
                f"Judgments elicited from {how}; written by `decision elicit fit`. Judgments "
                "never elicited keep the case tree's specs."
            )
        return {"name": name, "description": description, "parameters": self.pooled_specs()}

    def write_scenario(self, path: str | os.PathLike, name: str | None = None) -> Path:
        """Write :meth:`scenario` to a YAML file, atomically (the old file stays on failure)."""
        import yaml

        from decision.core.atomic import atomic_write_text

        path = Path(path)
        header = (
            "# Written by `decision elicit fit` from the elicitation records of case "
            f"'{self.spec.name}'.\n"
            "# Edit the records and fit again rather than this file; every spec says where it "
            "came from (provenance).\n"
        )
        text = yaml.safe_dump(
            self.scenario(name or path.stem),
            sort_keys=False,
            allow_unicode=True,
            width=100,
        )
        return atomic_write_text(path, header + text)

    def in_use(self) -> list[tuple[str, str, dt.date]]:
        """``(judgment, expert, date)`` for every answer the pools use."""
        return [
            (name, fit.expert, fit.elicited.date)
            for name, pool in self.pools.items()
            for fit in pool.fits
        ]

    def hindsight_flags(self, as_of: dt.date) -> list[str]:
        """Judgments elicited after ``as_of`` (see :mod:`decision.elicitation.hindsight`)."""
        return hindsight_flags(self.in_use(), as_of)


def _round(value: float) -> float:
    return float(f"{value:.4g}")


def elicit_case(
    case: str | Path | CaseSpec | None = None,
    *,
    folder: str | os.PathLike | None = None,
    extra: Iterable[str | os.PathLike] = (),
    records: Mapping[str, Record] | None = None,
    pool: str = "linear",
    tolerance: float = DEFAULT_TOLERANCE,
    alpha: float = 0.0,
    refuse: bool = True,
) -> Elicitation:
    """Read, check, fit and pool a case's elicitation records.

    Parameters
    ----------
    case
        A shipped case's name, a case folder or a spec (default: the default case).
    folder
        The records folder (default: the case's ``elicitation/``); ``seeds.yaml`` in it holds
        the seed questions, if any.
    extra
        More record files (e.g. another expert's, kept elsewhere).
    records
        More records already read, by a label used as their file name in messages (e.g. a
        record being written in a notebook, see :func:`decision.elicitation.parse_record`).
    pool
        ``linear``: performance weights where seed questions exist, else equal weights;
        ``equal``: equal weights.
    tolerance
        Largest fit error accepted, in probability.
    alpha
        Calibration cutoff of the performance weights.
    refuse
        Raise on the first fit beyond the tolerance (else keep it; see
        :meth:`Elicitation.refused`).

    Raises
    ------
    InputError
        Naming the file and field: a malformed record, an answer for a judgment the tree does
        not have, a rationale citing an event after its record's date, a fit beyond the
        tolerance, unusable seed answers; or when there are no records at all.
    """
    from decision.case import load_case

    spec = load_spec(case)
    if pool not in POOLS:
        raise InputError(f"expected one of {', '.join(POOLS)}, got {pool!r}", field="pool")
    if not 0 < tolerance < 1:
        raise InputError(f"expected a probability in (0, 1), got {tolerance!r}", field="tolerance")
    folder = Path(folder) if folder is not None else elicitation_folder(spec)
    given = dict(records or {})
    records = load_records(folder, extra)
    for label, record in given.items():
        clash = [
            f
            for f, r in records.items()
            if (r.expert.id, r.date) == (record.expert.id, record.date)
        ]
        if clash:
            raise InputError(
                f"a second record of expert '{record.expert.id}' dated {record.date} (the first "
                f"is {clash[0]}): keep one record per expert and session",
                file=label,
                field="expert.id",
            )
        records[label] = record
    if not records:
        raise InputError(
            "no elicitation records (YAML files, one per expert and session)", file=folder
        )
    tree = load_case(None, spec).tree
    check_against_tree(records, tree, spec.name)
    for file, record in records.items():
        for name, judgment in record.judgments.items():
            check_rationale(
                judgment.rationale,
                record.date,
                file=file,
                field=f"judgments.{name}.rationale",
            )
    answers = latest_answers(records)
    fits: dict[str, list[Fit]] = {}
    for name in coverage(records, tree):
        for expert in answers:
            if name in answers[expert]:
                fit = fit_answers(answers[expert][name])
                fits.setdefault(name, []).append(fit.check(tolerance) if refuse else fit)
    seeds_path = folder / SEEDS_FILE
    performance = None
    if pool == "linear" and seeds_path.is_file():
        seeds = load_seeds(seeds_path)
        performance = performance_weights(records, seeds, alpha=alpha, seeds_file=str(seeds_path))
        weights = performance["weight"].to_dict()
        scheme = "performance weights"
    else:
        weights = equal_weights(list(answers))
        scheme = "equal weights"
    pools = {name: linear_pool(f, weights, scheme=scheme) for name, f in fits.items()}
    return Elicitation(
        spec=spec,
        tree=tree,
        records=records,
        fits=fits,
        pools=pools,
        coverage=coverage(records, tree),
        weights=weights,
        performance=performance,
        scheme=scheme,
        tolerance=tolerance,
        folder=folder,
    )


def cached_elicitation(
    case: str | Path | CaseSpec | None = None,
    *,
    extra: Iterable[str | os.PathLike] = (),
    tolerance: float = DEFAULT_TOLERANCE,
) -> Elicitation | None:
    """Elicit a case's own folder (and ``extra``) once, while the files are unchanged.

    Returns :func:`elicit_case`'s result for the case's records, or None when there are none.
    """
    spec = load_spec(case)
    folder = elicitation_folder(spec)
    extra = [Path(p) for p in extra]
    if not record_files(folder) and not extra:
        return None
    files = [*record_files(folder), folder / SEEDS_FILE, *extra]
    key = (
        id(spec),
        tolerance,
        tuple(
            (str(p), p.stat().st_mtime_ns, p.stat().st_size) if p.is_file() else (str(p),)
            for p in files
        ),
    )
    if key not in _CACHE:
        if len(_CACHE) >= 8:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = (spec, elicit_case(spec, extra=extra, tolerance=tolerance))
    return _CACHE[key][1]


#: Elicitations of unchanged record files, by spec and file stamps (the spec is kept alive
#: with its result so that its id is not reused).
_CACHE: dict[tuple, tuple[CaseSpec, Elicitation]] = {}
