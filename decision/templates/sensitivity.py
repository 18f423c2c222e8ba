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

# %% tags=["parameters"]
case = ""  # a shipped case's name or a case folder; empty for the default case
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
two_way_x = ""  # first parameter of the two-way analysis; empty: the top tornado driver
two_way_y = ""  # second parameter of the two-way analysis; empty: the second driver
acceptability_parameter = ""  # parameter varied in the acceptability curve; empty: top driver
sobol_base = 256  # Sobol base sample size (16..65536)
elicitation_file = ""  # another expert's elicitation record (YAML) to compare; empty: none

# %%
import warnings

import pandas as pd
from IPython.display import Markdown, display

from decision import case as cases
from decision import elicitation, plots, reporting
from decision import sensitivity as sa
from decision.observations import load_observations

warnings.filterwarnings("ignore", category=FutureWarning)
pd.set_option("display.max_colwidth", None)  # sources and rationales in full
sampler = {"draws": draws, "tune": tune, "chains": chains, "cores": cores, "random_seed": seed}
observations = load_observations(observations_file, as_of=as_of) if observations_file else None
spec = cases.load_spec(case)
analysis = cases.analyze(
    scenario,
    case=spec,
    as_of=as_of,
    observations=observations,
    sampler=sampler,
    seed=seed,
    use_cache=use_cache,
    strict=strict,
)
result = analysis.result
reporting.save_analysis(analysis, "analysis.json")
display(
    Markdown(
        reporting.title_text(
            spec.reports.sensitivity,
            "How robust is the recommendation? Which judgments drive it, where does it flip, "
            "what is it worth to learn more before deciding, and how much do the Bayesian "
            "priors matter? Methods and defaults: `docs/sensitivity.md`.",
        )
    )
)
display(Markdown(reporting.run_header(as_of=as_of, fits=analysis.fits, observations=observations)))
display(Markdown(reporting.recommendation_text(analysis)))

# %% [markdown]
# ## One-way: tornado and spider
#
# Each input over its 5th-95th percentile range, the others at their base case; the decision
# margin is the recommended strategy's value minus the best other strategy's.

# %%
one_way = sa.one_way(result)
drivers = sa.tornado(one_way, "margin")
fig = plots.plot_tornado(drivers)
top = list(drivers.index) + [""] * 2
two_way_x = two_way_x or top[0]
two_way_y = two_way_y or next((n for n in top[1:] if n != two_way_x), "")
acceptability_parameter = acceptability_parameter or top[0]
fig = plots.plot_spider(one_way, "margin")

# %% [markdown]
# ## Thresholds: where the choice switches (exact, by root finding)

# %%
switches = sa.thresholds(result)
display(switches.round(4))

# %% [markdown]
# ## What would make another strategy optimal
#
# For every strategy that is not recommended, the smallest change of a single input within its
# range (measured as a share of that range, the others at their base case) that makes it the
# best strategy, or a statement that no single input can.

# %%
display(Markdown(reporting.smallest_switches_text(sa.smallest_switches(switches))))

# %% [markdown]
# ## Two-way: which strategy is best where

# %%
if two_way_x and two_way_y:
    fig = plots.plot_strategy_region(sa.two_way(result, two_way_x, two_way_y))

# %% [markdown]
# ## Probabilistic sensitivity
#
# Every input drawn at once: the value of each strategy across draws, the probability each is
# best, and how that probability moves with the readiness weight (acceptability curve).

# %%
display(reporting.strategy_table(analysis))
fig = plots.plot_strategy_values(analysis)
if acceptability_parameter:
    fig = plots.plot_acceptability(sa.acceptability(result, acceptability_parameter))

# %% [markdown]
# ## Expert disagreement
#
# The recommendation under each expert's own judgments alone: the experts of the case's
# elicitation records (and of `elicitation_file`, if given), each with the distributions fitted
# to their answers in place of the judgments they answered; the models' posterior draws and the
# seed are the same in every row. When experts disagree on the recommendation, whose judgments
# are right matters more than the uncertainty within any one expert's.

# %%
disagreement = elicitation.expert_disagreement(
    analysis, extra=[elicitation_file] if elicitation_file else [], seed=seed
)
display(Markdown(reporting.expert_disagreement_text(disagreement)))
display(reporting.expert_disagreement_table(disagreement))

# %% [markdown]
# ## Value of information
#
# EVPI, and EVPPI of each input and of named groups by Strong, Oakley and Brennan's regression
# method with standard errors. The value of the six-month monitoring period is computed by
# Bayesian updating: monitoring outcomes are simulated from the prior predictive, the
# posteriors updated, and the tree re-rolled, then checked against the regression estimate.

# %%
display(Markdown(f"EVPI (all inputs): **{sa.evpi(result):.4f}** points."))
evppi = sa.evppi(result, groups=analysis.case.parameter_groups())
fig = plots.plot_evppi(evppi)
display(evppi.round(5))

# %%
if spec.monitoring_study is not None:
    monitoring = sa.value_of_monitoring_preposterior(analysis.fits, case=analysis.case, seed=seed)
    display(reporting.preposterior_table(monitoring))
else:
    display(Markdown("The case names no monitoring study to value."))

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
    sa.sobol(result, joint=analysis.case.supplied_by_model(), n_base=sobol_base, seed=seed)
)

# %% [markdown]
# ## Reproducibility

# %%
display(reporting.fit_inputs_table(analysis.fits))
