"""``decision elicit``: fit, pool and check elicitation records; start a record; compare experts.

Argument parsing only: the work is :mod:`decision.elicitation` (see ``docs/elicitation.md``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from decision.cli.options import CaseOpt, QuietOpt, as_of_date, progress
from decision.core.config import DEFAULT_SEED

__all__ = ["app"]

app = typer.Typer(
    help="Elicited judgments: fit and pool expert records into a scenario, check them against "
    "the case tree, start a record for a new expert, compare the experts' recommendations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

RecordOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--record",
        metavar="FILE",
        help="A further elicitation record (YAML), besides the case's own (repeatable).",
    ),
]
FolderOpt = Annotated[
    Path | None,
    typer.Option(
        "--folder", help="Read the records from this folder instead of the case's elicitation/."
    ),
]
ToleranceOpt = Annotated[
    float,
    typer.Option(
        "--tolerance",
        min=0.0001,
        max=0.5,
        help="Largest miss of the stated answers, in probability, a fitted distribution may have.",
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Analysis date: judgments elicited later are flagged."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _console():
    import sys

    from rich.console import Console

    return Console(markup=False, highlight=False, width=None if sys.stdout.isatty() else 160)


def _as_of(as_of: str | None):
    from decision.core.config import DEFAULT_AS_OF
    from decision.core.dates import parse_date

    return parse_date(as_of or DEFAULT_AS_OF, field="--as-of")


def _summary(elicitation, as_of) -> dict:
    fits = elicitation.fit_table().reset_index()
    return {
        "case": elicitation.spec.name,
        "records": sorted(elicitation.records),
        "experts": {
            e.id: {"name": e.name, "illustrative": e.illustrative}
            for e in elicitation.experts.values()
        },
        "pool": elicitation.scheme,
        "weights": elicitation.weights,
        "tolerance": elicitation.tolerance,
        "fits": [
            {
                "judgment": row["judgment"],
                "expert": row["expert"],
                "method": row["method"],
                "distribution": row["distribution"],
                "fit_error": float(row["fit error"]),
                "accepted": bool(row["accepted"]),
            }
            for _, row in fits.iterrows()
        ],
        "pooled": {name: pool.spec for name, pool in elicitation.pools.items()},
        "never_elicited": elicitation.missing,
        "hindsight": elicitation.hindsight_flags(as_of),
    }


def _print_summary(elicitation, as_of) -> None:
    from rich.table import Table

    console = _console()
    table = Table(title=f"Elicited judgments of case '{elicitation.spec.name}'")
    for column in ("judgment", "expert", "method", "fitted distribution", "fit error"):
        table.add_column(column, justify="right" if column == "fit error" else "left")
    for (name, expert), row in elicitation.fit_table().iterrows():
        mark = "" if row["accepted"] else "  REFUSED"
        table.add_row(
            name, expert, row["method"], row["distribution"], f"{row['fit error']:.4f}{mark}"
        )
    console.print(table)
    weights = ", ".join(f"{e} {w:.3f}" for e, w in elicitation.weights.items())
    console.print(f"Pool: linear, {elicitation.scheme} ({weights}).")
    if elicitation.performance is not None:
        console.print(elicitation.performance.round(4).to_string())
    if elicitation.missing:
        console.print(
            "Never elicited (the tree's own spec stays): " + ", ".join(elicitation.missing)
        )
    for flag in elicitation.hindsight_flags(as_of):
        console.print(f"hindsight: {flag}")


@app.command()
def fit(
    case: CaseOpt = None,
    pool: Annotated[
        str,
        typer.Option(
            "--pool",
            help="linear: performance weights where seed questions exist, else equal weights; "
            "equal: equal weights.",
        ),
    ] = "linear",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the pooled specs as a scenario file (YAML)."),
    ] = None,
    record: RecordOpt = None,
    folder: FolderOpt = None,
    tolerance: ToleranceOpt = 0.01,
    alpha: Annotated[
        float,
        typer.Option(
            "--alpha", min=0.0, max=1.0, help="Calibration cutoff of the performance weights."
        ),
    ] = 0.0,
    name: Annotated[
        str | None, typer.Option("--name", help="Scenario name (default: the file's stem).")
    ] = None,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Fit each expert's answers, pool the experts, and write the specs as a scenario."""
    from decision.elicitation import elicit_case

    date = _as_of(as_of)
    elicitation = elicit_case(
        case, folder=folder, extra=record or (), pool=pool, tolerance=tolerance, alpha=alpha
    )
    written = elicitation.write_scenario(out, name=name) if out is not None else None
    if as_json:
        info = _summary(elicitation, date)
        info["scenario"] = str(written) if written else None
        typer.echo(json.dumps(info, indent=2, sort_keys=True, default=str))
        return
    _print_summary(elicitation, date)
    if written is not None:
        typer.echo(f"scenario written to {written} (use it with --params)")


