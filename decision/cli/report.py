"""``decision report``: the brief and the sensitivity, monitoring and backtest reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from decision.cli.options import (
    AsOfOpt,
    CaseOpt,
    LedgerOpt,
    QuietOpt,
    SetOpt,
    from_environment,
    given,
    ledger_path,
    month,
    progress,
)

__all__ = ["app"]

app = typer.Typer(
    help="Render reports (the decision brief by default).",
    invoke_without_command=True,
    no_args_is_help=False,
)

ParamsOpt = Annotated[
    Path | None,
    typer.Option(
        "--params",
        help="YAML file of report parameters, a case scenario file, or a shipped scenario's name.",
    ),
]
OutOpt = Annotated[Path, typer.Option("--out", help="Folder for rendered reports.")]


def _report_values(
    params: Path | None, pairs: list[str] | None, as_of: str | None, case: str | None = None
) -> tuple[dict, dict[str, str]]:
    """Collect report parameters from ``--params``, ``-p``, ``--as-of`` and ``--case``.

    ``--params`` is a parameter file, a scenario file or a shipped scenario's name. Returns
    the values and, for each, the option or file it came from (errors name it).
    """
    from decision.report import is_scenario_file, load_parameter_file, parse_cli_parameters

    values: dict = {}
    sources: dict[str, str] = {}
    if params is not None:
        if (not params.suffix and not params.exists()) or is_scenario_file(params):
            values["scenario"] = str(params)  # a scenario: a shipped one's name, or a file
            sources["scenario"] = "--params"
        else:
            with given("--params", params):
                loaded = load_parameter_file(params)
            values.update(loaded)
            sources.update(dict.fromkeys(loaded, str(params)))
    pairs_given = parse_cli_parameters(pairs or [])
    values.update(pairs_given)
    sources.update(dict.fromkeys(pairs_given, "-p"))
    for name, value, option in (("as_of", as_of, "--as-of"), ("case", case, "--case")):
        if value is not None:
            values[name] = value
            sources[name] = option
    return values, sources


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
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Render even if the published report is up to date (same template, "
            "parameters, inputs and environment).",
        ),
    ] = False,
    quiet: QuietOpt = False,
) -> None:
    """Render the decision brief: execute its notebook with papermill and export HTML."""
    if ctx.invoked_subcommand is not None:
        return
    from decision.report import (
        published_if_current,
        render_all_scenarios,
        render_from_manifest,
        render_report,
    )

    if from_manifest is not None:
        if params is not None or set_ or as_of is not None or case is not None or all_scenarios:
            raise typer.BadParameter(
                "--from-manifest takes the parameters from the manifest; "
                "give only --out and --name with it"
            )
        with progress(quiet) as shown:
            target, warnings = render_from_manifest(
                from_manifest, out_dir=out, name=name, allow_changes=allow_changes, progress=shown
            )
        for warning in warnings:
            typer.echo(f"warning: {warning}", err=True)
        typer.echo(f"report written to {target / 'report.html'}")
        return

    values, sources = _report_values(params, set_, as_of, case)
    if all_scenarios:
        with progress(quiet) as shown:
            done, failed = render_all_scenarios(values, out_dir=out, source=sources, progress=shown)
        for folder in done:
            typer.echo(f"report written to {folder / 'report.html'}")
        typer.echo(f"index written to {out / 'scenarios.html'}")
        for message in failed:
            typer.echo(f"error: {message}", err=True)
        raise typer.Exit(1 if failed else 0)
    run_name = name or (params.stem if params is not None else "brief")
    if not force:
        current = published_if_current(
            values, template="brief", out_dir=out, name=run_name, source=sources
        )
        if current is not None:
            typer.echo(
                f"report up to date: {current / 'report.html'} "
                "(same template, parameters, inputs and environment; --force renders again)"
            )
            return
    with progress(quiet) as shown:
        target = render_report(
            values, template="brief", out_dir=out, name=run_name, source=sources, progress=shown
        )
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
    quiet: QuietOpt = False,
) -> None:
    """Render the sensitivity and value-of-information report."""
    from decision.report import render_report

    values, sources = _report_values(params, set_, as_of, case)
    run_name = name or ("sensitivity" + (f"-{params.stem}" if params is not None else ""))
    with progress(quiet) as shown:
        target = render_report(
            values,
            template="sensitivity",
            out_dir=out,
            name=run_name,
            source=sources,
            progress=shown,
        )
    typer.echo(f"report written to {target / 'report.html'}")


@app.command("monitoring")
def report_monitoring(
    ctx: typer.Context,
    through: Annotated[
        str, typer.Option("--through", help="Month YYYY-MM, or 'latest' in the ledger.")
    ] = "latest",
    ledger: LedgerOpt = None,
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
    quiet: QuietOpt = False,
) -> None:
    """Render the monthly monitoring report and record the run in the run history."""
    from decision.monitoring import run_monthly_report
    from decision.report import parse_cli_parameters

    the_ledger = ledger_path(ledger, ctx)
    the_month = month(through, the_ledger, case=case)
    pairs_given = parse_cli_parameters(set_ or [])
    sources = {
        **dict.fromkeys(pairs_given, "-p"),
        "through": "--through",
        "ledger_file": "DECISION_LEDGER" if from_environment(ctx, "ledger") else "--ledger",
        "schedule_file": "--schedule",
        "scenario": "--scenario",
        "case": "--case",
        "history_file": "--history",
    }
    with progress(quiet) as shown:
        run = run_monthly_report(
            the_month,
            ledger=the_ledger,
            schedule=schedule,
            scenario=scenario,
            case=case,
            history=history,
            out_dir=out,
            parameters=pairs_given,
            source=sources,
            progress=shown,
        )
    typer.echo(
        f"report written to {run.folder / 'report.html'} "
        f"(run {run.run_id} recorded in {run.history})"
    )


@app.command("backtest")
def report_backtest(
    folder: Annotated[
        Path,
        typer.Option(
            "--folder", help="The backtest folder `decision backtest` wrote (<out>/<name>)."
        ),
    ] = Path("backtests/backtest"),
    set_: SetOpt = None,
    out: OutOpt = Path("reports"),
    name: Annotated[str, typer.Option("--name", help="Run name.")] = "backtest",
    quiet: QuietOpt = False,
) -> None:
    """Render the backtest report: scores against baselines, calibration, the replay."""
    from decision.core.errors import InputError
    from decision.report import parse_cli_parameters, render_report

    if not (folder / "results").is_dir():
        raise InputError(
            "no backtest results here; run `decision backtest --out <out>` first",
            file=folder,
            field="--folder",
        )
    values = {**parse_cli_parameters(set_ or []), "backtest_folder": str(folder.resolve())}
    sources = {**dict.fromkeys(values, "-p"), "backtest_folder": "--folder"}
    with progress(quiet) as shown:
        target = render_report(
            values, template="backtest", out_dir=out, name=name, source=sources, progress=shown
        )
    typer.echo(f"report written to {target / 'report.html'}")
