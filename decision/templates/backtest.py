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
backtest_folder = "backtests/backtest"  # the folder `decision backtest` wrote (<out>/<name>)
fan_horizon = 0  # horizon (months) of the launch fan chart; 0 for the shortest scored (0..60)

# %%
import warnings

import pandas as pd
from IPython.display import Markdown, display

from decision import evidence, reporting
from decision.backtest import plots, read_table, summary

warnings.filterwarnings("ignore", category=FutureWarning)
pd.set_option("display.max_colwidth", None)
pd.set_option("display.max_rows", None)
table = read_table(backtest_folder)
replay = read_table(backtest_folder, "replay")
scored = table[table["quantity"] != "fit"]
model_rows = scored[scored["forecaster"] == "model"]
display(
    Markdown(
        reporting.title_text(
            "Backtest: the models against what happened",
            "At each origin the models are fitted on the evidence public the day before it, and "
            "their posterior predictive distributions are scored on the next months against "
            "three simple baselines. Definitions: `docs/backtest.md`.",
        )
    )
)
origins = sorted(scored["origin"].unique())
flagged = model_rows.loc[
    ~model_rows["diagnostics_ok"].fillna(True).astype(bool), "origin"
].nunique()
errors = table.loc[table["error"].notna(), ["origin", "error"]].drop_duplicates()
display(
    Markdown(
        f"**{len(origins)} origins** from {origins[0] if origins else '-'} to "
        f"{origins[-1] if origins else '-'}; horizons "
        f"{', '.join(str(h) for h in sorted(scored['horizon'].unique()))} months; "
        f"{len(scored)} scored rows. Model fits failing a convergence check at "
        f"**{flagged}** origin(s); fit errors at {len(errors)} origin(s)."
    )
)
if len(errors):
    display(errors)

# %% [markdown]
# ## The model against the best baseline
#
# Per quantity and horizon, the baseline with the lowest mean CRPS over the origins both
# forecast. `difference` is model minus baseline (negative: the model is better), `se` its
# Newey-West standard error across origins (overlapping windows are correlated); `clear` when
# the difference exceeds twice its standard error.

# %%
headline = summary.headline_table(scored, "crps")
display(headline.round(4))

# %% [markdown]
# ## Every comparison: log score, CRPS and Brier, model minus each baseline

# %%
comparison = summary.comparison_table(scored)
display(comparison.round(4))
display(summary.mean_scores(scored).round(4))

# %% [markdown]
# ## Where the model loses

# %%
for text in summary.verdicts(scored).values():
    display(Markdown("* " + reporting.escape(text)))

# %% [markdown]
# ## Calibration: coverage against nominal, and PIT histograms
#
# A calibrated forecaster puts about 50% and 90% of outcomes inside its central 50% and 90%
# intervals (discrete intervals hold at least their mass, so slightly more is expected) and
# has a flat PIT histogram; a hump means too wide, a U too narrow, a slope a bias.

# %%
coverage = summary.coverage_table(scored)
display(coverage.round(3))
fig = plots.plot_coverage(coverage)
fig = plots.plot_pit(scored)

# %% [markdown]
# ## Predicted against actual launches

# %%
horizons = sorted(scored["horizon"].unique())
chosen = fan_horizon if fan_horizon in horizons else (horizons[0] if horizons else 0)
launches = evidence.launches_monthly(as_of=evidence.coverage().end)
launches = launches[launches["month"] >= "2013-01"]
if chosen:
    fig = plots.plot_launch_fan(scored, launches, horizon=int(chosen))

# %% [markdown]
# ## Counterfactual replay: what the brief would have said each month
#
# The case analysed as of each month's last day with the evidence public then and the worked
# ledger (`examples/monitoring-2017/observations.csv`): each strategy's probability of being
# optimal, and the contingent plan for the spring exercises.

# %%
if len(replay):
    ok = replay[replay["error"].isna()]
    display(ok.pivot(index="month", columns="strategy", values="p_optimal").round(3))
    display(plots.plan_table(ok))
    fig = plots.plot_replay(ok)
    bad = replay[replay["error"].notna() | ~replay["diagnostics_ok"].fillna(True).astype(bool)]
    if len(bad):
        display(Markdown("Months with a fit error or a failed convergence check:"))
        display(bad[["month", "error", "flags"]].drop_duplicates())
else:
    display(Markdown("No replay in this backtest folder (`decision backtest --replay none`)."))
