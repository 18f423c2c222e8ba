"""Rolling forecast origins: the months a backtest forecasts from, and the months it scores.

An origin is a month ``YYYY-MM``: the forecast covers that month and the ``horizon - 1``
months after it, and the models are fitted on what was public by the end of the day before
it (:func:`as_of_for`), so nothing inside the scored window is known when forecasting.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from decision.core.dates import parse_month
from decision.core.errors import InputError

__all__ = [
    "DEFAULT_END",
    "DEFAULT_EVERY",
    "DEFAULT_HORIZONS",
    "DEFAULT_START",
    "as_of_for",
    "origin_months",
    "parse_every",
    "parse_horizons",
    "window_months",
]

#: The issue's defaults: quarterly origins over 2013-2022, scored 6 and 12 months ahead.
DEFAULT_START = "2013-01"
DEFAULT_END = "2022-12"
DEFAULT_EVERY = "3M"
DEFAULT_HORIZONS = (6, 12)

_EVERY = re.compile(r"(?P<n>[1-9][0-9]*)(?P<unit>[MY])")


def parse_every(every: str, *, field: str = "--every") -> int:
    """Return the step between origins in months, from ``"3M"`` (months) or ``"1Y"`` (years).

    Raises
    ------
    InputError
        For anything else.
    """
    match = _EVERY.fullmatch(str(every).strip().upper())
    if match is None:
        raise InputError(
            f"expected a step like 3M (months) or 1Y (years), got {every!r}", field=field
        )
    n = int(match["n"])
    return n * 12 if match["unit"] == "Y" else n


def parse_horizons(text: str | int | list | tuple, *, field: str = "--horizon") -> tuple[int, ...]:
    """Return horizons in months, sorted and distinct, from ``"6,12"`` or a sequence.

    Raises
    ------
    InputError
        For a horizon that is not a whole number from 1 to 60.
    """
    parts = str(text).split(",") if isinstance(text, (str, int)) else list(text)
    out = set()
    for part in parts:
        try:
            value = int(str(part).strip())
        except ValueError:
            value = 0
        if not 1 <= value <= 60:
            raise InputError(
                f"expected horizons in months from 1 to 60 separated by commas, got {text!r}",
                field=field,
            )
        out.add(value)
    return tuple(sorted(out))


def origin_months(
    start: str = DEFAULT_START, end: str = DEFAULT_END, every: str = DEFAULT_EVERY
) -> list[str]:
    """Return the origin months from ``start`` to ``end`` (inclusive) every ``every``.

    Raises
    ------
    InputError
        For months that are not ``YYYY-MM``, an ``end`` before ``start`` or a bad step.
    """
    first = pd.Period(parse_month(start, field="--start"), freq="M")
    last = pd.Period(parse_month(end, field="--end"), freq="M")
    step = parse_every(every)
    if last < first:
        raise InputError(f"--end {end} is before --start {start}", field="--end")
    count = (last - first).n // step + 1
    return [str(first + i * step) for i in range(count)]


def as_of_for(origin: str) -> dt.date:
    """Return the day the models are fitted as of: the last day before the origin month."""
    first = pd.Period(parse_month(origin, field="origin"), freq="M").start_time
    return (first - pd.Timedelta(days=1)).date()


def window_months(origin: str, horizon: int) -> list[str]:
    """Return the ``horizon`` months scored from ``origin``, starting with the origin itself."""
    first = pd.Period(parse_month(origin, field="origin"), freq="M")
    return [str(first + i) for i in range(int(horizon))]
