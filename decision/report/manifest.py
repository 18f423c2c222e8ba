"""A report's manifest: what it was rendered from, and whether it can be rendered again exactly.

``manifest.json`` records the template and its hash, every parameter (the seed among them),
the SHA-256 of every input the parameters make the report read (:func:`input_hashes`), package
versions, the NUTS backend and its version, the SHA-256 of the lock file the environment was
installed from and of the package's own files, the git commit and the platform.
:func:`check_manifest` reads a manifest and compares it with today's template and inputs,
which :func:`decision.report.render_from_manifest` does before rendering a report again;
:func:`manifest_is_current` says whether rendering again would change nothing at all (then
``decision report`` says the report is up to date and renders nothing).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
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

__all__ = [
    "ManifestCheck",
    "build_manifest",
    "check_manifest",
    "environment_fingerprint",
    "input_hashes",
    "lock_sha256",
    "manifest_is_current",
    "package_sha256",
]

#: Largest manifest read (bytes).
MAX_MANIFEST_BYTES = 10_000_000

#: The package's own folder (code, templates, shipped data).
_PACKAGE_DIR = Path(__file__).resolve().parents[1]


def lock_file() -> Path:
    """Return where the lock file of exact, hashed versions is (a source checkout's root)."""
    return _PACKAGE_DIR.parent / "requirements.lock"


def lock_sha256() -> str | None:
    """Return the SHA-256 of ``requirements.lock``, or None where there is none (a wheel)."""
    path = lock_file()
    return sha256_file(path) if path.is_file() else None


@functools.lru_cache(maxsize=1)
def package_sha256() -> str:
    """Return one SHA-256 over every file of the ``decision`` package, names included.

    Unlike the git commit it needs no git and sees uncommitted edits, so a report rendered
    from an edited package is never taken for an up-to-date one.
    """
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE_DIR.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(path.relative_to(_PACKAGE_DIR).as_posix().encode() + b"\0")
            digest.update(sha256_file(path).encode())
    return digest.hexdigest()


def _sampler_backend(params: Mapping[str, Any]) -> dict[str, str | None]:
    """Return the NUTS backend the report's models are sampled with, and its version."""
    from decision.core.backend import DEFAULT_NUTS_SAMPLER, backend_info

    return backend_info(params.get("nuts_sampler") or DEFAULT_NUTS_SAMPLER)


def environment_fingerprint(params: Mapping[str, Any]) -> dict[str, Any]:
    """Return what, besides template and inputs, decides a report's numbers.

    Package versions, the NUTS backend, the lock file's and the package's SHA-256, and the
    platform: equal fingerprints mean the same code in the same environment.
    """
    return {
        "versions": package_versions(),
        "sampler": _sampler_backend(params),
        "lock_sha256": lock_sha256(),
        "package_sha256": package_sha256(),
        "platform": {
            "system": platform.system(),
            "machine": platform.machine(),
            "python_implementation": platform.python_implementation(),
        },
    }


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
        **environment_fingerprint(params),
        "git_commit": git_commit(),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(time.time() - started, 2),
        "rerender": "decision report --from-manifest <this file>",
    }


def manifest_is_current(
    manifest_file: str | os.PathLike, template: str, params: Mapping[str, Any]
) -> bool:
    """Whether rendering ``template`` with ``params`` would reproduce the published report.

    True when the manifest exists and its template hash, parameters (``params`` validated),
    input hashes and environment (:func:`environment_fingerprint`) all equal today's, and the
    report's HTML is beside it. Anything unreadable counts as not current.
    """
    path = Path(manifest_file)
    try:
        info = json.loads(read_limited(path, MAX_MANIFEST_BYTES).decode("utf-8"))
    except (OSError, ValueError, UnicodeDecodeError, InputError):
        return False
    if not isinstance(info, dict) or not (path.parent / "report.html").is_file():
        return False
    expected = {
        "template": template,
        "template_sha256": template_sha256(template),
        "parameters": json.loads(json.dumps(dict(params), sort_keys=True)),
        "data_hashes": input_hashes(params),
        **json.loads(json.dumps(environment_fingerprint(params))),
    }
    return all(info.get(key) == value for key, value in expected.items())


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
