"""The hindsight guard: judgments must be dated, and may not lean on what came later.

Two rules (``docs/elicitation.md``):

* a judgment elicited after the analysis's ``as_of`` date could use hindsight: it is allowed,
  but flagged wherever the analysis is reported (:func:`hindsight_flags`);
* a rationale may not cite events after its own elicitation date. What can be checked is
  checked (:func:`check_rationale`): every date the text mentions (ISO dates and months,
  "20 August 2017", "Aug 2017", "August 20, 2017", years and year ranges such as "2016-17")
  must begin on or before the record's date. A future period is referred to by the question's
  horizon ("the next spring exercises"), not by its date.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from decision.core.errors import InputError

__all__ = ["check_rationale", "cited_dates", "hindsight_flags"]

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = r"(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"


def _day(year: str, month: int, day: str) -> dt.date | None:
    try:
        return dt.date(int(year), month, int(day))
    except ValueError:
        return None


def _year_range(first: str, second: str) -> dt.date | None:
    """``2016-17`` or ``2016-2017``: the range's last year (a valid month reads as a month)."""
    if len(second) == 2:
        if 1 <= int(second) <= 12:
            return dt.date(int(first), int(second), 1)
        end = int(first[:2] + second)
        return dt.date(end, 1, 1) if end > int(first) else None
    return dt.date(int(second), 1, 1)


#: (pattern, the first day the match denotes), most specific first.
_PATTERNS = (
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), lambda m: _day(m[1], int(m[2]), m[3])),
    (
        re.compile(r"\b(\d{1,2})\s+" + _MONTH + r",?\s+(\d{4})\b", re.I),
        lambda m: _day(m[3], _MONTHS[m[2].lower()], m[1]),
    ),
    (
        re.compile(r"\b" + _MONTH + r"\s+(\d{1,2}),?\s+(\d{4})\b", re.I),
        lambda m: _day(m[3], _MONTHS[m[1].lower()], m[2]),
    ),
    (
        re.compile(r"\b" + _MONTH + r",?\s+(\d{4})\b", re.I),
        lambda m: dt.date(int(m[2]), _MONTHS[m[1].lower()], 1),
    ),
    (re.compile(r"\b(\d{4})\s*[-\u2013/]\s*(\d{4}|\d{2})\b"), lambda m: _year_range(m[1], m[2])),
    (re.compile(r"\b(1[89]\d{2}|2\d{3})\b"), lambda m: dt.date(int(m[1]), 1, 1)),
)


def cited_dates(text: str) -> list[tuple[str, dt.date]]:
    """Each date, month, year or year range ``text`` mentions, with the day it begins.

    A range (``2016-17``) begins, for this purpose, with its last year: it cites events up to
    then.
    """
    text = str(text)
    found: list[tuple[int, str, dt.date]] = []
    for pattern, when in _PATTERNS:
        for match in pattern.finditer(text):
            day = when(match)
            if day is not None:
                found.append((match.start(), match[0], day))
        # A matched span is not read again by a less specific pattern.
        text = pattern.sub(lambda m: " " * len(m[0]), text)
    return [(words, day) for _, words, day in sorted(found)]


def check_rationale(rationale: str, date: dt.date, *, file, field: str) -> None:
    """Check that a rationale cites nothing that begins after ``date``, its elicitation date.

    Raises
    ------
    InputError
        Naming the record file and the judgment's rationale, and the date cited.
    """
    for words, day in cited_dates(rationale):
        if day > date:
            raise InputError(
                f"the rationale cites '{words}' (from {day.isoformat()}), after the record's "
                f"date {date.isoformat()}: a judgment may use only what was known when it was "
                "elicited",
                file=file,
                field=field,
            )


def hindsight_flags(elicited: Iterable[tuple[str, str, dt.date]], as_of: dt.date) -> list[str]:
    """Messages for judgments elicited after the analysis date ``as_of``.

    Parameters
    ----------
    elicited
        ``(judgment, expert, date)`` for every answer in use.
    as_of
        The analysis's date.
    """
    flags = []
    for name, expert, date in elicited:
        if date > as_of:
            flags.append(
                f"{name}: elicited from {expert} on {date.isoformat()}, after the analysis "
                f"date {as_of.isoformat()}; it may reflect hindsight"
            )
    return flags
