# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python (decision)
#     language: python
#     name: decision
# ---

# %% [markdown]
# # China follow-through model
#
# Fit, diagnose, check predictions, and see how much the recency weighting and the prior
# matter. The model is `decision.models.ChinaFollowThroughModel`.

# %% tags=["parameters"]
as_of = "2017-08-20"  # only evidence public on this date
observations_file = ""  # monitoring observations CSV; empty for none
draws = 1000  # posterior draws per chain
tune = 1000  # tuning steps per chain
chains = 4  # Markov chains
seed = 20170820  # random seed
whatif_priors = {"cooperation_mean": {"alpha": 1.0, "beta": 3.0}}  # a more sceptical prior
whatif_half_life_years = 10.0  # weigh old episodes almost as much as new ones

# %%
from IPython.display import Markdown, display

from decision import evidence, models, plots, reporting
from decision.observations import load_observations

sampler = {"draws": draws, "tune": tune, "chains": chains, "random_seed": seed}
observations = load_observations(observations_file, as_of=as_of) if observations_file else None

# %% [markdown]
# ## Fit

# %%
model = models.ChinaFollowThroughModel(as_of=as_of, observations=observations, sampler=sampler)
fit = model.fit()
display(Markdown(reporting.diagnostics_text(fit)))
display(fit.summary())

# %% [markdown]
# ## The record and the weight each episode gets

# %%
record = evidence.china_enforcement(as_of=as_of)
fig = plots.plot_enforcement_record(record, model.data["weights"])
display(reporting.enforcement_table(record))

# %% [markdown]
# ## Diagnose and check predictions
#
# Each coded episode is one ordinal outcome (0 to 4 quarters carried out): the prior and
# posterior predictive checks compare the codings with what the priors alone and the fitted
# population predict.

# %%
fig = plots.plot_trace(fit, list(model.free_vars))
display(fit.predictive_check("enforcement_record").round(3))
fig = plots.plot_ppc(fit, "enforcement_record", group="prior")
fig = plots.plot_ppc(fit, "enforcement_record")

# %% [markdown]
# ## Prior against posterior of every quantity the tree uses

# %%
display(fit.prior_posterior_table().round(3))
display(
    Markdown(
        f"China's implementing notices came {min(model.data['status_quo_lag_days'])} to "
        f"{max(model.data['status_quo_lag_days'])} days after each resolution: the status-quo "
        "enforcement path the counter-proposal is credited against."
    )
)
fig = plots.plot_posteriors(fit)

# %% [markdown]
# ## What if? A sceptical prior, and nearly equal weights for old episodes

# %%
sceptical = models.ChinaFollowThroughModel(
    as_of=as_of, observations=observations, sampler=sampler, priors=whatif_priors
).fit()
flat = models.ChinaFollowThroughModel(
    as_of=as_of,
    observations=observations,
    sampler=sampler,
    settings={"half_life_years": whatif_half_life_years},
).fit()
display(
    reporting.compare_fits({"default": fit, "sceptical prior": sceptical, "slow discounting": flat})
)
