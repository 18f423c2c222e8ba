"""Render parameterized reports: papermill executes a template, nbconvert exports HTML.

A template is a jupytext ``py:percent`` file shipped in ``decision/templates``. It has one cell
tagged ``parameters`` whose assignments are literal, typed defaults; a trailing comment may give
a range as ``(low..high)``, which :func:`validate_parameters` enforces before anything runs.

A run writes into a staging folder beside the output and is moved into ``<out>/<name>/`` only
when every file is complete, so a failed or killed run never touches the previous report. A
failed run's executed notebook is kept under ``<out>/.failed/`` and the error says where.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from decision.atomic import atomic_write_text, replace_directory
from decision.config import parse_date
from decision.errors import DecisionError, InputError

__all__ = [
    "TEMPLATES",
    "ReportFailed",
    "load_parameter_file",
    "parse_cli_parameters",
    "is_scenario_file",
    "render_all_scenarios",
    "render_report",
    "write_scenario_index",
    "template_notebook",
    "template_parameters",
    "validate_parameters",
]

#: Report templates by name: the file in ``decision/templates`` and the default run name.
TEMPLATES = {"brief": "brief.py", "monitoring": "monitoring.py",
             "sensitivity": "sensitivity.py"}

_RANGE = re.compile(r"\((?P<low>-?[0-9.eE+]*)\.\.(?P<high>-?[0-9.eE+]*)\)")
_CDN_SCRIPT = re.compile(r"<script[^>]*\ssrc=\"https?://[^\"]*\"[^>]*>\s*</script>\s*", re.I)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_VERSIONED = ("decision", "pymc", "pytensor", "arviz", "numpy", "pandas", "scipy", "xarray",
              "papermill", "nbconvert", "matplotlib")


class ReportFailed(DecisionError):
    """The report notebook raised; the executed notebook is kept at ``notebook``."""

    def __init__(self, message: str, notebook: Path):
        super().__init__(message)
        self.notebook = notebook


def template_notebook(template: str = "brief"):
    """Read a template as an ``nbformat`` notebook."""
    import jupytext

    if template not in TEMPLATES:
        raise InputError(f"unknown report '{template}' (expected one of: {', '.join(TEMPLATES)})",
                         field="report")
    source = resources.files("decision.templates").joinpath(TEMPLATES[template])
    nb = jupytext.reads(source.read_text(encoding="utf-8"), fmt="py:percent")
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


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


def validate_parameters(params: Mapping[str, Any], template: str = "brief", *,
                        source: str = "parameters") -> dict[str, Any]:
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
            import difflib

            close = difflib.get_close_matches(name, declared, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise InputError(f"unknown parameter{hint} (known: {', '.join(declared)})",
                             file=source, field=name)
        spec = declared[name]
        kind = spec["type"]
        if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        expected = {"int": int, "float": float, "str": str, "bool": bool,
                    "dict": dict, "list": list}.get(kind, object)
        if not isinstance(value, expected) or (kind != "bool" and isinstance(value, bool)):
            raise InputError(f"expected {kind}, got {value!r}", file=source, field=name)
        if spec["low"] is not None and value < spec["low"]:
            raise InputError(f"expected a value >= {spec['low']:g}, got {value!r}",
                             file=source, field=name)
        if spec["high"] is not None and value > spec["high"]:
            raise InputError(f"expected a value <= {spec['high']:g}, got {value!r}",
                             file=source, field=name)
        if name == "as_of" or name.endswith("_date"):
            parse_date(value, field=f"{source}: {name}")
        if name.endswith("_file") and value and not Path(value).is_file():
            raise InputError(f"file not found: {value}", file=source, field=name)
        if name == "through":
            from decision.monitor import month_end

            month_end(value)
        if name == "scenario":
            from decision.case import load_case

            load_case(value)  # a bad scenario fails here, naming its file, before any run
            if Path(value).exists():
                value = str(Path(value).resolve())
        resolved[name] = value
    for name, value in resolved.items():
        if name.endswith("_file") and value:
            resolved[name] = str(Path(value).resolve())
    return resolved


def load_parameter_file(path: str | os.PathLike) -> dict[str, Any]:
    """Read a YAML mapping of parameter names to values (safe loader)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        raise InputError(f"not valid YAML ({getattr(exc, 'problem', exc)})", file=path,
                         row=row) from None
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
            parsed = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError:
            parsed = value
        if isinstance(parsed, dt.date):  # keep dates as the ISO text the template expects
            parsed = value.strip()
        out[name.strip()] = parsed
    return out


