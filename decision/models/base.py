"""What every Bayesian model shares: configuration, sampling, diagnostics and the cache.

A model subclass declares its documented default priors and builds a ``pymc.Model`` from
evidence that :mod:`decision.evidence` loads as of a date. :meth:`BayesianModel.fit` samples
it (or serves an identical earlier fit from the cache) and returns a :class:`Fit` that holds
the ArviZ ``InferenceData``, the convergence diagnostics and every input that produced it.

Each cached posterior is one ``<model>-<key>.npz`` file (:mod:`decision.models.posterior_file`):
every group of the ``InferenceData`` as plain arrays and the numbers behind the diagnostics. A
fit served from the cache reads its draws without ArviZ, and rebuilds its ``idata`` on first
use.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import math
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from decision.core.atomic import work_lock
from decision.core.backend import (
    DEFAULT_NUTS_SAMPLER,
    backend_info,
    cache_root,
    check_nuts_sampler,
    configure_compile_caches,
)
from decision.core.config import DEFAULT_AS_OF, DEFAULT_SEED, deep_merge
from decision.core.dates import parse_date
from decision.core.errors import ConvergenceError, InputError
from decision.models import posterior_file

if TYPE_CHECKING:
    import arviz as az

__all__ = [
    "DEFAULT_SAMPLER",
    "CONVERGENCE_THRESHOLDS",
    "BayesianModel",
    "Diagnostics",
    "Fit",
    "cache_dir",
    "dataset_like",
    "pad_to_capacity",
]

# Before PyMC or JAX is imported: they read their compile-cache settings on import.
configure_compile_caches()

#: Sampler settings used unless the caller overrides them. Four chains of 1,000 draws give a
#: bulk ESS well above 400 for these small models; ``target_accept`` is high because the
#: hierarchical parts have funnel-shaped posteriors (the China model diverges under numpyro
#: at PyMC's default of 0.8, and the DPRK model fitted on the worked ledger through December
#: 2017 had one divergence in 4,000 draws at 0.95). ``nuts_sampler`` is the NUTS backend
#: (:mod:`decision.core.backend`: ``"numpyro"``, or ``"pymc"`` for PyMC's own sampler;
#: ``cores`` applies to ``"pymc"`` only, numpyro runs the chains in one process).
#: ``compile_once`` (numpyro only): sample the model padded to its capacities with the data
#: and priors as arguments of one compiled program (:mod:`decision.models.compiled`), so a
#: new ``as_of``, ledger or prior does not recompile; ``False`` runs ``pymc.sample``, which
#: compiles the data into the program. ``prior_predictive_draws`` and
#: ``posterior_predictive_draws`` size the predictive checks, each at most the posterior's
#: number of draws: the posterior predictive is drawn from that many posterior draws, thinned
#: evenly along each chain (its cost grows with the draws, and 1,000 replicates settle a
#: check's interval and p-value). 0 draws none (a backtest reads only the posterior).
DEFAULT_SAMPLER: dict[str, Any] = {
    "nuts_sampler": DEFAULT_NUTS_SAMPLER,
    "compile_once": True,
    "draws": 1000,
    "tune": 1000,
    "chains": 4,
    "cores": 2,
    "target_accept": 0.98,
    "random_seed": DEFAULT_SEED,
    "prior_predictive_draws": 500,
    "posterior_predictive_draws": 1000,
}

#: A fit is flagged when any free variable breaks one of these.
CONVERGENCE_THRESHOLDS = {"r_hat": 1.01, "ess_bulk": 400.0, "divergences": 0}


@contextlib.contextmanager
def _potentials_warning_ignored() -> Iterator[None]:
    """Silence PyMC's warning that predictive sampling ignores potentials.

    Potentials here are likelihood terms (censoring, recency weights, soft evidence): the
    prior predictive shows the priors alone, and posterior draws already reflect the
    potentials, so the warning does not apply.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The effect of Potentials")
        yield


