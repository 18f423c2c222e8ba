"""``decision analyze``, ``decision fit`` and ``decision monitor``: printed, not rendered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from decision.cli.options import (
    AsOfOpt,
    CaseOpt,
    LedgerOpt,
    QuietOpt,
    as_of_date,
    given,
    ledger_path,
    progress,
)
from decision.cli.options import month as checked_month
from decision.core.config import DEFAULT_SEED

__all__ = ["analyze", "fit", "monitor"]


def monitor(
    ctx: typer.Context,
    through: Annotated[
        str, typer.Option("--through", help="Month YYYY-MM, or 'latest'.")
    ] = "latest",
    ledger: LedgerOpt = None,
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
    quiet: QuietOpt = False,
) -> None:
    """Update both models with the ledger through a month and re-roll the case tree."""
    from decision.monitoring import RunHistory
    from decision.monitoring import monitor as run_monitor

    the_ledger = ledger_path(ledger, ctx)
    month = checked_month(through, the_ledger, case=case)
    _check_case_inputs(case=case, scenario=scenario, scenario_option="--scenario")
    if schedule is not None:
        from decision.monitoring.schedule import load_schedule

        with given("--schedule", schedule):
            load_schedule(schedule)
    with progress(quiet) as shown:
        result = run_monitor(
            month,
            ledger=the_ledger,
            schedule=schedule,
            scenario=scenario,
            case=case,
            seed=seed,
            sampler={"draws": draws, "tune": tune, "chains": chains, "random_seed": seed},
            progress=shown,
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
    quiet: QuietOpt = False,
) -> None:
    """Fit both Bayesian models (or load them from the cache) and print headline estimates."""
    from decision import models

    as_of = as_of_date(as_of, with_case=False)  # the models alone: the evidence's coverage
    obs = _observations(observations, as_of)
    with progress(quiet) as shown:
        fits = models.fit_models(
            as_of=as_of,
            observations=obs,
            use_cache=not no_cache,
            strict=strict,
            sampler={"draws": draws, "tune": tune, "chains": chains, "random_seed": seed},
            progress=shown,
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
    quiet: QuietOpt = False,
) -> None:
    """Fit (or load) both models, evaluate the case tree, print the recommendation."""
    from decision.case import analyze as run_analysis
    from decision.core.progress import activate

    the_case = _check_case_inputs(case=case, scenario=params, scenario_option="--params")
    as_of = as_of_date(as_of, case=case)
    obs = _observations(observations, as_of)
    with progress(quiet) as shown, activate(shown):
        analysis = run_analysis(
            the_case.scenario,
            case=the_case.spec,
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


def _observations(path: Path | None, as_of: str):
    """Read ``--observations`` as of ``as_of`` (None without the option)."""
    if path is None:
        return None
    from decision.observations import load_observations

    with given("--observations", path):
        return load_observations(path, as_of=as_of)


def _check_case_inputs(*, case: str | None, scenario, scenario_option: str):
    """Load ``--case`` and the scenario before anything is fitted; errors name the option."""
    from decision.case import load_case, load_spec

    with given("--case", case, field="case"):
        spec = load_spec(case)
    with given(scenario_option, scenario, field="scenario"):
        return load_case(scenario, spec)
