"""``decision sweep SWEEP.yaml``: run a grid or a sample of scenarios on Dask (docs/sweeps.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from decision.cli.options import QuietOpt, progress

__all__ = ["sweep"]


def sweep(
    sweep_file: Annotated[
        Path,
        typer.Argument(metavar="SWEEP.yaml", help="The sweep definition (see docs/sweeps.md)."),
    ],
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            metavar="ADDRESS",
            help="Address of an existing Dask scheduler (default: a local cluster).",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Worker processes of the local cluster (default: one per core).",
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="Folder holding one sub-folder per sweep.")
    ] = Path("sweeps"),
    report: Annotated[
        bool,
        typer.Option(
            "--report", help="Also render a report per scenario (slow: each refits the models)."
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and count the scenarios; run nothing.")
    ] = False,
    no_progress: Annotated[
        bool, typer.Option("--no-progress", hidden=True, help="The same as --quiet.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    quiet: QuietOpt = False,
) -> None:
    """Run a sweep of scenarios; a re-run finishes only the scenarios still missing."""
    from decision.sweep import finished_ids, load_sweep, run_sweep, sweep_folder

    definition = load_sweep(sweep_file)  # errors name the file, key path and line
    if dry_run:
        info = definition.describe()
        folder = sweep_folder(out, definition.name)
        done = finished_ids(folder) if (folder / "results").is_dir() else {}
        info["finished"] = sum(1 for s in definition.scenarios if s.id in done)
        info["folder"] = str(folder)
        if as_json:
            typer.echo(json.dumps(info, indent=2))
        else:
            typer.echo(
                f"sweep '{info['name']}': {info['scenarios']} scenarios "
                f"({info['tree_only']} tree-only, {info['refit']} refit on "
                f"{info['distinct_fits']} distinct fits) in {info['batches']} batches; "
                f"{info['finished']} already finished in {folder}"
            )
        return
    try:
        with progress(quiet or no_progress) as shown:
            summary = run_sweep(
                definition,
                out,
                scheduler=scheduler,
                workers=workers,
                progress=shown,
                report=report,
            )
    except KeyboardInterrupt:
        typer.echo(
            "interrupted: finished scenarios are saved; run the same command again "
            "to finish the others",
            err=True,
        )
        raise typer.Exit(130) from None
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), indent=2))
    else:
        typer.echo(
            f"sweep '{summary.name}': {summary.total} scenarios, "
            f"{summary.done_before} already finished, {summary.computed} computed"
            + (f", {summary.by_other} by another run" if summary.by_other else "")
            + f" in {summary.seconds:.1f} s"
            + (f" on {summary.workers} workers" if summary.workers else "")
            + "; results in "
            f"{Path(summary.folder) / 'results'}"
        )
        if report:
            typer.echo(f"reports: {summary.reports} in {Path(summary.folder) / 'reports'}")
        for failure in summary.failures + summary.report_failures:
            typer.echo(f"failed: {failure}", err=True)
        if summary.errors:
            typer.echo(
                f"warning: {summary.errors} scenario(s) ended with an error (see the "
                "'error' column)",
                err=True,
            )
        if summary.missing:
            typer.echo(
                f"{summary.missing} scenario(s) not finished: run the same command "
                "again to finish them",
                err=True,
            )
    if not summary.ok:
        raise typer.Exit(1)
