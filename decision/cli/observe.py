"""``decision observe``: add to, list, validate and check the observation ledger.

The ledger is ``observations.csv`` in the current folder unless ``--ledger`` or the
environment variable ``DECISION_LEDGER`` names another file (see ``docs/monitoring.md``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["app", "DEFAULT_LEDGER"]

#: The ledger used when neither --ledger nor DECISION_LEDGER is given.
DEFAULT_LEDGER = Path("observations.csv")

app = typer.Typer(
    help="Record monitoring observations in the ledger, list them, validate the file, and "
    "compare it with the monitoring schedule.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

LedgerOpt = Annotated[
    Path,
    typer.Option(
        "--ledger",
        envvar="DECISION_LEDGER",
        show_default=True,
        help="The observation ledger (CSV). Default: observations.csv in the current folder, "
        "or $DECISION_LEDGER.",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _console():
    """Make a rich console: the terminal's width, or 160 columns when output is not a terminal."""
    import sys

    from rich.console import Console

    return Console(markup=False, highlight=False, width=None if sys.stdout.isatty() else 160)


def _number(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:g}"


def _records(frame) -> list[dict]:
    out = []
    for row, rec in frame.iterrows():
        note = rec["note"]
        out.append(
            {
                "row": int(row),
                "date": rec["date"].strftime("%Y-%m-%d"),
                "actor": rec["actor"],
                "kind": rec["kind"],
                "value": float(rec["value"]),
                "source": rec["source"],
                "confidence": float(rec["confidence"]),
                "note": None if not isinstance(note, str) else note,
                "published": _day(rec.get("published"), rec["date"]),
            }
        )
    return out


def _day(value, default) -> str:
    """``YYYY-MM-DD`` of ``value``, or of ``default`` when it is blank."""
    import pandas as pd

    return (default if value is None or pd.isna(value) else pd.Timestamp(value)).strftime(
        "%Y-%m-%d"
    )


