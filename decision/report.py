"""Render parameterized reports: papermill executes a template, nbconvert exports HTML.

A template is a jupytext ``py:percent`` file shipped in ``decision/templates``. It has one cell
tagged ``parameters`` whose assignments are literal, typed defaults; a trailing comment may give
a range as ``(low..high)``, which :func:`validate_parameters` enforces before anything runs.

A run writes into a staging folder beside the output and is moved into ``<out>/<name>/`` only
when every file is complete, so a failed or killed run never touches the previous report. A
failed run's executed notebook is kept under ``<out>/.failed/`` and the error says where.

Parameters are plain data (text, finite numbers, booleans, lists and mappings with text keys,
size-limited) and reach the notebook as Python literals: :func:`render_report` checks that the
parameters cell papermill writes reads back, literal by literal, as the validated values.
The exported HTML carries no script and a Content-Security-Policy that forbids fetching
anything, so text from input files can neither run nor call out when a report is opened.
The manifest records what :func:`render_from_manifest` needs to re-render a report exactly.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import json
import math
import os
import platform
import re
import shutil
import tempfile
import time
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from decision.core.atomic import atomic_write_text, default_folder_mode, replace_directory
from decision.core.dates import parse_date
from decision.core.errors import DecisionError, InputError
from decision.core.provenance import (
    git_commit,
    host_id,
    package_versions,
    process_alive,
    sha256_file,
)
from decision.core.suggest import did_you_mean
from decision.core.yaml import load_yaml, read_limited, read_yaml_file

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "TEMPLATES",
    "ReportFailed",
    "check_run_name",
    "load_parameter_file",
    "parse_cli_parameters",
    "is_scenario_file",
    "render_all_scenarios",
    "render_from_manifest",
    "render_report",
    "write_scenario_index",
    "template_notebook",
    "template_parameters",
    "template_sha256",
    "validate_parameters",
]

#: Report templates by name: the file in ``decision/templates`` and the default run name.
TEMPLATES = {"brief": "brief.py", "monitoring": "monitoring.py", "sensitivity": "sensitivity.py"}

_RANGE = re.compile(r"\((?P<low>-?[0-9.eE+]*)\.\.(?P<high>-?[0-9.eE+]*)\)")
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>\s*", re.I | re.S)
#: Reports fetch nothing and run nothing: images are data: URLs, styles are inline.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    "font-src data:; script-src 'none'; base-uri 'none'; "
    "form-action 'none'"
)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")  # used with fullmatch
#: Limits on one parameter value (lists and mappings, e.g. ``priors``).
MAX_PARAMETER_VALUES = 10_000
MAX_PARAMETER_DEPTH = 20
MAX_PARAMETER_TEXT = 10_000


class ReportFailed(DecisionError):
    """The report notebook raised; the executed notebook is kept at ``notebook``."""

    def __init__(self, message: str, notebook: Path):
        super().__init__(message)
        self.notebook = notebook


def template_notebook(template: str = "brief"):
    """Read a template as an ``nbformat`` notebook."""
    import jupytext

    if template not in TEMPLATES:
        raise InputError(
            f"unknown report '{template}' (expected one of: {', '.join(TEMPLATES)})", field="report"
        )
    source = resources.files("decision.templates").joinpath(TEMPLATES[template])
    nb = jupytext.reads(source.read_text(encoding="utf-8"), fmt="py:percent")
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def template_sha256(template: str = "brief") -> str:
    """SHA-256 of a template's source file (stable: the notebook form has random cell ids)."""
    if template not in TEMPLATES:
        raise InputError(f"unknown report '{template}'", field="report")
    source = resources.files("decision.templates").joinpath(TEMPLATES[template])
    return hashlib.sha256(source.read_bytes()).hexdigest()


def template_parameters(template: str = "brief") -> dict[str, dict[str, Any]]:
    """Parameters declared in the template: name -> {default, type, help, low, high}."""
    import ast

    nb = template_notebook(template)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if len(cells) != 1:
        raise DecisionError(f"template '{template}' must have exactly one parameters cell")
    out: dict[str, dict[str, Any]] = {}
    for line in cells[0].source.splitlines():
        code, _, comment = line.partition("#")
        if "=" not in code:
            continue
        name, _, value = code.partition("=")
        default = ast.literal_eval(value.strip())
        rng = _RANGE.search(comment)
        out[name.strip()] = {
            "default": default,
            "type": type(default).__name__,
            "help": comment.strip(),
            "low": float(rng["low"]) if rng and rng["low"] else None,
            "high": float(rng["high"]) if rng and rng["high"] else None,
        }
    return out


