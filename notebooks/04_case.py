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
# # The freeze-plus-pressure decision
#
# The case tree (`decision/cases/freeze_plus_pressure/tree.yaml`) fed with the two models'
# posterior draws: strategies, the contingent plan, the value of monitoring, and what-ifs on
# single judgments. Edit the tree or a scenario file, not this notebook.

# %% tags=["parameters"]
as_of = "2017-08-20"  # only evidence public on this date
scenario = "baseline"  # a shipped scenario's name or a scenario file
draws = 1000  # posterior draws per chain
tune = 1000  # tuning steps per chain
chains = 4  # Markov chains
seed = 20170820  # random seed
whatif = {"s_readiness": 100.0, "china_keeps_if_full": 0.1}  # judgments to fix, one at a time

# %%
from IPython.display import HTML, Markdown, display

from decision import case, plots, reporting
from decision.whatif import what_if_control, what_if_table

sampler = {"draws": draws, "tune": tune, "chains": chains, "random_seed": seed}

# %% [markdown]
# ## Analysis

# %%
analysis = case.analyze(scenario, as_of=as_of, sampler=sampler, seed=seed)
display(Markdown(reporting.recommendation_text(analysis)))
display(reporting.strategy_table(analysis))
fig = plots.plot_strategy_values(analysis)
display(Markdown(reporting.monitoring_text(analysis)))

# %% [markdown]
# ## The tree, rolled back

# %%
display(HTML(reporting.tree_html(analysis.result)))

# %% [markdown]
# ## What if one judgment were fixed?
#
# The tree rolled back again with one judgment fixed and everything else at its draws (the
# models are not refitted). In JupyterLab, pick a judgment and move the slider over its range;
# without a widget front end (or without ipywidgets) the table shows each judgment at the low
# and high end of its range.

# %%
display(what_if_control(analysis))

# %% [markdown]
# The judgments fixed in the parameters cell (`whatif`):

# %%
display(what_if_table(analysis, whatif))

# %% [markdown]
# ## Assumptions

# %%
display(reporting.assumptions_table(analysis))
