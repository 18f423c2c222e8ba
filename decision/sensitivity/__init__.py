"""Sensitivity analysis and value of information for decision trees (see docs/sensitivity.md).

Every function works on any tree in the package's format and returns labelled xarray or
pandas objects whose ``attrs`` record the settings (``config``) and inputs (``inputs``) as
JSON. Settings are merged over each module's documented ``DEFAULTS`` with
:func:`decision.core.config.deep_merge`.

=====================================  ===============================================
:func:`parameter_space`                which parameters vary, their ranges, base case
:func:`one_way`, :func:`tornado`,      one-way analysis, tornado and spider tables
:func:`spider`
:func:`two_way`                        strategy regions over two parameters
:func:`thresholds`                     exact switching values (Brent's method)
:func:`smallest_switches`              the smallest change making each other option optimal
:func:`psa`, :func:`acceptability`     value distributions, probability optimal,
                                       acceptability curve
:func:`evpi`, :func:`evppi`,           value of information: regression EVPPI with
:func:`evppi_bruteforce`               standard errors, nested Monte Carlo check
:func:`value_of_monitoring_preposterior`, :func:`evsi_reweighting`
                                       EVSI by Bayesian updating (importance reweighting)
:func:`prior_sensitivity`              power-scaling of each prior of both models
:func:`sobol`, :func:`sobol_indices`   Sobol indices with SALib
:func:`what_would_change_our_mind`     top drivers, switches and EVPPI for a brief
=====================================  ===============================================
"""

from decision.sensitivity.oneway import one_way, spider, tornado
from decision.sensitivity.preposterior import (
    MonitoringStudy,
    evsi_reweighting,
    value_of_monitoring_preposterior,
)
from decision.sensitivity.priors import prior_sensitivity
from decision.sensitivity.psa import acceptability, psa
from decision.sensitivity.sobol import sobol, sobol_indices
from decision.sensitivity.space import ParameterSpace, parameter_space
from decision.sensitivity.summary import MindChangers, what_would_change_our_mind
from decision.sensitivity.thresholds import smallest_switches, thresholds
from decision.sensitivity.twoway import two_way
from decision.sensitivity.voi import evpi, evppi, evppi_bruteforce

__all__ = [
    "MindChangers",
    "MonitoringStudy",
    "ParameterSpace",
    "acceptability",
    "evpi",
    "evppi",
    "evppi_bruteforce",
    "evsi_reweighting",
    "one_way",
    "parameter_space",
    "prior_sensitivity",
    "psa",
    "smallest_switches",
    "sobol",
    "sobol_indices",
    "spider",
    "thresholds",
    "tornado",
    "two_way",
    "value_of_monitoring_preposterior",
    "what_would_change_our_mind",
]
