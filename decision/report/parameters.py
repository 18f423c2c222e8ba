"""Report parameters: what a template declares, and checking given values before anything runs.

A template has one cell tagged ``parameters`` whose assignments are literal, typed defaults; a
trailing comment is the parameter's help and may give a range as ``(low..high)``. The cell is
read with papermill's own notebook inspection (:func:`papermill.inspect_notebook`).

:func:`validate_parameters` checks given values against the declaration before any kernel
starts: names, types, ranges, plain data within size limits, dates
(``as_of`` and ``*_date``), that ``*_file`` parameters name existing files, and, through the
table :data:`decision.templates.PARAMETER_INPUTS`, the inputs parameters name (a ledger, a
schedule, a month, a case, a scenario), so a bad input fails naming its file and row. Values
reach the notebook as Python literals: :func:`parameters_code` is the cell papermill injects,
checked to read back, literal by literal, as the validated values.
"""

from __future__ import annotations

import ast
import contextlib
import datetime as dt
import math
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from decision.core.dates import parse_date
from decision.core.errors import DecisionError, InputError
from decision.core.suggest import did_you_mean
from decision.core.yaml import load_yaml, read_yaml_file
from decision.report.template import template_notebook
from decision.templates import PARAMETER_INPUTS

__all__ = [
    "MAX_PARAMETER_DEPTH",
    "MAX_PARAMETER_TEXT",
    "MAX_PARAMETER_VALUES",
    "is_scenario_file",
    "load_parameter_file",
    "parameters_code",
    "parse_cli_parameters",
    "template_parameters",
    "validate_parameters",
]

#: Limits on one parameter value (lists and mappings, e.g. ``priors``).
MAX_PARAMETER_VALUES = 10_000
MAX_PARAMETER_DEPTH = 20
MAX_PARAMETER_TEXT = 10_000

_RANGE = re.compile(r"\((?P<low>-?[0-9.eE+]*)\.\.(?P<high>-?[0-9.eE+]*)\)")
_TYPES = {"int": int, "float": float, "str": str, "bool": bool, "dict": dict, "list": list}


def template_parameters(template: str = "brief") -> dict[str, dict[str, Any]]:
    """Return the parameters a template declares: name -> {default, type, help, low, high}.

    ``type`` is the type of the literal default; ``low`` and ``high`` come from a range
    ``(low..high)`` in the help comment (``None`` where not given).
    """
    import papermill

    nb = template_notebook(template)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if len(cells) != 1:
        raise DecisionError(f"template '{template}' must have exactly one parameters cell")
    out: dict[str, dict[str, Any]] = {}
    for name, declared in papermill.inspect_notebook(nb).items():
        try:
            default = ast.literal_eval(declared["default"])
        except (SyntaxError, ValueError) as exc:
            raise DecisionError(
                f"template '{template}': the default of '{name}' is not a literal ({exc})"
            ) from None
        rng = _RANGE.search(declared["help"])
        out[name] = {
            "default": default,
            "type": type(default).__name__,
            "help": declared["help"],
            "low": float(rng["low"]) if rng and rng["low"] else None,
            "high": float(rng["high"]) if rng and rng["high"] else None,
        }
    return out


