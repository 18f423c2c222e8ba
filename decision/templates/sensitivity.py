# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Freeze-plus-pressure: sensitivity and value of information
#
# How robust is the recommendation? Which judgments drive it, where does it flip, what is it
# worth to learn more before deciding, and how much do the Bayesian priors matter? Methods
# and defaults: `docs/sensitivity.md`.

# %% tags=["parameters"]
as_of = "2017-08-20"  # use only evidence known on this date (YYYY-MM-DD)
scenario = "baseline"  # a shipped scenario's name or a scenario file
observations_file = ""  # monitoring observations CSV; empty for none
draws = 1000  # posterior draws per chain (10..100000)
tune = 1000  # tuning steps per chain (10..100000)
chains = 4  # Markov chains (1..16)
cores = 2  # processes sampling in parallel (1..64)
seed = 20170820  # random seed for every sampler and simulation (0..4294967295)
strict = False  # stop with an error when a fit fails its convergence checks
use_cache = True  # serve unchanged fits from the posterior cache
two_way_x = "p_hold_monitoring"  # first parameter of the two-way analysis
two_way_y = "p_level_full"  # second parameter of the two-way analysis
acceptability_parameter = "w_readiness"  # the weight varied in the acceptability curve
sobol_base = 256  # Sobol base sample size (16..65536)

# %%
import warnings

import pandas as pd
from IPython.display import Markdown, display

from decision import case as cases
from decision import plots, reporting
from decision import sensitivity as sa
from decision.observations import load_observations
from decision.sensitivity.case import parameter_groups, supplied_by_model

warnings.filterwarnings("ignore", category=FutureWarning)
pd.set_option("display.max_colwidth", None)  # sources and rationales in full
sampler = {"draws": draws, "tune": tune, "chains": chains, "cores": cores, "random_seed": seed}
observations = load_observations(observations_file, as_of=as_of) if observations_file else None
analysis = cases.analyze(
    scenario,
    as_of=as_of,
    observations=observations,
    sampler=sampler,
    seed=seed,
    use_cache=use_cache,
    strict=strict,
)
result = analysis.result
reporting.save_analysis(analysis, "analysis.json")
display(Markdown(reporting.run_header(as_of=as_of, fits=analysis.fits, observations=observations)))
display(Markdown(reporting.recommendation_text(analysis)))

# %% [markdown]
# ## One-way: tornado and spider
#
# Each input over its 5th-95th percentile range, the others at their base case; the decision
# margin is the recommended strategy's value minus the best other strategy's.

# %%
one_way = sa.one_way(result)
fig = plots.plot_tornado(sa.tornado(one_way, "margin"))
fig = plots.plot_spider(one_way, "margin")

# %% [markdown]
# ## Thresholds: where the choice switches (exact, by root finding)

# %%
display(sa.thresholds(result).round(4))

# %% [markdown]
# ## Two-way: which strategy is best where

# %%
fig = plots.plot_strategy_region(sa.two_way(result, two_way_x, two_way_y))

# %% [markdown]
# ## Probabilistic sensitivity
#
# Every input drawn at once: the value of each strategy across draws, the probability each is
# best, and how that probability moves with the readiness weight (acceptability curve).

# %%
display(reporting.strategy_table(analysis))
fig = plots.plot_strategy_values(analysis)
fig = plots.plot_acceptability(sa.acceptability(result, acceptability_parameter))

# %% [markdown]
# ## Value of information
#
# EVPI, and EVPPI of each input and of named groups by Strong, Oakley and Brennan's regression
# method with standard errors. The value of the six-month monitoring period is computed by
# Bayesian updating: monitoring outcomes are simulated from the prior predictive, the
# posteriors updated, and the tree re-rolled, then checked against the regression estimate.

# %%
display(Markdown(f"EVPI (all inputs): **{sa.evpi(result):.4f}** points."))
evppi = sa.evppi(result, groups=parameter_groups(analysis.case))
fig = plots.plot_evppi(evppi)
display(evppi.round(5))

# %%
monitoring = sa.value_of_monitoring_preposterior(analysis.fits, case=analysis.case, seed=seed)
display(reporting.preposterior_table(monitoring))

# %% [markdown]
# ## Prior sensitivity of the Bayesian models
#
# Each prior made weaker and stronger (power-scaling by 0.5 and 2, by importance weighting of
# the posterior draws): how far each quantity the tree uses moves, and whether the
# recommendation changes.

# %%
priors = sa.prior_sensitivity(analysis.fits, case=analysis.case, seed=seed)
fig = plots.plot_prior_sensitivity(priors)
display(reporting.prior_sensitivity_table(priors))

# %% [markdown]
# ## Global sensitivity: Sobol indices of the decision margin

# %%
fig = plots.plot_sobol(
    sa.sobol(result, joint=supplied_by_model(analysis.case), n_base=sobol_base, seed=seed)
)

# %% [markdown]
# ## Reproducibility

# %%
display(reporting.fit_inputs_table(analysis.fits))
