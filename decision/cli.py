"""The ``decision`` command-line program."""

from __future__ import annotations

import errno
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from decision.cli_elicit import app as elicit_app
from decision.cli_observe import app as observe_app
from decision.cli_sweep import sweep as sweep_command
from decision.core.config import DEFAULT_SEED
from decision.core.errors import DecisionError
from decision.tree.cli import app as tree_app

app = typer.Typer(
    help="Decision analysis: Bayesian evidence, decision trees, value of information, reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(tree_app, name="tree")
app.add_typer(observe_app, name="observe")
app.add_typer(elicit_app, name="elicit")
app.command(name="sweep")(sweep_command)

SetOpt = Annotated[
    list[str] | None,
    typer.Option("-p", "--set", metavar="NAME=VALUE", help="Set one parameter (repeatable)."),
]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="Use evidence known on this date.")]
CaseOpt = Annotated[
    str | None,
    typer.Option("--case", help="A shipped case's name, or a case folder (see docs/cases.md)."),
]


def _report_values(
    params: Path | None, pairs: list[str] | None, as_of: str | None, case: str | None = None
) -> tuple[dict, str]:
    """Report parameters from ``--params`` (a parameter file or a scenario), ``-p`` and
    ``--as-of``, and where they came from (for error messages).
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


report_app = typer.Typer(
    help="Render reports (the decision brief by default).",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(report_app, name="report")


@report_app.callback()
def report(
    ctx: typer.Context,
    params: Annotated[
        Path | None,
        typer.Option("--params", help="YAML file of report parameters, or a case scenario file."),
    ] = None,
    set_: SetOpt = None,
    as_of: AsOfOpt = None,
    case: CaseOpt = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for rendered reports.")] = Path(
        "reports"
    ),
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
    from decision.report import (
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


@report_app.command("sensitivity")
def report_sensitivity(
    params: Annotated[
        Path | None,
        typer.Option("--params", help="YAML file of report parameters, or a case scenario file."),
    ] = None,
    set_: SetOpt = None,
    as_of: AsOfOpt = None,
    case: CaseOpt = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for rendered reports.")] = Path(
        "reports"
    ),
    name: Annotated[
        str | None, typer.Option("--name", help="Run name (default: sensitivity[-<scenario>]).")
    ] = None,
) -> None:
    """Render the sensitivity and value-of-information report."""
    from decision.report import (
        render_report,
    )

    values, source = _report_values(params, set_, as_of, case)
    run_name = name or ("sensitivity" + (f"-{params.stem}" if params is not None else ""))
    target = render_report(
        values, template="sensitivity", out_dir=out, name=run_name, source=source
    )
    typer.echo(f"report written to {target / 'report.html'}")


@report_app.command("monitoring")
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
    from decision.history import RunHistory
    from decision.monitor import record_results, resolve_month
    from decision.report import ReportFailed, parse_cli_parameters, render_report

    month = resolve_month(through, ledger)
    history_path = history or out / "history.sqlite"
    values = {
        "through": month,
        "ledger_file": str(ledger),
        "history_file": str(history_path.resolve()),
    }
    if schedule is not None:
        values["schedule_file"] = str(schedule)
    if scenario is not None:
        values["scenario"] = scenario
    if case is not None:
        values["case"] = case
    values.update(parse_cli_parameters(set_ or []))
    import hashlib

    runs = RunHistory(history_path)
    hashes = {
        "ledger": hashlib.sha256(Path(ledger).read_bytes()).hexdigest()
        if Path(ledger).is_file()
        else None
    }
    run_id = runs.start(month, values, hashes)
    try:
        target = render_report(values, template="monitoring", out_dir=out, name=month, source="-p")
    except (ReportFailed, DecisionError) as exc:
        runs.fail(run_id, str(exc))
        raise
    except BaseException as exc:
        runs.fail(run_id, f"interrupted: {type(exc).__name__}")
        raise
    record_results(runs, run_id, json.loads((target / "analysis.json").read_text()))
    typer.echo(
        f"report written to {target / 'report.html'} (run {run_id} recorded in {history_path})"
    )


@app.command()
def monitor(
    through: Annotated[
        str, typer.Option("--through", help="Month YYYY-MM, or 'latest'.")
    ] = "latest",
    ledger: Annotated[
        Path, typer.Option("--ledger", envvar="DECISION_LEDGER", help="Observation ledger CSV.")
    ] = Path("observations.csv"),
    schedule: Annotated[Path | None, typer.Option("--schedule")] = None,
    scenario: Annotated[str | None, typer.Option("--scenario")] = None,
    case: CaseOpt = None,
    history: Annotated[
        Path | None, typer.Option("--history", help="Run history to read the trend from.")
    ] = Path("reports/monitoring/history.sqlite"),
    draws: Annotated[int, typer.Option(min=10)] = 1000,
    tune: Annotated[int, typer.Option(min=10)] = 1000,
    chains: Annotated[int, typer.Option(min=1)] = 4,
    seed: int = DEFAULT_SEED,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Update both models with the ledger through a month and re-roll the case tree."""
    from decision.history import RunHistory
    from decision.monitor import monitor as run_monitor

    result = run_monitor(
        through,
        ledger=ledger,
        schedule=schedule,
        scenario=scenario,
        case=case,
        seed=seed,
        sampler={"draws": draws, "tune": tune, "chains": chains, "random_seed": seed},
    )
    info = result.to_dict()
    trend = RunHistory(history).trend() if history is not None and history.exists() else None
    info["trend"] = [] if trend is None else trend[["month", "name", "value"]].to_dict("records")
    if as_json:
        typer.echo(json.dumps(info, indent=2, sort_keys=True, default=str))
        return
    typer.echo(f"Monitoring through {info['through']} ({info['observations']} observations)")
    for row in info["schedule"]:
        typer.echo(f"  {row['month']} {row['actor']:5s} {row['item']:32s} {row['observed']}")
    for name, value in info["headline"].items():
        typer.echo(f"  {name:40s} {value:8.3f}")
    typer.echo(f"Recommendation: {info['recommendation']}")
    if info["current_option"]:
        typer.echo(
            f"Most likely observed condition: {info['current_cooperation_level']} -> "
            f"{info['current_option']}"
        )
    if info["trend"]:
        typer.echo("Trend (recorded runs):")
        for row in info["trend"]:
            typer.echo(f"  {row['month']} {row['name']:40s} {row['value']:8.3f}")
    for flag in info["flags"]:
        typer.echo(f"warning: {flag}")


