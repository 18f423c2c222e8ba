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
# # DPRK compliance model
#
# Fit, diagnose, check predictions against the data, and ask "what if the prior were
# different?". The model is `decision.models.DPRKComplianceModel`; its docstring lists the
# priors and the reasons for them.

# %% tags=["parameters"]
as_of = "2017-08-20"  # only evidence public on this date
observations_file = ""  # monitoring observations CSV; empty for none
draws = 1000  # posterior draws per chain
tune = 1000  # tuning steps per chain
chains = 4  # Markov chains
seed = 20170820  # random seed
whatif_priors = {"breach_scale": {"mu": 3.9, "sigma": 0.5}}  # an alternative prior to compare

# %%
from IPython.display import Markdown, display

from decision import evidence, models, plots, reporting
from decision.observations import load_observations

sampler = {"draws": draws, "tune": tune, "chains": chains, "random_seed": seed}
observations = load_observations(observations_file, as_of=as_of) if observations_file else None

# %% [markdown]
# ## Fit

# %%
model = models.DPRKComplianceModel(as_of=as_of, observations=observations, sampler=sampler)
fit = model.fit()
display(Markdown(reporting.diagnostics_text(fit)))
display(fit.summary())

# %% [markdown]
# ## Diagnose: rank plots (flat, overlapping bars mean the chains mix)

# %%
fig = plots.plot_trace(fit, list(model.free_vars[:6]))

# %% [markdown]
# ## What monitoring has shown, month by month
#
# The launch and nuclear-test tables merged with the ledger, as published by the cutoff. A
# kind with no record in a month is "not reported", never compliance.

# %%
display(model.monitoring_status())
display(Markdown(f"The DPRK: {model.answer_text()}."))

# %% [markdown]
# ## Prior and posterior predictive checks
#
# For each observed series, summary statistics of the data beside what the priors alone and
# the fitted model predict (mean and 90% interval); a posterior p-value near 0 or 1 flags a
# misfit. Then the same checks as plots.

# %%
for name in ("missiles", "long_range", "agreement_duration", "offer_responses"):
    display(Markdown(f"**{name}**"))
    display(fit.predictive_check(name).round(3))
fig = plots.plot_ppc(fit, "missiles", group="prior")
fig = plots.plot_ppc(fit, "missiles")
fig = plots.plot_ppc(fit, "agreement_duration")

# %% [markdown]
# ## Prior against posterior of every quantity the tree uses
#
# How far the evidence moved each quantity: the prior side is what the priors alone imply
# (no data, no monitoring record).

# %%
display(fit.prior_posterior_table().round(3))
fig = plots.plot_posteriors(fit)
fig = plots.plot_agreement_survival(evidence.agreements(as_of=as_of), fit)

# %% [markdown]
# ## What if the prior were different?

# %%
alternative = models.DPRKComplianceModel(
    as_of=as_of, observations=observations, sampler=sampler, priors=whatif_priors
).fit()
display(reporting.compare_fits({"default prior": fit, "what-if prior": alternative}))