def validate_parameters(
    params: Mapping[str, Any],
    template: str = "brief",
    *,
    source: str | Mapping[str, str] = "parameters",
) -> dict[str, Any]:
    """Check names, types, ranges and named inputs; return the full set with defaults filled in.

    Parameters
    ----------
    params
        The given values.
    template
        The template they are for.
    source
        Where the values came from, for error messages: one label for all (a parameter file,
        ``-p``), or a label per parameter name (``{"as_of": "--as-of", ...}``; names not in
        it are labelled ``-p``). A label starting with ``--`` is an option of the command
        line, and errors then name the option alone (``--ledger: file not found: x.csv``).

    Raises
    ------
    InputError
        Naming the source (the option, the parameter file or ``-p``) and the parameter, or the
        input file and row a parameter names. ``as_of`` (and a monitoring report's ``through``
        month) must lie within the evidence's coverage and not before the case's proposal.
    """
    declared = template_parameters(template)
    resolved = {name: spec["default"] for name, spec in declared.items()}
    for name, value in params.items():
        where = _where(source, name)
        if name not in declared:
            raise InputError(
                f"unknown parameter{did_you_mean(name, declared)} (known: {', '.join(declared)})",
                **where,
            )
        spec = declared[name]
        kind = spec["type"]
        _check_plain(value, **where)
        if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        expected = _TYPES.get(kind, object)
        if not isinstance(value, expected) or (kind != "bool" and isinstance(value, bool)):
            raise InputError(f"expected {kind}, got {_short(value)}", **where)
        if spec["low"] is not None and value < spec["low"]:
            raise InputError(f"expected a value >= {spec['low']:g}, got {_short(value)}", **where)
        if spec["high"] is not None and value > spec["high"]:
            raise InputError(f"expected a value <= {spec['high']:g}, got {_short(value)}", **where)
        if name == "as_of" or name.endswith("_date"):
            with _named(where, name):
                parse_date(value)
        if name.endswith("_file") and value and not Path(value).is_file():
            raise InputError(f"file not found: {value}", **where)
        named_input = PARAMETER_INPUTS.get(name)
        if named_input is not None and named_input.check is not None:
            with _named(where, name, value):
                value = named_input.check(value, params)
        resolved[name] = value
    _check_coverage(params, source)
    for name, value in resolved.items():
        if name.endswith("_file") and value:
            resolved[name] = str(Path(value).resolve())
    return resolved


def _where(source: str | Mapping[str, str], name: str) -> dict[str, Any]:
    """Return the ``file=`` and ``field=`` of an error about parameter ``name``."""
    label = source.get(name, "-p") if isinstance(source, Mapping) else source
    if label.startswith("--"):  # an option of its own: the option says which parameter
        return {"file": label, "field": None}
    return {"file": label, "field": name}


@contextlib.contextmanager
def _named(where: Mapping[str, Any], name: str, value: Any = None) -> Iterator[None]:
    """Say where a parameter came from in an error about its value.

    An error about what is inside a file the value names (a row, a key), or about another
    file, already names that file and is left as it is.
    """
    try:
        yield
    except InputError as exc:
        same_file = exc.file is None or exc.file in (str(value), str(Path(str(value)).resolve()))
        if not same_file or exc.row is not None or exc.field not in (None, name):
            raise
        detail = exc.detail
        if exc.file is not None and str(value) not in detail:
            detail = f"{value}: {detail}"
        raise InputError(detail, **where) from None


def _check_coverage(params: Mapping[str, Any], source: str | Mapping[str, str]) -> None:
    """Check that the date the evidence is taken as of lies within the evidence's coverage.

    That date is ``as_of``, else the last day of the month ``through`` (a monitoring report);
    it may not be after the latest evidence row, nor before the evidence starts or the case's
    proposal (see :meth:`decision.evidence.Coverage.check`).
    """
    from decision import evidence
    from decision.core.dates import month_end

    if params.get("as_of"):
        name, day = "as_of", parse_date(params["as_of"])
    elif params.get("through"):
        name, day = "through", month_end(params["through"])
    else:
        return
    where = _where(source, name)
    with _named(where, name):
        evidence.coverage().check(day, not_before=_proposal(params.get("case") or None))


