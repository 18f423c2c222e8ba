"""Text and tables for report notebooks: plain words and labelled frames, nothing computed here.

Every string that comes from a file or a parameter is HTML-escaped before it is placed in
Markdown, so a value such as ``<script>`` shows as text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from decision import evidence

__all__ = [
    "agreements_table",
    "assumptions_table",
    "change_our_mind_text",
    "compare_fits",
    "current_plan_text",
    "hashes_table",
    "ledger_table",
    "monitoring_header",
    "schedule_table",
    "smallest_switches_text",
    "monitoring_text",
    "open_decision_text",
    "recommendation_text",
    "second_stage_choice_table",
    "strategy_table",
    "value_by_attribute_table",
    "value_by_attribute_text",
    "TREE_MIN_FONT_PX",
    "TREE_ZOOMS",
    "tree_html",
    "diagnostics_text",
    "enforcement_table",
    "escape",
    "expert_disagreement_markdown",
    "expert_disagreement_table",
    "expert_disagreement_text",
    "fit_inputs_table",
    "headline_table",
    "headline_text",
    "hindsight_text",
    "model_section_text",
    "title_text",
    "percent",
    "preposterior_table",
    "prior_posterior_table",
    "prior_sensitivity_table",
    "run_header",
    "save_analysis",
    "sources_table",
]

#: Titles and one-paragraph summaries of the model sections of a brief, by model name.
MODEL_SECTIONS = {
    "dprk_compliance": (
        "DPRK compliance model",
        "Survival of earlier agreements (Weibull, censored), the monthly launch record (negative "
        "binomial with a yearly random-walk rate) and monitoring observations (tests are always "
        "detected; covert exports only with a detection probability).",
    ),
    "china_follow_through": (
        "China follow-through model",
        "China's coded enforcement record (beta-binomial, recent episodes weighted more) and "
        "monitoring observations of scheduled steps and trade levels.",
    ),
}


#: Characters replaced wherever they are: HTML's five (as :func:`html.escape` writes them)
#: and those that start Markdown links, images, code, emphasis, tables, strikethrough, math,
#: headings and autolinks (as numeric character references, which Markdown never reads as
#: syntax and a browser shows as the character).
_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "'": "&#x27;",
        **{c: f"&#{ord(c)};" for c in "\\`*_[]!|~$#:"},
    }
)
#: Markdown that only counts at the start of a line: lists, block quotes, setext headings.
_LINE_START = re.compile(r"^(?:([-+=])|(\d{1,9})([.)]))", re.M)


def escape(value) -> str:
    """Escape any value for safe inclusion in Markdown or HTML: it shows as typed.

    HTML is escaped (``<script>`` shows as text) and so is Markdown syntax: a description
    such as ``![x](https://host/pixel.png)``, ``[click](javascript:...)`` or a
    ```` ```mermaid ```` fence shows as those characters, never as an image that calls out, a
    link that runs script, or a diagram that loads a library.
    """
    text = re.sub(r"\n[ \t]+", "\n", str(value))  # no indented code blocks
    text = text.translate(_ESCAPES)
    return _LINE_START.sub(lambda m: f"&#{ord(m[1])};" if m[1] else f"{m[2]}&#{ord(m[3])};", text)


def percent(x: float) -> str:
    """0.1234 -> '12%'."""
    return f"{100 * float(x):.0f}%"


def run_header(*, as_of, fits: Mapping, observations: pd.DataFrame | None) -> str:
    """One paragraph: the date, the monitoring data used, and any convergence warning."""
    lines = [f"**Evidence as of {escape(as_of)}.** "]
    if observations is not None and len(observations):
        lines.append(
            f"Monitoring observations: {len(observations)} "
            f"(through {escape(observations['date'].max())}). "
        )
    else:
        lines.append("No monitoring observations yet. ")
    warnings = [f.flagged_message() for f in fits.values() if f.flagged_message()]
    if warnings:
        lines.append(
            "\n\n> **Warning: a model did not pass its convergence checks; treat its "
            "numbers as provisional.** " + escape("; ".join(warnings))
        )
    return "".join(lines)


def _interval(draws: np.ndarray) -> tuple[float, float, float]:
    lo, hi = np.percentile(draws, [5, 95])
    return float(np.mean(draws)), float(lo), float(hi)


def headline_table(fits: Mapping, spec=None) -> pd.DataFrame:
    """Mean and 90% interval of every headline quantity of every fit.

    Quantities are labelled with the case spec's labels where it has one (``spec``), else by
    their variable names.
    """
    rows = []
    for key, fit in fits.items():
        for name in fit.headline_names:
            mean, lo, hi = _interval(fit.draws(name))
            label = spec.headline_label(name) if spec is not None else name
            rows.append(
                {
                    "model": key,
                    "quantity": label,
                    "variable": name,
                    "mean": round(mean, 3),
                    "5%": round(lo, 3),
                    "95%": round(hi, 3),
                }
            )
    return pd.DataFrame(rows).set_index(["model", "quantity"])


def headline_text(analysis) -> str:
    """Describe the case's headline quantities in plain words: posterior mean, 90% interval."""
    lines = []
    for quantity in analysis.spec.headline:
        if quantity.model not in analysis.fits:
            continue
        mean, lo, hi = _interval(analysis.fits[quantity.model].draws(quantity.variable))
        if quantity.probability:
            shown = f"**{percent(mean)}** (90% interval {percent(lo)} to {percent(hi)})"
        else:
            shown = f"**{mean:.2f}** (90% interval {lo:.2f} to {hi:.2f})"
        lines.append(f"- {escape(quantity.label)}: {shown}.")
    return "\n".join(lines)


def prior_posterior_table(fits: Mapping, case) -> pd.DataFrame:
    """Prior beside posterior for every probability the case supplies to its tree.

    One row per entry of the case spec's ``supplied`` map that is a probability or a share
    (a tree parameter without units; rates such as missiles a month are left out). A
    parameter the tree still takes from a model shows that model quantity's prior (what the
    priors alone imply, from the fit's prior draws) and posterior; one the scenario has
    replaced by a number or a distribution is a **judgment**, not learned from data: its
    source says so with its 90% range, and its prior and posterior are that judgment.

    Parameters
    ----------
    fits
        The fitted models by key (a fit without prior draws shows NaN on the prior side).
    case
        The case (:class:`decision.case.Case`): its spec's ``supplied`` map and its tree.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``parameter`` (the tree's name): ``source`` (``"<model> model:
        <variable>"`` or ``"judgment (90% range a to b)"``), ``description``, ``prior mean``,
        ``prior 5%``, ``prior 95%``, ``posterior mean``, ``posterior 5%``, ``posterior 95%``
        and ``shift`` (posterior mean minus prior mean).
    """
    rows = []
    nan3 = (np.nan, np.nan, np.nan)
    for name, (model, variable) in case.spec.supplied.items():
        param = case.tree.parameters.get(name)
        if param is None or getattr(param, "units", None):
            continue
        if param.kind == "supplied":
            fit = fits.get(model)
            if fit is None:
                continue
            posterior = _interval(np.asarray(fit.draws(variable), dtype=float))
            prior_draws = getattr(fit, "prior_draws", lambda _: None)(variable)
            prior = nan3 if prior_draws is None else _interval(np.asarray(prior_draws, float))
            source = f"{model} model: {variable}"
        else:
            lo, hi = (float(x) for x in param.ppf(np.array([0.05, 0.95])))
            mean = float(param.mean())
            prior = posterior = (mean, lo, hi)
            source = f"judgment (90% range {lo:.2f} to {hi:.2f})"
        rows.append(
            {
                "parameter": name,
                "source": source,
                "description": param.description or "",
                "prior mean": prior[0],
                "prior 5%": prior[1],
                "prior 95%": prior[2],
                "posterior mean": posterior[0],
                "posterior 5%": posterior[1],
                "posterior 95%": posterior[2],
                "shift": posterior[0] - prior[0],
            }
        )
    columns = [
        "source",
        "description",
        "prior mean",
        "prior 5%",
        "prior 95%",
        "posterior mean",
        "posterior 5%",
        "posterior 95%",
        "shift",
    ]
    return pd.DataFrame.from_records(rows, columns=["parameter", *columns]).set_index("parameter")


def model_section_text(fit) -> str:
    """Write the heading and summary of a model's section in a report."""
    title, summary = MODEL_SECTIONS.get(fit.model_name, (fit.model_name, ""))
    return f"## {escape(title)}\n\n{escape(summary)}"


def title_text(title: str, question: str = "") -> str:
    """Write a report's title and the question it answers (the question is trusted Markdown)."""
    return f"# {escape(title)}\n\n{question}" if question else f"# {escape(title)}"


def diagnostics_text(fit) -> str:
    """R-hat, ESS and divergences in one line, with a pass or fail mark."""
    d = fit.diagnostics
    status = "passed" if d.ok else "**failed**: " + escape("; ".join(d.flags))
    rhat = "n/a" if not np.isfinite(d.max_r_hat) else f"{d.max_r_hat:.3f}"
    source = " (served from the posterior cache)" if fit.from_cache else ""
    return (
        f"Convergence checks {status}. Largest R-hat {rhat}, smallest bulk ESS "
        f"{d.min_ess_bulk:.0f}, {d.divergences} divergences{source}."
    )


def agreements_table(agreements: pd.DataFrame) -> pd.DataFrame:
    """Earlier agreements with time to breach and whether it was censored."""
    cols = [
        c
        for c in ("agreement", "signed", "breach_date", "duration_months", "observed", "source")
        if c in agreements
    ]
    out = agreements[cols].copy()
    out["duration_months"] = out["duration_months"].round(1)
    return out.rename(columns={"observed": "breached"}).set_index("agreement")


def enforcement_table(record: pd.DataFrame) -> pd.DataFrame:
    """China's enforcement record as coded, with the rationale for each coding."""
    cols = [
        c
        for c in (
            "episode",
            "commitment",
            "commitment_date",
            "enforced",
            "extent",
            "lag_months",
            "rationale",
        )
        if c in record
    ]
    return record[cols].set_index(cols[0])


def sources_table(*, as_of) -> pd.DataFrame:
    """Tabulate the evidence files, their rows and sources as of the date."""
    return evidence.describe(as_of=as_of)


def fit_inputs_table(fits: Mapping) -> pd.DataFrame:
    """Tabulate what produced each posterior: data hash, seed, sampler, package version, cache."""
    rows = []
    for key, fit in fits.items():
        i = fit.inputs
        s = i["sampler"]
        rows.append(
            {
                "model": key,
                "data hash": i["data_hash"][:12],
                "seed": i["seed"],
                "draws x chains": f"{s['draws']} x {s['chains']}",
                "tune": s["tune"],
                "package": i["package_version"],
                "from cache": fit.from_cache,
                "diagnostics": "ok" if fit.diagnostics.ok else "flagged",
            }
        )
    return pd.DataFrame(rows).set_index("model")


def compare_fits(fits: Mapping) -> pd.DataFrame:
    """Posterior means and 90% intervals of the headline quantities, one column per fit."""
    columns = {}
    for label, fit in fits.items():
        values = {}
        for name in fit.headline_names:
            mean, lo, hi = _interval(fit.draws(name))
            values[name] = f"{mean:.3f} ({lo:.3f} to {hi:.3f})"
        columns[label] = values
    return pd.DataFrame(columns).rename_axis("quantity")


def recommendation_text(analysis) -> str:
    """Describe the recommendation, its margin and robustness, and the contingent plan."""
    d = analysis.to_dict()
    spec = analysis.spec
    best = d["recommendation"]
    ranked = sorted(d["options"].items(), key=lambda kv: kv[1], reverse=True)
    runner, runner_value = ranked[1]
    lines = [
        f"**Recommendation: {escape(spec.strategy_words(best))}.**",
        "",
        f"It has the highest expected value ({d['options'][best]:.3f} points against "
        f"{runner_value:.3f} for {escape(runner)}) and is the best strategy in "
        f"{percent(d['probability_optimal'].get(best, 0))} of the draws of the uncertain "
        f"judgments and posteriors.",
    ]
    if d["probability_optimal"].get(best, 0) < 0.5:
        top = max(d["probability_optimal"], key=d["probability_optimal"].get)
        lines.append(
            f"The call is close: {escape(top)} is best in more draws "
            f"({percent(d['probability_optimal'][top])}), but by smaller margins."
        )
    stage = spec.second_stage
    if d["contingent_plan"] and stage is not None:
        lines += ["", f"**{escape(stage.plan_intro)}**", ""]
        for level, option in d["contingent_plan"].items():
            share = d["contingent_plan_probability"].get(level)
            share_text = f" (best in {percent(share)} of draws)" if share is not None else ""
            words = stage.condition_words.format(level=escape(level), option=escape(option))
            lines.append(f"- {words}{share_text}")
    probabilities = [
        f"{escape(q.label)}: **{percent(d[q.name])}**"
        for q in spec.headline
        if q.probability and q.name in d
    ]
    if probabilities:
        lines += ["", "Probabilities: " + "; ".join(probabilities) + "."]
    return "\n".join(lines)


def value_by_attribute_table(analysis) -> pd.DataFrame:
    """Each strategy's expected value split by attribute, with the total, rounded."""
    table = analysis.value_by_attribute
    if table is None:
        return pd.DataFrame()
    table = table.copy()
    table["total"] = table.sum(axis=1)
    return table.round(4)


def value_by_attribute_text(analysis) -> str:
    """Name the attribute that carries the recommendation, and the one that holds it back most."""
    table = analysis.value_by_attribute
    if table is None:
        return ""
    best = analysis.recommendation
    row = table.loc[best]
    lines = []
    if row.abs().sum() > 0:
        gain, cost = row.idxmax(), row.idxmin()
        lines.append(
            f"For the recommended strategy the largest gain is in **{escape(gain)}** "
            f"({row[gain]:+.4f} points) and the largest cost in **{escape(cost)}** "
            f"({row[cost]:+.4f})."
        )
    others = [o for o in table.index if o != best]
    for other in others:
        gap = table.loc[best] - table.loc[other]
        lines.append(
            f"Against {escape(other)}, the recommendation gains most on **{escape(gap.idxmax())}** "
            f"({gap.max():+.4f}) and loses most on **{escape(gap.idxmin())}** ({gap.min():+.4f})."
        )
    return "\n\n".join(lines)


def strategy_table(analysis) -> pd.DataFrame:
    """Strategies with expected value, 90% interval and probability optimal, rounded."""
    table = analysis.strategy_table().round(3)
    table["probability optimal"] = table["probability optimal"].map(percent)
    return table


def monitoring_text(analysis) -> str:
    """Describe what deciding the second stage after observing is worth, against committing now."""
    stage = analysis.spec.second_stage
    fixed = analysis.fixed_plan_values
    if stage is None or not fixed:
        return "The case has no later decision to take after observing."
    best_fixed = max(fixed, key=fixed.get)
    return stage.value_words.format(
        best_fixed=escape(best_fixed), value=f"{analysis.value_of_monitoring:.4f}"
    )


def assumptions_table(analysis, provenance: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every parameter of the case: kind, 90% range, rationale; for judgments, provenance.

    Each judgment also shows its distribution (the pooled one when several experts answered),
    the experts' spread and where it came from (experts, dates, method; see
    :func:`decision.elicitation.judgment_provenance`, computed when ``provenance`` is None);
    one elicited after the analysis date is marked.
    """
    table = analysis.case.assumptions()
    for name, (model, var) in analysis.spec.supplied.items():
        if name in table.index and model in analysis.fits:
            draws = analysis.fits[model].draws(var)
            table.loc[name, ["5%", "95%"]] = np.percentile(draws, [5, 95])
            table.loc[name, "rationale"] = f"posterior of {var} ({model} model)"
    for name in table.index[table["kind"] == "from the evidence"]:
        value = float(np.mean(analysis.result.parameters[name]))
        table.loc[name, ["5%", "95%"]] = value
    if provenance is None:
        from decision.elicitation import judgment_provenance

        provenance = judgment_provenance(analysis.case, analysis.as_of)
    added = ["distribution", "experts' spread", "provenance"]
    for column in added:
        table[column] = ""
    for name, row in provenance.iterrows():
        if name in table.index:
            words = row["provenance"]
            if row["after as_of"]:
                words += " [ELICITED AFTER THE ANALYSIS DATE: may reflect hindsight]"
            table.loc[name, added] = [row["distribution"], row["experts' spread"], words]
    order = ["kind", "judgment", "description", "distribution", "5%", "95%"]
    order += ["experts' spread", "provenance", "rationale"]
    table = table[order + [c for c in table.columns if c not in order]]
    table = table.round({"5%": 3, "95%": 3})
    for column in ("5%", "95%"):  # blank, not NaN, where a parameter has no range
        table[column] = table[column].astype(object).where(table[column].notna(), "")
    return table


def hindsight_text(analysis, provenance: pd.DataFrame | None = None) -> str:
    """Warn of the judgments elicited after the analysis date (empty text when none)."""
    from decision.elicitation import hindsight_messages, judgment_provenance

    if provenance is None:
        provenance = judgment_provenance(analysis.case, analysis.as_of)
    messages = hindsight_messages(provenance, analysis.as_of.isoformat())
    if not messages:
        return ""
    items = "\n".join(f"> - {escape(m)}" for m in messages)
    return (
        f"> **Hindsight: {len(messages)} judgment(s) were elicited after the analysis date "
        f"({escape(analysis.as_of.isoformat())}).** They may use what was learned later; read "
        "the recommendation as of their dates, not as of the analysis date.\n>\n" + items
    )


def expert_disagreement_table(disagreement) -> pd.DataFrame:
    """Per expert: elicitation dates, judgments answered, recommendation, expected values."""
    table = disagreement.table.drop(columns=["kind"]).copy()
    table["probability optimal"] = table["probability optimal"].map(percent)
    for strategy in disagreement.strategies:
        table[strategy] = table[strategy].round(4)
    return table.rename(columns={"answered": "judgments answered"})


def expert_disagreement_text(disagreement) -> str:
    """Say the recommendation under each expert's judgments alone, in plain words."""
    table = disagreement.table
    experts = table[table["kind"] == "expert"]
    if experts.empty:
        return "The case has no elicitation records: there are no experts to compare."
    lines = []
    for label, row in table[table["kind"] != "analysis"].iterrows():
        lines.append(
            f"- {escape(label)}: **{escape(row['recommendation'])}** (best in "
            f"{percent(row['probability optimal'])} of draws)."
        )
    if len(experts) == 1:
        head = "One expert's judgments are on record; " + (
            "they lead to this analysis's recommendation."
            if experts["recommendation"].iloc[0] == disagreement.reference
            else "they lead to another recommendation than this analysis's scenario."
        )
    elif disagreement.agree:
        head = (
            f"All {len(experts)} experts' judgments lead to the same recommendation: the "
            "disagreement between them does not change the call."
        )
    else:
        calls = ", ".join(escape(c) for c in experts["recommendation"].unique())
        head = (
            f"**The experts disagree on the recommendation** ({calls}): which expert's "
            "judgments are right matters more than the models' uncertainty here."
        )
    return "\n".join([head, "", *lines])


def expert_disagreement_markdown(disagreement, context: str = "") -> str:
    """Write the expert-disagreement section as Markdown (heading, text, table).

    ``context`` (e.g. the evidence date, scenario, sampler and commit) is written under the
    heading, escaped.
    """
    table = expert_disagreement_table(disagreement)
    header = ["judgments of", *table.columns]

    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:.4f}"
        return escape(value)

    rows = [[escape(label), *(cell(v) for v in row)] for label, row in table.iterrows()]
    lines = ["## Expert disagreement", ""]
    if context:
        lines += [f"*{escape(context)}*", ""]
    lines += [
        "The recommendation under each expert's own judgments alone: the models' posterior "
        "draws are the same in every row; only the judgments an expert answered are replaced "
        "by that expert's distributions (the others keep the scenario's).",
        "",
        expert_disagreement_text(disagreement),
        "",
        "| " + " | ".join(escape(h) for h in header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]
    return "\n".join(lines) + "\n"


#: Smallest font size (CSS px) a tree diagram is shown at before its box scrolls sideways.
TREE_MIN_FONT_PX = 10.0
#: Zoom levels offered for the full tree: (label, scale); ``None`` fits the page width.
TREE_ZOOMS = (("fit width", None), ("50%", 0.5), ("100%", 1.0), ("200%", 2.0))


def _inline_svg(svg: bytes, prefix: str) -> tuple[str, float, float, float]:
    """Make graphviz SVG fit for inlining: no prologue, no fixed size, element ids prefixed.

    Returns the markup, the natural width and height in CSS px, and the smallest font size in
    CSS px.
    """
    text = svg.decode("utf-8")
    text = text[text.index("<svg") :]  # drop the XML prologue and doctype
    size = re.match(r'<svg width="([0-9.]+)pt" height="([0-9.]+)pt"', text)
    if size is None:  # pragma: no cover - graphviz always writes both
        raise ValueError("graphviz wrote an SVG without width and height")
    text = text[: size.start()] + "<svg" + text[size.end() :]
    # Two drawings in one page: ids (and the links of "same as" boxes to them) stay unique.
    text = text.replace(' id="', f' id="{prefix}-').replace('href="#', f'href="#{prefix}-')
    fonts = [float(f) for f in re.findall(r'font-size="([0-9.]+)"', text)] or [14.0]
    px = 4.0 / 3.0  # graphviz sizes are points
    return text, float(size[1]) * px, float(size[2]) * px, min(fonts) * px


def tree_html(result, *, svg_file=None, highlight=()) -> str:
    """Show the rolled-back tree in a report, as self-contained HTML with no script.

    First the compact view (strategies, the contingent plan, the optimal path) at the page's
    width, never shrunk below :data:`TREE_MIN_FONT_PX` (its box scrolls sideways instead);
    then the whole tree, identical subtrees drawn once, at its natural size in a box that
    scrolls both ways, with zoom levels chosen by CSS-only buttons (:data:`TREE_ZOOMS`).

    Parameters
    ----------
    result
        The evaluated tree (:class:`~decision.tree.TreeResult`).
    svg_file
        When given, the whole tree is also written there as an SVG file (atomically) and
        linked by its file name: give a file beside the report, e.g. ``"tree.svg"``.
    highlight
        Node names to mark in both drawings.
    """
    import hashlib
    import html
    from urllib.parse import quote

    from decision.core.atomic import atomic_write_bytes
    from decision.tree.diagram import ROOT_ID, build_graph, identical_subtrees

    compact_svg = build_graph(result, view="compact", highlight=highlight, rankdir="auto").pipe(
        format="svg"
    )
    full_graph = build_graph(result, view="full", highlight=highlight, rankdir="auto")
    full_svg = full_graph.pipe(format="svg")
    if svg_file is not None:
        atomic_write_bytes(svg_file, full_svg)
    ident = "dt-" + hashlib.sha256(compact_svg + full_svg).hexdigest()[:10]
    compact, compact_w, _, compact_font = _inline_svg(compact_svg, f"{ident}-c")
    full, full_w, full_h, _ = _inline_svg(full_svg, f"{ident}-f")
    narrowest = compact_w * min(1.0, TREE_MIN_FONT_PX / compact_font)
    css = [
        f"#{ident} .dt-compact {{overflow-x:auto}}",
        f"#{ident} .dt-compact svg {{display:block;width:100%;max-width:{compact_w:.0f}px;"
        f"min-width:{narrowest:.0f}px;height:auto}}",
        f"#{ident} .dt-pane {{overflow:auto;max-height:85vh;border:1px solid #bbb}}",
        f"#{ident} .dt-pane svg {{display:block;max-width:none;width:{full_w:.0f}px;"
        f"height:{full_h:.0f}px}}",
        f"#{ident} .dt-zoom input {{position:absolute;opacity:0;width:1px;height:1px}}",
        f"#{ident} .dt-zoom label {{display:inline-block;border:1px solid #888;"
        "border-radius:3px;padding:0 6px;margin:0 4px 6px 0;cursor:pointer}",
        f"#{ident} .dt-zoom input:checked + label {{background:#1f4e79;color:#fff}}",
        f"#{ident} .dt-zoom input:focus-visible + label {{outline:2px solid #d9822b}}",
    ]
    buttons = []
    for number, (label, scale) in enumerate(TREE_ZOOMS):
        button = f"{ident}-z{number}"
        checked = " checked" if scale == 1.0 else ""
        buttons.append(
            f'<input type="radio" name="{ident}-zoom" id="{button}"{checked}>'
            f'<label for="{button}">{html.escape(label)}</label>'
        )
        size = (
            "width:100%;height:auto"
            if scale is None
            else f"width:{full_w * scale:.0f}px;height:{full_h * scale:.0f}px"
        )
        css.append(f"#{button}:checked ~ .dt-pane svg {{{size}}}")
    nodes = len(result.tree.nodes)
    copies = len(identical_subtrees(result))
    shared = (
        f"; {copies} repeated subtree{'s are' if copies > 1 else ' is'} drawn once and "
        "referred to by \u201csame as subtree A\u201d boxes, which link to it"
        if copies
        else ""
    )
    name = Path(svg_file).name if svg_file is not None else ""
    link = (
        f' or open <a href="{html.escape(quote(name))}">{html.escape(name)}</a> (beside this '
        "report) at full size"
        if svg_file is not None
        else ""
    )
    return (
        f'<div class="decision-tree" id="{ident}"><style>{"".join(css)}</style>'
        "<p><strong>Compact view.</strong> Each strategy with its value and the share of draws "
        "in which it is best; the optimal path down to every later decision, with the option "
        "chosen there; everything else collapsed with its value.</p>"
        f'<div class="dt-compact">{compact}</div>'
        f"<p><strong>The whole tree</strong> ({nodes} nodes{shared}). Scroll inside the box "
        f'to pan or <a href="#{ident}-f-{ROOT_ID}">go to the root</a>; zoom with the '
        f"buttons{link}.</p>"
        f'<div class="dt-zoom" role="group" aria-label="zoom">{"".join(buttons)}'
        f'<div class="dt-pane">{full}</div></div></div>'
    )


def save_analysis(analysis, path) -> None:
    """Write the analysis JSON beside the report (for scenario indexes and trend charts)."""
    import json

    from decision.core.atomic import atomic_write_text

    atomic_write_text(path, json.dumps(analysis.to_dict(), indent=2, sort_keys=True))


def monitoring_header(result) -> str:
    """Write the month, the ledger size and the date the evidence is taken as of."""
    return (
        f"**Monitoring through {escape(result.through)}** (evidence and observations as of "
        f"{escape(result.analysis.as_of.isoformat())}); {len(result.observations)} "
        f"observations in the ledger so far."
    )


def current_plan_text(result) -> str:
    """Where China's cooperation stands and the spring option the plan points to."""
    levels = ", ".join(f"{escape(k)} {percent(v)}" for k, v in result.level_probabilities.items())
    option = result.current_option
    text = f"China's cooperation is most likely **{escape(result.current_level)}** ({levels})."
    if option:
        text += (
            f" If the DPRK's freeze holds to the end of monitoring, the plan points to "
            f"**{escape(option)}** for the spring exercises."
        )
    return text


def open_decision_text(result) -> str:
    """Say which decision is open at the month's date and answer it (a monthly report).

    The first-stage choice is history ("decided in August 2017: ..."), never re-recommended.
    While the monitoring window runs: whether the deal still stands, and the contingent plan.
    Once it has closed: what closed it, read from the evidence, and the second-stage decision
    itself with the evidence at hand (see :mod:`decision.monitoring.open_decision`).
    """
    open_ = result.open_decision
    spec = result.analysis.spec
    stage = spec.second_stage
    if open_ is None or stage is None:
        return recommendation_text(result.analysis)
    when = f"in {open_.decided_on:%B %Y}" if open_.decided_on else "before monitoring began"
    lines = [
        f"**Decided {when}:** {escape(spec.strategy_words(open_.decided))}. Monitoring follows "
        "that choice; this report does not re-open it.",
        "",
    ]
    state = open_.state
    decision = escape(stage.decision)
    if not state.closed:
        dprk = (
            f"the DPRK accepted on {state.dprk_accepted_on:%d %b %Y}"
            if state.dprk_answer == 1 and state.dprk_accepted_on
            else "the DPRK has not answered yet"
        )
        china = "China accepted" if state.china_answer == 1 else "China has not answered yet"
        lines += [
            f"**The deal still stands** after {state.months_monitored} of "
            f"{state.window_months} months of monitoring (to {state.end:%d %b %Y}): no refusal "
            f"and no breach on record; {dprk}; {china}.",
            "",
            f"**The decision open: {decision}, at the window's end.** {escape(stage.plan_intro)}",
            "",
        ]
        for level, option in result.analysis.contingent_plan.items():
            share = result.analysis.contingent_plan_probability.get(level)
            share_text = f" (best in {percent(share)} of draws)" if share is not None else ""
            words = stage.condition_words.format(level=escape(level), option=escape(option))
            lines.append(f"- {words}{share_text}")
        return "\n".join(lines)
    first, *others = state.events
    closed = f"**The monitoring window has closed:** {escape(first.words)}."
    if others:
        closed += " Since then: " + "; ".join(escape(e.words) for e in others) + "."
    lines += [closed, "", f"**The decision open now: {decision}.**", ""]
    choice = open_.choice
    if open_.closed is not None and open_.no_action is not None:
        gone = open_.closed
        observed = " or ".join(f"*{escape(o)}*" for o in gone.observed) or "another outcome"
        lines.append(
            f"Given the evidence, the case tree's branch *{escape(gone.node)}: "
            f"{escape(gone.branch)}* on the way to this decision has probability 0 (observed: "
            f"{observed}). The tree has no {decision} decision on the observed branch: the "
            f"proposal's terms answer it, **{escape(open_.no_action)}**. A scale-down without "
            "the deal is not a branch of this case tree, so the options' values on the closed "
            "branch (which assume the deal held) are not shown as an answer."
        )
    elif choice is not None and len(choice):
        best = open_.best_option
        ranked = choice["value"].sort_values(ascending=False)
        runner = ranked.index[1] if len(ranked) > 1 else None
        text = f"With the evidence at hand: **{escape(best)}**, value {ranked.iloc[0]:.3f} points"
        if runner is not None:
            text += f" against {ranked.iloc[1]:.3f} for {escape(runner)}"
        text += f"; best in {percent(choice.loc[best, 'probability best'])} of the draws."
        lines.append(text)
    return "\n".join(lines)


def second_stage_choice_table(result) -> pd.DataFrame:
    """Tabulate the second-stage options with the evidence at hand.

    Empty while the window runs, and when the evidence closed the tree's path to the decision
    (the values there assume the deal held, so they are no answer).

    Columns: value, 90% interval over draws, probability best, and whether the option is the
    case's "no action" option.
    """
    open_ = result.open_decision
    if open_ is None or open_.choice is None or open_.closed is not None:
        return pd.DataFrame()
    table = open_.choice.copy()
    table[["value", "5%", "95%"]] = table[["value", "5%", "95%"]].round(3)
    table["probability best"] = table["probability best"].map(percent)
    return table


def schedule_table(result) -> pd.DataFrame:
    """Scheduled items due through the month with what was observed."""
    cols = [
        c
        for c in ("item", "actor", "month", "expected", "observed", "evidence")
        if c in result.schedule_status
    ]
    return result.schedule_status[cols].set_index("item")


def ledger_table(observations: pd.DataFrame) -> pd.DataFrame:
    """Tabulate the ledger rows used, as recorded (the HTML export escapes every cell)."""
    cols = [
        c
        for c in ("date", "actor", "kind", "value", "confidence", "source", "note")
        if c in observations
    ]
    return observations[cols].reset_index(drop=True)


def hashes_table(hashes: Mapping) -> pd.DataFrame:
    """Tabulate the data hashes of the ledger, the evidence and the schedule used."""
    return pd.DataFrame({"sha256": {k: (v or "")[:16] for k, v in hashes.items()}})


def change_our_mind_text(changers) -> str:
    """Plain words: which judgments drive the call, where it flips, what is worth learning."""
    lines = [f"The recommendation is **{escape(changers.reference)}**."]
    if len(changers.drivers):
        names = ", ".join(f"**{escape(p)}**" for p in changers.drivers.index[:3])
        lines.append(
            f"Across their 5th-95th percentile ranges, the inputs that move its "
            f"margin most are {names}."
        )
    if len(changers.switches):
        items = []
        for row in changers.switches.itertuples():
            # from_option is optimal just below the threshold, to_option just above it.
            if row.base_input > row.threshold:
                direction, becomes = "falls below", row.from_option
            else:
                direction, becomes = "rises above", row.to_option
            items.append(
                f"- **{escape(row.parameter)}** {direction} {row.threshold:.3g} "
                f"(now {row.base_input:.3g}): the choice becomes "
                f"**{escape(becomes)}**"
            )
        lines += ["", "The choice switches within a plausible range if:", "", *items]
    else:
        lines.append("No single input switches the choice within its plausible range.")
    if len(changers.evppi):
        ranked = ", ".join(f"{escape(n)} ({v:.4f})" for n, v in changers.evppi["evppi"].items())
        lines += [
            "",
            f"Most worth learning before deciding (EVPPI, points; EVPI "
            f"{changers.evpi:.4f}): {ranked}.",
        ]
    else:
        lines += [
            "",
            f"Perfect information on all inputs is worth {changers.evpi:.4f} points; "
            "no single input's information is worth measurably more than nothing.",
        ]
    return "\n".join(lines)


def smallest_switches_text(table: pd.DataFrame) -> str:
    """One line per non-recommended option: the smallest single change that makes it optimal."""
    lines = []
    for option, row in table.iterrows():
        if not row["parameter"]:
            lines.append(f"- **{escape(option)}**: {escape(row['note'])}.")
            continue
        lines.append(
            f"- **{escape(option)}**: move **{escape(row['parameter'])}** from "
            f"{row['base_input']:.3g} to {row['threshold']:.3g} ({row['share_of_range']:.0%} of "
            f"its range; the {row['percentile']:.0f}th percentile of its distribution)."
        )
    return "\n".join(lines) if lines else "Every strategy is optimal somewhere already."


def preposterior_table(monitoring) -> pd.DataFrame:
    """Tabulate the value of six months of monitoring by Bayesian updating, with its checks."""
    rows = {
        "EVSI of monitoring (Bayesian updating, strategy re-chosen)": (
            float(monitoring["evsi"]),
            None,
        ),
        "EVSI, regression estimate (check)": (
            float(monitoring["evsi_regression"]),
            float(monitoring["evsi_regression_se"]),
        ),
        "EVPPI of the model variables monitoring informs (upper bound)": (
            float(monitoring["evppi_model"]),
            float(monitoring["evppi_model_se"]),
        ),
        "EVPPI of the tree inputs monitoring informs": (
            float(monitoring["evppi_tree"]),
            float(monitoring["evppi_tree_se"]),
        ),
        "EVPI (all inputs)": (float(monitoring["evpi"]), None),
        "value of adapting the spring exercises to monitoring (in the tree)": (
            float(monitoring["value_of_monitoring_in_tree"]),
            None,
        ),
    }
    return pd.DataFrame(
        {
            "points": {k: round(v, 5) for k, (v, _) in rows.items()},
            "standard error": {
                k: ("" if se is None else round(se, 5)) for k, (_, se) in rows.items()
            },
        }
    )


def prior_sensitivity_table(priors) -> pd.DataFrame:
    """One row per prior and scaling: largest shift of a tree input, and the recommendation."""
    rows = []
    for prior in priors["prior"].values:
        for alpha in priors["alpha"].values:
            sel = priors.sel(prior=prior, alpha=alpha)
            shift = np.abs(sel["shift_sd"].values)
            worst = (
                str(sel["quantity"].values[int(np.nanargmax(shift))])
                if np.isfinite(shift).any()
                else ""
            )
            rows.append(
                {
                    "prior": str(prior),
                    "power": float(alpha),
                    "largest shift (posterior sd)": round(float(np.nanmax(shift)), 3)
                    if np.isfinite(shift).any()
                    else np.nan,
                    "of": worst,
                    "recommendation": str(sel["optimal"].values),
                    "changes": "YES" if bool(sel["recommendation_changes"].values) else "",
                    "weights reliable": bool(sel["reliable"].values),
                }
            )
    return pd.DataFrame(rows).set_index(["prior", "power"])
