"""The backtest end to end on three origins with the fake sampler (plumbing, not inference)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from decision.backtest import (
    BASELINES,
    as_of_for,
    oracle_forecast,
    outcomes,
    read_table,
    run_backtest,
    score_all,
)
from decision.backtest.summary import comparison_table, verdicts
from decision.backtest.truth import EVENT_QUANTITIES, Outcome

#: Origins whose windows hold launches, a nuclear test (2016-01, 2017-07) and quiet months.
ORIGINS = ["2016-01", "2017-07", "2019-04"]
HORIZONS = (6,)


@pytest.fixture(scope="module")
def backtest(tmp_path_factory):
    """Run the backtest once on three origins with fake sampling, on a cluster of threads."""
    from decision.testing import FAKE_SAMPLER, patch_fake_sampling

    folder = tmp_path_factory.mktemp("backtest")
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch_fake_sampling(patch)
        patch.setenv("DECISION_CACHE_DIR", str(cache))
        summary = run_backtest(
            ORIGINS,
            HORIZONS,
            folder,
            sampler=FAKE_SAMPLER,
            workers=1,
            processes=False,
            progress=False,
        )
        again = run_backtest(
            ORIGINS, HORIZONS, folder, sampler=FAKE_SAMPLER, workers=1, processes=False
        )
    return summary, again, read_table(summary.folder)


def test_table_has_one_row_per_origin_outcome_and_forecaster(backtest):
    summary, _, table = backtest
    assert summary.ok and summary.computed == len(ORIGINS)
    expected = 0
    for origin in ORIGINS:
        for outcome in outcomes(origin, HORIZONS[0]):
            rows = table[
                (table["origin"] == origin)
                & (table["quantity"] == outcome.quantity)
                & (table["item"] == outcome.item)
            ]
            assert (rows["observed"] == outcome.observed).all()
            assert rows["forecaster"].is_unique
            expected += len(rows)
            if outcome.quantity.startswith("launches") or outcome.quantity == "nuclear_test":
                assert set(rows["forecaster"]) == {"model", *BASELINES}
    assert len(table) == expected
    assert set(table["origin"]) == set(ORIGINS)
    assert not table.duplicated(["origin", "horizon", "quantity", "item", "forecaster"]).any()
    assert table["error"].isna().all()
    scores = table[["log_score", "crps", "pit"]]
    assert np.isfinite(scores.to_numpy()).all()
    assert table["pit"].between(0, 1).all()


def test_no_origin_used_a_row_published_after_it(backtest):
    _, _, table = backtest
    for origin, rows in table.groupby("origin"):
        first_day = pd.Timestamp(f"{origin}-01")
        assert (pd.to_datetime(rows["evidence_latest"]) < first_day).all()
        model = rows[rows["forecaster"] == "model"]
        assert (model["fit_as_of"] == as_of_for(origin).isoformat()).all()
        assert as_of_for(origin) == (first_day - pd.Timedelta(days=1)).date()


def test_a_rerun_computes_nothing(backtest):
    _, again, _ = backtest
    assert again.computed == 0 and again.done_before == len(ORIGINS)


def _oracle_rows(table: pd.DataFrame, scale: float) -> pd.DataFrame:
    keys = table.drop_duplicates(["origin", "horizon", "quantity", "item"])
    rows = []
    for row in keys.itertuples():
        outcome = Outcome(row.origin, row.horizon, row.quantity, row.item, int(row.observed))
        scored = score_all(
            oracle_forecast(outcome, scale=scale),
            outcome.observed,
            0.5,
            event=outcome.quantity in EVENT_QUANTITIES,
        )
        rows.append({**row._asdict(), **scored, "forecaster": f"oracle x{scale:g}"})
    return pd.DataFrame(rows).drop(columns="Index")


def test_a_perfect_forecaster_beats_every_baseline_and_one_three_times_off_loses(backtest):
    _, _, table = backtest
    perfect = pd.concat([table, _oracle_rows(table, 1.0)], ignore_index=True)
    perfect.loc[perfect["forecaster"] == "model", "forecaster"] = "model (fake draws)"
    perfect.loc[perfect["forecaster"] == "oracle x1", "forecaster"] = "model"
    compared = comparison_table(perfect)
    assert len(compared) and compared["model_better"].all()
    assert set(compared["quantity"]) >= {"launches_all", "launches_long_range", "nuclear_test"}

    shifted = pd.concat([table, _oracle_rows(table, 3.0)], ignore_index=True)
    shifted = shifted[shifted["forecaster"] != "model"]
    shifted.loc[shifted["forecaster"] == "oracle x3", "forecaster"] = "model"
    counts = comparison_table(shifted)
    counts = counts[counts["quantity"].isin(["launches_all", "launches_long_range"])]
    for (_quantity, metric), group in counts.groupby(["quantity", "metric"]):
        # The shifted forecaster loses to the best baseline on every count and metric.
        assert not group["model_better"].all(), (metric, group)
    words = verdicts(shifted)
    assert "loses" in words["launches_all"] or "worse" in words["launches_all"]


def test_origins_beyond_the_evidence_are_skipped(tmp_path):
    summary = run_backtest(["2023-01"], (6,), tmp_path, workers=1, processes=False, progress=False)
    assert summary.skipped == ["2023-01"] and summary.computed == 0


def test_another_setting_in_the_same_folder_is_refused(backtest, tmp_path):
    from decision.core.errors import InputError

    run_backtest(["2023-01"], (6,), tmp_path, workers=1, processes=False, progress=False)
    with pytest.raises(InputError, match="horizons"):
        run_backtest(["2023-01"], (12,), tmp_path, workers=1, processes=False, progress=False)


def test_a_folder_scored_by_other_model_code_is_refused(tmp_path, monkeypatch):
    from decision.core.errors import InputError
    from decision.models import DPRKComplianceModel

    run_backtest(["2023-01"], (6,), tmp_path, workers=1, processes=False, progress=False)
    monkeypatch.setattr(DPRKComplianceModel, "source_hash", classmethod(lambda cls: "0" * 16))
    with pytest.raises(InputError, match="code"):
        run_backtest(["2023-01"], (6,), tmp_path, workers=1, processes=False, progress=False)


def test_as_of_is_the_day_before_the_origin():
    assert as_of_for("2018-03") == dt.date(2018, 2, 28)


def test_the_report_renders_every_section(backtest, tmp_path):
    import nbformat

    from decision.report import render_report

    summary, _, _ = backtest
    target = render_report(
        {"backtest_folder": summary.folder}, template="backtest", out_dir=tmp_path, name="bt"
    )
    html = (target / "report.html").read_text(encoding="utf-8")
    for heading in (
        "The model against the best baseline",
        "Where the model loses",
        "Calibration",
        "Predicted against actual launches",
        "Counterfactual replay",
    ):
        assert heading in html
    notebook = nbformat.read(target / "report.ipynb", as_version=4)
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 3  # coverage, PIT, fan