def validate_parameters(
    params: Mapping[str, Any], template: str = "brief", *, source: str = "parameters"
) -> dict[str, Any]:
    """Check names, types and ranges; return the full set with defaults filled in.

    Raises
    ------
    InputError
        Naming ``source`` (the parameter file or ``-p``) and the parameter.
    """
    declared = template_parameters(template)
    resolved = {name: spec["default"] for name, spec in declared.items()}
    for name, value in params.items():
        if name not in declared:
            raise InputError(
                f"unknown parameter{did_you_mean(name, declared)} (known: {', '.join(declared)})",
                file=source,
                field=name,
            )
        spec = declared[name]
        kind = spec["type"]
        _check_plain(value, source=source, field=name)
        if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        expected = {
            "int": int,
            "float": float,
            "str": str,
            "bool": bool,
            "dict": dict,
            "list": list,
        }.get(kind, object)
        if not isinstance(value, expected) or (kind != "bool" and isinstance(value, bool)):
            raise InputError(f"expected {kind}, got {_short(value)}", file=source, field=name)
        if spec["low"] is not None and value < spec["low"]:
            raise InputError(
                f"expected a value >= {spec['low']:g}, got {_short(value)}", file=source, field=name
            )
        if spec["high"] is not None and value > spec["high"]:
            raise InputError(
                f"expected a value <= {spec['high']:g}, got {_short(value)}",
                file=source,
                field=name,
            )
        if name == "as_of" or name.endswith("_date"):
            parse_date(value, field=f"{source}: {name}")
        if name.endswith("_file") and value and not Path(value).is_file():
            raise InputError(f"file not found: {value}", file=source, field=name)
        if value and name in _FILE_CHECKS:  # a bad file fails here, naming its row, before any run
            _FILE_CHECKS[name](value)
        if name == "through":
            from decision.core.dates import month_end

            month_end(value, field="through")
        if name == "case" and value:
            from decision.case import load_spec

            load_spec(value)  # an unknown case fails here, before any run
            if Path(value).exists():
                value = str(Path(value).resolve())
        if name == "scenario":
            from decision.case import load_case

            # A bad scenario fails here, naming its file, before any run.
            load_case(value, params.get("case") or None)
            if Path(value).exists():
                value = str(Path(value).resolve())
        resolved[name] = value
    for name, value in resolved.items():
        if name.endswith("_file") and value:
            resolved[name] = str(Path(value).resolve())
    return resolved


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _check_observations(path: str) -> None:
    from decision.observations import load_observations

    load_observations(path)


def _check_ledger(path: str) -> None:
    from decision.ledger import validate_ledger

    validate_ledger(path)


def _check_schedule(path: str) -> None:
    from decision.schedule import load_schedule

    load_schedule(path)


def _check_elicitation(path: str) -> None:
    from decision.elicitation import load_record

    load_record(path)


#: Input files read by the templates, checked (size, format) before a kernel starts.
_FILE_CHECKS = {
    "observations_file": _check_observations,
    "ledger_file": _check_ledger,
    "schedule_file": _check_schedule,
    "elicitation_file": _check_elicitation,
}


def _check_plain(value: Any, *, source: str, field: str) -> None:
    """A parameter value must be plain data the notebook receives as a Python literal.

    Text, finite numbers, booleans, ``None``, lists and mappings with text keys; at most
    :data:`MAX_PARAMETER_VALUES` values (aliases counted where used), nested at most
    :data:`MAX_PARAMETER_DEPTH` levels, texts of at most :data:`MAX_PARAMETER_TEXT`
    characters. Anything else (bytes from ``!!binary``, sets, dates inside a mapping, NaN)
    is an :class:`InputError`.
    """
    count = 0
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        count += 1
        if count > MAX_PARAMETER_VALUES:
            raise InputError(f"more than {MAX_PARAMETER_VALUES} values", file=source, field=field)
        if depth > MAX_PARAMETER_DEPTH:
            raise InputError(
                f"nested more than {MAX_PARAMETER_DEPTH} levels deep", file=source, field=field
            )
        if item is None or isinstance(item, (bool, int)):
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                raise InputError(
                    f"expected a finite number, got {item!r}", file=source, field=field
                )
        elif isinstance(item, str):
            if len(item) > MAX_PARAMETER_TEXT:
                raise InputError(
                    f"text longer than {MAX_PARAMETER_TEXT} characters", file=source, field=field
                )
        elif isinstance(item, list):
            stack.extend((x, depth + 1) for x in item)
        elif isinstance(item, dict):
            for key, x in item.items():
                if not isinstance(key, str):
                    raise InputError(f"expected text keys, got {key!r}", file=source, field=field)
                stack.append((key, depth + 1))
                stack.append((x, depth + 1))
        else:
            raise InputError(
                f"expected plain data (text, numbers, true/false, lists, "
                f"mappings), got {type(item).__name__}",
                file=source,
                field=field,
            )


