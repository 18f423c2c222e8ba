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
# # The evidence
#
# Every table the models use, as known on `as_of`, with its sources. The files live in
# `decision/data/` (see its README for definitions); this notebook only loads and plots them.

# %% tags=["parameters"]
as_of = "2017-08-20"  # only evidence public on this date

# %%
from IPython.display import Markdown, display

from decision import evidence, plots

# %% [markdown]
# ## What is in the data, as of the chosen date

# %%
display(evidence.describe(as_of=as_of))

# %% [markdown]
# ## DPRK launches and nuclear tests

# %%
launches = evidence.launches_monthly(as_of=as_of)
nuclear = evidence.nuclear_tests(as_of=as_of)
fig = plots.plot_launch_record(launches, nuclear)
display(
    launches.assign(year=launches["month"].str[:4])
    .groupby("year")[["missiles", "launch_days", "long_range_missiles"]]
    .sum()
)

# %% [markdown]
# ## Earlier agreements: time to breakdown (censored when still holding on `as_of`)

# %%
agreements = evidence.agreements(as_of=as_of)
fig = plots.plot_agreement_survival(agreements)
display(agreements)

# %% [markdown]
# ## China: enforcement record (analyst coding, with rationale) and trade

# %%
display(evidence.china_enforcement(as_of=as_of))
display(evidence.china_obligations(as_of=as_of))
trade = evidence.trade_annual(as_of=as_of)
for series, rows in trade.groupby("series"):  # one statistical series per plot
    display(Markdown(f"**{series}**"))
    fig = plots.plot_trade(rows)
display(evidence.trade_monthly(as_of=as_of))

# %% [markdown]
# ## The DPRK's answers to freeze offers, and documented technology transfers

# %%
display(evidence.dprk_offers(as_of=as_of))
display(evidence.dprk_transfers(as_of=as_of))

# %% [markdown]
# ## Sanctions resolutions and combined exercises

# %%
display(evidence.unsc_resolutions(as_of=as_of))
display(evidence.exercises(as_of=as_of))