def _predictive_trace(model, posterior) -> az.InferenceData:
    """Return ``posterior`` with ``model``'s shared data as they are, for predictive draws.

    ``pymc.sample_posterior_predictive`` draws again, from its prior, every variable that
    depends on shared data it cannot find unchanged in the trace's ``constant_data``. The
    priors' hyper-parameters are shared data (one compiled program serves every prior), and
    a stored scalar comes back from ArviZ with shape ``(1,)``, which counts as changed: the
    replicates would then be prior draws. The values here keep their shapes exactly.
    """
    import arviz as az
    import xarray as xr
    from pymc.backends.arviz import find_constants

    constants = {}
    for name, value in find_constants(model).items():
        array = np.asarray(value)
        constants[name] = xr.DataArray(array, dims=[f"{name}_dim_{i}" for i in range(array.ndim)])
    return az.InferenceData(posterior=posterior, constant_data=xr.Dataset(constants))


def dataset_like(dataset):
    """Return a function that labels a (chain, draw) array like ``dataset``'s draws.

    ``derived`` quantities are computed with numpy; this puts them back on the dataset's
    ``chain`` and ``draw`` coordinates so they can be stored beside the sampled variables.
    """
    import xarray as xr

    sizes = (dataset.sizes["chain"], dataset.sizes["draw"])
    coords = {name: dataset.coords[name].values for name in ("chain", "draw")}

    def wrap(values) -> xr.DataArray:
        array = np.asarray(values, dtype=float)
        return xr.DataArray(
            np.broadcast_to(array, sizes).copy(), dims=("chain", "draw"), coords=coords
        )

    return wrap


def pad_to_capacity(
    values, capacity: int, fill, *, field: str, dtype=None
) -> tuple[np.ndarray, np.ndarray]:
    """Pad ``values`` (one dimension) with ``fill`` to ``capacity`` entries.

    Returns the padded array and its mask (1.0 for a real entry, 0.0 for padding). The
    padded model (``build(padded=True)``) has these fixed sizes whatever the data, so one
    compiled sampler serves every data set of the same structure.

    Raises
    ------
    InputError
        If there are more values than the capacity (``field`` names the capacity).
    """
    values = np.asarray(values, dtype=dtype)
    if values.ndim != 1:
        raise InputError(f"expected a one-dimensional array, got shape {values.shape}", field=field)
    if values.size > capacity:
        raise InputError(
            f"{values.size} entries exceed the padded model's capacity of {capacity}: raise "
            "the capacity (a larger capacity compiles the sampler once more)",
            field=field,
        )
    padded = np.full(capacity, fill, dtype=values.dtype)
    padded[: values.size] = values
    mask = np.zeros(capacity, dtype=float)
    mask[: values.size] = 1.0
    return padded, mask


def _interval(values: np.ndarray) -> tuple[float, float, float]:
    values = np.asarray(values, dtype=float).ravel()
    lo, hi = np.quantile(values, [0.05, 0.95])
    return float(values.mean()), float(lo), float(hi)


def cache_dir() -> Path:
    """Folder holding cached posteriors: ``$DECISION_CACHE_DIR`` or ``~/.cache/decision``."""
    return cache_root() / "posteriors"


