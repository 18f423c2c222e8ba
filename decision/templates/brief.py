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
priors = {}  # prior overrides by model, merged over the scenario's: {model: {prior: {name: value}}}

# %%
import warnings

import pandas as pd
from IPython.display import HTML, Markdown, display

from decision import case as cases
from decision import elicitation, evidence, models, plots, reporting, sensitivity
from decision.observations import load_observations

warnings.filterwarnings("ignore", category=FutureWarning)
pd.set_option("display.max_colwidth", None)  # sources and rationales in full
pd.set_option("display.max_rows", None)  # every row of every table
sampler = {"draws": draws, "tune": tune, "chains": chains, "cores": cores, "random_seed": seed}
observations = load_observations(observations_file, as_of=as_of) if observations_file else None
spec = cases.load_spec(case)
the_scenario = cases.load_scenario(scenario, spec)
analysis = cases.analyze(
    the_scenario,
    case=spec,
    as_of=as_of,
    observations=observations,
    priors=priors,
    sampler=sampler,
    seed=seed,
    use_cache=use_cache,
    strict=strict,
)
fits = analysis.fits
reporting.save_analysis(analysis, "analysis.json")
display(Markdown(reporting.title_text(spec.reports.brief, spec.question)))
display(
    Markdown(
        f"**Scenario: {reporting.escape(the_scenario.name)}.** "
        f"{reporting.escape(the_scenario.description)}"
    )
)
display(Markdown(reporting.run_header(as_of=as_of, fits=fits, observations=observations)))
provenance = elicitation.judgment_provenance(analysis.case, analysis.as_of)
hindsight = reporting.hindsight_text(analysis, provenance)
if hindsight:
    display(Markdown(hindsight))

# %% [markdown]
# ## The recommendation

# %%
display(Markdown(reporting.recommendation_text(analysis)))

# %% [markdown]
# ## Strategies compared
#
# Expected value in swing-weighted points (status quo = 0), its 90% interval over the uncertain
# judgments and posteriors, and the share of draws in which each strategy is best.

# %%
display(reporting.strategy_table(analysis))
plots.show(
    plots.plot_strategy_values(analysis),
    "Read: how widely each strategy's value spreads over the uncertain judgments and "
    "posteriors, and whether the recommended one (orange) lies to the right of the others.",
)

# %% [markdown]
# ## Why: each strategy's value by attribute
#
# Each attribute's weighted contribution to each strategy's expected value (later decisions
# at the optimal plan), so the rows add up to the strategy's value. Each attribute is measured
# on a stated worst-to-best range (its swing) and the swing weights sum to one.

# %%
if analysis.value_by_attribute is not None:
    display(Markdown(reporting.value_by_attribute_text(analysis)))
    display(reporting.value_by_attribute_table(analysis))
    plots.show(
        plots.plot_value_by_attribute(
            analysis.value_by_attribute, units=analysis.case.tree.units or ""
        ),
        "Read: the coloured segments are each attribute's share of a strategy's expected "
        "value (gains to the right of zero, costs to the left); the dot is the total.",
    )

# %% [markdown]
# ## The value of monitoring

# %%
display(Markdown(reporting.monitoring_text(analysis)))

# %% [markdown]
# ## What would change our mind
#
# One input at a time, over its 5th-95th percentile range (the others at their base case),
# and the expected value of perfect information about each (regression EVPPI). The full
# analysis is the sensitivity report (`decision report sensitivity`).

# %%
changers = sensitivity.what_would_change_our_mind(analysis.result)
display(Markdown(reporting.change_our_mind_text(changers)))
plots.show(
    plots.plot_tornado(changers.drivers, top=None),
    "Read: the longest bars are the inputs that move the margin of the recommendation most; "
    "a bar crossing the red line could alone change the recommendation.",
)

# %% [markdown]
# ## The decision tree
#
# Rolled-back expected values at every node (of the whole path, in weighted points), the
# optimal path in red. The compact view comes first; the whole tree below it adds the
# probability and payoff expressions on every branch, and is also written beside this report
# as `tree.svg`.

# %%
display(HTML(reporting.tree_html(analysis.result, svg_file="tree.svg")))

# %% [markdown]
# ## Headline estimates from the Bayesian models

# %%
display(Markdown(reporting.headline_text(analysis)))
display(reporting.headline_table(fits, spec))

# %% [markdown]
# ## The evidence
#
# Every figure below comes from the package's data files, each row with its source, limited
# to what was public on the report's *as of* date.

# %% [markdown]
# ### How far the data moved each probability
#
# For every probability the models supply to the tree: its prior (what the priors alone
# imply) beside its posterior (after the evidence and any monitoring observations), means
# and 90% intervals, and the shift of the mean. A probability the scenario sets by judgment
# is not learned from data: its source says "judgment" with its range.

# %%
display(reporting.prior_posterior_table(fits, analysis.case).round(3))

