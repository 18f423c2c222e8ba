"""Scenario sweeps: a grid or a sample of scenarios of a case, evaluated on Dask, in Parquet.

=============  ===============================================================================
``spec``       The sweep file (pydantic models) and what it expands to: :class:`Sweep`,
               :class:`SweepScenario` with stable ids; :func:`load_sweep`.
``inputs``     The varied keys (tree parameters, priors, ``as_of``, observations) and their
               values, checked against the case.
``sampling``   Latin-hypercube or random designs mapped through the tree engine's
               distributions.
``fits``       :class:`FitSpec`: the distinct fits a sweep needs, keyed by their model inputs.
``evaluate``   :class:`Posterior` (:func:`fit_posterior`), :func:`evaluate_scenario` (the
               computation of ``decision.case.analyze``), a batch's rows.
``store``      The sweep folder: ``sweep.json``, atomic Parquet parts, :func:`finished_ids`,
               :func:`read_results`.
``runner``     :func:`run_sweep` on Dask: batches, claims for concurrent runs, retries,
               progress; :class:`SweepSummary`.
``reports``    A decision brief per scenario (``--report``).
``ids``        Canonical JSON and hashes behind ids and part names.
=============  ===============================================================================

``decision sweep`` (:mod:`decision.cli.sweep`) is the command line; ``docs/sweeps.md`` the
guide.
"""

from decision.sweep.evaluate import Posterior, case_for, evaluate_scenario, fit_posterior
from decision.sweep.fits import FitSpec
from decision.sweep.runner import SweepSummary, local_cluster, run_sweep
from decision.sweep.spec import MODES, Sweep, SweepScenario, load_sweep
from decision.sweep.store import finished_ids, read_results, results_schema, sweep_folder

__all__ = [
    "MODES",
    "FitSpec",
    "Posterior",
    "Sweep",
    "SweepScenario",
    "SweepSummary",
    "case_for",
    "evaluate_scenario",
    "finished_ids",
    "fit_posterior",
    "load_sweep",
    "local_cluster",
    "read_results",
    "results_schema",
    "run_sweep",
    "sweep_folder",
]