@app.command()
def check(
    case: CaseOpt = None,
    record: RecordOpt = None,
    folder: FolderOpt = None,
    tolerance: ToleranceOpt = 0.01,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check the records and that the case tree's specs are their pool; exit 1 on a problem.

    A problem is a fit beyond the tolerance, a judgment of the tree never elicited, or a
    judgment whose spec in the tree differs from the records' pool by more than the tolerance
    (the largest distance between the two CDFs). Malformed records are errors (exit 2).
    """
    from decision.elicitation import elicit_case

    date = _as_of(as_of)
    elicitation = elicit_case(
        case, folder=folder, extra=record or (), tolerance=tolerance, refuse=False
    )
    drift = elicitation.drift()
    differ = drift[~drift["agrees"]]
    refused = elicitation.refused()
    problems = bool(len(differ) or refused or elicitation.missing)
    if as_json:
        info = _summary(elicitation, date)
        info["drift"] = {
            name: {
                "tree": row["tree"],
                "pooled": row["pooled"],
                "distance": float(row["distance"]),
                "agrees": bool(row["agrees"]),
            }
            for name, row in drift.iterrows()
        }
        info["ok"] = not problems
        typer.echo(json.dumps(info, indent=2, sort_keys=True, default=str))
    else:
        _print_summary(elicitation, date)
        console = _console()
        for name, row in differ.iterrows():
            console.print(
                f"drift: {name}: the tree has {row['tree']}, the records pool to "
                f"{row['pooled']} (CDFs up to {row['distance']:.3f} apart)"
            )
        if not problems:
            console.print(
                f"ok: {len(elicitation.records)} record(s), {len(elicitation.pools)} judgments; "
                f"the tree's specs are the records' pool within {tolerance:g} (largest CDF "
                f"distance {drift['distance'].max():.4f})"
            )
    raise typer.Exit(1 if problems else 0)


@app.command()
def new(
    expert: Annotated[str, typer.Option("--expert", help="The new expert's id.")],
    expert_name: Annotated[str, typer.Option("--name", help="The expert's name.")],
    date: Annotated[str, typer.Option("--date", help="The session's date, YYYY-MM-DD.")],
    out: Annotated[Path, typer.Option("--out", help="The record file to write.")],
    case: CaseOpt = None,
    template: Annotated[
        Path | None,
        typer.Option(
            "--from",
            metavar="RECORD",
            help="Copy the questions from this record (default: the case's first record).",
        ),
    ] = None,
    illustrative: Annotated[
        bool, typer.Option("--illustrative", help="Label the expert as made up, for examples.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write a blank record for a new expert: every question, answers and rationales to fill in."""
    from decision.elicitation.notebook import blank_record_text

    if out.exists() and not force:
        raise typer.BadParameter(f"{out} exists; use --force to replace it", param_hint="--out")
    from decision.core.atomic import atomic_write_text

    text = blank_record_text(
        case,
        expert=expert,
        name=expert_name,
        date=date,
        template=template,
        illustrative=illustrative,
    )
    atomic_write_text(out, text)
    typer.echo(f"blank record written to {out}: fill in every answers and rationale")


@app.command()
def compare(
    case: CaseOpt = None,
    record: RecordOpt = None,
    scenario: Annotated[
        str | None, typer.Option("--scenario", help="Scenario name or file (default: baseline).")
    ] = None,
    as_of: AsOfOpt = None,
    draws: Annotated[int, typer.Option(min=10, help="Posterior draws per chain.")] = 1000,
    tune: Annotated[int, typer.Option(min=10)] = 1000,
    chains: Annotated[int, typer.Option(min=1)] = 4,
    seed: int = DEFAULT_SEED,
    markdown: Annotated[
        Path | None,
        typer.Option("--markdown", help="Also write the comparison as a Markdown section."),
    ] = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Show the recommendation under each expert's own judgments alone (models fitted once)."""
    from decision import reporting
    from decision.case import analyze
    from decision.core.atomic import atomic_write_text
    from decision.core.progress import activate
    from decision.elicitation import expert_disagreement

    date = as_of_date(as_of, case=case)  # within the evidence's coverage, before any fitting
    with progress(quiet) as shown, activate(shown):
        analysis = analyze(
            scenario,
            case=case,
            as_of=date,
            seed=seed,
            sampler={"draws": draws, "tune": tune, "chains": chains, "random_seed": seed},
        )
    for fit in analysis.fits.values():
        if fit.flagged_message():
            typer.echo(f"warning: {fit.flagged_message()}", err=True)
    result = expert_disagreement(analysis, extra=record or (), seed=seed)
    if markdown is not None:
        from decision.core.provenance import git_commit, package_version

        context = (
            f"Evidence as of {analysis.as_of.isoformat()}; scenario "
            f"'{analysis.case.scenario.name}'; {chains} chains of {draws} draws after {tune} "
            f"tuning steps; seed {seed}; decision {package_version()}, commit "
            f"{(git_commit() or 'unknown')[:12]}."
        )
        atomic_write_text(markdown, reporting.expert_disagreement_markdown(result, context))
    if as_json:
        table = result.table.reset_index()
        typer.echo(json.dumps(table.to_dict("records"), indent=2, default=str))
        return
    console = _console()
    console.print(reporting.expert_disagreement_table(result).to_string())
    if markdown is not None:
        typer.echo(f"comparison written to {markdown}")
