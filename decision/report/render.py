"""Rendering a report: papermill executes a template, nbconvert exports inert HTML, it is published.

:func:`render_report` validates the parameters (:mod:`decision.report.parameters`), executes
the template in a staging folder (:mod:`decision.report.publish`), exports the HTML, writes the
parameters and the manifest (:mod:`decision.report.manifest`), publishes the folder in one step
and updates the reports index. :func:`render_from_manifest` renders a report again from its
manifest; :func:`render_all_scenarios` renders the brief for every scenario of a case.

The exported HTML carries no script and a Content-Security-Policy that forbids fetching
anything, so text from input files can neither run nor call out when a report is opened.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from decision.core.errors import DecisionError, InputError
from decision.report.index import write_index, write_scenario_index
from decision.report.manifest import build_manifest, check_manifest
from decision.report.parameters import parameters_code, validate_parameters
from decision.report.publish import (
    check_run_name,
    is_disk_full,
    keep_failed_run,
    publish,
    staging_folder,
)
from decision.report.template import template_notebook

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "ReportFailed",
    "render_all_scenarios",
    "render_from_manifest",
    "render_report",
]

#: Reports fetch nothing and run nothing: images are data: URLs, styles are inline.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    "font-src data:; script-src 'none'; base-uri 'none'; "
    "form-action 'none'"
)
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>\s*", re.I | re.S)


class ReportFailed(DecisionError):
    """The report notebook raised; the executed notebook is kept at ``notebook``."""

    def __init__(self, message: str, notebook: Path):
        super().__init__(message)
        self.notebook = notebook


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
        A key of :data:`~decision.report.TEMPLATES`.
    out_dir
        Folder holding one sub-folder per run.
    name
        Run name (letters, digits, ``._-``); defaults to the template name.
    source
        Where ``params`` came from, for error messages.
    timeout
        Seconds one cell may run.

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
    import yaml

    name = name or template
    check_run_name(name)
    resolved = validate_parameters(params or {}, template, source=source)
    parameters_code(resolved)
    out_dir = Path(out_dir).resolve()
    target = out_dir / name
    started = time.time()
    with staging_folder(out_dir, name) as staging:
        executed = _execute(template, resolved, staging, out_dir, name, timeout)
        (staging / "report.html").write_text(_export_html(executed), encoding="utf-8")
        (staging / "parameters.yaml").write_text(
            yaml.safe_dump(resolved, sort_keys=True, allow_unicode=True), encoding="utf-8"
        )
        manifest = build_manifest(template, name, resolved, started)
        (staging / "manifest.json").write_text(
            json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8"
        )
        publish(staging, target)
    write_index(out_dir)
    return target


def _execute(
    template: str,
    resolved: Mapping[str, Any],
    staging: Path,
    out_dir: Path,
    name: str,
    timeout: int,
) -> Path:
    """Execute the template with papermill in ``staging``; return the executed notebook.

    A failed run's staging folder is kept under ``<out_dir>/.failed/`` and named in the
    :class:`ReportFailed` raised; on a full disk nothing is kept.
    """
    import nbformat
    import papermill

    source_nb = staging / "template.ipynb"
    source_nb.write_text(nbformat.writes(template_notebook(template)), encoding="utf-8")
    executed = staging / "report.ipynb"
    try:
        with _kernel_environment():
            papermill.execute_notebook(
                str(source_nb),
                str(executed),
                parameters=dict(resolved),
                kernel_name="python3",
                cwd=str(staging),
                progress_bar=False,
                request_save_on_cell_execute=False,
                execution_timeout=timeout,
            )
    except Exception as exc:  # papermill raises PapermillExecutionError and friends
        if is_disk_full(exc):  # keep nothing on a full disk; say so plainly
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(out_dir)) from None
        failed = keep_failed_run(staging, out_dir, name)
        detail = getattr(exc, "evalue", None) or str(exc).strip().splitlines()[-1]
        raise ReportFailed(
            f"report '{name}' failed ({getattr(exc, 'ename', type(exc).__name__)}: "
            f"{detail}); the executed notebook is {failed / 'report.ipynb'}; "
            f"the previous report is untouched",
            failed / "report.ipynb",
        ) from None
    source_nb.unlink()
    return executed


@contextlib.contextmanager
def _kernel_environment() -> Iterator[None]:
    """Set the environment the report kernel inherits.

    Figures must render inline whatever ``MPLBACKEND`` the caller has set (a headless ``Agg``
    would silently drop them).
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
    """Export an executed notebook as self-contained, inert HTML without code."""
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


def render_from_manifest(
    manifest_file: str | os.PathLike,
    *,
    out_dir: str | os.PathLike = "reports",
    name: str | None = None,
    allow_changes: bool = False,
) -> tuple[Path, list[str]]:
    """Render a report again from its ``manifest.json``: same template, same parameters.

    Before anything runs, the manifest is compared with today's template and inputs
    (:func:`~decision.report.manifest.check_manifest`): a changed template or input means the
    re-rendered report would not be the same, and is an error unless ``allow_changes``.
    Different package versions, git commit or platform, and a changed run history, are
    returned as warnings (the numbers may differ in the last digits).

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
    check = check_manifest(path)
    name = check_run_name(name or check.name or path.resolve().parent.name)
    if check.changed and not allow_changes:
        raise InputError(
            "cannot re-render exactly: "
            + "; ".join(check.changed)
            + " (pass --allow-changes to render with today's inputs)",
            file=path,
        )
    target = render_report(
        check.parameters, template=check.template, out_dir=out_dir, name=name, source=str(path)
    )
    return target, check.changed + check.warnings


def render_all_scenarios(
    params: Mapping[str, Any] | None = None,
    *,
    out_dir: str | os.PathLike = "reports",
    source: str = "parameters",
) -> tuple[list[Path], list[str]]:
    """Render the brief for every scenario of the case and an index page comparing them.

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
