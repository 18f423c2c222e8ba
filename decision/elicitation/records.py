"""Elicitation records: one YAML file per expert and session, validated with pydantic.

A record says who answered (``expert``), when (``date``), for which case, how the answers are
to be read (``method``: the elicitation method and the distribution the answers are read as),
and, for each judgment of the case tree, the question asked (in words, with its units and
horizon), the answers and the rationale. It may also answer seed questions (``seeds``), whose
true values are in the folder's ``seeds.yaml``, for performance weights. The format is in
``docs/elicitation.md``::

    expert: {id: package-analysts, name: "The package's analysts"}
    date: 2017-08-20
    case: freeze_plus_pressure
    horizon: 18 months from September 2017 ...
    method: {name: three-point, distribution: triangular}
    judgments:
      s_readiness:
        question: Imagine every attribute at its worst ...
        units: swing points (0 to 100)
        answers: {low: 30, mode: 60, high: 100}
        rationale: The exercises are lawful, defensive and important for readiness ...

Every problem is one :class:`~decision.core.errors.InputError` naming the file and the field
(``judgments.s_readiness.answers.mode``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from decision.core.errors import InputError
from decision.core.suggest import did_you_mean
from decision.core.yaml import read_yaml_file

__all__ = [
    "METHODS",
    "SEEDS_FILE",
    "Elicited",
    "Expert",
    "Judgment",
    "Method",
    "Record",
    "SeedAnswer",
    "SeedQuestion",
    "answer_quantiles",
    "check_against_tree",
    "coverage",
    "latest_answers",
    "load_record",
    "load_records",
    "load_seeds",
    "parse_record",
    "record_files",
]

#: The file of a records folder that holds the seed questions' true values (not a record).
SEEDS_FILE = "seeds.yaml"

#: Elicitation method -> (answer keys, distributions its answers may be read as).
METHODS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "three-point": (("low", "mode", "high"), ("triangular", "pert")),
    "quantiles": ((), ("beta", "normal", "lognormal")),
    "mode-interval": (("mode", "low", "high", "mass"), ("beta", "normal", "lognormal")),
}

#: A quantile answer's key: ``p`` and the percentile, e.g. ``p05``, ``p50``, ``p97.5``.
QUANTILE_KEY = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
#: A number as written (true/false or quoted text are not numbers).
Number = Annotated[float, Field(strict=True)]

_CONFIG = ConfigDict(extra="forbid", frozen=True)


class Expert(BaseModel):
    """Who answered.

    Attributes
    ----------
    id
        Short id, used in provenance and tables (letters, digits, ``_ . -``).
    name
        Name or description.
    role
        Affiliation or role, optional.
    illustrative
        True for a made-up expert used to show the workflow (never for an analysis).
    """

    model_config = _CONFIG

    id: Identifier
    name: Text
    role: str = ""
    illustrative: bool = False


class Method(BaseModel):
    """How answers are given and read: the method and the distribution they are read as.

    ``three-point``: ``low``, ``mode``, ``high``, the smallest and largest values thought
    possible and the most likely value, read as a triangular (or PERT) distribution with those
    ends. ``quantiles``: ``pNN`` keys, the NNth percentiles (e.g. ``p05``, ``p50``, ``p95``),
    fitted by least squares on the stated probabilities. ``mode-interval``: ``mode``, ``low``,
    ``high``, ``mass`` (the probability of the interval), read as the distribution of the
    family with that mode and that probability inside the interval.
    """

    model_config = _CONFIG

    name: Literal["three-point", "quantiles", "mode-interval"]
    distribution: Literal["triangular", "pert", "beta", "normal", "lognormal"]


class Judgment(BaseModel):
    """One judgment: the question asked, its units and horizon, the answers and why."""

    model_config = _CONFIG

    question: Text
    units: Text
    horizon: Text | None = None
    method: Method | None = None
    answers: dict[str, Number]
    rationale: Text


class SeedAnswer(BaseModel):
    """An expert's 5th, 50th and 95th percentiles for a seed question."""

    model_config = _CONFIG

    p05: Number
    p50: Number
    p95: Number


class SeedQuestion(BaseModel):
    """A seed question: asked like a judgment, its true value known to the facilitator."""

    model_config = _CONFIG

    question: Text
    units: Text
    realization: Number
    source: Text


class Record(BaseModel):
    """One expert's answers in one session."""

    model_config = _CONFIG

    expert: Expert
    date: dt.date
    case: Text
    horizon: Text
    method: Method
    protocol: str = ""
    judgments: dict[Identifier, Judgment] = Field(min_length=1)
    seeds: dict[Identifier, SeedAnswer] = Field(default_factory=dict)


class _Seeds(BaseModel):
    model_config = _CONFIG

    seeds: dict[Identifier, SeedQuestion] = Field(min_length=1)


