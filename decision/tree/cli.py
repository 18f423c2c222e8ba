"""Placeholder replaced by the tree engine work: ``decision tree ...`` commands."""

import typer

app = typer.Typer(help="Evaluate and draw decision trees.", no_args_is_help=True)
