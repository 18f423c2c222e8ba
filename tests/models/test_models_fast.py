"""The two models on fake posteriors: names, data wiring, as-of handling and monitoring semantics.

Fake sampling draws from the prior with a fixed seed, so two models that differ only in their
monitoring data share the same hyperparameter draws: the closed-form conditionals computed
from them can be compared draw by draw.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from decision import evidence
from decision.core.errors import InputError
from decision.models import ChinaFollowThroughModel, DPRKComplianceModel, prior_posterior_tables
from decision.testing import python_log_density


def _obs(rows):
    columns = ["date", "actor", "kind", "value", "source", "confidence", "published"]
    rows = [(*r, None) if len(r) == 6 else r for r in rows]
    frame = pd.DataFrame(rows, columns=columns)
    frame["published"] = frame["published"].fillna(frame["date"])
    return frame


def _fit(model_cls, tiny_sampler, **kwargs):
    return model_cls(sampler=tiny_sampler, **kwargs).fit(use_cache=False)


# ---------------------------------------------------------------------------
# Names and shapes
# ---------------------------------------------------------------------------


def test_dprk_headline_quantities(fake_sampling, tiny_sampler):
    fit = _fit(DPRKComplianceModel, tiny_sampler)
    draws = fit.headline_draws()
    assert set(draws) == set(DPRKComplianceModel.headline)
    for name in DPRKComplianceModel.headline:
        if name.startswith("p_") or name.startswith("breach_fraction"):
            assert np.all((draws[name] >= 0) & (draws[name] <= 1)), name
    assert np.all(draws["launches_prevented_per_month"] > 0)
    assert np.all(draws["nuclear_tests_prevented_per_month"] > 0)
    np.testing.assert_allclose(
        draws["p_dprk_complies"],
        draws["p_accept_freeze_plus_pressure"] * draws["p_hold_monitoring"] * draws["p_hold_after"],
        rtol=1e-9,
    )
    # Nothing observed: the branch quantities are the latent propensities.
    np.testing.assert_array_equal(
        draws["p_accept_freeze_for_freeze"], draws["accept_propensity_freeze_for_freeze"]
    )
    np.testing.assert_array_equal(draws["p_accept"], draws["p_accept_freeze_plus_pressure"])


def test_prior_variables_cover_every_prior_key():
    for cls in (DPRKComplianceModel, ChinaFollowThroughModel):
        assert set(cls.prior_variables) == set(cls.default_priors)


def test_prior_posterior_table(fake_sampling, tiny_sampler):
    fits = {
        "dprk": _fit(DPRKComplianceModel, tiny_sampler),
        "china": _fit(ChinaFollowThroughModel, tiny_sampler),
    }
    table = prior_posterior_tables(fits)
    assert list(table.columns) == [
        "model",
        "quantity",
        "prior mean",
        "prior 5%",
        "prior 95%",
        "posterior mean",
        "posterior 5%",
        "posterior 95%",
    ]
    assert len(table) == len(DPRKComplianceModel.headline) + len(fits["china"].headline_names)
    assert table[["prior mean", "posterior mean"]].notna().all().all()
    assert (table["prior 5%"] <= table["prior 95%"]).all()


# ---------------------------------------------------------------------------
# As-of and publication dates
# ---------------------------------------------------------------------------


def test_dprk_as_of_limits_the_evidence():
    early = DPRKComplianceModel(as_of="2017-08-20").data
    late = DPRKComplianceModel(as_of="2023-01-01").data
    assert len(early["agreement_months"]) == 5
    assert len(late["agreement_months"]) == 6
    # 2012-01 .. 2017-07 less the Leap Day freeze months (Feb, Mar 2012).
    assert len(early["missiles"]) == 12 * 5 + 7 - 2
    assert early["launch_freeze_months"] == ["2012-02", "2012-03"]
    assert np.isinf(early["agreement_upper"]).all()  # every earlier agreement was breached
    assert early["nuclear_tests_in_exposure"] == 3  # Feb 2013, Jan and Sep 2016
    assert early["nuclear_exposure_months"] == 65
    assert early["transfer_episodes"] == 2  # the Libyan uranium and the Syrian reactor
    assert "double_suspension_2017" in early["offer_ids"]
    assert "singapore_2018" not in early["offer_ids"]


def test_dprk_moratorium_is_censored_while_it_holds():
    data = DPRKComplianceModel(as_of="2019-01-01").data
    censored = ~np.isinf(data["agreement_upper"])
    assert censored.sum() == 1
    assert data["agreement_months"][censored][0] == pytest.approx(8.4, abs=0.2)
    # The self-declared moratorium's months (zero launches) are freeze months, not status quo.
    assert {"2018-04", "2018-12"} <= set(data["launch_freeze_months"])


def test_a_ledger_fact_published_after_through_is_ignored():
    accepted = _obs(
        [("2017-09-05", "DPRK", "freeze_accepted", 1, "synthetic test data", 1.0, "2017-10-02")]
    )
    settings = {"through": "2017-09-30"}
    before = DPRKComplianceModel(as_of="2018-03-31", observations=accepted, settings=settings)
    assert before.data["monitored_accepted"] == 0  # only the September tests are known
    assert before.data["acceptance_reason"] == "tests before any acceptance"
    after = DPRKComplianceModel(
        as_of="2018-03-31", observations=accepted, settings={"through": "2017-10-31"}
    )
    assert after.data["monitored_accepted"] == 1
    assert after.data["acceptance_reason"] == "ledger"


def test_a_customs_figure_published_after_the_cutoff_is_not_used():
    from decision.observations import load_observations

    ledger = load_observations("examples/monitoring-2017/observations.csv")
    september = ChinaFollowThroughModel(
        as_of="2017-10-31", observations=ledger, settings={"through": "2017-09-30"}
    ).data
    assert september["steps_met"] == 0 and september["steps_missed"] == 0
    october = ChinaFollowThroughModel(
        as_of="2017-10-31", observations=ledger, settings={"through": "2017-10-31"}
    ).data
    assert october["steps_met"] == 1  # the September figure, released 13 Oct 2017


# ---------------------------------------------------------------------------
# Monitoring semantics
# ---------------------------------------------------------------------------


def test_september_tests_from_the_tables_are_read_as_a_refusal(fake_sampling, tiny_sampler):
    # No ledger: the evidence tables alone show the 3 Sep nuclear test and the September and
    # November launches. The DPRK tested before accepting anything: it refused.
    model = DPRKComplianceModel(sampler=tiny_sampler, as_of="2017-12-31")
    assert model.data["monitored_accepted"] == 0
    assert model.data["acceptance_reason"] == "tests before any acceptance"
    assert model.data["breach_month"] == 0  # not a breach: no freeze was accepted
    fit = model.fit(use_cache=False)
    assert np.all(fit.draws("p_accept_freeze_plus_pressure") == 0)
    assert np.all(fit.draws("p_accepts_and_holds_monitoring") == 0)
    assert np.all(fit.draws("p_dprk_complies") == 0)
    # The latent propensity stays a separate, uncertain variable.
    assert fit.draws("accept_propensity_freeze_plus_pressure").std() > 0


def test_observed_acceptance_sets_the_branch_quantity_in_every_draw(fake_sampling, tiny_sampler):
    accepted = _obs([("2017-09-01", "DPRK", "freeze_accepted", 1, "synthetic test data", 1.0)])
    fit = _fit(DPRKComplianceModel, tiny_sampler, as_of="2017-09-02", observations=accepted)
    assert np.all(fit.draws("p_accept_freeze_plus_pressure") == 1)
    assert np.all(fit.draws("p_accept") == 1)
    # The other offer is not observed: its branch stays the latent propensity.
    np.testing.assert_array_equal(
        fit.draws("p_accept_freeze_for_freeze"), fit.draws("accept_propensity_freeze_for_freeze")
    )


def test_a_test_after_acceptance_inside_the_window_is_a_breach(fake_sampling, tiny_sampler):
    rows = [
        ("2017-09-01", "DPRK", "freeze_accepted", 1, "synthetic test data", 1.0),
    ]
    model = DPRKComplianceModel(sampler=tiny_sampler, as_of="2017-10-31", observations=_obs(rows))
    assert model.data["breach_month"] == 1  # the 3 Sep nuclear test, from the table
    fit = model.fit(use_cache=False)
    assert np.all(fit.draws("p_hold_monitoring") == 0)
    assert np.all(fit.draws("p_hold_after") == 0)
    assert np.all(fit.draws("breach_fraction_monitoring") == pytest.approx(0.5 / 6))


def _late_freeze(as_of, extra=()):
    """Build model arguments: a synthetic freeze accepted on 2 Jan 2018 (no more tests)."""
    rows = [("2018-01-02", "DPRK", "freeze_accepted", 1, "synthetic test data", 1.0), *extra]
    return {
        "as_of": as_of,
        "observations": _obs(rows),
        "settings": {"monitoring_start": "2018-01-01"},
    }


def test_a_breach_after_the_window_ends_the_next_cycle_not_the_window(fake_sampling, tiny_sampler):
    launch = [("2018-08-10", "DPRK", "missile_launch", 1, "synthetic test data", 1.0)]
    model = DPRKComplianceModel(sampler=tiny_sampler, **_late_freeze("2018-09-30", launch))
    assert model.data["breach_month"] == 8
    fit = model.fit(use_cache=False)
    assert np.all(fit.draws("p_hold_after") == 0)
    assert np.all(fit.draws("p_hold_monitoring") > 0)  # the window held (up to exports)
    # Detected exports are the only way the window could have looked broken.
    q = fit.draws("export_rate") * fit.draws("export_detection")
    np.testing.assert_allclose(fit.draws("p_hold_monitoring"), (1 - q) ** 6, rtol=1e-9)
    np.testing.assert_allclose(fit.draws("breach_fraction_after"), (8 - 6 - 0.5) / 12)


def test_monitoring_past_month_six_conditions_the_cycle_without_moving_it(
    fake_sampling, tiny_sampler
):
    at_six = _fit(DPRKComplianceModel, tiny_sampler, **_late_freeze("2018-06-30"))
    at_nine = DPRKComplianceModel(sampler=tiny_sampler, **_late_freeze("2018-09-30"))
    assert at_nine.data["clean_months"] == 9
    at_nine = at_nine.fit(use_cache=False)
    k, lam = at_nine.draws("breach_shape"), at_nine.draws("breach_scale")
    q = at_nine.draws("export_rate") * at_nine.draws("export_detection")

    def surv(t):
        return np.exp(-((t / lam) ** k))

    # The cycle still runs from month 7 to month 18; nine clean months condition it.
    np.testing.assert_allclose(
        at_nine.draws("p_hold_after"), surv(18) / surv(9) * (1 - q) ** 12, rtol=1e-9
    )
    np.testing.assert_allclose(at_nine.draws("p_hold_monitoring"), (1 - q) ** 6, rtol=1e-9)
    assert at_six.draws("p_hold_after").mean() > 0


def test_a_freeze_month_with_zero_launches_leaves_the_prevented_rate_unchanged(
    fake_sampling, tiny_sampler
):
    # A freeze accepted on 1 Dec 2017: Dec 2017 - Mar 2018 had no launches because of it.
    accepted = _obs([("2017-12-01", "DPRK", "freeze_accepted", 1, "synthetic test data", 1.0)])
    settings = {"monitoring_start": "2017-12-01"}
    freeze = DPRKComplianceModel(
        sampler=tiny_sampler, as_of="2018-03-31", observations=accepted, settings=settings
    )
    before = DPRKComplianceModel(sampler=tiny_sampler, as_of="2017-11-30", settings=settings)
    assert freeze.data["launch_freeze_months"][-4:] == ["2017-12", "2018-01", "2018-02", "2018-03"]
    for key in ("missiles", "long_range", "launch_period_index"):
        np.testing.assert_array_equal(freeze.data[key], before.data[key])
    assert freeze.data["n_periods"] == before.data["n_periods"]
    # Without the freeze those zero months are status quo and enter the record.
    status_quo = DPRKComplianceModel(as_of="2018-03-31", settings=settings)
    assert len(status_quo.data["missiles"]) == len(before.data["missiles"]) + 4
    a = freeze.fit(use_cache=False).draws("launches_prevented_per_month")
    b = before.fit(use_cache=False).draws("launches_prevented_per_month")
    np.testing.assert_allclose(a, b)


def test_testing_before_an_acceptance_is_not_a_breach():
    rows = [
        ("2017-10-01", "DPRK", "freeze_accepted", 1, "synthetic test data", 1.0),
    ]
    data = DPRKComplianceModel(as_of="2017-10-31", observations=_obs(rows)).data
    # The September tests came before the acceptance: no breach; the freeze began in October.
    assert data["monitored_accepted"] == 1
    assert data["breach_month"] == 0
    assert data["freeze_start_month"] == 2
    assert data["clean_months"] == 1


def test_changing_the_acceptance_table_moves_the_likelihood(monkeypatch):
    original = evidence.dprk_offers
    base_data = DPRKComplianceModel().data
    assert base_data["offer_outcomes"].sum() == 9  # 9 of 11 offers accepted or proposed

    def flipped(as_of=None, **kwargs):
        frame = original(as_of=as_of, **kwargs).copy()
        frame["dprk_response"] = np.where(
            frame["dprk_response"] == "refused", "accepted", "refused"
        )
        return frame

    model = DPRKComplianceModel().build()
    point = model.initial_point()
    slope_before = model.compile_dlogp(vars=[model["accept_willingness"]], mode="FAST_COMPILE")(
        point
    )
    monkeypatch.setattr(evidence, "dprk_offers", flipped)
    data = DPRKComplianceModel().data
    assert data["offer_outcomes"].sum() == 2
    flipped_model = DPRKComplianceModel().build()
    slope_after = flipped_model.compile_dlogp(
        vars=[flipped_model["accept_willingness"]], mode="FAST_COMPILE"
    )(point)
    # At willingness 1 the flipped answers are less likely than the real ones.
    point["accept_willingness"] = np.array(1.0)
    assert python_log_density(flipped_model)(point) < python_log_density(model)(point)
    # At willingness 0, mostly acceptances pull it up; mostly refusals pull it down.
    assert slope_before[0] > 0 > slope_after[0]


def test_dprk_bad_settings_are_rejected():
    with pytest.raises(InputError, match="monitored_offer"):
        DPRKComplianceModel(settings={"monitored_offer": "aid_for_freeze"})
    with pytest.raises(InputError, match="export_scope"):
        DPRKComplianceModel(settings={"export_scope": "chemical"})


def test_export_scope_counts_missile_transfers_too():
    nuclear = DPRKComplianceModel(as_of="2019-01-01").data
    wider = DPRKComplianceModel(
        as_of="2019-01-01", settings={"export_scope": "nuclear_and_missile"}
    )
    assert wider.data["transfer_episodes"] > nuclear["transfer_episodes"] == 2


# ---------------------------------------------------------------------------
# China
# ---------------------------------------------------------------------------


def test_china_level_probabilities_sum_to_one(fake_sampling, tiny_sampler):
    fit = _fit(ChinaFollowThroughModel, tiny_sampler)
    levels = sum(fit.draws(f"p_level_{n}") for n in ("low", "partial", "full"))
    np.testing.assert_allclose(levels, 1.0, atol=1e-9)
    np.testing.assert_array_equal(fit.draws("p_china_follows_through"), fit.draws("p_level_full"))
    np.testing.assert_array_equal(
        fit.draws("status_quo_enforcement"), fit.draws("cooperation_mean")
    )


def test_china_codings_enter_once_per_episode():
    data = ChinaFollowThroughModel(as_of="2017-08-20").data
    record = evidence.china_enforcement(as_of="2017-08-20")
    assert len(data["codes"]) == len(record)  # one observation per row, not four trials
    np.testing.assert_array_equal(data["codes"], np.rint(record["extent"] * 4))
    assert data["record_accepted"] == 8 and data["record_declined"] == 0
    assert max(data["status_quo_lag_days"]) <= 34


def test_china_met_steps_raise_follow_through(fake_sampling, tiny_sampler):
    met = _obs(
        [
            (f"2017-{m:02d}-28", "China", "enforcement_step", 1, "synthetic test data", 1.0)
            for m in (9, 10, 11)
        ]
    )
    missed = met.assign(value=0)
    kwargs = {"as_of": "2017-12-31"}
    base = _fit(ChinaFollowThroughModel, tiny_sampler, **kwargs).draws("p_china_follows_through")
    up = _fit(ChinaFollowThroughModel, tiny_sampler, observations=met, **kwargs)
    down = _fit(ChinaFollowThroughModel, tiny_sampler, observations=missed, **kwargs)
    assert np.all(up.draws("p_china_follows_through") >= base - 1e-12)
    assert np.all(down.draws("p_china_follows_through") <= base + 1e-12)
    assert up.draws("p_china_follows_through").mean() > base.mean()


def test_china_levels_are_settled_once_every_step_is_observed(fake_sampling, tiny_sampler):
    steps = _obs(
        [
            (f"2018-0{m}-01", "China", "enforcement_step", v, "synthetic test data", 1.0)
            for m, v in zip(range(1, 7), (1, 1, 1, 1, 1, 0), strict=True)
        ]
    )
    fit = _fit(ChinaFollowThroughModel, tiny_sampler, as_of="2018-07-31", observations=steps)
    # 5 of 6 scheduled steps met: an observed share of 0.83, the full level in every draw.
    assert np.all(fit.draws("p_level_full") == pytest.approx(1.0))
    assert np.all(fit.draws("p_level_low") == pytest.approx(0.0))


def test_china_observed_answer_sets_the_branch_quantity(fake_sampling, tiny_sampler):
    answer = _obs([("2017-09-15", "China", "accepts_proposal", 0, "synthetic test data", 1.0)])
    fit = _fit(ChinaFollowThroughModel, tiny_sampler, as_of="2017-09-30", observations=answer)
    assert np.all(fit.draws("p_china_accepts") == 0)
    assert fit.draws("china_accept_propensity").std() > 0


def test_china_recency_weights_favour_recent_episodes():
    data = ChinaFollowThroughModel(as_of="2017-08-20", settings={"half_life_years": 2.0}).data
    assert np.all((data["weights"] > 0) & (data["weights"] <= 1))
    assert data["weights"].max() > 0.4  # the most recent episode, shared by its two rows


def test_china_bad_settings_are_rejected():
    with pytest.raises(InputError, match="level_cutpoints"):
        ChinaFollowThroughModel(settings={"level_cutpoints": [0.8, 0.4]})
    with pytest.raises(InputError, match="scheduled_steps"):
        ChinaFollowThroughModel(settings={"scheduled_steps": 0})
    with pytest.raises(InputError, match="acceptance_record_weight"):
        ChinaFollowThroughModel(settings={"acceptance_record_weight": 2.0})


def test_predictive_check_compares_data_with_prior_and_posterior_predictions(
    fake_sampling, tiny_sampler
):
    fit = _fit(DPRKComplianceModel, tiny_sampler)
    table = fit.predictive_check("missiles")
    assert table["statistic"].tolist() == ["mean", "sd", "share of zeros", "largest"]
    observed = DPRKComplianceModel().data["period_missiles"]
    assert table.set_index("statistic").loc["mean", "observed"] == pytest.approx(observed.mean())
    assert table[["prior mean", "posterior mean", "posterior p-value"]].notna().all().all()


def test_the_prior_side_ignores_the_monitoring_record(fake_sampling, tiny_sampler):
    fit = _fit(DPRKComplianceModel, tiny_sampler, as_of="2017-12-31")
    # Posterior: the September tests are a refusal (0 in every draw); prior: the propensity.
    assert np.all(fit.draws("p_accept") == 0)
    prior = fit.prior_draws("p_accept")
    assert prior is not None and 0 < prior.mean() < 1
    np.testing.assert_array_equal(prior, fit.prior_draws("accept_propensity_freeze_plus_pressure"))


# ---------------------------------------------------------------------------
# Fitting both models: compiling side by side
# ---------------------------------------------------------------------------


def _record_prepares(monkeypatch) -> list[tuple[str, str]]:
    """Record (model name, thread name) for each ahead-of-time compilation of a sampler."""
    import threading

    from decision.models import compiled

    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(
        compiled,
        "prepare",
        lambda bayes_model, **kw: calls.append((bayes_model.name, threading.current_thread().name)),
    )
    return calls


def test_fit_models_compiles_both_samplers_in_worker_threads(
    fake_sampling, tiny_sampler, monkeypatch
):
    import threading

    from decision.models import fit_models

    calls = _record_prepares(monkeypatch)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    fits = fit_models(sampler=tiny_sampler)
    assert sorted(name for name, _ in calls) == sorted(fit.model_name for fit in fits.values())
    assert all(thread != threading.main_thread().name for _, thread in calls)
    assert {"prior", "posterior"} <= set(fits["dprk"].idata.groups())


def test_fit_models_compiles_nothing_ahead_for_one_model_a_cached_one_or_one_core(
    fake_sampling, tiny_sampler, monkeypatch
):
    from decision.models import fit_models

    calls = _record_prepares(monkeypatch)
    fit_models(sampler=tiny_sampler, keys=["china"])  # one model: nothing to overlap
    fit_models(sampler=tiny_sampler, keys=["china", "dprk"])  # china is cached now
    fit_models(sampler={**tiny_sampler, "nuts_sampler": "pymc"}, use_cache=False)
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    fit_models(sampler={**tiny_sampler, "random_seed": 7}, use_cache=False)
    assert calls == []
