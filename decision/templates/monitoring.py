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
through = "2017-09"  # the month to report on (YYYY-MM); evidence as of its last day
ledger_file = ""  # the observation ledger (CSV)
schedule_file = ""  # the monitoring schedule (YAML); empty for the default
history_file = ""  # the run-history database (SQLite) for the trend chart; empty for none
case = ""  # a shipped case's name or a case folder; empty for the default case
scenario = "baseline"  # a shipped scenario's name or a scenario file
draws = 1000  # posterior draws per chain (10..100000)
tune = 1000  # tuning steps per chain (10..100000)
chains = 4  # Markov chains (1..16)
cores = 2  # processes sampling in parallel (1..64)
seed = 20170820  # random seed (0..4294967295)
strict = False  # stop with an error when a fit fails its convergence checks
use_cache = True  # serve unchanged fits from the posterior cache

# %%
import warnings

import pandas as pd
from IPython.display import HTML, Markdown, display

from decision import plots, reporting
from decision.monitoring import RunHistory, monitor

warnings.filterwarnings("ignore", category=FutureWarning)
pd.set_option("display.max_colwidth", None)  # sources and rationales in full
pd.set_option("display.max_rows", None)  # every row of every table
sampler = {"draws": draws, "tune": tune, "chains": chains, "cores": cores, "random_seed": seed}
result = monitor(
    through,
    ledger=ledger_file,
    schedule=schedule_file or None,
    scenario=scenario,
    case=case or None,
    sampler=sampler,
    seed=seed,
    use_cache=use_cache,
    strict=strict,
)
analysis = result.analysis
reporting.save_analysis(analysis, "analysis.json")
display(
    Markdown(
        reporting.title_text(
            analysis.spec.reports.monitoring,
            "What was observed this month against the monitoring schedule, the decision "
            "still open at this date and its answer with the evidence at hand, the updated "
            "probabilities, and how every headline number has moved since monitoring began.",
        )
    )
)
display(Markdown(reporting.monitoring_header(result)))
display(
    Markdown(
        reporting.run_header(
            as_of=analysis.as_of, fits=analysis.fits, observations=result.observations
        )
    )
)

# %% [markdown]
# ## The decision open this month

# %%
display(Markdown(reporting.open_decision_text(result)))
if result.open_decision is None or result.open_decision.choice is None:
    display(Markdown(reporting.current_plan_text(result)))
elif result.open_decision.closed is None:
    display(reporting.second_stage_choice_table(result))

# %% [markdown]
# ## Observed against scheduled

# %%
display(reporting.schedule_table(result))

# %% [markdown]
# ## Updated probabilities and strategies
#
# The first-stage strategies re-valued with this month's evidence, for the record: the choice
# among them was made when the question was posed and is not re-opened here.

# %%
display(reporting.headline_table(analysis.fits, analysis.spec))
display(reporting.strategy_table(analysis))

# %% [markdown]
# ## Trend since monitoring began
#
# From the recorded monthly runs (the run history), with this month's numbers added.

# %%
trend = RunHistory(history_file).trend() if history_file else None
fig = plots.plot_monitoring_trend(trend, result.through, result.headline())

# %% [markdown]
# ## The ledger through this month

# %%
display(reporting.ledger_table(result.observations))

# %% [markdown]
# ## The decision tree this month

# %%
display(HTML(reporting.tree_html(analysis.result)))

# %% [markdown]
# ## Reproducibility

# %%
display(reporting.fit_inputs_table(analysis.fits))
display(reporting.hashes_table(result.hashes))