def _proposal(case: Any) -> tuple[dt.date, str] | None:
    """Return the case's proposal date and what it is, if the case has one."""
    from decision.case import load_spec

    spec = load_spec(case)
    if spec.proposed is None:
        return None
    return spec.proposed, f"the case's proposal ({spec.title}, {spec.proposed.isoformat()})"


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _check_plain(value: Any, *, file: str, field: str | None) -> None:
    """Check that a parameter value is plain data the notebook can receive as a Python literal.

    Text, finite numbers, booleans, ``None``, lists and mappings with text keys; at most
    :data:`MAX_PARAMETER_VALUES` values (aliases counted where used), nested at most
    :data:`MAX_PARAMETER_DEPTH` levels, texts of at most :data:`MAX_PARAMETER_TEXT`
    characters.

    Raises
    ------
    InputError
        For anything else (bytes from ``!!binary``, sets, dates inside a mapping, NaN), naming
        ``file`` and ``field``.
    """
    count = 0
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        count += 1
        if count > MAX_PARAMETER_VALUES:
            raise InputError(f"more than {MAX_PARAMETER_VALUES} values", file=file, field=field)
        if depth > MAX_PARAMETER_DEPTH:
            raise InputError(
                f"nested more than {MAX_PARAMETER_DEPTH} levels deep", file=file, field=field
            )
        if item is None or isinstance(item, (bool, int)):
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                raise InputError(f"expected a finite number, got {item!r}", file=file, field=field)
        elif isinstance(item, str):
            if len(item) > MAX_PARAMETER_TEXT:
                raise InputError(
                    f"text longer than {MAX_PARAMETER_TEXT} characters", file=file, field=field
                )
        elif isinstance(item, list):
            stack.extend((x, depth + 1) for x in item)
        elif isinstance(item, dict):
            for key, x in item.items():
                if not isinstance(key, str):
                    raise InputError(f"expected text keys, got {key!r}", file=file, field=field)
                stack.append((key, depth + 1))
                stack.append((x, depth + 1))
        else:
            raise InputError(
                f"expected plain data (text, numbers, true/false, lists, "
                f"mappings), got {type(item).__name__}",
                file=file,
                field=field,
            )


def parameters_code(resolved: Mapping[str, Any]) -> str:
    """Return the parameters cell papermill injects, checked to be nothing but literal assignments.

    The code is what papermill's parameterization writes for a Python kernel; it is parsed back
    and must read, literal by literal, as ``resolved`` (so no value can become code, whatever it
    contains).

    Raises
    ------
    DecisionError
        If the code would not read back as ``resolved`` (an internal error: nothing is run).
    """
    from papermill.translators import translate_parameters

    code = translate_parameters("python3", "python", dict(resolved), "Parameters")
    values: dict[str, Any] = {}
    try:
        for statement in ast.parse(code).body:
            if not (
                isinstance(statement, ast.Assign)
                and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)
            ):
                raise ValueError(ast.dump(statement)[:80])
            values[statement.targets[0].id] = ast.literal_eval(statement.value)
    except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError) as exc:
        raise DecisionError(
            f"internal error: the parameters would not reach the notebook as "
            f"plain values ({exc}); nothing was run"
        ) from None
    if values != dict(resolved):
        wrong = sorted(k for k in resolved if values.get(k, object()) != resolved[k])
        raise DecisionError(
            "internal error: parameters would not reach the notebook "
            f"unchanged ({', '.join(wrong)}); nothing was run"
        )
    return code


def load_parameter_file(path: str | os.PathLike) -> dict[str, Any]:
    """Read a YAML mapping of parameter names to values (safe loader, size-limited)."""
    data = read_yaml_file(path, what="a parameter file (YAML)")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError("expected a mapping of parameter names to values", file=path)
    # YAML reads 2017-08-20 as a date; templates take dates as ISO text.
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in data.items()}


def parse_cli_parameters(pairs: list[str]) -> dict[str, Any]:
    """Parse ``NAME=VALUE`` pairs; values are read as YAML scalars (``3``, ``0.5``, ``true``)."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InputError(f"expected NAME=VALUE, got {pair!r}", file="-p")
        try:
            parsed = load_yaml(value, file="-p") if value.strip() else ""
        except yaml.YAMLError:
            parsed = value
        except InputError as exc:
            if not exc.detail.startswith("cannot read a value"):
                raise InputError(exc.detail, file="-p", field=name.strip()) from None
            parsed = value  # e.g. 2017-13-01, no date: the parameter's check says what is wrong
        if isinstance(parsed, dt.date):  # keep dates as the ISO text the template expects
            parsed = value.strip()
        out[name.strip()] = parsed
    return out


def is_scenario_file(path: str | os.PathLike) -> bool:
    """Tell whether a YAML file is a case scenario rather than a mapping of report parameters."""
    from decision.case import SCENARIO_KEYS

    try:
        data = read_yaml_file(path)
    except InputError:
        return False  # then read as a parameter file, which reports the problem
    return (
        isinstance(data, dict)
        and bool({"parameters", "priors"} & set(data))
        and set(data) <= SCENARIO_KEYS
    )
