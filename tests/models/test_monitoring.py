"""The month-indexed monitoring record: evidence tables merged with the ledger."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from decision.models.monitoring import (
    NOT_REPORTED,
    OBSERVED,
    freeze_status,
    monitoring_record,
)

SETTINGS = {"monitoring_start": "2017-09-01", "through": None}


def _obs(rows):
    columns = ["date", "actor", "kind", "value", "source", "confidence", "published"]
    rows = [(*r, r[0]) if len(r) == 6 else r for r in rows]
    return pd.DataFrame(rows, columns=columns)


def _status(record, month, kind):
    frame = record.status_frame()
    return frame[(frame["month"] == month) & (frame["kind"] == kind)]["status"].item()


def test_no_observations_before_monitoring_starts():
    rec = monitoring_record(None, SETTINGS, dt.date(2017, 8, 20))
    assert rec.months_monitored == 0 and rec.test_dates == ()
    assert freeze_status(rec, 6).accepted is None


def test_complete_months_only():
    assert monitoring_record(None, SETTINGS, dt.date(2017, 11, 29)).months_monitored == 2
    assert monitoring_record(None, SETTINGS, dt.date(2017, 11, 30)).months_monitored == 3


def test_the_evidence_tables_supply_the_tests_without_a_ledger():
    rec = monitoring_record(None, SETTINGS, dt.date(2017, 12, 31))
    assert dt.date(2017, 9, 3) in rec.test_dates  # the sixth nuclear test
    assert rec.test_months == (1, 3)  # September and November launches
    assert rec.tests_observed_through == 4
    for month in ("2017-09", "2017-10", "2017-11", "2017-12"):
        assert _status(rec, month, "missile_launch") == OBSERVED
        assert _status(rec, month, "nuclear_test") == OBSERVED
        # Exports and China's steps have no record: not reported, never "met".
        assert _status(rec, month, "suspected_export") == NOT_REPORTED
        assert _status(rec, month, "enforcement_step") == NOT_REPORTED
    frozen = freeze_status(rec, 6)
    assert (frozen.accepted, frozen.reason) == (0, "tests before any acceptance")
    assert frozen.breach_month is None


def test_the_running_month_is_seen_only_through_reported_events():
    rec = monitoring_record(None, SETTINGS, dt.date(2017, 9, 20))
    assert rec.months_monitored == 0
    assert rec.test_dates == (dt.date(2017, 9, 3),)  # the nuclear test; the launch count for
    assert _status(rec, "2017-09", "missile_launch") == NOT_REPORTED  # September is not final


def test_the_ledger_adds_a_launch_the_table_does_not_yet_count():
    launch = _obs([("2017-09-14", "DPRK", "missile_launch", 1, "synthetic", 1.0)])
    rec = monitoring_record(launch, SETTINGS, dt.date(2017, 9, 20))
    assert dt.date(2017, 9, 14) in rec.test_dates
    assert _status(rec, "2017-09", "missile_launch") == OBSERVED


def test_a_breach_is_a_test_on_or_after_the_acceptance():
    rows = [
        ("2017-10-02", "DPRK", "suspected_export", 1, "synthetic", 0.5),
        ("2017-10-05", "DPRK", "freeze_accepted", 1, "synthetic", 1.0),
        ("2018-01-10", "DPRK", "suspected_export", 1, "synthetic", 0.9),
    ]
    rec = monitoring_record(_obs(rows), SETTINGS, dt.date(2018, 2, 28))
    frozen = freeze_status(rec, 6)
    # Accepted in October (month 2); the September tests came before it, the November
    # launch (from the table) after it.
    assert (frozen.accepted, frozen.start_month, frozen.breach_month) == (1, 2, 3)
    assert frozen.breach_age == 2 and frozen.clean_months == 1
    assert rec.export_reports == ((2, 0.5), (5, 0.9))


def test_an_explicit_refusal_wins_over_the_implied_one():
    rows = [("2017-09-10", "DPRK", "freeze_accepted", 0, "synthetic", 1.0)]
    frozen = freeze_status(monitoring_record(_obs(rows), SETTINGS, dt.date(2017, 12, 31)), 6)
    assert (frozen.accepted, frozen.reason) == (0, "ledger")


def test_observations_after_the_cutoff_are_not_used():
    obs = _obs([("2017-12-05", "China", "enforcement_step", 1, "synthetic", 1.0)])
    assert monitoring_record(obs, SETTINGS, dt.date(2017, 11, 30)).steps_met == 0
    through = {**SETTINGS, "through": "2017-10-31"}
    assert monitoring_record(obs, through, dt.date(2018, 3, 1)).steps_met == 0
    assert monitoring_record(obs, SETTINGS, dt.date(2018, 3, 1)).steps_met == 1


def test_a_ledger_fact_published_after_the_cutoff_is_not_used():
    late = _obs([("2017-09-30", "China", "enforcement_step", 1, "synthetic", 1.0, "2017-10-20")])
    through = {**SETTINGS, "through": "2017-09-30"}
    rec = monitoring_record(late, through, dt.date(2018, 3, 1))
    assert rec.steps_met == 0
    assert _status(rec, "2017-09", "enforcement_step") == NOT_REPORTED
    assert monitoring_record(late, SETTINGS, dt.date(2017, 10, 20)).steps_met == 1


def test_china_steps_and_trade_levels():
    obs = _obs(
        [
            ("2017-09-30", "China", "enforcement_step", 1, "synthetic", 1.0),
            ("2017-10-31", "China", "enforcement_step", 0, "synthetic", 1.0),
            ("2017-10-31", "China", "trade_level", 0.8, "synthetic", 1.0),
            ("2017-11-02", "China", "accepts_proposal", 1, "synthetic", 1.0),
        ]
    )
    rec = monitoring_record(obs, SETTINGS, dt.date(2018, 3, 1))
    assert (rec.steps_met, rec.steps_missed) == (1, 1)
    assert rec.trade_levels == (0.8,)
    assert rec.china_accept_outcomes == (1,)
    assert _status(rec, "2017-10", "enforcement_step") == OBSERVED
    assert _status(rec, "2017-11", "enforcement_step") == NOT_REPORTED
