"""Rendering a report: papermill executes a template, nbconvert exports inert HTML, it is published.

:func:`render_report` validates the parameters (:mod:`decision.report.parameters`), executes
the template in a staging folder (:mod:`decision.report.publish`), exports the HTML, writes the
parameters and the manifest (:mod:`decision.report.manifest`), publishes the folder in one step
and updates the reports index. :func:`render_from_manifest` renders a report again from its
manifest; :func:`render_all_scenarios` renders the brief for every scenario of a case;
:func:`published_if_current` finds a published report that rendering again would reproduce
exactly (``decision report`` then says it is up to date instead of rendering).

The exported HTML carries no script and a Content-Security-Policy that forbids fetching
anything, so text from input files can neither run nor call out when a report is opened.

While a report renders, its stages are shown on a :class:`~decision.core.progress.Progress`:
the kernel starting, each cell as ``cell k of n: <section>`` (papermill's cell hooks), what the
notebook's library calls relay from the kernel (a model sampled or served from the cache),
exporting and publishing.
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
from decision.core.progress import RELAY_VARIABLE, Progress, RelayReader, current
from decision.report.index import write_index, write_scenario_index
from decision.report.manifest import build_manifest, check_manifest, manifest_is_current
from decision.report.parameters import parameters_code, validate_parameters
from decision.report.publish import (
    check_run_name,
    is_disk_full,
    keep_failed_run,
    publish,
    remove_stale_staging,
    staging_folder,
)
from decision.report.template import template_notebook

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "ReportFailed",
    "published_if_current",
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
    source: str | Mapping[str, str] = "parameters",
    timeout: int = 1800,
    progress: Progress | None = None,
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
        Where ``params`` came from, for error messages: one label, or one per parameter (see
        :func:`~decision.report.parameters.validate_parameters`).
    timeout
        Seconds one cell may run.
    progress
        Shows the stages (the kernel starting, cell k of n with its section and what the
        kernel relays, exporting, publishing), each labelled with the run name; default: the
        active reporter (silent unless a command made one active). Parameters are checked
        before the first stage, so bad input shows nothing but its error.

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

    progress = progress or current()
    name = name or template
    check_run_name(name)
    # Bad input is one line: it is found before the first stage is shown.
    resolved = validate_parameters(params or {}, template, source=source)
    parameters_code(resolved)
    out_dir = Path(out_dir).resolve()
    target = out_dir / name
    started = time.time()
    with progress.labelled(name):
        with staging_folder(out_dir, name) as staging:
            executed = _execute(template, resolved, staging, out_dir, name, timeout, progress)
            progress.stage("exporting HTML")
            (staging / "report.html").write_text(_export_html(executed), encoding="utf-8")
            (staging / "parameters.yaml").write_text(
                yaml.safe_dump(resolved, sort_keys=True, allow_unicode=True), encoding="utf-8"
            )
            manifest = build_manifest(template, name, resolved, started)
            (staging / "manifest.json").write_text(
                json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8"
            )
            with progress.stage("publishing"):
                publish(staging, target)
                write_index(out_dir)
    return target


def published_if_current(
    params: Mapping[str, Any] | None = None,
    *,
    template: str = "brief",
    out_dir: str | os.PathLike = "reports",
    name: str | None = None,
    source: str | Mapping[str, str] = "parameters",
) -> Path | None:
    """Return the published folder if rendering again would reproduce it, else None.

    Current means the folder's ``manifest.json`` records the same template, the same
    parameters (``params`` validated as :func:`render_report` does), the same input hashes
    and the same environment (package versions and files, NUTS backend, lock file, platform):
    see :func:`~decision.report.manifest.manifest_is_current`.

    Raises
    ------
    InputError
        For bad parameters or run name, as :func:`render_report` would.
    """
    name = check_run_name(name or template)
    resolved = validate_parameters(params or {}, template, source=source)
    target = Path(out_dir).resolve() / name
    if not manifest_is_current(target / "manifest.json", template, resolved):
        return None
    remove_stale_staging(target.parent)  # what killed runs left, as a render would clear it
    return target


class _CellProgress:
    """Papermill's cell hooks shown as a stage: ``cell k of n: <section>``.

    The section is the latest Markdown heading above the cell ("setting up" before the
    first). On a terminal the bar advances cell by cell; as lines, one line per section.
    What the kernel relays (a model being sampled or served from the cache) is shown as the
    current cell's detail, or as a note.
    """

    def __init__(self, progress: Progress):
        self.progress = progress
        self.stage = progress.stage("starting the kernel")
        self.cells = 0
        self.number = 0
        self.section = "setting up"
        self.announced = ""

    def on_notebook_start(self, notebook, **_) -> None:
        """Count the code cells once the kernel is up."""
        self.cells = sum(
            1 for c in notebook.cells if c.get("cell_type") == "code" and c.source.strip()
        )
        self.stage = self.progress.stage("running the notebook", total=self.cells)

    def on_cell_start(self, cell, cell_index, **_) -> None:
        """Follow the sections; announce each code cell."""
        if cell.get("cell_type") == "markdown":
            heading = next(
                (line.lstrip("#").strip() for line in cell.source.splitlines() if line[:1] == "#"),
                None,
            )
            if heading:
                self.section = heading
            return
        if cell.get("cell_type") != "code" or not cell.source.strip():
            return
        self.number += 1
        new_section = self.section != self.announced
        self.announced = self.section
        self.stage.describe(self._where(), line=new_section)

    def on_cell_executed(self, **_) -> None:
        """Count a cell done."""
        self.stage.advance()

    def relay(self, kind: str, text: str) -> None:
        """Show what the kernel relays: stages as the cell's detail, notes as notes."""
        if kind == "note":
            self.progress.note(text)
        else:
            self.stage.describe(f"{self._where()}: {text}", line=True)

    def _where(self) -> str:
        return f"cell {self.number} of {self.cells}: {self.section}"


