"""The ``decision`` command-line program: argument parsing only.

Each command group is a module: ``report`` (report, report sensitivity, report monitoring),
``analysis`` (analyze, fit, monitor), ``elicit`` (fit, check, new, compare), ``observe``,
``sweep``, ``backtest`` and ``tree``. Commands import what they run inside their functions, so
starting the program (``decision --help``) imports no models, papermill or Dask. :func:`main`
maps errors to exit codes: bad input, a full disk and an unusable path (a file where a folder
is expected, no permission) print one line and exit 2. ``options`` holds what commands share:
the options, the progress reporter each long command shows its stages on (``--quiet`` for
none), and the checks that make an error name the option the user typed.
"""

from __future__ import annotations

import errno

import typer

from decision.cli import analysis, backtest, elicit, observe, report, sweep, tree
from decision.core.errors import DecisionError

__all__ = ["app", "main"]

app = typer.Typer(
    help="Decision analysis: Bayesian evidence, decision trees, value of information, reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(tree.app, name="tree")
app.add_typer(observe.app, name="observe")
app.add_typer(elicit.app, name="elicit")
app.command(name="sweep")(sweep.sweep)
app.command(name="backtest")(backtest.backtest)
app.add_typer(report.app, name="report")
app.command(name="monitor")(analysis.monitor)
app.command(name="fit")(analysis.fit)
app.command(name="analyze")(analysis.analyze)


def _usage_error_types() -> tuple[type[BaseException], ...]:
    """Click's usage errors: typer >= 0.26 vendors its own click, older typer uses click."""
    import importlib

    types = []
    for module in ("typer._click.exceptions", "click.exceptions"):
        try:
            types.append(importlib.import_module(module).ClickException)
        except (ImportError, AttributeError):
            pass
    return tuple(types)


def _exit_types() -> tuple[type[BaseException], ...]:
    import click

    return (typer.Exit, click.exceptions.Exit)


#: Errors that mean the disk cannot take the write: a full disk, a full quota, read-only.
_STORAGE_ERRORS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
}

#: Errors that mean a path the user gave cannot be used as given: a file where a folder is
#: expected, a folder where a file is, no permission. Reported with the path, no traceback.
_PATH_ERRORS = {
    errno.ENOTDIR: "not a folder (a file is in the way)",
    errno.EISDIR: "is a folder, expected a file",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENAMETOOLONG: "file name too long",
}


def main(argv: list[str] | None = None) -> int:
    """Run the program; bad input prints one line and exits with status 2."""
    import warnings

    import click

    # PyTensor's advice to install it with conda instead of pip: nothing a user of the command
    # can act on (docs/progress.md); the sampler works without a system BLAS.
    warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
    try:
        result = app(args=argv, standalone_mode=False)
    except DecisionError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 2
    except OSError as exc:
        # Every write is staged beside its target and moved into place only when complete,
        # so a full disk leaves every earlier file as it was.
        where = f"{exc.filename}: " if exc.filename else ""
        if exc.errno in _STORAGE_ERRORS:
            problem = _STORAGE_ERRORS[exc.errno]
        elif exc.errno in _PATH_ERRORS and exc.filename:
            problem = _PATH_ERRORS[exc.errno]
        else:
            raise
        typer.echo(f"error: {where}{problem}; nothing was overwritten", err=True)
        return 2
    except _exit_types() as exc:
        return exc.exit_code
    except (typer.Abort, click.exceptions.Abort):
        typer.echo("aborted", err=True)
        return 130
    except _usage_error_types() as exc:
        exc.show()
        return exc.exit_code
    return result if isinstance(result, int) else 0
