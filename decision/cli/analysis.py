"""``decision analyze``, ``decision fit`` and ``decision monitor``: printed, not rendered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from decision.cli.options import AsOfOpt, CaseOpt
from decision.core.config import DEFAULT_SEED

__all__ = ["analyze", "fit", "monitor"]


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
    from decision.monitoring import RunHistory
    from decision.monitoring import monitor as run_monitor

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
