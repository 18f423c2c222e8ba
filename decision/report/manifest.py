"""A report's manifest: what it was rendered from, and whether it can be rendered again exactly.

``manifest.json`` records the template and its hash, every parameter (the seed among them),
the SHA-256 of every input the parameters make the report read (:func:`input_hashes`), package
versions, the git commit and the platform. :func:`check_manifest` reads a manifest and compares
it with today's template and inputs, which :func:`decision.report.render_from_manifest` does
before rendering a report again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import platform
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from decision.core.errors import InputError
from decision.core.provenance import git_commit, package_versions, sha256_file
from decision.core.yaml import read_limited
from decision.report.parameters import validate_parameters
from decision.report.template import TEMPLATES, template_sha256
from decision.templates import PARAMETER_INPUTS

__all__ = ["ManifestCheck", "build_manifest", "check_manifest", "input_hashes"]

#: Largest manifest read (bytes).
MAX_MANIFEST_BYTES = 10_000_000


def input_hashes(params: Mapping[str, Any]) -> dict[str, str]:
    """Hash everything a report reads besides the package's code.

    The inputs each parameter names, as :data:`decision.templates.PARAMETER_INPUTS` says (the
    evidence as of the report's date, the scenario and case tree, the shipped schedule when no
    schedule file is given), and the file of every other ``*_file`` parameter, keyed by the
    parameter's name without ``_file``.
    """
    hashes: dict[str, str] = {}
    for name, value in sorted(params.items()):
        named_input = PARAMETER_INPUTS.get(name)
        if named_input is not None and named_input.hashes is not None:
            hashes.update(named_input.hashes(value, params))
        elif name.endswith("_file") and value and Path(value).is_file():
            hashes[name.removesuffix("_file")] = sha256_file(value)
    return hashes


def _changes_after_render() -> set[str]:
    """Hash keys that may change between a report and its re-rendering (a warning only)."""
    return {
        name.removesuffix("_file")
        for name, named_input in PARAMETER_INPUTS.items()
        if named_input.changes_after_render
    }


def build_manifest(
    template: str, name: str, params: Mapping[str, Any], started: float
) -> dict[str, Any]:
    """Return the manifest of a report run started at ``started`` (seconds since the epoch)."""
    return {
        "template": template,
        "name": name,
        "template_sha256": template_sha256(template),
        "parameters": dict(params),
        "seed": params.get("seed"),
        "data_hashes": input_hashes(params),
        "versions": package_versions(),
        "git_commit": git_commit(),
        "platform": {
            "system": platform.system(),
            "machine": platform.machine(),
            "python_implementation": platform.python_implementation(),
        },
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(time.time() - started, 2),
        "rerender": "decision report --from-manifest <this file>",
    }


@dataclasses.dataclass(frozen=True)
class ManifestCheck:
    """A manifest read and compared with today's template and inputs (:func:`check_manifest`).

    Attributes
    ----------
    template
        The template's name.
    name
        The run name recorded (``None`` if absent).
    parameters
        The recorded parameters, validated against today's template.
    changed
        What differs in the template and the inputs: rendering again would not give the same
        report.
    warnings
        What differs in package versions, git commit, or inputs expected to change.
    """

    template: str
    name: str | None
    parameters: dict[str, Any]
    changed: list[str]
    warnings: list[str]


def check_manifest(manifest_file: str | os.PathLike) -> ManifestCheck:
    """Read a report's ``manifest.json`` and compare it with today's template and inputs.

    The template and every input the manifest hashed (evidence as of the report's date,
    scenario, case tree, observation / ledger / schedule files) are hashed again: a difference
    is in ``changed``. Different package versions or git commit, and a changed run history,
    are in ``warnings`` (the numbers may differ in the last digits).

    Raises
    ------
    InputError
        The file is missing, is not a report manifest, or holds parameters today's template
        refuses.
    """
    path = Path(manifest_file)
    try:
        info = json.loads(read_limited(path, MAX_MANIFEST_BYTES).decode("utf-8"))
    except FileNotFoundError:
        raise InputError("file not found: expected a report's manifest.json", file=path) from None
    except IsADirectoryError:
        raise InputError("is a folder: expected a report's manifest.json", file=path) from None
    except (ValueError, UnicodeDecodeError):
        raise InputError("not a report manifest (not JSON)", file=path) from None
    if (
        not isinstance(info, dict)
        or info.get("template") not in TEMPLATES
        or not isinstance(info.get("parameters"), dict)
    ):
        raise InputError(
            "not a report manifest: expected 'template' (one of "
            f"{', '.join(TEMPLATES)}) and 'parameters'",
            file=path,
        )
    template = info["template"]
    resolved = validate_parameters(info["parameters"], template, source=str(path))
    changed, warnings = [], []
    recorded = info.get("template_sha256")
    if recorded and recorded != template_sha256(template):
        changed.append(f"the '{template}' report template has changed")
    now = input_hashes(resolved)
    context = _changes_after_render()
    for key, value in sorted((info.get("data_hashes") or {}).items()):
        if now.get(key) == value:
            continue
        what = f"the {key.replace('_', ' ')} data" if key != "evidence" else "the evidence"
        message = (
            f"{what} has changed (sha256 {str(value)[:12]} in the manifest, "
            f"{str(now.get(key))[:12]} now)"
        )
        (warnings if key in context else changed).append(message)
    for package, version in sorted((info.get("versions") or {}).items()):
        have = package_versions().get(package)
        if have != version:
            warnings.append(f"{package} {version} in the manifest, {have} installed")
    commit = info.get("git_commit")
    if commit and commit != git_commit():
        warnings.append(f"rendered from git commit {commit}, now {git_commit()}")
    elif commit and commit.endswith("-dirty"):
        warnings.append("rendered from uncommitted changes: the code may have changed since")
    return ManifestCheck(template, info.get("name"), resolved, changed, warnings)
