"""The month-indexed monitoring record the models are fitted to."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from decision.models.monitoring import monitoring_record

SETTINGS = {"monitoring_start": "2017-09-01", "through": None}


def _obs(rows):
    return pd.DataFrame(rows, columns=["date", "actor", "kind", "value", "source", "confidence"])


def test_no_observations_before_monitoring_starts():
    rec = monitoring_record(None, SETTINGS, dt.date(2017, 8, 20))
    assert rec.months_monitored == 0 and rec.dprk_breach_month is None


def test_complete_months_only():
    assert monitoring_record(None, SETTINGS, dt.date(2017, 11, 29)).months_monitored == 2
    assert monitoring_record(None, SETTINGS, dt.date(2017, 11, 30)).months_monitored == 3


def test_first_launch_sets_the_breach_month_and_ignores_later_rows():
    obs = _obs(
        [
            ("2017-10-02", "DPRK", "suspected_export", 1, "synthetic", 0.5),
            ("2017-11-28", "DPRK", "missile_launch", 1, "synthetic", 1.0),
            ("2018-01-10", "DPRK", "suspected_export", 1, "synthetic", 0.9),
        ]
    )
    rec = monitoring_record(obs, SETTINGS, dt.date(2018, 2, 28))
    assert rec.dprk_breach_month == 3
    assert rec.export_confidence_by_month == (0.0, 0.5)


def test_observations_after_the_cutoff_are_not_used():
    obs = _obs([("2017-12-05", "China", "enforcement_step", 1, "synthetic", 1.0)])
    assert monitoring_record(obs, SETTINGS, dt.date(2017, 11, 30)).steps_met == 0
    through = {**SETTINGS, "through": "2017-10-31"}
    assert monitoring_record(obs, through, dt.date(2018, 3, 1)).steps_met == 0
    assert monitoring_record(obs, SETTINGS, dt.date(2018, 3, 1)).steps_met == 1


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