@dataclasses.dataclass(frozen=True)
class Elicited:
    """One answered judgment with its record: what fitting and pooling work on.

    Attributes
    ----------
    name
        The judgment (a tree parameter).
    judgment
        The question, answers and rationale.
    method
        The method in force (the judgment's own, else its record's).
    record
        The record it is from.
    file
        The record's file.
    """

    name: str
    judgment: Judgment
    method: Method
    record: Record
    file: str

    @property
    def expert(self) -> str:
        """The expert's id."""
        return self.record.expert.id

    @property
    def date(self) -> dt.date:
        """The session's date."""
        return self.record.date

    @property
    def field(self) -> str:
        """The judgment's key path in its record, for error messages."""
        return f"judgments.{self.name}"


def _error_field(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif "[" in str(part) or str(part) in ("str", "float", "int"):
            continue  # pydantic's tags for validators and union members
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _error_message(err: dict) -> str:
    kind, loc = err["type"], err["loc"]
    if kind == "missing":
        return "missing: a value is required"
    if kind == "extra_forbidden":
        owner = loc[-2] if len(loc) >= 2 else None
        parent = loc[-3] if len(loc) >= 3 else None
        model = {"expert": Expert, "method": Method}.get(owner) or {
            "judgments": Judgment,
            "seeds": SeedAnswer,
        }.get(parent, Record)
        allowed = list(model.model_fields)
        return f"unknown key{did_you_mean(loc[-1], allowed)}; expected one of: " + ", ".join(
            allowed
        )
    if kind.startswith("date"):
        return f"expected a date as YYYY-MM-DD, got {_short(err.get('input'))}"
    if kind == "literal_error":
        return f"expected one of {err['ctx']['expected']}, got {err['input']!r}"
    if kind == "string_pattern_mismatch":
        return f"expected an id (letters, digits, '_', '.', '-'; at most 64), got {err['input']!r}"
    return f"{err['msg']}, got {_short(err.get('input'))}"


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def answer_quantiles(answers: Mapping[str, float]) -> list[tuple[float, float]]:
    """``(probability, value)`` of each ``pNN`` answer, by probability."""
    out = []
    for key, value in answers.items():
        match = QUANTILE_KEY.match(key)
        if match:
            out.append((float(match[1]) / 100.0, float(value)))
    return sorted(out)


def _check_answers(name: str, judgment: Judgment, method: Method, file: str) -> None:
    """Check that the answers fit the method and the distribution they are read as."""
    where = f"judgments.{name}"

    def fail(message: str, key: str | None = None) -> None:
        field = f"{where}.answers" + (f".{key}" if key else "")
        raise InputError(message, file=file, field=field)

    keys, families = METHODS[method.name]
    if method.distribution not in families:
        raise InputError(
            f"a {method.name} answer is read as one of {', '.join(families)}, "
            f"not {method.distribution}",
            file=file,
            field=f"{where}.method.distribution" if judgment.method else "method.distribution",
        )
    answers = judgment.answers
    for key, value in answers.items():
        if not math.isfinite(value):
            fail(f"expected a finite number, got {value!r}", key)
    if method.name == "quantiles":
        for key in answers:
            match = QUANTILE_KEY.match(key)
            if not match or not 0 < float(match[1]) < 100:
                fail(
                    f"unknown key '{key}': quantile answers are pNN, the NNth percentile "
                    "between 0 and 100 (e.g. p05, p50, p95)",
                    key,
                )
        points = answer_quantiles(answers)
        if len(points) < 2:
            fail("give at least two percentiles (e.g. p05, p50, p95)")
        values = [v for _, v in points]
        if any(b <= a for a, b in zip(values, values[1:], strict=False)):
            fail("values must increase with the percentile: " + ", ".join(map(_g, values)))
    else:
        for key in answers:
            if key not in keys:
                fail(f"unknown key '{key}'{did_you_mean(key, keys)}; expected {', '.join(keys)}")
        for key in keys:
            if key not in answers:
                fail(f"missing '{key}': a {method.name} answer has {', '.join(keys)}", key)
        low, mode, high = answers["low"], answers["mode"], answers["high"]
        if not low < high:
            fail(f"low must be < high, got low {_g(low)} and high {_g(high)}", "low")
        if not low <= mode <= high:
            fail(f"mode must lie in [low, high] = [{_g(low)}, {_g(high)}], got {_g(mode)}", "mode")
        if method.name == "mode-interval" and not 0 < answers["mass"] < 1:
            fail(f"mass (the interval's probability) must be in (0, 1), got {answers['mass']}")
    values = [v for k, v in answers.items() if k != "mass"]
    if method.distribution == "beta" and not all(0 < v < 1 for v in values):
        fail("a beta distribution lies in (0, 1): every answer must be strictly inside it")
    if method.distribution == "lognormal" and not all(v > 0 for v in values):
        fail("a lognormal distribution is positive: every answer must be > 0")


def _g(value: float) -> str:
    return f"{value:g}"


def load_record(path: str | os.PathLike) -> Record:
    """Read and validate one elicitation record.

    Raises
    ------
    InputError
        Naming the file and the field, in one line.
    """
    return parse_record(read_yaml_file(path, what="an elicitation record (YAML)"), file=path)


def parse_record(data: Any, *, file: str | os.PathLike = "<record>") -> Record:
    """Validate a record given as data (e.g. built in a notebook), as :func:`load_record` does.

    Raises
    ------
    InputError
        Naming ``file`` and the field, in one line.
    """
    file = str(file)
    if not isinstance(data, Mapping):
        raise InputError(
            "expected a mapping with expert, date, case, horizon, method, judgments", file=file
        )
    try:
        record = Record.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        raise InputError(_error_message(err), file=file, field=_error_field(err["loc"])) from None
    for name, judgment in record.judgments.items():
        _check_answers(name, judgment, judgment.method or record.method, file)
    for seed, answer in record.seeds.items():
        if not answer.p05 < answer.p50 < answer.p95:
            raise InputError(
                f"expected p05 < p50 < p95, got {_g(answer.p05)}, {_g(answer.p50)}, "
                f"{_g(answer.p95)}",
                file=file,
                field=f"seeds.{seed}",
            )
    return record


def load_seeds(path: str | os.PathLike) -> dict[str, SeedQuestion]:
    """Read a seed-question file (``seeds.yaml``): id -> question, units, true value, source."""
    file = str(path)
    data = read_yaml_file(path, what="a seed-question file (YAML)")
    try:
        return dict(_Seeds.model_validate(data).seeds)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        raise InputError(_error_message(err), file=file, field=_error_field(err["loc"])) from None


def record_files(folder: str | os.PathLike) -> list[Path]:
    """List the record files of a folder (``*.yaml`` except ``seeds.yaml``), by name."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.yaml") if p.name != SEEDS_FILE)


def load_records(
    folder: str | os.PathLike | None = None, extra: Iterable[str | os.PathLike] = ()
) -> dict[str, Record]:
    """Every record of a folder and the ``extra`` files: file -> record.

    Raises
    ------
    InputError
        For a malformed record, and for two records of one expert on one date (one file per
        expert and session).
    """
    files = record_files(folder) if folder is not None else []
    files += [Path(p) for p in extra]
    records: dict[str, Record] = {}
    sessions: dict[tuple[str, dt.date], str] = {}
    for path in files:
        if not path.is_file():
            raise InputError("elicitation record not found", file=path)
        if str(path) in records:
            continue
        record = load_record(path)
        session = (record.expert.id, record.date)
        if session in sessions:
            raise InputError(
                f"a second record of expert '{record.expert.id}' dated {record.date} (the first "
                f"is {sessions[session]}): keep one file per expert and session",
                file=path,
                field="expert.id",
            )
        sessions[session] = str(path)
        records[str(path)] = record
    return records


def latest_answers(records: Mapping[str, Record]) -> dict[str, dict[str, Elicited]]:
    """Expert id -> judgment -> the answer from that expert's latest session that gave one."""
    out: dict[str, dict[str, Elicited]] = {}
    for file, record in sorted(records.items(), key=lambda kv: kv[1].date):
        mine = out.setdefault(record.expert.id, {})
        for name, judgment in record.judgments.items():
            mine[name] = Elicited(name, judgment, judgment.method or record.method, record, file)
    return out


def check_against_tree(records: Mapping[str, Record], tree, case_name: str) -> None:
    """Every record is for this case and answers only judgments the tree has.

    Raises
    ------
    InputError
        Naming the record file and the judgment: a record for another case, an answer for a
        parameter the tree does not have, or for one that is not a judgment (e.g. a parameter
        supplied by a model's posterior).
    """
    judgments = [n for n, p in tree.parameters.items() if p.judgment]
    for file, record in records.items():
        if record.case != case_name:
            raise InputError(
                f"the record is for case '{record.case}', not '{case_name}'",
                file=file,
                field="case",
            )
        for name in record.judgments:
            if name not in tree.parameters:
                raise InputError(
                    f"the case tree has no judgment '{name}'{did_you_mean(name, judgments)}",
                    file=file,
                    field=f"judgments.{name}",
                )
            spec = tree.parameters[name]
            if not spec.judgment or spec.kind != "distribution":
                raise InputError(
                    f"'{name}' is not an analyst judgment of the case tree (it is {spec.kind}"
                    + (", from the models or the evidence)" if spec.kind == "supplied" else ")"),
                    file=file,
                    field=f"judgments.{name}",
                )


def coverage(records: Mapping[str, Record], tree) -> dict[str, list[str]]:
    """Judgment -> the experts who answered it, for every judgment of the tree (in tree order).

    A judgment with an empty list was never elicited: the tree's own spec stays in force.
    """
    answered: dict[str, list[str]] = {}
    for record in records.values():
        for name in record.judgments:
            experts = answered.setdefault(name, [])
            if record.expert.id not in experts:
                experts.append(record.expert.id)
    return {
        name: answered.get(name, [])
        for name, spec in tree.parameters.items()
        if spec.judgment and spec.kind == "distribution"
    }
