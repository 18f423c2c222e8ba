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
# # Freeze-plus-pressure: evidence and Bayesian estimates
#
# Should the US and South Korea scale back the March 2018 exercises if the DPRK freezes its
# testing and China steps up sanctions enforcement (R. D. Williams, *Lawfare*, 20 Aug 2017)?
# This report shows the public evidence and what two Bayesian models infer from it: the
# probability that the DPRK accepts and holds a testing freeze, and the extent of China's
# cooperation on a scheduled enforcement plan.

# %% tags=["parameters"]
as_of = "2017-08-20"  # use only evidence known on this date (YYYY-MM-DD)
observations_file = ""  # monitoring observations CSV; empty for none
draws = 1000  # posterior draws per chain (10..100000)
tune = 1000  # tuning steps per chain (10..100000)
chains = 4  # Markov chains (1..16)
cores = 2  # processes sampling in parallel (1..64)
seed = 20170820  # random seed for every sampler and simulation (0..4294967295)
strict = False  # stop with an error when a fit fails its convergence checks
use_cache = True  # serve unchanged fits from the posterior cache
priors = {}  # prior overrides by model, e.g. {"dprk": {"accept": {"alpha": 2, "beta": 2}}}

# %%
import warnings

from IPython.display import Markdown, display

from decision import evidence, models, plots, reporting
from decision.observations import load_observations

warnings.filterwarnings("ignore", category=FutureWarning)
sampler = {"draws": draws, "tune": tune, "chains": chains, "cores": cores, "random_seed": seed}
observations = load_observations(observations_file, as_of=as_of) if observations_file else None
fits = models.fit_models(as_of=as_of, observations=observations, priors=priors, sampler=sampler,
                         use_cache=use_cache, strict=strict)
dprk, china = fits["dprk"], fits["china"]
display(Markdown(reporting.run_header(as_of=as_of, fits=fits, observations=observations)))

# %% [markdown]
# ## Headline estimates

# %%
display(Markdown(reporting.headline_text(dprk, china)))
display(reporting.headline_table(fits))

# %% [markdown]
# ## The evidence
#
# Every figure below comes from the package's data files, each row with its source, limited
# to what was public on the report's *as of* date.

# %%
launches = evidence.launches_monthly(as_of=as_of)
nuclear = evidence.nuclear_tests(as_of=as_of)
fig = plots.plot_launch_record(launches, nuclear)

# %%
agreements = evidence.agreements(as_of=as_of)
fig = plots.plot_agreement_survival(agreements, dprk)
display(reporting.agreements_table(agreements))

# %%
trade = evidence.trade_annual(as_of=as_of)
if len(trade):
    fig = plots.plot_trade(trade)
enforcement = evidence.china_enforcement(as_of=as_of)
fig = plots.plot_enforcement_record(enforcement, models.ChinaFollowThroughModel(
    as_of=as_of).data["weights"])
display(reporting.enforcement_table(enforcement))

# %% [markdown]
# ## DPRK compliance model
#
# Survival of earlier agreements (Weibull, censored), the monthly launch record (negative
# binomial with a yearly random-walk rate) and monitoring observations (tests are always
# detected; covert exports only with a detection probability).

# %%
display(Markdown(reporting.diagnostics_text(dprk)))
fig = plots.plot_posteriors(dprk)

# %%
fig = plots.plot_ppc(dprk, "missiles")
fig = plots.plot_ppc(dprk, "missiles", group="prior")
fig = plots.plot_prior_posterior(dprk, ["breach_shape", "breach_scale", "p_accept", "export_rate"])
fig = plots.plot_trace(dprk, list(models.DPRKComplianceModel.free_vars[:5]))

# %% [markdown]
# ## China follow-through model
#
# China's coded enforcement record (beta-binomial, recent episodes weighted more) and
# monitoring observations of scheduled steps and trade levels.

# %%
display(Markdown(reporting.diagnostics_text(china)))
fig = plots.plot_posteriors(china)

# %%
fig = plots.plot_ppc(china, "enforcement_record")
fig = plots.plot_prior_posterior(china, ["cooperation_mean", "cooperation_concentration",
                                         "cooperation"])
fig = plots.plot_trace(china, list(models.ChinaFollowThroughModel.free_vars))

# %% [markdown]
# ## Sources and reproducibility

# %%
display(reporting.sources_table(as_of=as_of))
display(reporting.fit_inputs_table(fits))