def _parameters_code(resolved: Mapping[str, Any]) -> str:
    """The parameters cell papermill injects, checked to be nothing but literal assignments
    that read back as ``resolved`` (so no value can become code, whatever it contains).
    """
    import ast

    from papermill.translators import PythonTranslator

    code = PythonTranslator.codify(dict(resolved))
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
            raise InputError(exc.detail, file="-p", field=name.strip()) from None
        if isinstance(parsed, dt.date):  # keep dates as the ISO text the template expects
            parsed = value.strip()
        out[name.strip()] = parsed
    return out


def _input_hashes(params: Mapping[str, Any]) -> dict[str, str]:
    """SHA-256 of everything a report reads besides the package's code: the evidence as of
    the report's date, the scenario and case tree, and every ``*_file`` parameter (the
    shipped schedule when ``schedule_file`` is empty).
    """
    from decision import evidence

    hashes: dict[str, str] = {}
    as_of = params.get("as_of")
    if not as_of and params.get("through"):
        from decision.core.dates import month_end

        as_of = month_end(params["through"]).isoformat()
    if as_of:
        hashes["evidence"] = evidence.data_hash(as_of=as_of)
    if "scenario" in params:
        from decision.case import load_scenario, load_spec

        spec = load_spec(params.get("case") or None)
        scenario = load_scenario(params["scenario"], spec)
        if scenario.path and Path(scenario.path).is_file():
            hashes["scenario"] = sha256_file(scenario.path)
        hashes["case_tree"] = sha256_file(spec.tree_path)
        hashes["case_spec"] = sha256_file(spec.folder / "__init__.py")
        records = sorted((spec.folder / "elicitation").glob("*.yaml"))
        if records:  # the judgments' provenance and the experts compared come from these
            digest = hashlib.sha256()
            for path in records:
                digest.update(f"{path.name}\0{sha256_file(path)}\n".encode())
            hashes["case_elicitation"] = digest.hexdigest()
    for name, value in sorted(params.items()):
        if not name.endswith("_file"):
            continue
        if value and Path(value).is_file():
            hashes[name.removesuffix("_file")] = sha256_file(value)
        elif not value and name == "schedule_file":
            from decision.schedule import default_schedule_path

            hashes["schedule"] = sha256_file(default_schedule_path())
    return hashes


#: Hashes that may change between a report and its re-rendering with a warning only (the
#: run history gains the report's own run after it is rendered).
_CONTEXT_HASHES = ("history",)


