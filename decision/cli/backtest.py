"""``decision backtest``: score the models against what happened (docs/backtest.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from decision.cli.options import QuietOpt, progress
from decision.core.config import DEFAULT_SEED

__all__ = ["backtest"]


def backtest(
    start: Annotated[
        str, typer.Option("--start", help="First origin month (YYYY-MM).")
    ] = "2013-01",
    end: Annotated[str, typer.Option("--end", help="Last origin month (YYYY-MM).")] = "2022-12",
    every: Annotated[
        str, typer.Option("--every", help="Step between origins: 3M (months) or 1Y (years).")
    ] = "3M",
    horizon: Annotated[
        str, typer.Option("--horizon", help="Months scored ahead of each origin, e.g. 6,12.")
    ] = "6,12",
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
        typer.Option("--workers", min=1, help="Worker processes of the local cluster."),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="Folder holding one sub-folder per backtest.")
    ] = Path("backtests"),
    name: Annotated[str, typer.Option("--name", help="The backtest's sub-folder.")] = "backtest",
    replay: Annotated[
        str,
        typer.Option(
            "--replay",
            help="Months of the counterfactual replay, FIRST:LAST (YYYY-MM), or 'none'.",
        ),
    ] = "2017-09:2018-06",
    ledger: Annotated[
        Path | None,
        typer.Option("--ledger", help="The replay's ledger (default: examples/monitoring-2017)."),
    ] = None,
    draws: Annotated[int, typer.Option(min=10, help="Posterior draws per chain.")] = 1000,
    tune: Annotated[int, typer.Option(min=10)] = 1000,
    chains: Annotated[int, typer.Option(min=1)] = 4,
    seed: int = DEFAULT_SEED,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    quiet: QuietOpt = False,
) -> None:
    """Fit the models at rolling origins and score their forecasts and the baselines'."""
    from decision.backtest import origin_months, parse_horizons, replay_months, run_backtest
    from decision.cli.options import given
    from decision.core.errors import InputError

    origins = origin_months(start, end, every)
    horizons = parse_horizons(horizon)
    months: list[str] = []
    if replay.strip().lower() != "none":
        first, _, last = replay.partition(":")
        with given("--replay", replay):
            if not last:
                raise InputError(
                    "expected FIRST:LAST months, e.g. 2017-09:2018-06", field="--replay"
                )
            months = replay_months(first.strip(), last.strip())
    if ledger is not None and not ledger.is_file():
        raise InputError("no such file", file=ledger, field="--ledger")
    try:
        with progress(quiet) as shown:
            summary = run_backtest(
                origins,
                horizons,
                out,
                name=name,
                sampler={"draws": draws, "tune": tune, "chains": chains, "random_seed": seed},
                seed=seed,
                replay=months,
                ledger=ledger,
                scheduler=scheduler,
                workers=workers,
                progress=shown,
            )
    except KeyboardInterrupt:
        typer.echo(
            "interrupted: finished origins are saved; run the same command again to finish "
            "the others",
            err=True,
        )
        raise typer.Exit(130) from None
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), indent=2))
    else:
        typer.echo(
            f"backtest: {summary.origins} origins ({len(summary.skipped)} beyond the evidence), "
            f"{summary.done_before} already finished, {summary.computed} computed, "
            f"{summary.replay_months} replayed months in {summary.seconds:.1f} s"
            + (f" on {summary.workers} workers" if summary.workers else "")
            + f"; results in {Path(summary.folder) / 'results'}"
        )
        for failure in summary.failures:
            typer.echo(f"failed: {failure}", err=True)
        if summary.errors:
            typer.echo(
                f"warning: {summary.errors} origin(s) with a fit error (see 'error')", err=True
            )
    if not summary.ok:
        raise typer.Exit(1)
