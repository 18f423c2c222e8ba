"""``decision report``: the decision brief, ``report sensitivity`` and ``report monitoring``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from decision.cli.options import AsOfOpt, CaseOpt, SetOpt

__all__ = ["app"]

app = typer.Typer(
    help="Render reports (the decision brief by default).",
    invoke_without_command=True,
    no_args_is_help=False,
)

ParamsOpt = Annotated[
    Path | None,
    typer.Option("--params", help="YAML file of report parameters, or a case scenario file."),
]
OutOpt = Annotated[Path, typer.Option("--out", help="Folder for rendered reports.")]


def _report_values(
    params: Path | None, pairs: list[str] | None, as_of: str | None, case: str | None = None
) -> tuple[dict, str]:
    """Collect report parameters from ``--params``, ``-p``, ``--as-of`` and ``--case``.

    ``--params`` is a parameter file or a scenario file. Returns the values and where they came
    from (for error messages).
    """
    from decision.report import is_scenario_file, load_parameter_file, parse_cli_parameters

    values, source = {}, "-p"
    if params is not None and is_scenario_file(params):
        values["scenario"] = str(params)
    elif params is not None:
        values.update(load_parameter_file(params))
        source = str(params)
    values.update(parse_cli_parameters(pairs or []))
    if as_of is not None:
        values["as_of"] = as_of
    if case is not None:
        values["case"] = case
    return values, source


@app.callback()
def report(
    ctx: typer.Context,
    params: ParamsOpt = None,
    set_: SetOpt = None,
    as_of: AsOfOpt = None,
    case: CaseOpt = None,
    out: OutOpt = Path("reports"),
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            help="Run name (default: the scenario or parameter file's stem, else 'brief').",
        ),
    ] = None,
    all_scenarios: Annotated[
        bool,
        typer.Option(
            "--all-scenarios", help="Render every shipped scenario and an index comparing them."
        ),
    ] = False,
    from_manifest: Annotated[
        Path | None,
        typer.Option(
            "--from-manifest",
            metavar="FILE",
            help="Re-render a report exactly from its "
            "manifest.json (same template and parameters; refuses if an input has changed).",
        ),
    ] = None,
    allow_changes: Annotated[
        bool,
        typer.Option(
            "--allow-changes",
            help="With --from-manifest: render even if the template or an "
            "input file has changed since.",
        ),
    ] = False,
) -> None:
    """Render the decision brief: execute its notebook with papermill and export HTML."""
    if ctx.invoked_subcommand is not None:
        return
    from decision.report import render_all_scenarios, render_from_manifest, render_report

    if from_manifest is not None:
        if params is not None or set_ or as_of is not None or case is not None or all_scenarios:
            raise typer.BadParameter(
                "--from-manifest takes the parameters from the manifest; "
                "give only --out and --name with it"
            )
        target, warnings = render_from_manifest(
            from_manifest, out_dir=out, name=name, allow_changes=allow_changes
        )
        for warning in warnings:
            typer.echo(f"warning: {warning}", err=True)
        typer.echo(f"report written to {target / 'report.html'}")
        return

    values, source = _report_values(params, set_, as_of, case)
    if all_scenarios:
        done, failed = render_all_scenarios(values, out_dir=out, source=source)
        for folder in done:
            typer.echo(f"report written to {folder / 'report.html'}")
        typer.echo(f"index written to {out / 'scenarios.html'}")
        for message in failed:
            typer.echo(f"error: {message}", err=True)
        raise typer.Exit(1 if failed else 0)
    run_name = name or (params.stem if params is not None else "brief")
    target = render_report(values, template="brief", out_dir=out, name=run_name, source=source)
    typer.echo(f"report written to {target / 'report.html'}")


@app.command("sensitivity")
def report_sensitivity(
    params: ParamsOpt = None,
    set_: SetOpt = None,
    as_of: AsOfOpt = None,
    case: CaseOpt = None,
    out: OutOpt = Path("reports"),
    name: Annotated[
        str | None, typer.Option("--name", help="Run name (default: sensitivity[-<scenario>]).")
    ] = None,
) -> None:
    """Render the sensitivity and value-of-information report."""
    from decision.report import render_report

    values, source = _report_values(params, set_, as_of, case)
    run_name = name or ("sensitivity" + (f"-{params.stem}" if params is not None else ""))
    target = render_report(
        values, template="sensitivity", out_dir=out, name=run_name, source=source
    )
    typer.echo(f"report written to {target / 'report.html'}")


@app.command("monitoring")
def report_monitoring(
    through: Annotated[
        str, typer.Option("--through", help="Month YYYY-MM, or 'latest' in the ledger.")
    ] = "latest",
    ledger: Annotated[
        Path, typer.Option("--ledger", envvar="DECISION_LEDGER", help="Observation ledger CSV.")
    ] = Path("observations.csv"),
    schedule: Annotated[
        Path | None,
        typer.Option("--schedule", help="Monitoring schedule YAML (default: the shipped one)."),
    ] = None,
    scenario: Annotated[
        str | None, typer.Option("--scenario", help="Scenario name or file.")
    ] = None,
    case: CaseOpt = None,
    history: Annotated[
        Path | None,
        typer.Option("--history", help="Run-history database (default: <out>/history.sqlite)."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for monthly reports.")] = Path(
        "reports/monitoring"
    ),
    set_: SetOpt = None,
) -> None:
    """Render the monthly monitoring report and record the run in the run history."""
    from decision.monitoring import run_monthly_report
    from decision.report import parse_cli_parameters

    run = run_monthly_report(
        through,
        ledger=ledger,
        schedule=schedule,
        scenario=scenario,
        case=case,
        history=history,
        out_dir=out,
        parameters=parse_cli_parameters(set_ or []),
    )
    typer.echo(
        f"report written to {run.folder / 'report.html'} "
        f"(run {run.run_id} recorded in {run.history})"
    )