def _manifest(
    template: str, name: str, params: Mapping[str, Any], started: float
) -> dict[str, Any]:
    return {
        "template": template,
        "name": name,
        "template_sha256": template_sha256(template),
        "parameters": dict(params),
        "seed": params.get("seed"),
        "data_hashes": _input_hashes(params),
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


@contextlib.contextmanager
def _kernel_environment():
    """Environment the report kernel inherits: figures must render inline whatever
    ``MPLBACKEND`` the caller has set (a headless ``Agg`` would silently drop them).
    """
    saved = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = saved


def _export_html(executed: Path) -> str:
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(executed, as_version=4)
    for number, cell in enumerate(nb.cells):
        # Cell ids are random; numbered ones make the same report the same bytes.
        if "id" in cell:
            cell["id"] = f"cell-{number}"
        # Sampler progress and library warnings stay in report.ipynb, not in the reader's HTML.
        if cell.get("cell_type") == "code":
            cell.outputs = [
                o
                for o in cell.outputs
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
    exporter = HTMLExporter(
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    body, _ = exporter.from_notebook_node(nb)
    # Self-contained and inert: the reports have no widgets, math or diagrams, so every
    # script of the template is dropped (require.js and MathJax from a CDN, and the module
    # that imports mermaid from a CDN when a page holds a ```mermaid block), and a
    # Content-Security-Policy forbids scripts and any fetch: text from an input file can
    # neither run nor call out, and the page opens offline with nothing to fetch.
    body = _SCRIPT.sub("", body)
    policy = f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}"/>'
    head = re.search(r"<head[^>]*>", body, re.I)
    if head is None:  # pragma: no cover - nbconvert's templates all have a head
        raise DecisionError("internal error: the exported HTML has no <head>")
    return body[: head.end()] + "\n" + policy + body[head.end() :]


def render_report(
    params: Mapping[str, Any] | None = None,
    *,
    template: str = "brief",
    out_dir: str | os.PathLike = "reports",
    name: str | None = None,
    source: str = "parameters",
    timeout: int = 1800,
) -> Path:
    """Execute a report template and publish it to ``<out_dir>/<name>/``.

    Parameters
    ----------
    params
        Parameter values (validated against the template's parameters cell).
    template
        A key of :data:`TEMPLATES`.
    out_dir
        Folder holding one sub-folder per run.
    name
        Run name (letters, digits, ``._-``); defaults to the template name.
    source
        Where ``params`` came from, for error messages.

    Returns
    -------
    Path
        The published folder with ``report.html``, ``report.ipynb``, ``parameters.yaml`` and
        ``manifest.json``.

    Raises
    ------
    InputError
        For bad parameters, before anything is executed or written.
    ReportFailed
        If the notebook raised; the previous report is left in place.
    """
    import nbformat
    import papermill

    name = name or template
    check_run_name(name)
    resolved = validate_parameters(params or {}, template, source=source)
    _parameters_code(resolved)
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / name
    _remove_stale_staging(out_dir)
    staging = Path(
        tempfile.mkdtemp(prefix=f".{name}.staging-{os.getpid()}.{host_id()}-", dir=out_dir)
    )
    started = time.time()
    try:
        nb = template_notebook(template)
        nb_text = nbformat.writes(nb)
        source_nb = staging / "template.ipynb"
        source_nb.write_text(nb_text, encoding="utf-8")
        executed = staging / "report.ipynb"
        try:
            with _kernel_environment():
                papermill.execute_notebook(
                    str(source_nb),
                    str(executed),
                    parameters=resolved,
                    kernel_name="python3",
                    cwd=str(staging),
                    progress_bar=False,
                    request_save_on_cell_execute=False,
                    execution_timeout=timeout,
                )
        except Exception as exc:  # papermill raises PapermillExecutionError and friends
            if _disk_full(exc):  # keep nothing on a full disk; say so plainly
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(out_dir)) from None
            failed = out_dir / ".failed" / f"{name}-{dt.datetime.now():%Y%m%dT%H%M%S}-{os.getpid()}"
            failed.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging, failed)
            detail = getattr(exc, "evalue", None) or str(exc).strip().splitlines()[-1]
            raise ReportFailed(
                f"report '{name}' failed ({getattr(exc, 'ename', type(exc).__name__)}: "
                f"{detail}); the executed notebook is {failed / 'report.ipynb'}; "
                f"the previous report is untouched",
                failed / "report.ipynb",
            ) from None
        source_nb.unlink()
        (staging / "report.html").write_text(_export_html(executed), encoding="utf-8")
        (staging / "parameters.yaml").write_text(
            yaml.safe_dump(resolved, sort_keys=True, allow_unicode=True), encoding="utf-8"
        )
        manifest = _manifest(template, name, resolved, started)
        (staging / "manifest.json").write_text(
            json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8"
        )
        os.chmod(staging, default_folder_mode())  # mkdtemp made it private
        replace_directory(staging, target)
    except OSError as exc:
        if _disk_full(exc) or exc.errno == errno.EROFS:  # one clear line naming the folder
            raise OSError(exc.errno, exc.strerror, exc.filename or str(out_dir)) from None
        raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    _write_index(out_dir)
    return target