# %%
dprk, china = fits.get("dprk"), fits.get("china")
if dprk is not None:
    launches = evidence.launches_monthly(as_of=as_of)
    nuclear = evidence.nuclear_tests(as_of=as_of)
    plots.show(
        plots.plot_launch_record(launches, nuclear),
        "Read: the DPRK's missile launches by month and its nuclear tests up to the report's "
        "date: the activity a freeze would stop.",
    )
    agreements = evidence.agreements(as_of=as_of)
    plots.show(
        plots.plot_agreement_survival(agreements, dprk),
        "Read: how long earlier agreements held (left) and the fitted chance that a freeze "
        "still holds after each month (right), against the six-month monitoring window.",
    )
    display(reporting.agreements_table(agreements))

# %%
if china is not None:
    trade = evidence.trade_annual(as_of=as_of)
    if len(trade):
        series, rows = plots.trade_series(trade)
        sources = "; ".join(dict.fromkeys(rows["source"]))
        plots.show(
            plots.plot_trade(trade),
            f"Read: China-DPRK trade by year, the lever China would pull to enforce the plan. "
            f"One statistical series ({series or 'as recorded'}; source: {sources}); the "
            "other series differ in level and are in the evidence tables.",
        )
    enforcement = evidence.china_enforcement(as_of=as_of)
    plots.show(
        plots.plot_enforcement_record(
            enforcement, models.ChinaFollowThroughModel(as_of=as_of).data["weights"]
        ),
        "Read: how fully China enforced each past commitment (0 none, 1 in full); larger "
        "markers count more in the China model because they are more recent.",
    )
    display(reporting.enforcement_table(enforcement))

# %%
if dprk is not None:
    display(Markdown(reporting.model_section_text(dprk)))
    display(Markdown(reporting.diagnostics_text(dprk)))
    plots.show(
        plots.plot_posteriors(dprk),
        "Read: what the DPRK model concludes about each quantity the tree uses, with its 90% "
        "credible interval (HDI) and mean.",
    )
    plots.show(
        plots.plot_ppc(dprk, "missiles"),
        "Read: the model fits the launch record if the observed distribution (black) lies "
        "within the launches it simulates after seeing the data (blue).",
    )
    plots.show(
        plots.plot_ppc(dprk, "missiles", group="prior"),
        "Read: the launches the model expects before seeing the data; a spread wider than the "
        "record means the priors leave the answer to the evidence.",
    )
    plots.show(
        plots.plot_prior_posterior(
            dprk, ["breach_shape", "breach_scale", "p_accept", "export_rate"]
        ),
        "Read: how far the evidence moved each quantity from its prior (grey) to its "
        "posterior (blue); where they overlap, the prior judgment decides.",
    )
    plots.show(
        plots.plot_trace(dprk, list(models.DPRKComplianceModel.free_vars[:5])),
        "Read: each chain's draws by rank; lines close to the dashed level mean the chains "
        "mixed well and agree.",
    )

# %%
if china is not None:
    display(Markdown(reporting.model_section_text(china)))
    display(Markdown(reporting.diagnostics_text(china)))
    plots.show(
        plots.plot_posteriors(china),
        "Read: what the China model concludes about each quantity the tree uses, with its 90% "
        "credible interval (HDI) and mean.",
    )
    plots.show(
        plots.plot_ppc(china, "enforcement_record"),
        "Read: the model fits China's enforcement record if the observed distribution (black) "
        "lies within the records it simulates after seeing the data (blue).",
    )
    plots.show(
        plots.plot_prior_posterior(
            china, ["cooperation_mean", "cooperation_concentration", "cooperation"]
        ),
        "Read: how far the evidence moved each quantity from its prior (grey) to its "
        "posterior (blue); where they overlap, the prior judgment decides.",
    )
    plots.show(
        plots.plot_trace(china, list(models.ChinaFollowThroughModel.free_vars)),
        "Read: each chain's draws by rank; lines close to the dashed level mean the chains "
        "mixed well and agree.",
    )

# %% [markdown]
# ## Assumptions
#
# Every parameter of the case tree: posterior draws from the models, or an analyst judgment
# with its 90% range and the argument it encodes. For each judgment: its distribution (the
# experts' pool when several answered), the experts' spread (the range of their medians), and
# its provenance: who judged it, when, and how the answers were read (the case's elicitation
# records, `docs/elicitation.md`).

# %%
display(reporting.assumptions_table(analysis, provenance))

# %%
if spec.notes:
    display(Markdown(spec.notes))

# %% [markdown]
# ## Sources and reproducibility
#
# The evidence files as of the report's date, and what produced each posterior. The run's
# `manifest.json` (package versions, data hashes, seed, git commit) sits beside this report.

# %%
display(reporting.sources_table(as_of=as_of))
display(reporting.fit_inputs_table(fits))