@dataclasses.dataclass(frozen=True)
class Diagnostics:
    """Convergence diagnostics of one fit and the flags they raise."""

    max_r_hat: float
    min_ess_bulk: float
    divergences: int
    flags: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when no threshold is broken."""
        return not self.flags

    @classmethod
    def from_idata(cls, idata: az.InferenceData, var_names: list[str]) -> Diagnostics:
        """Compute R-hat, bulk ESS and divergences over ``var_names``."""
        import arviz as az

        posterior = idata.posterior[var_names]
        n_chains = posterior.sizes["chain"]
        if n_chains > 1:
            rhat = az.rhat(posterior)
            max_r_hat = float(max(float(rhat[v].max()) for v in var_names))
        else:
            max_r_hat = float("nan")
        ess = az.ess(posterior, method="bulk")
        min_ess = float(min(float(ess[v].min()) for v in var_names))
        divergences = 0
        if "sample_stats" in idata.groups() and "diverging" in idata.sample_stats:
            divergences = int(idata.sample_stats["diverging"].sum())
        return cls.from_values(max_r_hat, min_ess, divergences)

    @classmethod
    def from_values(cls, max_r_hat: float, min_ess: float, divergences: int) -> Diagnostics:
        """Flag the largest R-hat, the smallest bulk ESS and the divergences of a fit.

        Parameters
        ----------
        max_r_hat
            Largest R-hat over the free variables (NaN with one chain).
        min_ess
            Smallest bulk effective sample size.
        divergences
            Number of divergent transitions.
        """
        limits = CONVERGENCE_THRESHOLDS
        flags = []
        if not np.isfinite(max_r_hat):
            flags.append("r_hat not computable with one chain")
        elif max_r_hat > limits["r_hat"]:
            flags.append(f"r_hat {max_r_hat:.3f} > {limits['r_hat']}")
        if min_ess < limits["ess_bulk"]:
            flags.append(f"bulk ESS {min_ess:.0f} < {limits['ess_bulk']:.0f}")
        if divergences > limits["divergences"]:
            flags.append(f"{divergences} divergences")
        return cls(max_r_hat, min_ess, divergences, tuple(flags))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {
            "ok": self.ok,
            "max_r_hat": None if not np.isfinite(self.max_r_hat) else round(self.max_r_hat, 4),
            "min_ess_bulk": round(self.min_ess_bulk, 1),
            "divergences": self.divergences,
            "flags": list(self.flags),
        }


class Fit:
    """A fitted model: posterior, diagnostics, inputs, and whether it came from the cache.

    Parameters
    ----------
    model_name
        The model's name.
    idata
        The ArviZ ``InferenceData``; None for a fit served from the cache, which reads it from
        ``posterior_file`` on first use of :attr:`idata`.
    diagnostics
        Convergence diagnostics.
    inputs
        Everything that determined the posterior (:meth:`BayesianModel.inputs`).
    headline_names
        The quantities a decision tree consumes.
    from_cache
        True when the posterior was not sampled by this fit.
    posterior_draws
        Variable name -> draws with chains stacked (as :meth:`draws` returns them), already read.
    posterior_file
        The cached posterior that ``idata`` is read from when it is not given.
    """

    def __init__(
        self,
        model_name: str,
        idata: az.InferenceData | None,
        diagnostics: Diagnostics,
        inputs: dict[str, Any],
        headline_names: tuple[str, ...],
        from_cache: bool = False,
        *,
        posterior_draws: Mapping[str, np.ndarray] | None = None,
        posterior_file: Path | None = None,
    ):
        if idata is None and posterior_file is None:
            raise ValueError("a fit needs its InferenceData or the file to read it from")
        self.model_name = model_name
        self._idata = idata
        self.diagnostics = diagnostics
        self.inputs = inputs
        self.headline_names = tuple(headline_names)
        self.from_cache = from_cache
        self._posterior_draws = dict(posterior_draws or {})
        self._posterior_file = posterior_file

    def __repr__(self) -> str:
        """Name the model, the diagnostics and where the posterior came from."""
        return (
            f"Fit(model_name={self.model_name!r}, diagnostics={self.diagnostics!r}, "
            f"from_cache={self.from_cache!r})"
        )

    @property
    def idata(self) -> az.InferenceData:
        """The ArviZ ``InferenceData`` (read from the cached posterior on first use)."""
        if self._idata is None:
            self._idata = _read_posterior_file(self._posterior_file)
        return self._idata

    def draws(self, name: str) -> np.ndarray:
        """Posterior draws of one variable, chains stacked, as a flat array (for scalars)."""
        if name in self._posterior_draws:
            return self._posterior_draws[name].copy()
        return _stacked_draws(self.idata.posterior, name)

    def headline_draws(self) -> dict[str, np.ndarray]:
        """Draws of the quantities a decision tree consumes, keyed by variable name."""
        return {name: self.draws(name) for name in self.headline_names}

    def summary(self) -> pd.DataFrame:
        """Mean, sd, 90% interval, R-hat and ESS of the headline quantities.

        A quantity that is constant over the draws (a branch probability fixed at 1 or 0 by
        an observation) has no R-hat or ESS: those cells are NaN.
        """
        import arviz as az

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # constant quantities: no R-hat
            return az.summary(
                self.idata, var_names=list(self.headline_names), hdi_prob=0.9, round_to=4
            )

    def prior_draws(self, name: str) -> np.ndarray | None:
        """Return draws of ``name`` under the priors alone (flat), or ``None`` if absent."""
        if "prior" not in self.idata.groups() or name not in self.idata.prior:
            return None
        values = self.idata.prior[name].stack(sample=("chain", "draw")).transpose("sample", ...)
        return np.asarray(values.values)

    def prior_posterior_table(self, names: list[str] | None = None) -> pd.DataFrame:
        """Prior and posterior mean and 90% interval of each headline quantity.

        The prior side is what the priors alone imply (the prior predictive draws the fit
        takes, pushed through the same formulas with no data and no monitoring record), so
        the table shows how far the evidence moved each quantity.

        Returns
        -------
        pandas.DataFrame
            One row per quantity: ``quantity``, ``prior mean``, ``prior 5%``, ``prior 95%``,
            ``posterior mean``, ``posterior 5%``, ``posterior 95%`` (NaN where no prior draws
            are recorded).
        """
        rows = []
        for name in names or self.headline_names:
            post = _interval(self.draws(name))
            prior_values = self.prior_draws(name)
            prior = _interval(prior_values) if prior_values is not None else (np.nan,) * 3
            rows.append(
                {
                    "quantity": name,
                    "prior mean": prior[0],
                    "prior 5%": prior[1],
                    "prior 95%": prior[2],
                    "posterior mean": post[0],
                    "posterior 5%": post[1],
                    "posterior 95%": post[2],
                }
            )
        return pd.DataFrame.from_records(rows)

    def predictive_check(self, var_name: str) -> pd.DataFrame:
        """Prior and posterior predictive check of one observed variable, as numbers.

        For each summary statistic of the data (mean, standard deviation, share of zeros,
        largest value), the observed value beside its prior-predictive and
        posterior-predictive mean and 90% interval, and the posterior-predictive p-value
        ``P(replicated >= observed)``: values near 0 or 1 flag a misfit.
        """
        observed = np.asarray(self.idata.observed_data[var_name].values, dtype=float).ravel()

        def statistics(values: np.ndarray) -> dict[str, np.ndarray]:
            finite = np.where(np.isfinite(values), values, np.nan)
            return {
                "mean": np.nanmean(finite, axis=-1),
                "sd": np.nanstd(finite, axis=-1),
                "share of zeros": np.mean(values == 0, axis=-1),
                "largest": np.nanmax(finite, axis=-1),
            }

        def replicated(group: str) -> np.ndarray | None:
            if group not in self.idata.groups() or var_name not in self.idata[group]:
                return None
            data = self.idata[group][var_name]
            return np.asarray(data.values, dtype=float).reshape(-1, observed.size)

        obs_stats = statistics(observed[None, :])
        prior, post = replicated("prior_predictive"), replicated("posterior_predictive")
        prior_stats = statistics(prior) if prior is not None else None
        post_stats = statistics(post) if post is not None else None
        rows = []
        for name, value in obs_stats.items():
            row = {"statistic": name, "observed": float(value[0])}
            for label, stats_ in (("prior", prior_stats), ("posterior", post_stats)):
                mean, lo, hi = (
                    _interval(stats_[name]) if stats_ is not None else (np.nan, np.nan, np.nan)
                )
                row.update({f"{label} mean": mean, f"{label} 5%": lo, f"{label} 95%": hi})
            row["posterior p-value"] = (
                float(np.mean(post_stats[name] >= value[0])) if post_stats is not None else np.nan
            )
            rows.append(row)
        return pd.DataFrame.from_records(rows)

    def flagged_message(self) -> str | None:
        """Return a one-line warning if the fit broke a convergence threshold, else None."""
        if self.diagnostics.ok:
            return None
        return f"{self.model_name}: convergence check failed ({'; '.join(self.diagnostics.flags)})"


def _stacked_draws(posterior, name: str) -> np.ndarray:
    """Return the draws of ``name`` in ``posterior`` (xarray) with chains stacked, sample first."""
    values = posterior[name].stack(sample=("chain", "draw")).transpose("sample", ...)
    return np.asarray(values.values)


def _read_posterior_file(path: Path) -> az.InferenceData:
    """Read a cached posterior into memory."""
    idata = posterior_file.read_idata(path)
    if idata is None:
        raise InputError(
            "the cached posterior can no longer be read (removed or damaged since the fit was "
            "served); run again to refit",
            file=path,
        )
    return idata


def _write_posterior_file(path: Path, fit: Fit) -> None:
    """Store ``fit``'s posterior and diagnostics at ``path``, whole or not at all."""
    diagnostics = fit.diagnostics
    numbers = {
        "max_r_hat": diagnostics.max_r_hat,
        "min_ess_bulk": diagnostics.min_ess_bulk,
        "divergences": diagnostics.divergences,
    }
    posterior_file.write(path, fit.idata, numbers)