#: Arguments of every report kernel.
#: * No IPython history: a report's cells are not the user's session, and kernels rendering at
#:   once would share one history database.
#: * The kernel ends without tearing the interpreter down. It still shuts down gracefully (a
#:   shutdown request, then its exit): once the exit handlers of what the report imported
#:   have run, one registered before them ends the process. Tearing down the modules a report
#:   imports (JAX, numba, ArviZ) took 1-2.5 s a report, after the notebook had written its
#:   files whole and its outputs had all been received. (Killing kernels at once instead was
#:   followed, in one test run of four, by another kernel logging messages it could not parse
#:   on its control channel.)
KERNEL_ARGUMENTS = [
    "--log-level=CRITICAL",
    "--HistoryManager.enabled=False",
    "--IPKernelApp.exec_lines=import atexit as _a, os as _o; _a.register(_o._exit, 0); del _a, _o",
]


def _execute(
    template: str,
    resolved: Mapping[str, Any],
    staging: Path,
    out_dir: Path,
    name: str,
    timeout: int,
    progress: Progress,
) -> Path:
    """Execute the template with papermill in ``staging``; return the executed notebook.

    A failed run's staging folder is kept under ``<out_dir>/.failed/`` and named in the
    :class:`ReportFailed` raised; on a full disk nothing is kept. The kernel's own log is
    limited to critical messages: its warning about unencrypted local TCP and the
    ``KeyboardInterrupt`` it logs when jupyter_client interrupts it before shutting it down
    are not for the reader (a kernel that dies fails the report, saying so).
    """
    import nbformat
    import papermill

    source_nb = staging / "template.ipynb"
    source_nb.write_text(nbformat.writes(template_notebook(template)), encoding="utf-8")
    executed = staging / "report.ipynb"
    cells = _CellProgress(progress)
    try:
        with _kernel_environment() as relay_file, RelayReader(relay_file, cells.relay):
            papermill.execute_notebook(
                str(source_nb),
                str(executed),
                parameters=dict(resolved),
                kernel_name="python3",
                cwd=str(staging),
                progress_bar=False,
                request_save_on_cell_execute=False,
                execution_timeout=timeout,
                extra_arguments=KERNEL_ARGUMENTS,
                on_notebook_start=cells.on_notebook_start,
                on_cell_start=cells.on_cell_start,
                on_cell_executed=cells.on_cell_executed,
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
def _kernel_environment() -> Iterator[Path]:
    """Set the environment the report kernel inherits; yield the kernel's relay file.

    Figures must render inline whatever ``MPLBACKEND`` the caller has set (a headless ``Agg``
    would silently drop them). :data:`~decision.core.progress.RELAY_VARIABLE` names a fresh
    file (outside the report folder) the kernel relays its stages and notes to.
    """
    import tempfile

    handle, relay = tempfile.mkstemp(prefix="decision-progress-", suffix=".jsonl")
    os.close(handle)
    wanted = {"MPLBACKEND": "module://matplotlib_inline.backend_inline", RELAY_VARIABLE: relay}
    saved = {key: os.environ.get(key) for key in wanted}
    os.environ.update(wanted)
    try:
        yield Path(relay)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        with contextlib.suppress(OSError):
            os.unlink(relay)


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
    progress: Progress | None = None,
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
        check.parameters,
        template=check.template,
        out_dir=out_dir,
        name=name,
        source=str(path),
        progress=progress,
    )
    return target, check.changed + check.warnings


def render_all_scenarios(
    params: Mapping[str, Any] | None = None,
    *,
    out_dir: str | os.PathLike = "reports",
    source: str | Mapping[str, str] = "parameters",
    progress: Progress | None = None,
) -> tuple[list[Path], list[str]]:
    """Render the brief for every scenario of the case and an index page comparing them.

    Returns the published folders and the messages of scenarios that failed (each failure
    leaves that scenario's previous report in place; the others still render). ``progress``
    shows each report's stages under ``scenario k of n: <name>``.
    """
    from decision.case import list_scenarios, load_spec

    progress = progress or current()
    spec = load_spec((params or {}).get("case") or None)
    out_dir = Path(out_dir)
    done, failed = [], []
    scenarios = list_scenarios(spec)
    for number, path in enumerate(scenarios, start=1):
        with progress.labelled(f"scenario {number} of {len(scenarios)}"):
            try:
                done.append(
                    render_report(
                        {**(params or {}), "scenario": str(path)},
                        out_dir=out_dir,
                        name=path.stem,
                        source=source,
                        progress=progress,
                    )
                )
            except ReportFailed as exc:
                failed.append(str(exc))
                progress.note(f"failed: {exc}")
    with progress.stage("writing the scenarios index"):
        write_scenario_index(out_dir, [p.stem for p in scenarios], spec)
    return done, failed
