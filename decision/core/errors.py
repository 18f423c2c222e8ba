"""Exceptions raised for bad input, with the location of the problem in the message."""

from __future__ import annotations

__all__ = ["DecisionError", "InputError", "ConvergenceError"]


class DecisionError(Exception):
    """Base class for every error the package raises on purpose.

    The command line prints these as one line and exits with status 2.
    """


class InputError(DecisionError, ValueError):
    """A file, row, field, node or parameter that is not what is expected.

    Parameters
    ----------
    message
        What is wrong and what is expected.
    file, row, field
        Where the problem is; each is optional and, when given, leads the message.
    """

    def __init__(self, message: str, *, file=None, row=None, field=None):
        self.file = None if file is None else str(file)
        self.row = row
        self.field = field
        self.detail = message
        where = []
        if self.file is not None:
            where.append(self.file)
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"field '{field}'")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class ConvergenceError(DecisionError):
    """A fit failed its convergence checks and the caller asked for strict mode."""