def _git_commit() -> str | None:
    try:
        root = Path(__file__).resolve().parent.parent
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=10, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True, timeout=10).stdout
        return out.stdout.strip() + ("-dirty" if dirty.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def _manifest(template: str, params: Mapping[str, Any], started: float,
              notebook_text: str) -> dict[str, Any]:
    from decision import evidence

    as_of = params.get("as_of")
    hashes = {}
    if as_of:
        hashes["evidence"] = evidence.data_hash(as_of=as_of)
    obs_file = params.get("observations_file")
    if obs_file:
        hashes["observations"] = hashlib.sha256(Path(obs_file).read_bytes()).hexdigest()
    return {
        "template": template,
        "template_sha256": hashlib.sha256(notebook_text.encode()).hexdigest(),
        "parameters": dict(params),
        "seed": params.get("seed"),
        "data_hashes": hashes,
        "versions": _versions(),
        "git_commit": _git_commit(),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(time.time() - started, 2),
    }


@contextlib.contextmanager
def _kernel_environment():
    """Environment the report kernel inherits: figures must render inline whatever
    ``MPLBACKEND`` the caller has set (a headless ``Agg`` would silently drop them)."""
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
    for cell in nb.cells:
        # Sampler progress and library warnings stay in report.ipynb, not in the reader's HTML.
        if cell.get("cell_type") == "code":
            cell.outputs = [o for o in cell.outputs
                            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb)
    # Self-contained: the reports have no widgets or math, so the template's CDN scripts
    # (require.js, MathJax) are dropped and the page opens offline with nothing to fetch.
    return _CDN_SCRIPT.sub("", body)


def render_report(params: Mapping[str, Any] | None = None, *, template: str = "brief",
                  out_dir: str | os.PathLike = "reports", name: str | None = None,
                  source: str = "parameters", timeout: int = 1800) -> Path:
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
    if not _NAME.match(name):
        raise InputError("expected a run name of letters, digits, '.', '_' or '-' "
                         "(not starting with '.' or '-')", field="name")
    resolved = validate_parameters(params or {}, template, source=source)
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / name
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.staging-", dir=out_dir))
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
                    str(source_nb), str(executed), parameters=resolved, kernel_name="python3",
                    cwd=str(staging), progress_bar=False, request_save_on_cell_execute=False,
                    execution_timeout=timeout,
                )
        except Exception as exc:  # papermill raises PapermillExecutionError and friends
            failed = out_dir / ".failed" / f"{name}-{dt.datetime.now():%Y%m%dT%H%M%S}-{os.getpid()}"
            failed.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging, failed)
            detail = getattr(exc, "evalue", None) or str(exc).strip().splitlines()[-1]
            raise ReportFailed(
                f"report '{name}' failed ({getattr(exc, 'ename', type(exc).__name__)}: "
                f"{detail}); the executed notebook is {failed / 'report.ipynb'}; "
                f"the previous report is untouched",
                failed / "report.ipynb") from None
        source_nb.unlink()
        (staging / "report.html").write_text(_export_html(executed), encoding="utf-8")
        (staging / "parameters.yaml").write_text(
            yaml.safe_dump(resolved, sort_keys=True, allow_unicode=True), encoding="utf-8")
        manifest = _manifest(template, resolved, started, nb_text)
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True),
                                               encoding="utf-8")
        replace_directory(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    _write_index(out_dir)
    return target


def is_scenario_file(path: str | os.PathLike) -> bool:
    """True when a YAML file is a case scenario rather than a mapping of report parameters."""
    from decision.case import SCENARIO_KEYS

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False
    return (isinstance(data, dict) and bool({"parameters", "priors"} & set(data))
            and set(data) <= SCENARIO_KEYS)


def render_all_scenarios(params: Mapping[str, Any] | None = None, *,
                         out_dir: str | os.PathLike = "reports", source: str = "parameters"
                         ) -> tuple[list[Path], list[str]]:
    """Render the brief for every shipped scenario and an index page comparing them.

    Returns the published folders and the messages of scenarios that failed (each failure
    leaves that scenario's previous report in place; the others still render).
    """
    from decision.case import list_scenarios

    out_dir = Path(out_dir)
    done, failed = [], []
    for path in list_scenarios():
        try:
            done.append(render_report({**(params or {}), "scenario": str(path)}, out_dir=out_dir,
                                      name=path.stem, source=source))
        except ReportFailed as exc:
            failed.append(str(exc))
    write_scenario_index(out_dir, [p.stem for p in list_scenarios()])
    return done, failed


def write_scenario_index(out_dir: str | os.PathLike, names: list[str]) -> Path:
    """``scenarios.html``: one row per scenario comparing recommendations and values."""
    import html

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
            f"({100 * info['probability_optimal'].get(s, 0):.0f}%)</td>" for s in strategies)
        plan = "; ".join(f"{html.escape(k)}: {html.escape(v)}"
                         for k, v in info.get("contingent_plan", {}).items())
        flags = " &#9888; convergence" if info.get("flags") else ""
        body.append(
            f'<tr><td><a href="{html.escape(name)}/report.html">{html.escape(name)}</a>{flags}</td>'
            f"<td><b>{html.escape(info['recommendation'])}</b></td>{cells}"
            f"<td>{plan}</td><td>{info['value_of_monitoring']:.4f}</td>"
            f"<td>{100 * info['p_dprk_complies']:.0f}%</td>"
            f"<td>{100 * info['p_china_follows_through']:.0f}%</td></tr>")
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Scenarios compared</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}</style></head><body>"
        "<h1>Freeze-plus-pressure: scenarios compared</h1>"
        "<p>Expected value in weighted points (status quo = 0) and the share of draws in which "
        "each strategy is best; the contingent plan maps China's observed cooperation to the "
        "spring exercises.</p>"
        f"<table><tr><th>scenario</th><th>recommendation</th>{head}<th>contingent plan</th>"
        "<th>value of monitoring</th><th>P(DPRK complies)</th><th>P(China follows through)</th>"
        f"</tr>{''.join(body)}</table></body></html>")
    return atomic_write_text(out_dir / "scenarios.html", page)


def _write_index(out_dir: Path) -> None:
    """A small index.html listing every published report, newest first."""
    import html

    rows = []
    for manifest in out_dir.glob("*/manifest.json"):
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
        f"<td>{html.escape(c)}</td></tr>" for c, n, i in rows)
    atomic_write_text(out_dir / "index.html", (
        "<!doctype html><meta charset='utf-8'><title>decision reports</title>"
        "<h1>Reports</h1><table><tr><th>run</th><th>report</th><th>as of</th>"
        f"<th>rendered</th></tr>{items}</table>"))
