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
# # Eliciting your judgments
#
# Answer the case's questions (`docs/elicitation.md`), see each answer fitted to a
# distribution next to the other experts' and their pool, and save your answers as an
# elicitation record. Then `decision elicit check --record YOUR_FILE` and
# `decision elicit fit --record YOUR_FILE --out pooled.yaml` bring them into the analysis.
#
# 1. Fill in the parameters cell below: who you are, the date of your answers, and for each
#    judgment you answer, your answers in the record's method (for the shipped questions the
#    lowest possible, most likely and highest possible value: `low`, `mode`, `high`; for
#    `p_covert_rd` your 5th, 50th and 95th percentiles: `p05`, `p50`, `p95`) and one
#    sentence of rationale, citing nothing after your date.
# 2. Run all cells. With `ipywidgets` installed (the `dev` extra) each fitted distribution
#    also comes with PreliZ's interactive explorer: move its sliders to see what other
#    answers would mean, then change your answers and run again. Without widgets (e.g. when
#    the notebook runs unattended) the figures are static.
# 3. Set `out_file` to save the record.

# %% tags=["parameters"]
case = ""  # a shipped case's name or a case folder; empty for the default case
expert = "new-analyst"  # your id (letters, digits, '_', '.', '-')
expert_name = "A new analyst"  # your name
session_date = "2017-08-20"  # the date of your answers, YYYY-MM-DD
as_of = "2017-08-20"  # the analysis date: answers dated after it are flagged (hindsight)
answers = {
    "s_readiness": {"low": 40, "mode": 70, "high": 100},
    "crisis_cut": {"low": 0.1, "mode": 0.4, "high": 0.7},
    "p_covert_rd": {"p05": 0.05, "p50": 0.2, "p95": 0.5},
}  # judgment -> your answers, in the method of its question
rationales = {
    "s_readiness": "Example: the exercises are lawful and defensive; readiness comes first.",
    "crisis_cut": "Example: without tests there is less to answer, but incidents remain.",
    "p_covert_rd": "Example: R&D goes on in any case; a freeze hides some of it.",
}  # judgment -> one sentence of rationale
other_records = []  # further record files (YAML) to compare your answers with
out_file = ""  # save your record here (YAML); empty: do not save
interactive = True  # show PreliZ's interactive explorers where ipywidgets is installed

# %%
import datetime as dt

import pandas as pd
from IPython.display import Markdown, display

from decision import elicitation, plots, reporting
from decision.elicitation import notebook
from decision.elicitation.plots import plot_judgment

pd.set_option("display.max_colwidth", None)
record = notebook.record_data(
    case or None,
    expert=expert,
    name=expert_name,
    date=session_date,
    answers=answers,
    rationales=rationales,
)
mine = elicitation.parse_record(record, file=f"<your record: {expert}>")
result = elicitation.elicit_case(
    case or None, extra=other_records, records={f"<your record: {expert}>": mine}, refuse=False
)
widgets = interactive and notebook.widgets_available()
display(
    Markdown(
        f"**{len(result.experts)} experts** ({reporting.escape(', '.join(result.experts))}), "
        f"pooled with {reporting.escape(result.scheme)}; fits are refused beyond a miss of "
        f"{result.tolerance:g} in probability. Interactive explorers: "
        f"{'on' if widgets else 'off (static figures only)'}."
    )
)

# %% [markdown]
# ## Your answers, fitted, against the other experts
#
# For each judgment: the question as asked, your fitted distribution (orange) with your
# stated answers (dots on the cumulative curve, the dotted line at your mode), the other
# experts' (grey) and the pool of all (dashed blue). A fit error above the tolerance means no
# distribution of the family matches your answers: revise them.

# %%
for name in answers:
    question = mine.judgments[name]
    display(
        Markdown(
            f"### {reporting.escape(name)}\n\n*{reporting.escape(question.question)}* "
            f"({reporting.escape(question.units)})"
        )
    )
    plots.show(
        plot_judgment(result, name, highlight=expert),
        f"Read: your fitted distribution for {name} against your answers and the other "
        "experts'; where the curves sit apart, you disagree.",
    )
    if widgets:
        own = next(f for f in result.fits[name] if f.expert == expert)
        display(notebook.interactive_explorer(own.spec))

# %% [markdown]
# ## The fits and the pools

# %%
table = result.fit_table()
display(table[table.index.get_level_values("expert") == expert])
display(result.pool_table().loc[list(answers)])
refused = [f.name for f in result.refused() if f.expert == expert]
display(
    Markdown(
        "**Revise before saving:** " + reporting.escape(", ".join(refused))
        if refused
        else "Every answer is fitted within the tolerance."
    )
)
for flag in result.hindsight_flags(dt.date.fromisoformat(as_of)):
    display(Markdown("**Hindsight:** " + reporting.escape(flag)))

# %% [markdown]
# ## Save your record

# %%
if out_file and not refused:
    saved = notebook.save_record(record, out_file)
    display(Markdown(f"Record saved to `{reporting.escape(saved)}`."))
elif out_file:
    display(Markdown("Not saved: revise the answers listed above first."))
else:
    display(Markdown("Set `out_file` to save your record. It would read:"))
    print(notebook.record_yaml(record))