def check_run_name(name: str) -> str:
    """A run name is a single folder name: letters, digits, ``.``, ``_`` and ``-``, not
    starting with ``.`` or ``-`` (so never ``..``, a path, or a hidden folder).
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InputError(
            f"expected a run name of letters, digits, '.', '_' or '-' "
            f"(not starting with '.' or '-'), got {name!r}",
            field="name",
        )
    return name


_STAGING = re.compile(r"\..+\.staging-(?P<pid>\d+)\.(?P<host>[0-9a-f]{8})-[^/]*")


def _remove_stale_staging(out_dir: Path) -> None:
    """Delete staging folders left by killed runs on this machine (their process is gone)."""
    try:
        entries = list(out_dir.iterdir())
    except OSError:
        return
    for entry in entries:
        match = _STAGING.fullmatch(entry.name)
        if (
            match
            and match["host"] == host_id()
            and not process_alive(int(match["pid"]))
            and entry.is_dir()
        ):
            shutil.rmtree(entry, ignore_errors=True)


def _disk_full(exc: BaseException) -> bool:
    """True for an error that says the disk (or quota) is full, also from inside the kernel."""
    codes = (errno.ENOSPC, errno.EDQUOT)
    if isinstance(exc, OSError) and exc.errno in codes:
        return True
    text = f"{getattr(exc, 'evalue', '')} {exc}"
    return any(os.strerror(code) in text for code in codes)


def render_from_manifest(
    manifest_file: str | os.PathLike,
    *,
    out_dir: str | os.PathLike = "reports",
    name: str | None = None,
    allow_changes: bool = False,
) -> tuple[Path, list[str]]:
    """Re-render a report from its ``manifest.json``: same template, same parameters.

    Before anything runs, the template and every input the manifest hashed (evidence as of the
    report's date, scenario, case tree, observation / ledger / schedule files) are hashed again
    and compared: a difference means the re-rendered report would not be the same, and is an
    error unless ``allow_changes``. Different package versions, git commit or platform, and a
    changed run history, are returned as warnings (the numbers may differ in the last digits).

    Returns
    -------
    (Path, list of str)
        The published folder and the warnings.

    Raises
    ------
    InputError
        The manifest cannot be read, or (without ``allow_changes``) an input has changed.
    """
    path = Path(manifest_file)
    try:
        info = json.loads(read_limited(path, 10_000_000).decode("utf-8"))
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
    template, params = info["template"], info["parameters"]
    name = check_run_name(name or info.get("name") or path.resolve().parent.name)
    resolved = validate_parameters(params, template, source=str(path))
    changed, warnings = [], []
    recorded = info.get("template_sha256")
    if recorded and recorded != template_sha256(template):
        changed.append(f"the '{template}' report template has changed")
    now = _input_hashes(resolved)
    for key, value in sorted((info.get("data_hashes") or {}).items()):
        if now.get(key) == value:
            continue
        what = f"the {key.replace('_', ' ')} data" if key != "evidence" else "the evidence"
        message = (
            f"{what} has changed (sha256 {str(value)[:12]} in the manifest, "
            f"{str(now.get(key))[:12]} now)"
        )
        (warnings if key in _CONTEXT_HASHES else changed).append(message)
    for package, version in sorted((info.get("versions") or {}).items()):
        have = package_versions().get(package)
        if have != version:
            warnings.append(f"{package} {version} in the manifest, {have} installed")
    commit = info.get("git_commit")
    if commit and commit != git_commit():
        warnings.append(f"rendered from git commit {commit}, now {git_commit()}")
    elif commit and commit.endswith("-dirty"):
        warnings.append("rendered from uncommitted changes: the code may have changed since")
    if changed and not allow_changes:
        raise InputError(
            "cannot re-render exactly: "
            + "; ".join(changed)
            + " (pass --allow-changes to render with today's inputs)",
            file=path,
        )
    warnings = changed + warnings
    target = render_report(
        resolved, template=template, out_dir=out_dir, name=name, source=str(path)
    )
    return target, warnings


def is_scenario_file(path: str | os.PathLike) -> bool:
    """True when a YAML file is a case scenario rather than a mapping of report parameters."""
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


def render_all_scenarios(
    params: Mapping[str, Any] | None = None,
    *,
    out_dir: str | os.PathLike = "reports",
    source: str = "parameters",
) -> tuple[list[Path], list[str]]:
    """Render the brief for every shipped scenario and an index page comparing them.

    Returns the published folders and the messages of scenarios that failed (each failure
    leaves that scenario's previous report in place; the others still render).
    """
    from decision.case import list_scenarios, load_spec

    spec = load_spec((params or {}).get("case") or None)
    out_dir = Path(out_dir)
    done, failed = [], []
    for path in list_scenarios(spec):
        try:
            done.append(
                render_report(
                    {**(params or {}), "scenario": str(path)},
                    out_dir=out_dir,
                    name=path.stem,
                    source=source,
                )
            )
        except ReportFailed as exc:
            failed.append(str(exc))
    write_scenario_index(out_dir, [p.stem for p in list_scenarios(spec)], spec)
    return done, failed


def write_scenario_index(out_dir: str | os.PathLike, names: list[str], spec=None) -> Path:
    """``scenarios.html``: one row per scenario comparing recommendations and values."""
    import html

    from decision.case import load_spec

    spec = load_spec(spec)
    shown = [q for q in spec.headline if q.probability][:3]
    out_dir = Path(out_dir)
    rows, strategies = [], []
    for name in names:
        try:
            info = json.loads((out_dir / name / "analysis.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for s in info["options"]:
            if s not in strategies:
                strategies.append(s)
        rows.append((name, info))
    head = "".join(f"<th>{html.escape(s)}<br>EV (P optimal)</th>" for s in strategies)
    body = []
    for name, info in rows:
        cells = "".join(
            f"<td>{info['options'].get(s, float('nan')):.3f} "
            f"({100 * info['probability_optimal'].get(s, 0):.0f}%)</td>"
            for s in strategies
        )
        plan = "; ".join(
            f"{html.escape(k)}: {html.escape(v)}"
            for k, v in info.get("contingent_plan", {}).items()
        )
        flags = " &#9888; convergence" if info.get("flags") else ""
        body.append(
            f'<tr><td><a href="{html.escape(name)}/report.html">{html.escape(name)}</a>{flags}</td>'
            f"<td><b>{html.escape(info['recommendation'])}</b></td>{cells}"
            f"<td>{plan}</td><td>{info['value_of_monitoring']:.4f}</td>"
            + "".join(f"<td>{100 * info.get(q.name, float('nan')):.0f}%</td>" for q in shown)
            + "</tr>"
        )
    headline_heads = "".join(f"<th>{html.escape(q.label)}</th>" for q in shown)
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Scenarios compared</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}</style></head><body>"
        f"<h1>{html.escape(spec.reports.scenarios)}</h1>"
        "<p>Expected value in the tree's units and the share of draws in which each strategy "
        "is best; the contingent plan maps what is observed to the later decision.</p>"
        f"<table><tr><th>scenario</th><th>recommendation</th>{head}<th>contingent plan</th>"
        f"<th>value of monitoring</th>{headline_heads}"
        f"</tr>{''.join(body)}</table></body></html>"
    )
    return atomic_write_text(out_dir / "scenarios.html", page)


def _write_index(out_dir: Path) -> None:
    """A small index.html listing every published report, newest first.

    Listing and writing happen under one lock, so of two runs finishing at once the one that
    writes last lists both reports.
    """
    import filelock

    with filelock.FileLock(str(out_dir / ".index.lock")):
        _write_index_locked(out_dir)


def _write_index_locked(out_dir: Path) -> None:
    import html

    rows = []
    for manifest in out_dir.glob("*/manifest.json"):
        if manifest.parent.name.startswith("."):  # staging and failed runs
            continue
        try:
            info = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        rows.append((info.get("created", ""), manifest.parent.name, info))
    rows.sort(reverse=True)
    items = "\n".join(
        f'<tr><td><a href="{html.escape(n)}/report.html">{html.escape(n)}</a></td>'
        f"<td>{html.escape(str(i.get('template')))}</td>"
        f"<td>{html.escape(str(i.get('parameters', {}).get('as_of', '')))}</td>"
        f"<td>{html.escape(c)}</td></tr>"
        for c, n, i in rows
    )
    atomic_write_text(
        out_dir / "index.html",
        (
            "<!doctype html><meta charset='utf-8'><title>decision reports</title>"
            "<h1>Reports</h1><table><tr><th>run</th><th>report</th><th>as of</th>"
            f"<th>rendered</th></tr>{items}</table>"
        ),
    )
