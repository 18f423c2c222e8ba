"""Slow lane: real NUTS fits at the default budget, their convergence, and known answers.

Every fit the decision depends on must pass the gates (R-hat <= 1.01, bulk ESS >= 400, no
divergences): both models at the default ``as_of``, every shipped scenario's prior overrides,
and the worked 2017-18 ledger through every month from September 2017 to February 2018. Fits
are shared through one module-wide posterior cache, so identical inputs (a scenario with no
prior overrides, a ledger month whose data equal another fit's) are sampled once, by one of
the xdist workers.

Only the default fits (shared with the full-budget brief of ``tests/report/test_render.py``)
draw the predictive checks. The others draw none: the predictive draws have seeds of their
own, so the posterior checked is the one a user's fit gets, to the last digit, for about 4
CPU-seconds less a fit.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from decision import evidence
from decision.core.dates import month_end
from decision.core.yaml import read_yaml_file
from decision.models import MODELS, ChinaFollowThroughModel, DPRKComplianceModel
from decision.observations import load_observations

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
LEDGER = ROOT / "examples" / "monitoring-2017" / "observations.csv"
SCENARIOS = ROOT / "decision" / "cases" / "freeze_plus_pressure" / "scenarios"
LEDGER_MONTHS = ("2017-09", "2017-10", "2017-11", "2017-12", "2018-01", "2018-02")
NO_PREDICTIVE_CHECKS = {"prior_predictive_draws": 0, "posterior_predictive_draws": 0}


def _scenario_priors() -> dict[str, dict]:
    out = {}
    for path in sorted(SCENARIOS.glob("*.yaml")):
        priors = (read_yaml_file(path, what="a scenario file (YAML)") or {}).get("priors")
        if priors:
            out[path.stem] = priors
    return out


def _cases() -> dict[str, tuple[str, dict]]:
    """Fit label -> (model key, keyword arguments of the model)."""
    cases = {f"{key}-default": (key, {}) for key in MODELS}
    for scenario, priors in _scenario_priors().items():
        for key, override in priors.items():
            cases[f"{key}-scenario-{scenario}"] = (key, {"priors": override})
    ledger = load_observations(LEDGER)
    for month in LEDGER_MONTHS:
        as_of = month_end(month)
        for key in MODELS:
            cases[f"{key}-ledger-{month}"] = (key, {"as_of": as_of, "observations": ledger})
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def fitted(run_posterior_cache):
    """Fit (or serve from the run's shared cache) any case by label.

    The cache is one folder for the whole test run, shared by the xdist workers: a fit
    another worker made (or is making: its lock is waited for) is read, not sampled again.
    Its file names hold the fit's inputs, so only identical fits are shared.
    """
    cache = run_posterior_cache
    done: dict[str, object] = {}

    def get(label: str, model_cls=None, **kwargs):
        if label not in done:
            previous = os.environ.get("DECISION_CACHE_DIR")
            os.environ["DECISION_CACHE_DIR"] = str(cache)
            try:
                if model_cls is None:
                    key, kwargs = CASES[label]
                    model_cls = MODELS[key]
                if not label.endswith("-default"):
                    kwargs = {"sampler": NO_PREDICTIVE_CHECKS, **kwargs}
                # fit() waits for a fit another worker is sampling, and serves it.
                done[label] = model_cls(**kwargs).fit(use_cache=True)
                d = done[label].diagnostics
                print(
                    f"\n[fit] {label}: max R-hat {d.max_r_hat:.4f}, min bulk ESS "
                    f"{d.min_ess_bulk:.0f}, {d.divergences} divergences"
                )
            finally:
                if previous is None:
                    os.environ.pop("DECISION_CACHE_DIR", None)
                else:
                    os.environ["DECISION_CACHE_DIR"] = previous
        return done[label]

    return get


def test_the_cases_cover_every_scenario_and_ledger_month():
    assert {"dprk-default", "china-default"} <= set(CASES)
    assert "china-scenario-pessimistic-china" in CASES
    assert {f"china-ledger-{m}" for m in LEDGER_MONTHS} <= set(CASES)
    assert {f"dprk-ledger-{m}" for m in LEDGER_MONTHS} <= set(CASES)


@pytest.mark.parametrize("label", sorted(CASES))
def test_fit_converges(fitted, label):
    d = fitted(label).diagnostics
    assert d.ok, d.flags
    assert d.max_r_hat <= 1.01 and d.min_ess_bulk >= 400 and d.divergences == 0


def test_the_worked_ledger_after_september_reads_the_tests_as_a_refusal(fitted):
    for month in LEDGER_MONTHS:
        fit = fitted(f"dprk-ledger-{month}")
        assert np.all(fit.draws("p_accepts_and_holds_monitoring") == 0), month
        assert np.all(fit.draws("p_dprk_complies") == 0), month


def test_changing_the_acceptance_table_moves_p_accept(fitted, monkeypatch):
    base = fitted("dprk-default")
    original = evidence.dprk_offers

    def all_refused(as_of=None, **kwargs):
        frame = original(as_of=as_of, **kwargs).copy()
        frame["dprk_response"] = "refused"
        return frame

    monkeypatch.setattr(evidence, "dprk_offers", all_refused)
    refused = fitted("dprk-all-refused", DPRKComplianceModel)
    assert refused.diagnostics.ok, refused.diagnostics.flags
    for offer in ("freeze_for_freeze", "freeze_plus_pressure"):
        before = base.draws(f"p_accept_{offer}").mean()
        after = refused.draws(f"p_accept_{offer}").mean()
        assert after < before - 0.3, (offer, before, after)


def test_china_acceptance_matches_the_beta_binomial_closed_form(fitted):
    # The latent propensity has no pooling: Beta(a + w k_rec + k, b + w n_rec + n - k).
    outcomes = [1, 1, 0, 1, 1, 1, 0]
    obs = pd.DataFrame(
        {
            "date": [f"2017-{9 + i // 4:02d}-{1 + i:02d}" for i in range(7)],
            "actor": "China",
            "kind": "accepts_proposal",
            "value": outcomes,
            "source": "synthetic test data",
            "confidence": 1.0,
        }
    )
    fit = fitted("china-answers", ChinaFollowThroughModel, as_of="2017-12-31", observations=obs)
    model = ChinaFollowThroughModel(as_of="2017-12-31", observations=obs)
    a, b = model.priors["accepts"]["alpha"], model.priors["accepts"]["beta"]
    w = model.settings["acceptance_record_weight"]
    yes, no = model.data["record_accepted"], model.data["record_declined"]
    exact = stats.beta(a + w * yes + sum(outcomes), b + w * no + len(outcomes) - sum(outcomes))
    assert fit.diagnostics.ok, fit.diagnostics.flags
    draws = fit.draws("china_accept_propensity")
    ess = float(fit.diagnostics.min_ess_bulk)
    # Tolerance: 4 Monte Carlo standard errors of the mean, from the fit's own ESS.
    assert abs(draws.mean() - exact.mean()) < 4 * exact.std() / np.sqrt(ess)
    assert draws.std() == pytest.approx(exact.std(), rel=0.1)
    for q in (0.05, 0.5, 0.95):
        assert np.quantile(draws, q) == pytest.approx(exact.ppf(q), abs=0.03)
    # The tree's branch is the latest answer, in every draw.
    assert np.all(fit.draws("p_china_accepts") == 0)


def test_monitoring_updates_move_estimates_the_right_way(fitted):
    steps = pd.DataFrame(
        {
            "date": ["2017-09-28", "2017-10-28", "2017-11-28", "2017-12-28"],
            "actor": "China",
            "kind": "enforcement_step",
            "value": 1,
            "source": "synthetic test data",
            "confidence": 1.0,
        }
    )
    base = fitted("china-2017-12-31", ChinaFollowThroughModel, as_of="2017-12-31")
    met = fitted("china-steps-met", ChinaFollowThroughModel, as_of="2017-12-31", observations=steps)
    missed = fitted(
        "china-steps-missed",
        ChinaFollowThroughModel,
        as_of="2017-12-31",
        observations=steps.assign(value=0),
    )
    assert all(f.diagnostics.ok for f in (base, met, missed))
    mean = {
        k: f.draws("cooperation").mean()
        for k, f in {"base": base, "met": met, "missed": missed}.items()
    }
    assert mean["missed"] < mean["base"] < mean["met"]
    assert (
        met.draws("p_china_follows_through").mean() > base.draws("p_china_follows_through").mean()
    )


#: Sampled at the reports' tiny budget, whose compiled program the slow lane's renders share:
#: determinism needs no more draws than that.
_ONE_RUN = """
import sys
from decision.models import fit_models
from decision.testing import TINY_SAMPLER
fits = fit_models(sampler=dict(TINY_SAMPLER), use_cache=False)
for key, fit in fits.items():
    fit.idata.posterior.to_netcdf(f"{sys.argv[1]}-{key}.nc")
"""


def test_an_identical_seed_gives_identical_posteriors_across_runs(tmp_path):
    import subprocess
    import sys

    import xarray as xr

    for run in ("first", "second"):  # two processes: nothing is shared but the compile caches
        subprocess.run(
            [sys.executable, "-c", _ONE_RUN, str(tmp_path / run)], check=True, cwd=tmp_path
        )
    for key in MODELS:
        first = xr.load_dataset(tmp_path / f"first-{key}.nc")
        second = xr.load_dataset(tmp_path / f"second-{key}.nc")
        assert first.attrs["nuts_sampler"] == "numpyro"
        assert set(first.data_vars) == set(second.data_vars)
        for name in first.data_vars:
            np.testing.assert_array_equal(first[name].values, second[name].values, err_msg=name)
