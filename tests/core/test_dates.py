"""Months counted from a start: the index of a month and the complete months by a day."""

from __future__ import annotations

import datetime as dt

import pytest

from decision.core.dates import complete_months, month_end, month_index


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2017, 9, 1), 1),
        (dt.date(2017, 9, 30), 1),
        (dt.date(2017, 10, 1), 2),
        (dt.date(2018, 9, 15), 13),
        (dt.date(2017, 8, 31), 0),
        (dt.date(2016, 9, 15), -11),
    ],
)
def test_month_index_counts_calendar_months_from_the_start_month(day, expected):
    assert month_index(day, dt.date(2017, 9, 15)) == expected


@pytest.mark.parametrize(
    ("through", "expected"),
    [
        (dt.date(2017, 9, 29), 0),  # the start month is not over yet
        (dt.date(2017, 9, 30), 1),  # its last day completes it
        (dt.date(2017, 10, 30), 1),
        (dt.date(2017, 10, 31), 2),
        (dt.date(2018, 2, 28), 6),  # February's last day in a common year
        (dt.date(2017, 9, 10), 0),  # before the start: nothing, never negative
        (dt.date(2016, 1, 31), 0),
    ],
)
def test_complete_months_counts_months_whose_last_day_has_passed(through, expected):
    assert complete_months(dt.date(2017, 9, 15), through) == expected


def test_complete_months_agrees_with_month_end_on_every_day_of_a_leap_year():
    start = dt.date(2019, 12, 5)
    day = dt.date(2020, 1, 1)
    while day.year == 2020:
        k = month_index(day, start)
        ended = sum(month_end(f"2020-{m:02d}") <= day for m in range(1, 13)) + 1  # + Dec 2019
        assert complete_months(start, day) == ended, day
        assert k == day.month + 1
        day += dt.timedelta(days=1)