@app.command()
def add(
    date: Annotated[str, typer.Option("--date", help="Day of the event, YYYY-MM-DD.")],
    actor: Annotated[str, typer.Option("--actor", help="DPRK or China.")],
    kind: Annotated[str, typer.Option("--kind", help="Observation kind (see docs).")],
    value: Annotated[float, typer.Option("--value", help="Value for the kind.")],
    source: Annotated[str, typer.Option("--source", help="Who reported it.")],
    ledger: LedgerOpt = DEFAULT_LEDGER,
    confidence: Annotated[
        float | None,
        typer.Option("--confidence", help="Probability the report is true (blank = 1)."),
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="Free text.")] = None,
    published: Annotated[
        str | None,
        typer.Option(
            "--published",
            help="Day the fact became public, YYYY-MM-DD, not before --date (default: the "
            "event's date). A monthly figure dated at the month's end is published later: "
            "give its release date, so an earlier cutoff does not use it.",
        ),
    ] = None,
    step: Annotated[
        str | None,
        typer.Option(
            "--step",
            help="Scheduled China step this row assesses; written as '[ID]' at the "
            "start of the note.",
        ),
    ] = None,
    insert_late: Annotated[
        bool,
        typer.Option(
            "--insert-late",
            help="Allow a date before the last row's: insert the line at its "
            "place (existing lines unchanged).",
        ),
    ] = False,
    create: Annotated[
        bool, typer.Option("--create/--no-create", help="Create the ledger if it does not exist.")
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Add one observation (append-only; refuses duplicates and contradictions)."""
    from decision.monitoring.ledger import add_observation

    if step is not None:
        note = f"[{step.strip()}]" + (f" {note.strip()}" if note and note.strip() else "")
    row = add_observation(
        ledger,
        date=date,
        actor=actor,
        kind=kind,
        value=value,
        source=source,
        confidence=confidence,
        note=note,
        published=published,
        create=create,
        insert_late=insert_late,
    )
    if as_json:
        typer.echo(json.dumps(_records(row.to_frame().T)[0]))
        return
    conf = (
        ""
        if math.isclose(float(row["confidence"]), 1.0)
        else (f", confidence {_number(row['confidence'])}")
    )
    public = _day(row.get("published"), row["date"])
    when = f", published {public}" if public != f"{row['date']:%Y-%m-%d}" else ""
    typer.echo(
        f"added row {row.name} to {ledger}: {row['date']:%Y-%m-%d} {row['actor']} "
        f"{row['kind']} = {_number(row['value'])}{conf}{when} ({row['source']})"
    )


@app.command("list")
def list_(
    ledger: LedgerOpt = DEFAULT_LEDGER,
    actor: Annotated[str | None, typer.Option("--actor", help="DPRK or China.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Only this kind.")] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="From this date (YYYY-MM-DD) or month (YYYY-MM)."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Up to this date (YYYY-MM-DD) or month (YYYY-MM), inclusive."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List observations, optionally filtered, as a table or JSON."""
    from decision.monitoring.ledger import list_observations

    frame = list_observations(ledger, actor=actor, kind=kind, since=since, until=until)
    records = _records(frame)
    if as_json:
        typer.echo(json.dumps(records, indent=2))
        return
    from rich.table import Table

    table = Table(title=f"{ledger}: {len(records)} observation(s)")
    for name in ("row", "date", "actor", "kind", "value", "conf.", "source", "note"):
        table.add_column(
            name,
            justify="right" if name in ("row", "value", "conf.") else "left",
            overflow="fold",
            no_wrap=name not in ("source", "note"),
        )
    for rec in records:
        table.add_row(
            str(rec["row"]),
            rec["date"],
            rec["actor"],
            rec["kind"],
            _number(rec["value"]),
            _number(rec["confidence"]),
            rec["source"],
            rec["note"] or "",
        )
    _console().print(table)


@app.command()
def validate(ledger: LedgerOpt = DEFAULT_LEDGER) -> None:
    """Check the ledger; print 'ok: N observations' or the first problem."""
    from decision.monitoring.ledger import validate_ledger

    frame = validate_ledger(ledger)
    typer.echo(f"ok: {len(frame)} observations")


@app.command()
def status(
    ledger: LedgerOpt = DEFAULT_LEDGER,
    through: Annotated[
        str | None,
        typer.Option(
            "--through", help="Last month to compare (YYYY-MM). Default: the ledger's latest month."
        ),
    ] = None,
    schedule: Annotated[
        Path | None,
        typer.Option(
            "--schedule", help="Monitoring schedule YAML (default: the shipped analyst plan)."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Compare the ledger with the monitoring schedule, item by item."""
    from decision.core.errors import InputError
    from decision.monitoring.ledger import latest_month, validate_ledger
    from decision.monitoring.schedule import compare_to_schedule, load_schedule

    plan = load_schedule(schedule)
    frame = validate_ledger(ledger)
    month = through or latest_month(ledger)
    if month is None:
        raise InputError("the ledger has no observations: give --through YYYY-MM", field="through")
    table = compare_to_schedule(plan, frame, month)
    if as_json:
        out = [
            {
                **rec,
                "evidence_rows": list(rec["evidence_rows"]),
                "value": None if math.isnan(rec["value"]) else rec["value"],
            }
            for rec in table.to_dict("records")
        ]
        typer.echo(json.dumps(out, indent=2))
        return
    from rich.table import Table

    view = Table(title=f"{plan.title}: through {table.attrs['through']}")
    for name in ("month", "actor", "item", "observed", "rows"):
        view.add_column(name, overflow="fold", no_wrap=name != "rows")
    for rec in table.to_dict("records"):
        view.add_row(
            rec["month"],
            rec["actor"],
            rec["item"],
            rec["observed"],
            ", ".join(str(r) for r in rec["evidence_rows"]),
        )
    _console().print(view)
    if table.attrs.get("unmatched_rows"):
        rows = ", ".join(str(r) for r in table.attrs["unmatched_rows"])
        typer.echo(f"rows naming a step that is not in the schedule: {rows}")
