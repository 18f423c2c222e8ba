"""Options shared by several ``decision`` commands."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["AsOfOpt", "CaseOpt", "SetOpt"]

SetOpt = Annotated[
    list[str] | None,
    typer.Option("-p", "--set", metavar="NAME=VALUE", help="Set one parameter (repeatable)."),
]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="Use evidence known on this date.")]
CaseOpt = Annotated[
    str | None,
    typer.Option("--case", help="A shipped case's name, or a case folder (see docs/cases.md)."),
]
