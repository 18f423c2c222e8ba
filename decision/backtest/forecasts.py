"""Forecasts at an origin: the models' posterior predictive and the simple baselines.

Every forecast is a probability mass function over ``0..K`` (see :mod:`.scores`), one per
:class:`~decision.backtest.truth.Outcome` and forecaster.

The model (``model``)
    Both models fitted with ``as_of`` = the day before the origin (:func:`fit_models_at`;
    the models read evidence by publication date, and fits are served from the posterior
    cache when unchanged). Per posterior draw:

    * launches: the DPRK model's negative binomial with the random-walk rate (quarterly by
      default): the walk's steps over the twelve months after its last status-quo period
      are sampled with the model, later steps drawn from the walk; long-range missiles are
      the walk's long-range share of them (a thinned negative binomial is again negative
      binomial). The sum over the window is a negative binomial matched to its mean and
      variance, and the predictive is the mixture over draws. Counts are negative binomial
      per walk period (the model's likelihood), so the months of a period are summed first.
      The walk is the **status-quo** rate; when a freeze of missile tests holds at the
      origin (the 2018 moratorium until May 2019), its long-range part counts only after
      the freeze breaks (the freezes on record covered long-range launches only), with each
      draw's breach time from its Weibull given the freeze's age.
    * nuclear test: ``1 - exp(-nuclear_rate * months)``, averaged over draws; ``months`` is
      the horizon, or, under a holding nuclear-test freeze, the months after its breach.
    * agreement breach: the Weibull breach model given the agreement's age at the origin,
      ``1 - S(age + horizon) / S(age)``, averaged over draws.
    * China's extent: the coded extent of a new episode, from the enforcement population
      (beta with the posterior ``cooperation_mean`` and ``cooperation_concentration``, read
      in quarters as the model reads its record).
    * China's lag: the China model has no distribution of lags (it records the status-quo
      lags it has seen, ``status_quo_lag_days``, but does not model them), so it makes no
      forecast; only the baselines are scored.

Baselines (from the evidence public at the origin, nothing fitted)
    ``last_12_months``
        The rate of the 12 months before the origin: Poisson counts, ``1 - exp(-rate h)``
        for events; for China, the episodes adopted in those 12 months.
    ``long_run_mean``
        The mean over the whole record before the origin, with the record's own spread:
        a negative binomial with the monthly mean and variance of the launch record (from
        :data:`LAUNCH_RECORD_START`); for events, the share of past ``h``-month windows (of
        the nuclear record from its first test; of earlier agreements at the same age) in
        which the event happened; for China, the frequency of each coded extent and a
        geometric distribution with the mean lag.
    ``poisson_mle``
        A Poisson process fitted by maximum likelihood to everything before the origin:
        counts ``Poisson(h x mean)``, events ``1 - exp(-rate h)`` (agreements: breaches per
        agreement-month), lags ``Poisson(mean lag)``.

Floors (so that a log score stays finite): an event probability is kept within
[:data:`EVENT_FLOOR`, 1 - :data:`EVENT_FLOOR`], a Poisson mean is at least
:data:`MEAN_FLOOR`. A baseline with no history to compute from (no lag on record before the
origin, no agreement that reached the same age) makes no forecast.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from decision import evidence
from decision.backtest.origins import as_of_for, window_months
from decision.backtest.truth import Outcome, standing_agreements
from decision.evidence import DAYS_PER_MONTH

__all__ = [
    "BASELINES",
    "EVENT_FLOOR",
    "FORECASTERS",
    "LAUNCH_RECORD_START",
    "MEAN_FLOOR",
    "History",
    "ModelDraws",
    "baseline_forecasts",
    "fit_models_at",
    "model_forecast",
    "oracle_forecast",
]

#: The baselines, and every forecaster, in table order.
BASELINES = ("last_12_months", "long_run_mean", "poisson_mle")
FORECASTERS = ("model", *BASELINES)

#: Event probabilities are kept within [EVENT_FLOOR, 1 - EVENT_FLOOR].
EVENT_FLOOR = 1e-3
#: A Poisson forecast's mean is at least this (a count of exactly zero is never certain).
MEAN_FLOOR = 0.01
#: The launch record the long-run baselines average over starts here (as the model's does).
LAUNCH_RECORD_START = "2012-01"
#: Highest value a forecast's support reaches (whole numbers 0..MAX_SUPPORT).
MAX_SUPPORT = 20_000
#: Posterior draws a model forecast mixes over (a seeded subsample when there are more).
MIXTURE_DRAWS = 1000


# ------------------------------------------------------------------------ distributions


def _support(mean: float, var: float) -> int:
    """Return a support end past the 1 - 1e-9 quantile of a count with this mean and variance."""
    return int(min(MAX_SUPPORT, np.ceil(mean + 14.0 * np.sqrt(max(var, mean, 1e-9)) + 20)))


def _nb_pmf(means: np.ndarray, variances: np.ndarray, size: int) -> np.ndarray:
    """Mixture over components of negative binomials matched to means and variances.

    A component whose variance does not exceed its mean is a Poisson.
    """
    means = np.maximum(np.asarray(means, dtype=float), MEAN_FLOOR)
    variances = np.asarray(variances, dtype=float)
    k = np.arange(size)[:, None]
    over = variances > means * (1 + 1e-9)
    pmf = np.zeros((size, means.size))
    if np.any(~over):
        pmf[:, ~over] = stats.poisson.pmf(k, means[~over])
    if np.any(over):
        n = means[over] ** 2 / (variances[over] - means[over])
        p = n / (n + means[over])
        pmf[:, over] = stats.nbinom.pmf(k, n, p)
    out = pmf.mean(axis=1)
    return out / out.sum()


def _poisson(mean: float) -> np.ndarray:
    mean = max(float(mean), MEAN_FLOOR)
    return _nb_pmf(np.array([mean]), np.array([mean]), _support(mean, mean))


def _event(p: float) -> np.ndarray:
    p = float(np.clip(p, EVENT_FLOOR, 1 - EVENT_FLOOR))
    return np.array([1 - p, p])


def _geometric(mean: float) -> np.ndarray:
    """Geometric on 0, 1, ... with the given mean (the discrete exponential)."""
    mean = max(float(mean), MEAN_FLOOR)
    q = 1.0 / (1.0 + mean)
    size = _support(mean, mean * (1 + mean))
    pmf = q * (1 - q) ** np.arange(size)
    return pmf / pmf.sum()


def _categorical(counts: np.ndarray) -> np.ndarray:
    """Frequencies with half a count added to each category (Jeffreys)."""
    counts = np.asarray(counts, dtype=float) + 0.5
    return counts / counts.sum()


# ------------------------------------------------------------------------ the history


@dataclasses.dataclass(frozen=True)
class History:
    """The evidence public at an origin (``as_of``): what every baseline is computed from."""

    origin: str
    as_of: dt.date
    launches: pd.DataFrame
    nuclear: pd.DataFrame
    agreements: pd.DataFrame
    resolutions: pd.DataFrame

    @classmethod
    def at(cls, origin: str) -> History:
        """Load the tables as public on the day before ``origin``."""
        as_of = as_of_for(origin)
        enforcement = evidence.china_enforcement(as_of=as_of)
        return cls(
            origin,
            as_of,
            evidence.launches_monthly(as_of=as_of),
            evidence.nuclear_tests(as_of=as_of),
            evidence.agreements(as_of=as_of),
            enforcement[enforcement["measure_type"] == "unsc_resolution"].reset_index(drop=True),
        )

    def latest_published(self) -> pd.Timestamp | None:
        """Return the latest ``published`` date of any row read (None if none)."""
        dates = [
            t["published"].max()
            for t in (self.launches, self.nuclear, self.agreements, self.resolutions)
            if len(t)
        ]
        return max(dates) if dates else None


def _months_before(history: History, months: int) -> list[str]:
    first = pd.Period(history.origin, freq="M")
    return [str(first - i) for i in range(months, 0, -1)]


# ------------------------------------------------------------------------ baselines


def _launch_baselines(history: History, horizon: int, column: str) -> dict[str, np.ndarray]:
    record = history.launches[history.launches["month"] >= LAUNCH_RECORD_START]
    complete = record[record["month"] < history.origin]
    counts = complete[column].to_numpy(dtype=float)
    last = complete[complete["month"].isin(_months_before(history, 12))][column]
    mean = counts.mean()
    var = counts.var(ddof=1) if counts.size > 1 else mean
    return {
        "last_12_months": _poisson(horizon * last.mean()),
        "long_run_mean": _nb_pmf(
            np.array([horizon * mean]),
            np.array([horizon * var]),
            _support(horizon * mean, horizon * var),
        ),
        "poisson_mle": _poisson(horizon * mean),
    }


def _nuclear_baselines(history: History, horizon: int) -> dict[str, np.ndarray]:
    tests = history.nuclear["date"].dt.strftime("%Y-%m").tolist()
    if not tests:
        return {}
    months = [str(p) for p in pd.period_range(tests[0], history.origin, freq="M")][:-1]
    tested = np.isin(months, tests)
    recent = tested[-12:]
    windows = [tested[i : i + horizon].any() for i in range(len(months) - horizon + 1)]
    rate = tested.sum() / max(len(months), 1)
    out = {
        "last_12_months": _event(1 - np.exp(-recent.mean() * horizon)),
        "poisson_mle": _event(1 - np.exp(-rate * horizon)),
    }
    if windows:
        out["long_run_mean"] = _event(np.mean(windows))
    return out


def _agreement_baselines(history: History, horizon: int, age: float) -> dict[str, np.ndarray]:
    table = history.agreements
    out: dict[str, np.ndarray] = {}
    exposure = table["duration_months"].sum()
    if exposure > 0:
        rate = table["observed"].sum() / exposure
        out["poisson_mle"] = _event(1 - np.exp(-rate * horizon))
    reached = table[table["duration_months"] > age]
    known = reached[reached["observed"] | (reached["duration_months"] >= age + horizon)]
    if len(known):
        broke = known["observed"] & (known["months_to_breach"] <= age + horizon)
        out["long_run_mean"] = _event(broke.mean())
    start = pd.Timestamp(history.as_of) - pd.DateOffset(months=12)
    signed = table["signed"].clip(lower=start)
    ends = table["signed"] + pd.to_timedelta(table["duration_months"] * DAYS_PER_MONTH, unit="D")
    recent = ((ends - signed).dt.days / DAYS_PER_MONTH).clip(lower=0).sum()
    if recent > 0:
        breaches = (table["observed"] & (table["breach_date"] > start)).sum()
        out["last_12_months"] = _event(1 - np.exp(-breaches / recent * horizon))
    return out


def _china_baselines(history: History, quantity: str) -> dict[str, np.ndarray]:
    table = history.resolutions
    start = pd.Timestamp(history.as_of) - pd.DateOffset(months=12)
    recent = table[table["commitment_date"] > start]
    out: dict[str, np.ndarray] = {}
    if quantity == "china_extent":
        for name, rows in (("long_run_mean", table), ("last_12_months", recent)):
            if len(rows):
                codes = np.rint(rows["extent"].to_numpy(dtype=float) * 4).astype(int)
                out[name] = _categorical(np.bincount(codes, minlength=5))
        return out
    lags = {
        name: rows["lag_months"].dropna().to_numpy(dtype=float) * DAYS_PER_MONTH
        for name, rows in (("long_run_mean", table), ("last_12_months", recent))
    }
    if lags["long_run_mean"].size:
        out["long_run_mean"] = _geometric(lags["long_run_mean"].mean())
        out["poisson_mle"] = _poisson(lags["long_run_mean"].mean())
    if lags["last_12_months"].size:
        out["last_12_months"] = _geometric(lags["last_12_months"].mean())
    return out


def baseline_forecasts(history: History, outcome: Outcome) -> dict[str, np.ndarray]:
    """Return each baseline's forecast of ``outcome`` (a baseline without history is absent)."""
    q, h = outcome.quantity, outcome.horizon
    if q == "launches_all":
        return _launch_baselines(history, h, "missiles")
    if q == "launches_long_range":
        return _launch_baselines(history, h, "long_range_missiles")
    if q == "nuclear_test":
        return _nuclear_baselines(history, h)
    if q == "agreement_breach":
        ages = standing_agreements(history.as_of).set_index("agreement")["duration_months"]
        return _agreement_baselines(history, h, float(ages[outcome.item]))
    if q in ("china_extent", "china_lag_days"):
        return _china_baselines(history, q)
    raise ValueError(f"unknown quantity {q!r}")


