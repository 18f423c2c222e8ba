"""Options shared by several ``decision`` commands, and errors that name the option given.

The library's errors name files, rows and fields; the command line knows which option the user
typed. :func:`given` turns an error about an option's value into one that names the option
(``--observations: nope.csv: file not found ...``), and the checks here (:func:`ledger_path`,
:func:`as_of_date`, :func:`month`) say what to do in the option's own words.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from decision.core.errors import InputError

__all__ = [
    "AsOfOpt",
    "CaseOpt",
    "LedgerOpt",
    "QuietOpt",
    "SetOpt",
    "as_of_date",
    "from_environment",
    "given",
    "ledger_path",
    "month",
    "progress",
]

SetOpt = Annotated[
    list[str] | None,
    typer.Option("-p", "--set", metavar="NAME=VALUE", help="Set one parameter (repeatable)."),
]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="Use evidence known on this date.")]
CaseOpt = Annotated[
    str | None,
    typer.Option("--case", help="A shipped case's name, or a case folder (see docs/cases.md)."),
]
LedgerOpt = Annotated[
    Path | None,
    typer.Option(
        "--ledger",
        envvar="DECISION_LEDGER",
        help="Observation ledger CSV (default: observations.csv in this folder).",
        show_default=False,
    ),
]
QuietOpt = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="Print only the result: no stages, progress bars or notes on standard error.",
    ),
]

#: The ledger ``--ledger`` defaults to, in the current folder.
DEFAULT_LEDGER = Path("observations.csv")


def progress(quiet: bool):
    """Return the command's progress reporter: bars on a terminal, lines otherwise, or none."""
    from decision.core.progress import Progress

    return Progress("quiet" if quiet else "auto")


@contextlib.contextmanager
def given(option: str, value: Any = None, *, field: str | None = None) -> Iterator[None]:
    """Name ``option`` in an :class:`InputError` raised inside the block about its value.

    An error about the value itself (a missing file, a bad date, an unknown name: no row, and
    no field other than ``field``, the library's name for the value) is said as
    ``<option>: <what is wrong>``. An error about what is inside a file the value names (a
    row, a key) already names that file and is left as it is.
    """
    try:
        yield
    except InputError as exc:
        about_value = (
            exc.row is None
            and exc.field in (None, field, option)
            and (exc.file is None or _same_file(exc.file, value))
        )
        if not about_value:
            raise
        detail = exc.detail
        if exc.file is not None and str(value) not in detail:
            detail = f"{exc.file}: {detail}"
        raise InputError(detail, file=option) from None


def _same_file(named: str, value: Any) -> bool:
    if value is None:
        return False
    text = str(value)
    return named == text or Path(named).resolve() == Path(text).resolve()


def ledger_path(ledger: Path | None, ctx: typer.Context | None = None) -> Path:
    """Return the observation ledger to use: ``--ledger``, ``$DECISION_LEDGER`` or the default.

    Raises
    ------
    InputError
        When the ledger given does not exist, or none was given and the default
        ``observations.csv`` is not in the current folder; the message names the option.
    """
    if ledger is None:
        if DEFAULT_LEDGER.is_file():
            return DEFAULT_LEDGER
        raise InputError(
            f"no ledger: pass --ledger FILE (or set DECISION_LEDGER); the default "
            f"{DEFAULT_LEDGER} was not found in {Path.cwd()} (record observations with "
            "`decision observe add`)"
        )
    if not ledger.is_file():
        where = "DECISION_LEDGER" if from_environment(ctx, "ledger") else "--ledger"
        raise InputError(
            f"file not found: {ledger}; give an existing observation ledger (CSV)", file=where
        )
    return ledger


def from_environment(ctx: typer.Context | None, name: str) -> bool:
    """Tell whether option ``name`` of the command got its value from an environment variable."""
    if ctx is None:
        return False
    source = ctx.get_parameter_source(name)  # click's ParameterSource, or typer's own copy
    return getattr(source, "name", None) == "ENVIRONMENT"


def as_of_date(
    as_of: str | None, *, case: Any = None, with_case: bool = True, option: str = "--as-of"
) -> str:
    """Check ``--as-of`` (default: the proposal's day) against the evidence's coverage.

    The date must lie between the start of the evidence (or, ``with_case``, the proposal of
    ``case``, the default case if None) and the last day an evidence row became public; see
    the README, "Evidence and as_of".

    Returns
    -------
    str
        The date as ``YYYY-MM-DD``.

    Raises
    ------
    InputError
        Naming ``option``, before anything is fitted.
    """
    from decision import evidence
    from decision.core.config import DEFAULT_AS_OF

    value = as_of or DEFAULT_AS_OF.isoformat()
    with given(option, value, field="as_of"):
        bound = _proposal(case) if with_case else None
        day = evidence.coverage().check(value, field=option, not_before=bound)
    return day.isoformat()


def month(through: str, ledger: Path, *, case: Any = None, option: str = "--through") -> str:
    """Check ``--through`` (``YYYY-MM`` or ``latest``) and the coverage of its last day.

    Returns
    -------
    str
        The month as ``YYYY-MM`` (``latest`` resolved from the ledger).

    Raises
    ------
    InputError
        Naming ``option``, before anything is fitted or recorded.
    """
    from decision import evidence
    from decision.core.dates import month_end
    from decision.monitoring import resolve_month

    with given(option, through, field="through"):
        if through != "latest":
            try:
                month_end(through)
            except InputError:
                raise InputError(
                    f"expected a month as YYYY-MM, or latest, got {through!r}"
                ) from None
        resolved = resolve_month(through, ledger)
        evidence.coverage().check(month_end(resolved), field=option, not_before=_proposal(case))
    return resolved


def _proposal(case: Any) -> tuple[dt.date, str] | None:
    """Return the case's proposal date and what it is (for the coverage check), if any."""
    from decision.case import load_spec

    with given("--case", case, field="case"):
        spec = load_spec(case)
    if spec.proposed is None:
        return None
    return spec.proposed, f"the case's proposal ({spec.title}, {spec.proposed.isoformat()})"
