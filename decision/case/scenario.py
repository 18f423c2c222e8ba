"""Scenarios: named replacements of a case tree's parameter specs and of the models' priors.

A scenario file replaces parameter specs of the case tree (same syntax) and may override the
Bayesian models' priors and settings::

    name: pessimistic-china
    description: An analyst who expects little of China
    parameters:
      china_keeps_if_full: {distribution: triangular, low: 0, mode: 0.2, high: 0.4}
    priors:
      china: {cooperation_mean: {alpha: 1.5, beta: 4.0}}
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from decision.case.spec import CaseSpec, load_spec
from decision.core.errors import InputError
from decision.core.suggest import did_you_mean
from decision.core.yaml import read_yaml_file

__all__ = ["SCENARIO_KEYS", "Scenario", "list_scenarios", "load_scenario"]

#: Top-level keys a scenario file may have.
SCENARIO_KEYS = frozenset({"name", "description", "parameters", "priors", "settings"})


@dataclasses.dataclass(frozen=True)
class Scenario:
    """Named overrides of a case's parameters and of the models' priors and settings."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    priors: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    settings: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    path: str | None = None


def list_scenarios(case: str | Path | CaseSpec | None = None) -> list[Path]:
    """List the scenario files of a case, baseline first."""
    files = sorted(load_spec(case).scenario_folder.glob("*.yaml"))
    return sorted(files, key=lambda p: (p.stem != "baseline", p.stem))


def load_scenario(path: str | Path | None, case: str | Path | CaseSpec | None = None) -> Scenario:
    """Read a scenario file; ``None`` or a bare scenario name picks one shipped with the case.

    Raises
    ------
    InputError
        Naming the file and the key for a file that is missing, not YAML, or not a scenario.
    """
    if path is None or str(path) == "":
        return Scenario(name="baseline")
    path = Path(path)
    if not path.suffix and not path.exists():
        spec = load_spec(case)
        path = spec.scenario_folder / f"{path.name}.yaml"
        if not path.is_file():
            names = [p.stem for p in list_scenarios(spec)]
            raise InputError(
                f"unknown scenario '{path.stem}'{did_you_mean(path.stem, names)}: expected a "
                f"scenario of the case {spec.name} ({', '.join(names)}) or a scenario file",
                field="scenario",
            )
    data = read_yaml_file(path, what="a scenario file (YAML)")
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise InputError("expected a mapping with name, description, parameters, priors", file=path)
    for key in data:
        if key not in SCENARIO_KEYS:
            raise InputError(
                f"unknown key (expected one of: {', '.join(sorted(SCENARIO_KEYS))})",
                file=path,
                field=key,
            )
    for key in ("parameters", "priors", "settings"):
        if data.get(key) is not None and not isinstance(data[key], Mapping):
            raise InputError("expected a mapping", file=path, field=key)
    return Scenario(
        name=str(data.get("name") or path.stem),
        description=str(data.get("description") or ""),
        parameters=dict(data.get("parameters") or {}),
        priors=dict(data.get("priors") or {}),
        settings=dict(data.get("settings") or {}),
        path=str(path),
    )
