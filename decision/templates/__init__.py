"""Report notebooks as jupytext py:percent files, and the inputs their parameters name.

Each template declares its parameters in one cell tagged ``parameters`` (read by
:func:`decision.report.template_parameters`). Some parameters name an input of the report: a
file, the month reported on, the case or the scenario. :data:`PARAMETER_INPUTS` is the one table
saying, for each such parameter, how a given value is checked before any kernel starts (so a bad
file fails naming its row, not half-way through a notebook) and which data it makes a report read
(hashed into the report's manifest). :mod:`decision.report` applies the table to any template
without naming these parameters itself; a new template parameter of this kind gets its row here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["PARAMETER_INPUTS", "ParameterInput"]


@dataclasses.dataclass(frozen=True)
class ParameterInput:
    """How a template parameter naming an input is checked and hashed.

    Attributes
    ----------
    check
        ``check(value, given) -> value``: called with the value given for the parameter and
        every given parameter, before anything runs; raises
        :class:`~decision.core.errors.InputError` for a bad input and returns the value the
        report receives (e.g. a path made absolute).
    hashes
        ``hashes(value, parameters) -> {name: sha256}``: the data this parameter makes the report
        read, given the report's full parameters; recorded in the manifest and compared when the
        report is rendered again. Without it, a ``*_file`` parameter's file is hashed as
        ``<name without _file>``.
    changes_after_render
        The file is expected to change once the report is rendered (the run history gains the
        report's own run): a changed hash is then a warning, not a reason to refuse rendering
        the report again from its manifest.
    """

    check: Callable[[Any, Mapping[str, Any]], Any] | None = None
    hashes: Callable[[Any, Mapping[str, Any]], dict[str, str]] | None = None
    changes_after_render: bool = False


def _resolved(value: Any) -> Any:
    """Make an existing path absolute (the kernel runs in another folder); names stay names."""
    return str(Path(value).resolve()) if value and Path(value).exists() else value


def _check_observations(value: Any, given: Mapping[str, Any]) -> Any:
    if value:
        from decision.observations import load_observations

        load_observations(value)
    return value


def _check_ledger(value: Any, given: Mapping[str, Any]) -> Any:
    if value:
        from decision.monitoring.ledger import validate_ledger

        validate_ledger(value)
    return value


def _check_schedule(value: Any, given: Mapping[str, Any]) -> Any:
    if value:
        from decision.monitoring.schedule import load_schedule

        load_schedule(value)
    return value


def _schedule_hashes(value: Any, parameters: Mapping[str, Any]) -> dict[str, str]:
    from decision.core.provenance import sha256_file
    from decision.monitoring.schedule import default_schedule_path

    if not value:  # the shipped schedule
        return {"schedule": sha256_file(default_schedule_path())}
    return {"schedule": sha256_file(value)} if Path(value).is_file() else {}


def _evidence_as_of(value: Any, parameters: Mapping[str, Any]) -> dict[str, str]:
    from decision import evidence

    return {"evidence": evidence.data_hash(as_of=value)} if value else {}


def _check_month(value: Any, given: Mapping[str, Any]) -> Any:
    from decision.core.dates import month_end

    month_end(value, field="through")
    return value


def _evidence_through(value: Any, parameters: Mapping[str, Any]) -> dict[str, str]:
    if parameters.get("as_of") or not value:  # as_of, where given, dates the evidence
        return {}
    from decision import evidence
    from decision.core.dates import month_end

    return {"evidence": evidence.data_hash(as_of=month_end(value).isoformat())}


def _check_case(value: Any, given: Mapping[str, Any]) -> Any:
    if not value:
        return value
    from decision.case import load_spec

    load_spec(value)  # an unknown case fails here, before any run
    return _resolved(value)


def _check_scenario(value: Any, given: Mapping[str, Any]) -> Any:
    from decision.case import load_case

    # A bad scenario fails here, naming its file, before any run.
    load_case(value, given.get("case") or None)
    return _resolved(value)


def _scenario_hashes(value: Any, parameters: Mapping[str, Any]) -> dict[str, str]:
    from decision.case import load_scenario, load_spec
    from decision.core.provenance import sha256_file

    spec = load_spec(parameters.get("case") or None)
    scenario = load_scenario(value, spec)
    hashes = {}
    if scenario.path and Path(scenario.path).is_file():
        hashes["scenario"] = sha256_file(scenario.path)
    hashes["case_tree"] = sha256_file(spec.tree_path)
    hashes["case_spec"] = sha256_file(spec.folder / "__init__.py")
    records = sorted((spec.folder / "elicitation").glob("*.yaml"))
    if records:  # the judgments' provenance and the experts compared come from these
        import hashlib

        digest = hashlib.sha256()
        for path in records:
            digest.update(f"{path.name}\0{sha256_file(path)}\n".encode())
        hashes["case_elicitation"] = digest.hexdigest()
    return hashes


def _check_elicitation(value: Any, given: Mapping[str, Any]) -> Any:
    if value:
        from decision.elicitation import load_record

        load_record(value)  # a malformed record fails here, naming its field
    return value


#: Template parameters that name an input of the report, by parameter name.
PARAMETER_INPUTS: dict[str, ParameterInput] = {
    "as_of": ParameterInput(hashes=_evidence_as_of),
    "through": ParameterInput(check=_check_month, hashes=_evidence_through),
    "case": ParameterInput(check=_check_case),
    "scenario": ParameterInput(check=_check_scenario, hashes=_scenario_hashes),
    "observations_file": ParameterInput(check=_check_observations),
    "ledger_file": ParameterInput(check=_check_ledger),
    "schedule_file": ParameterInput(check=_check_schedule, hashes=_schedule_hashes),
    "history_file": ParameterInput(changes_after_render=True),
    "elicitation_file": ParameterInput(check=_check_elicitation),
}