@app.command()
def fit(
    as_of: AsOfOpt = None,
    observations: Annotated[
        Path | None, typer.Option("--observations", help="Monitoring observations CSV.")
    ] = None,
    draws: Annotated[int, typer.Option(min=10)] = 1000,
    tune: Annotated[int, typer.Option(min=10)] = 1000,
    chains: Annotated[int, typer.Option(min=1)] = 4,
    seed: int = DEFAULT_SEED,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail when a fit does not converge.")
    ] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Always resample.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Fit both Bayesian models (or load them from the cache) and print headline estimates."""
    from decision import models
    from decision.core.config import DEFAULT_AS_OF
    from decision.observations import load_observations

    as_of = as_of or DEFAULT_AS_OF.isoformat()
    obs = load_observations(observations, as_of=as_of) if observations else None
    fits = models.fit_models(
        as_of=as_of,
        observations=obs,
        use_cache=not no_cache,
        strict=strict,
        sampler={"draws": draws, "tune": tune, "chains": chains, "random_seed": seed},
    )
    result = {
        key: {
            "headline": {n: float(f.draws(n).mean()) for n in f.headline_names},
            "diagnostics": f.diagnostics.to_dict(),
            "from_cache": f.from_cache,
        }
        for key, f in fits.items()
    }
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    for key, info in result.items():
        flag = (
            "ok"
            if info["diagnostics"]["ok"]
            else "FLAGGED: " + "; ".join(info["diagnostics"]["flags"])
        )
        typer.echo(f"{key} ({'cache' if info['from_cache'] else 'sampled'}; diagnostics {flag})")
        for n, v in info["headline"].items():
            typer.echo(f"  {n:34s} {v:8.3f}")


@app.command()
def analyze(
    params: Annotated[
        Path | None,
        typer.Option("--params", help="Scenario file (or the name of a shipped scenario)."),
    ] = None,
    observations: Annotated[
        Path | None, typer.Option("--observations", help="Monitoring observations CSV.")
    ] = None,
    as_of: AsOfOpt = None,
    case: CaseOpt = None,
    draws: Annotated[int, typer.Option(min=10, help="Posterior draws per chain.")] = 1000,
    tune: Annotated[int, typer.Option(min=10)] = 1000,
    chains: Annotated[int, typer.Option(min=1)] = 4,
    seed: int = DEFAULT_SEED,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail when a fit does not converge.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Fit (or load) both models, evaluate the case tree, print the recommendation."""
    from decision.case import analyze as run_analysis
    from decision.core.config import DEFAULT_AS_OF
    from decision.observations import load_observations

    as_of = as_of or DEFAULT_AS_OF.isoformat()
    obs = load_observations(observations, as_of=as_of) if observations else None
    analysis = run_analysis(
        params,
        case=case,
        as_of=as_of,
        observations=obs,
        seed=seed,
        strict=strict,
        sampler={"draws": draws, "tune": tune, "chains": chains, "random_seed": seed},
    )
    result = analysis.to_dict()
    if as_json:
        typer.echo(json.dumps(result, indent=2, sort_keys=True))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"{result['scenario']} scenario, evidence as of {result['as_of']}")
    for col in ("strategy", "expected value", "90% interval", "P(optimal)"):
        table.add_column(col, justify="left" if col == "strategy" else "right")
    for name, value in result["options"].items():
        lo, hi = result["options_90"][name]
        mark = " *" if name == result["recommendation"] else ""
        table.add_row(
            name + mark,
            f"{value:.3f}",
            f"{lo:.3f} to {hi:.3f}",
            f"{result['probability_optimal'][name]:.0%}",
        )
    console.print(table)
    console.print(f"Recommendation: [bold]{result['recommendation']}[/bold]")
    spec = analysis.spec
    condition = spec.second_stage.condition if spec.second_stage else None
    for level, option in result["contingent_plan"].items():
        console.print(f"  if {condition or 'observed'} is {level}: {option}")
    if spec.second_stage is not None:
        console.print(f"Value of deciding later: {result['value_of_monitoring']:.4f}")
    for quantity in spec.headline:
        value = result.get(quantity.name)
        if value is not None:
            shown = f"{value:.0%}" if quantity.probability else f"{value:.3g}"
            console.print(f"  {quantity.label}: {shown}")
    for flag in result["flags"]:
        console.print(f"[red]warning:[/red] {flag}")


