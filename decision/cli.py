"""The ``decision`` command-line program."""

from __future__ import annotations

import sys

import typer

from decision.errors import DecisionError
from decision.tree.cli import app as tree_app

app = typer.Typer(
    help="Decision analysis: Bayesian evidence, decision trees, value of information, reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(tree_app, name="tree")


def main(argv: list[str] | None = None) -> int:
    """Run the program; bad input prints one line and exits with status 2."""
    try:
        app(args=argv, standalone_mode=False)
    except DecisionError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 2
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 130
    except Exception as exc:  # click usage errors arrive here in non-standalone mode
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            return exc.exit_code
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