#: Longest wait for another process sampling the same fit before sampling it here too.
FIT_LOCK_TIMEOUT = 3600.0

#: Sampler settings that do not change the draws, and so do not name a cached fit.
_NOT_IN_KEY = frozenset({"cores"})


def _hash_json(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


class BayesianModel:
    """Base class: subclasses set ``name``, ``default_priors``, ``headline`` and ``build``.

    Observed data and prior hyperparameters enter the ``pymc.Model`` as ``pm.Data``
    containers (named after the data key, and ``prior_<key>_<parameter>``), so one compiled
    model can be given another date's data or another scenario's priors with
    ``pm.set_data`` while the model's structure (its settings) stays the same.

    Parameters
    ----------
    priors
        Overrides merged over :attr:`default_priors` (unknown keys are an error).
    sampler
        Overrides merged over :data:`DEFAULT_SAMPLER`.
    as_of
        Only evidence known on this date is used.
    observations
        Monitoring observations (a frame from :func:`decision.observations.load_observations`).
    """

    name: ClassVar[str] = "model"
    default_priors: ClassVar[dict[str, Any]] = {}
    #: Deterministic quantities a decision tree consumes.
    headline: ClassVar[tuple[str, ...]] = ()
    #: Free (sampled) variables: their convergence is checked.
    free_vars: ClassVar[tuple[str, ...]] = ()
    #: Prior key -> (variable whose prior it is, family), for prior-sensitivity analysis.
    prior_variables: ClassVar[dict[str, tuple[str, str]]] = {}
    #: Capacities of the data-dependent dimensions of the padded model (``build(padded=True)``,
    #: used by :mod:`decision.models.compiled`): more data than a capacity is an
    #: :class:`~decision.core.errors.InputError`.
    capacities: ClassVar[dict[str, int]] = {}
    #: Names of prior parameters that must be positive.
    _positive_suffixes: ClassVar[tuple[str, ...]] = ("alpha", "beta", "sigma", "scale", "rate")

    def __init__(
        self,
        *,
        priors: Mapping[str, Any] | None = None,
        sampler: Mapping[str, Any] | None = None,
        as_of: dt.date | str = DEFAULT_AS_OF,
        observations: pd.DataFrame | None = None,
        settings: Mapping[str, Any] | None = None,
    ):
        self.priors = deep_merge(self.default_priors, priors, where=f"{self.name}.priors")
        self._validate_priors()
        self.sampler = deep_merge(DEFAULT_SAMPLER, sampler, where="sampler")
        check_nuts_sampler(self.sampler["nuts_sampler"])
        if not isinstance(self.sampler["compile_once"], bool):
            raise InputError(
                f"expected true or false, got {self.sampler['compile_once']!r}",
                field="sampler.compile_once",
            )
        self.settings = deep_merge(self.default_settings(), settings, where=f"{self.name}.settings")
        self.as_of = parse_date(as_of)
        self.observations = observations
        self.data = self.prepare_data()

    # -- for subclasses -------------------------------------------------------------------
    @classmethod
    def default_settings(cls) -> dict[str, Any]:
        """Non-prior settings (horizons, thresholds) with their defaults."""
        return {}

    def prepare_data(self) -> dict[str, Any]:
        """Load and arrange the evidence the model uses."""
        raise NotImplementedError

    def build(self, *, padded: bool = False):
        """Return the ``pymc.Model``.

        With ``padded=True`` every data-dependent dimension has its size from
        :attr:`capacities`, the padded entries contribute nothing to the log density that
        depends on the data (masks) and every data value is a ``pm.Data`` container: the
        model's structure is then the same for every ``as_of``, ledger and prior.
        """
        raise NotImplementedError

    def derived(self, posterior, *, prior: bool = False) -> dict[str, Any]:
        """Quantities computed from draws after sampling (xarray in, xarray out).

        Used for the tree's quantities and closed-form conditionals (a Beta tail probability
        per draw) that need no gradient and so need not be part of the sampled graph. With
        ``prior=True`` the draws are prior draws and nothing observed may condition the
        result (the prior side of :meth:`Fit.prior_posterior_table`).
        """
        return {}

    # -- shared machinery -----------------------------------------------------------------
    def _validate_priors(self) -> None:
        for key, spec in self.priors.items():
            if not isinstance(spec, Mapping):
                continue
            for param, value in spec.items():
                if not isinstance(value, (int, float)) or isinstance(value, bool):
                    raise InputError(
                        f"expected a number, got {value!r}",
                        field=f"{self.name}.priors.{key}.{param}",
                    )
                if param in self._positive_suffixes and not value > 0:
                    raise InputError(
                        f"expected a positive number, got {value!r}",
                        field=f"{self.name}.priors.{key}.{param}",
                    )

    def data_hash(self) -> str:
        """Hash of the data arrays the model is built from."""
        return _hash_json(
            {
                k: np.asarray(v).tolist() if isinstance(v, np.ndarray) else v
                for k, v in sorted(self.data.items())
            }
        )

    def inputs(self) -> dict[str, Any]:
        """Everything that determines the posterior, recorded on the fit."""
        from decision import __version__

        return {
            "model": self.name,
            "package_version": __version__,
            "model_source": self.source_hash(),
            "as_of": self.as_of.isoformat(),
            "data_hash": self.data_hash(),
            "priors": self.priors,
            "settings": self.settings,
            "sampler": self.sampler,
            "seed": self.sampler["random_seed"],
        }

    @classmethod
    def source_hash(cls) -> str:
        """Hash the code that defines the model.

        An edited model is then never served a posterior sampled from its previous definition.
        """
        import inspect

        from decision.models import compiled, monitoring

        # The compiled sampler's code too: an edited sampler never serves its old draws.
        files = sorted(
            {inspect.getfile(c) for c in cls.__mro__ if c.__module__.startswith("decision.")}
            | {inspect.getfile(monitoring), inspect.getfile(compiled)}
        )
        digest = hashlib.sha256()
        for file in files:
            digest.update(Path(file).read_bytes())
        return digest.hexdigest()[:16]

    def cache_key(self) -> str:
        """Content hash of :meth:`inputs`: equal keys mean an identical fit.

        The sampler's ``cores`` is left out: it says how many processes run the chains, not
        what they draw (each chain's seed comes from ``random_seed``; the compiled path
        ignores it), so a fit made on one core serves a run on two.
        """
        inputs = self.inputs()
        inputs["sampler"] = {k: v for k, v in inputs["sampler"].items() if k not in _NOT_IN_KEY}
        return _hash_json(inputs)

    def cache_path(self) -> Path:
        """Return the cache file of this model's fit (named by :meth:`cache_key`)."""
        return cache_dir() / f"{self.name}-{self.cache_key()[:32]}{posterior_file.SUFFIX}"

    def fit(
        self, *, use_cache: bool = True, strict: bool = False, progressbar: bool = False
    ) -> Fit:
        """Sample the posterior, or load an identical earlier fit from the cache.

        Parameters
        ----------
        use_cache
            Serve and store fits in :func:`cache_dir`.
        strict
            Raise :class:`~decision.core.errors.ConvergenceError` when a diagnostic is flagged.
        """
        path = self.cache_path()
        fit = self._cached_fit(path) if use_cache and path.exists() else None
        if fit is None and use_cache:
            # Another process may be sampling this very fit (two reports at once): wait for it
            # and serve its result rather than sample it twice.
            with work_lock(cache_dir() / ".locks", path.stem, FIT_LOCK_TIMEOUT):
                fit = self._cached_fit(path) if path.exists() else None
                if fit is None:
                    fit = self._sample_fit(progressbar)
                    _write_posterior_file(path, fit)
        elif fit is None:
            fit = self._sample_fit(progressbar)
        if strict and not fit.diagnostics.ok:
            raise ConvergenceError(fit.flagged_message())
        return fit

    def _sample_fit(self, progressbar: bool) -> Fit:
        return self._make_fit(self._sample(progressbar=progressbar), from_cache=False)

    def _cached_fit(self, path: Path) -> Fit | None:
        """Serve the fit cached at ``path`` (its draws; ``idata`` on first use), or None.

        None when the file cannot be read (truncated, damaged, of another format): the fit is
        sampled again and the file replaced.
        """
        stored = posterior_file.read_draws(path)
        if stored is None:
            return None
        draws, numbers = stored
        diagnostics = Diagnostics.from_values(
            float(numbers["max_r_hat"]), float(numbers["min_ess_bulk"]), int(numbers["divergences"])
        )
        return Fit(
            self.name,
            None,
            diagnostics,
            self.inputs(),
            tuple(self.headline),
            True,
            posterior_draws=draws,
            posterior_file=path,
        )

    def _make_fit(self, idata: az.InferenceData, *, from_cache: bool) -> Fit:
        free = [v for v in self.free_vars if v in idata.posterior]
        return Fit(
            self.name,
            idata,
            Diagnostics.from_idata(idata, free),
            self.inputs(),
            tuple(self.headline),
            from_cache,
        )

    def _nuts_settings(self, *, progressbar: bool) -> dict[str, Any]:
        """Return the keywords of ``pymc.sample`` (and :func:`compiled.sample`) for this fit."""
        s = self.sampler
        return {
            "draws": int(s["draws"]),
            "tune": int(s["tune"]),
            "chains": int(s["chains"]),
            "target_accept": float(s["target_accept"]),
            "random_seed": int(s["random_seed"]),
            "progressbar": progressbar,
            "compute_convergence_checks": False,
            "nuts_sampler": s["nuts_sampler"],
        }

    @property
    def compiles_once(self) -> bool:
        """Whether this model samples with the compiled-once NUTS program."""
        return self.sampler["nuts_sampler"] == "numpyro" and bool(self.sampler["compile_once"])

    def prepare_sampler(self) -> None:
        """Compile this model's sampler ahead of :meth:`fit` (compiled-once path; else no-op).

        Safe to run in a thread beside another model's: :func:`decision.models.fit_models`
        compiles the models it must sample side by side.
        """
        if self.compiles_once:
            from decision.models import compiled

            compiled.prepare(self, **self._nuts_settings(progressbar=False))

    def _sample(self, *, progressbar: bool) -> az.InferenceData:
        import pymc as pm

        s = self.sampler
        seed = int(s["random_seed"])
        backend = s["nuts_sampler"]
        model = self.build()
        nuts = self._nuts_settings(progressbar=progressbar)
        if backend == "pymc":
            nuts["cores"] = int(s["cores"])
        elif not self.compiles_once:  # the compiled path registers it itself
            from decision.models.special import register_jax

            register_jax()
        # Predictive draws need no gradient and run once: PyTensor's Python linker costs
        # 0.3 s where compiling them to C costs 7 s on an empty compile cache, and draws the
        # same numbers (random variables are drawn by NumPy either way).
        predictive = {"compile_kwargs": {"mode": "FAST_COMPILE"}}

        # No more prior draws than posterior draws: a short run's checks compare like with
        # like, and PyMC draws the prior one sample at a time (about 2 ms each for the DPRK).
        prior_draws = min(int(s["prior_predictive_draws"]), int(s["draws"]) * int(s["chains"]))

        def prior_predictive():
            with model, _potentials_warning_ignored():
                return pm.sample_prior_predictive(
                    draws=prior_draws, random_seed=seed + 1, **predictive
                )

        drawn = []
        if self.compiles_once:
            from decision.models import compiled

            # The compiled program samples in XLA's threads: the prior predictive (Python)
            # is drawn meanwhile. It uses its own seed, so the draws do not depend on when.
            idata = compiled.sample(
                self,
                model,
                while_sampling=(lambda: drawn.append(prior_predictive())) if prior_draws else None,
                **nuts,
            )
        else:
            with model:
                idata = pm.sample(**nuts)
        if prior_draws:
            idata.extend(drawn[0] if drawn else prior_predictive())
        if model.observed_RVs and int(s["posterior_predictive_draws"]):
            posterior = idata.posterior
            total = posterior.sizes["chain"] * posterior.sizes["draw"]
            step = max(1, math.ceil(total / int(s["posterior_predictive_draws"])))
            with model, _potentials_warning_ignored():
                replicated = pm.sample_posterior_predictive(
                    _predictive_trace(model, posterior.isel(draw=slice(None, None, step))),
                    random_seed=seed + 2,
                    progressbar=False,
                    **predictive,
                )
            idata.extend(replicated)
        for name, values in self.derived(idata.posterior).items():
            idata.posterior[name] = values
        if "prior" in idata.groups():
            for name, values in self.derived(idata.prior, prior=True).items():
                idata.prior[name] = values
        idata.posterior.attrs["decision_inputs"] = json.dumps(
            self.inputs(), sort_keys=True, default=str
        )
        info = backend_info(backend)
        idata.posterior.attrs["nuts_sampler"] = info["nuts_sampler"]
        idata.posterior.attrs["nuts_sampler_version"] = info["version"] or "unknown"
        return idata