def _usage_error_types() -> tuple[type[BaseException], ...]:
    """Click's usage errors: typer >= 0.26 vendors its own click, older typer uses click."""
    import importlib

    types = []
    for module in ("typer._click.exceptions", "click.exceptions"):
        try:
            types.append(importlib.import_module(module).ClickException)
        except (ImportError, AttributeError):
            pass
    return tuple(types)


def _exit_types() -> tuple[type[BaseException], ...]:
    import click

    return (typer.Exit, click.exceptions.Exit)


#: Errors that mean the disk cannot take the write: a full disk, a full quota, read-only.
_STORAGE_ERRORS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
}


def main(argv: list[str] | None = None) -> int:
    """Run the program; bad input prints one line and exits with status 2."""
    import click

    try:
        result = app(args=argv, standalone_mode=False)
    except DecisionError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 2
    except OSError as exc:
        # Every write is staged beside its target and moved into place only when complete,
        # so a full disk leaves every earlier file as it was.
        if exc.errno not in _STORAGE_ERRORS:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        typer.echo(f"error: {where}{_STORAGE_ERRORS[exc.errno]}; nothing was overwritten", err=True)
        return 2
    except _exit_types() as exc:
        return exc.exit_code
    except (typer.Abort, click.exceptions.Abort):
        typer.echo("aborted", err=True)
        return 130
    except _usage_error_types() as exc:
        exc.show()
        return exc.exit_code
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
