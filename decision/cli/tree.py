"""``decision tree evaluate`` and ``decision tree draw``."""

from __future__ import annotations

import json
import math
import secrets
from pathlib import Path
from typing import Annotated

import typer

from decision.core.errors import InputError

__all__ = ["app"]

app = typer.Typer(
    help="Evaluate and draw decision trees (format: docs/tree-format.md).", no_args_is_help=True
)

FileArg = Annotated[Path, typer.Argument(help="Tree file (YAML).", show_default=False)]
DrawsOpt = Annotated[
    int, typer.Option("--draws", "-n", help="Parameter draws (when parameters are uncertain).")
]
SeedOpt = Annotated[
    int | None,
    typer.Option("--seed", help="Random seed; by default a fresh one, printed with the results."),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "-p", "--set", metavar="NAME=VALUE", help="Replace a parameter by a number (repeatable)."
    ),
]
ForceOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--force",
        metavar="NODE=OPTION",
        help="Force a decision (name or node path) to an option (repeatable).",
    ),
]


def _pairs(items: list[str] | None, what: str) -> dict[str, str]:
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(f"expected {what}, got {item!r}", field=what)
        out[key.strip()] = value.strip()
    return out


def _overrides(items: list[str] | None) -> dict[str, float]:
    out = {}
    for key, value in _pairs(items, "NAME=VALUE").items():
        try:
            number = float(value)
        except ValueError:
            raise InputError(
                f"value of {key} must be a number, got {value!r}", field=f"--set {key}"
            ) from None
        if not math.isfinite(number):
            raise InputError(f"value of {key} must be finite, got {value!r}", field=f"--set {key}")
        out[key] = number
    return out


def _run(file: Path, draws: int, seed: int | None, set_: list[str] | None, force: list[str] | None):
    from decision.tree import evaluate, load_tree
    from decision.tree.parameters import check_draw_count

    check_draw_count(draws)
    tree = load_tree(file)
    if seed is None and tree.is_uncertain:
        seed = secrets.randbelow(2**32)
    return evaluate(
        tree, n=draws, seed=seed, overrides=_overrides(set_), force=_pairs(force, "NODE=OPTION")
    )


def _evpi_names(items: list[str] | None) -> list[str]:
    names = []
    for item in items or []:
        names.extend(part.strip() for part in item.split(",") if part.strip())
    return list(dict.fromkeys(names))


def _fmt(x: float) -> str:
    return f"{x:,.6g}" if abs(x) < 1e6 else f"{x:,.0f}"


@app.command("evaluate")
def evaluate_command(
    file: FileArg,
    draws: DrawsOpt = 10_000,
    seed: SeedOpt = None,
    evpi: Annotated[
        list[str] | None,
        typer.Option(
            "--evpi",
            metavar="NAME",
            help="Report the EVPI of this uncertainty (repeatable, or comma-separated).",
        ),
    ] = None,
    set_: SetOpt = None,
    force: ForceOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object.")] = False,
) -> None:
    """Roll the tree back: option values, the optimal policy, EVPI."""
    result = _run(file, draws, seed, set_, force)
    names = _evpi_names(evpi)
    summary = result.to_dict(evpi=names)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    _print_table(result, summary)


def _print_table(result, summary: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(soft_wrap=False)
    tree = result.tree
    units = f" ({tree.units})" if tree.units else ""
    kind = result.value_kind
    uncertain = "probability_optimal" in summary
    notes = []
    if not result.tree.utility.is_linear:
        notes.append(f"exponential utility, R = {_fmt(summary['utility']['risk_tolerance'])}")
    if uncertain:
        notes.append(f"{result.n} draws, seed {result.seed}")
    caption = "; ".join(notes) or None
    uncertain = uncertain and result.optimal is not None
    table = Table(title=f"{tree.name}{units}", caption=caption)
    table.add_column("Option at " + result.root_path if result.optimal is not None else "Root")
    table.add_column(kind.capitalize(), justify="right")
    if uncertain:
        table.add_column("P(optimal)", justify="right")
    table.add_column("")
    if result.optimal is None:
        table.add_row("(chance node)", _fmt(result.value), "")
    for option, value in result.options.items():
        row = [option, _fmt(value)]
        if uncertain:
            row.append(f"{summary['probability_optimal'][option]:.3f}")
        row.append("optimal" if option == result.optimal else "")
        if option == result.optimal and result.root_path in result.forced:
            row[-1] = "forced"
        table.add_row(*row, style="bold" if option == result.optimal else None)
    console.print(table)
    later = {p: o for p, o in result.policy.items() if p != result.root_path}
    if later:
        policy = Table(title="Later decisions (chosen in expectation)")
        policy.add_column("Decision node")
        policy.add_column("Choice")
        policy.add_column("Value from the node on", justify="right")
        for path, option in later.items():
            policy.add_row(
                path,
                option + (" (forced)" if path in result.forced else ""),
                _fmt(result.expected[path][option]),
            )
        console.print(policy)
    if summary["evpi"] or "evpi_parameters" in summary:
        info = Table(title="Value of perfect information")
        info.add_column("Information")
        info.add_column("EVPI", justify="right")
        for name, value in summary["evpi"].items():
            info.add_row(f"uncertainty '{name}'", _fmt(value))
        if "evpi_parameters" in summary:
            info.add_row("all parameters", _fmt(summary["evpi_parameters"]))
        console.print(info)


@app.command("draw")
def draw_command(
    file: FileArg,
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="Output file: .svg, .png, .pdf, or .dot for graphviz source."
        ),
    ],
    draws: DrawsOpt = 10_000,
    seed: SeedOpt = None,
    set_: SetOpt = None,
    force: ForceOpt = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="Format, if not the output file's suffix.")
    ] = None,
) -> None:
    """Draw the tree with graphviz: probabilities, payoffs, values, the optimal path."""
    from decision.tree import draw_tree

    result = _run(file, draws, seed, set_, force)
    draw_tree(result, output, format=fmt)
    typer.echo(f"tree drawn to {output}")
