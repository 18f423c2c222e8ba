"""Dates and months as the package reads them: ISO dates, ``YYYY-MM`` months."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any

from decision.core.errors import InputError

__all__ = [
    "MONTH_PATTERN",
    "complete_months",
    "is_month",
    "month_end",
    "month_index",
    "parse_date",
    "parse_month",
]

#: A month as ``YYYY-MM`` (use with ``fullmatch``).
MONTH_PATTERN = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def parse_date(value: Any, *, field: str = "as_of") -> dt.date:
    """Parse an ISO date (``YYYY-MM-DD``) or pass a date through.

    Raises
    ------
    InputError
        Naming ``field``, for anything that is not a date.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"expected a date as YYYY-MM-DD, got {value!r}", field=field) from None


def is_month(text: Any) -> bool:
    """Whether ``text`` is a month written ``YYYY-MM``."""
    return isinstance(text, str) and MONTH_PATTERN.fullmatch(text) is not None


def parse_month(value: Any, *, field: str = "month") -> str:
    """Return a month as ``YYYY-MM`` text, from that text or from a date.

    Raises
    ------
    InputError
        Naming ``field``, for anything else.
    """
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m")
    if hasattr(value, "strftime") and hasattr(value, "month"):  # pandas.Timestamp
        return value.strftime("%Y-%m")
    if not is_month(value):  # exact: no surrounding spaces or newlines
        raise InputError(f"expected a month as YYYY-MM, got {value!r}", field=field)
    return value


def month_end(month: Any, *, field: str = "month") -> dt.date:
    """Return the last day of a ``YYYY-MM`` month."""
    text = parse_month(month, field=field)
    year, number = int(text[:4]), int(text[5:])
    return dt.date(year, number, calendar.monthrange(year, number)[1])


def month_index(day: dt.date, start: dt.date) -> int:
    """Return the 1-based calendar month of ``day`` counted from the month of ``start``.

    The month containing ``start`` is month 1; a day in an earlier month gives 0 or less.
    """
    return (day.year - start.year) * 12 + day.month - start.month + 1


def complete_months(start: dt.date, through: dt.date) -> int:
    """Return how many calendar months from the month of ``start`` end on or before ``through``."""
    months = month_index(through, start)
    if through.day < calendar.monthrange(through.year, through.month)[1]:
        months -= 1
    return max(months, 0)