# ------------------------------------------------------------------------ the model


def fit_models_at(
    origin: str, *, sampler: Mapping[str, Any] | None = None, use_cache: bool = True
) -> tuple[dict, dict]:
    """Fit both models as of the day before ``origin`` (or serve them from the cache).

    Returns the models (for their data) and the fits, keyed ``dprk`` and ``china``.
    """
    from decision.models import build_models

    models = build_models(as_of=as_of_for(origin), sampler=sampler)
    fits = {key: model.fit(use_cache=use_cache) for key, model in models.items()}
    return models, fits


@dataclasses.dataclass
class ModelDraws:
    """The posterior draws a model forecast needs, as flat arrays (one value per draw).

    The launch walk is kept in absolute periods (``year * 12 + month - 1`` divided by
    ``period_months``): ``last_period`` is the walk's last period with status-quo data,
    ``log_rate_ahead`` and ``logit_share_ahead`` its next ``periods_ahead`` periods (draws x
    periods, sampled with the model); later periods continue the walk with fresh steps.
    ``freeze_ages`` holds the age in months of each kind of freeze (``missiles``,
    ``nuclear``) holding at the origin (:func:`decision.models.dprk.holding_freezes`).
    """

    period_months: int
    last_period: int
    log_rate_last: np.ndarray
    log_rate_ahead: np.ndarray
    drift: np.ndarray
    dispersion: np.ndarray
    logit_share_last: np.ndarray
    logit_share_ahead: np.ndarray
    share_drift: np.ndarray
    nuclear_rate: np.ndarray
    breach_shape: np.ndarray
    breach_scale: np.ndarray
    cooperation_mean: np.ndarray
    cooperation_concentration: np.ndarray
    freeze_ages: dict[str, float] = dataclasses.field(default_factory=dict)
    diagnostics_ok: bool = True
    flags: tuple[str, ...] = ()
    from_cache: bool = False

    @classmethod
    def from_fits(cls, models: Mapping, fits: Mapping, *, seed: int) -> ModelDraws:
        """Take the draws from fitted ``dprk`` and ``china`` models (a seeded subsample)."""
        from decision.models.dprk import holding_freezes

        dprk, china = fits["dprk"], fits["china"]
        n = len(dprk.draws("rate_drift"))
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(n, MIXTURE_DRAWS, replace=False)) if n > MIXTURE_DRAWS else None

        def take(fit, name: str) -> np.ndarray:
            values = np.asarray(fit.draws(name), dtype=float)
            return values if keep is None or len(values) != n else values[keep]

        def logit(p: np.ndarray) -> np.ndarray:
            p = np.clip(p, 1e-12, 1 - 1e-12)
            return np.log(p) - np.log1p(-p)

        m = len(china.draws("cooperation_mean"))
        china_keep = np.sort(rng.choice(m, min(m, MIXTURE_DRAWS), replace=False))
        data, settings = models["dprk"].data, models["dprk"].settings
        return cls(
            period_months=int(settings["launch_period_months"]),
            last_period=int(data["first_launch_period"] + data["n_periods"] - 1),
            log_rate_last=take(dprk, "log_rate")[:, -1],
            log_rate_ahead=take(dprk, "log_rate_ahead"),
            drift=take(dprk, "rate_drift"),
            dispersion=take(dprk, "launch_dispersion"),
            logit_share_last=logit(take(dprk, "long_range_share")[:, -1]),
            logit_share_ahead=logit(take(dprk, "long_range_share_ahead")),
            share_drift=take(dprk, "long_range_drift"),
            nuclear_rate=take(dprk, "nuclear_rate"),
            breach_shape=take(dprk, "breach_shape"),
            breach_scale=take(dprk, "breach_scale"),
            cooperation_mean=np.asarray(china.draws("cooperation_mean"))[china_keep],
            cooperation_concentration=np.asarray(china.draws("cooperation_concentration"))[
                china_keep
            ],
            freeze_ages=holding_freezes(models["dprk"].as_of),
            diagnostics_ok=all(f.diagnostics.ok for f in fits.values()),
            flags=tuple(m for m in (f.flagged_message() for f in fits.values()) if m),
            from_cache=all(f.from_cache for f in fits.values()),
        )

    def _walk(
        self, last: np.ndarray, ahead: np.ndarray, drift: np.ndarray, steps: int, rng
    ) -> list[np.ndarray]:
        """Return the walk's value per draw for 0..``steps`` periods after the last one."""
        values = [last, *(ahead[:, k] for k in range(min(steps, ahead.shape[1])))]
        while len(values) <= steps:
            values.append(values[-1] + drift * rng.standard_normal(last.size))
        return values

    def periods_of(self, months: list[str]) -> np.ndarray:
        """Return each month's walk period, counted from the walk's last observed period."""
        periods = [(int(m[:4]) * 12 + int(m[5:7]) - 1) // self.period_months for m in months]
        return np.maximum(np.asarray(periods) - self.last_period, 0)

    def monthly_rates(self, months: list[str], rng: np.random.Generator) -> tuple:
        """Return the status-quo missiles-a-month rate and long-range share per draw and month.

        Two arrays, draws (rows) x months (columns).
        """
        offsets = self.periods_of(months)
        steps = int(offsets.max())
        rates = self._walk(self.log_rate_last, self.log_rate_ahead, self.drift, steps, rng)
        logits = self._walk(
            self.logit_share_last, self.logit_share_ahead, self.share_drift, steps, rng
        )
        rate = np.stack([np.exp(rates[k]) for k in offsets], axis=1)
        share = np.stack([1 / (1 + np.exp(-logits[k])) for k in offsets], axis=1)
        return rate, share

    def status_quo_share(self, kind: str, months: int, rng: np.random.Generator) -> np.ndarray:
        """Return the share of each window month after a holding freeze of ``kind`` ends.

        Draws x months. Without a freeze holding at the origin every month is status quo
        (1). Otherwise each draw's breach time comes from its Weibull given that the freeze
        has lasted its age, and a month counts from the breach on (a fraction for the month
        of the breach): the model's own view that a freeze holds until it breaks.
        """
        n = self.breach_shape.size
        if kind not in self.freeze_ages:
            return np.ones((n, months))
        age, k, lam = self.freeze_ages[kind], self.breach_shape, self.breach_scale
        u = rng.uniform(size=n)
        breach = lam * ((age / lam) ** k - np.log(u)) ** (1 / k) - age  # months from origin
        edges = np.arange(months + 1, dtype=float)
        return np.clip(edges[None, 1:] - breach[:, None], 0.0, 1.0)


def model_forecast(
    draws: ModelDraws, history: History, outcome: Outcome, rng: np.random.Generator
) -> np.ndarray | None:
    """Return the models' posterior predictive of ``outcome`` (None where they make none)."""
    q, h = outcome.quantity, outcome.horizon
    if q in ("launches_all", "launches_long_range"):
        months = window_months(outcome.origin, h)
        rate, share = draws.monthly_rates(months, rng)
        # The freezes on record (Berlin 1999, Leap Day 2012, the 2018 moratorium) covered
        # long-range launches only: a holding freeze stops that part until it breaks.
        held = draws.status_quo_share("missiles", h, rng)
        long_range = rate * share * held
        monthly = long_range if q == "launches_long_range" else rate * (1 - share) + long_range
        # The model's counts are negative binomial per walk period: sum the window's months
        # within each period, then the periods (independent given the rates).
        periods = draws.periods_of(months)
        totals = np.stack([monthly[:, periods == p].sum(axis=1) for p in np.unique(periods)], 1)
        mean = totals.sum(axis=1)
        var = (totals + totals**2 / draws.dispersion[:, None]).sum(axis=1)
        size = _support(float(np.quantile(mean, 0.999)), float(np.quantile(var, 0.999)))
        return _nb_pmf(mean, var, size)
    if q == "nuclear_test":
        exposure = draws.status_quo_share("nuclear", h, rng).sum(axis=1)
        return _event(np.mean(1 - np.exp(-draws.nuclear_rate * exposure)))
    if q == "agreement_breach":
        ages = standing_agreements(history.as_of).set_index("agreement")["duration_months"]
        age = float(ages[outcome.item])
        k, lam = draws.breach_shape, draws.breach_scale
        return _event(np.mean(1 - np.exp((age / lam) ** k - ((age + h) / lam) ** k)))
    if q == "china_extent":
        from decision.models.china import CODE_EDGES

        a = draws.cooperation_mean * draws.cooperation_concentration
        b = (1 - draws.cooperation_mean) * draws.cooperation_concentration
        cdf = stats.beta.cdf(np.asarray(CODE_EDGES)[:, None], a[None], b[None])
        edges = np.vstack([np.zeros_like(a), cdf, np.ones_like(a)])
        pmf = np.diff(edges, axis=0).mean(axis=1)
        return pmf / pmf.sum()
    if q == "china_lag_days":
        return None
    raise ValueError(f"unknown quantity {q!r}")


# ------------------------------------------------------------------------ for tests


def oracle_forecast(outcome: Outcome, *, scale: float = 1.0, noise: float = 1e-4) -> np.ndarray:
    """Return a forecast that knows the outcome: mass ``1 - noise`` on ``scale x observed``.

    ``noise`` is spread as a Poisson around the same point. With ``scale=1`` it is a
    near-perfect forecaster; with ``scale=3`` a confident forecaster three times off. For
    testing that the scores can fail; never for an analysis.
    """
    centre = int(round(scale * outcome.observed))
    if outcome.quantity in ("nuclear_test", "agreement_breach"):
        p = 1 - noise if min(centre, 1) else noise  # not floored: it is meant to be sharp
        return np.array([1 - p, p])
    spread = _poisson(max(centre, 1))
    pmf = np.zeros(max(spread.size, centre + 1))
    pmf[: spread.size] += noise * spread
    pmf[centre] += 1 - noise
    return pmf / pmf.sum()
