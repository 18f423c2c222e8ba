"""Text and tables for report notebooks: plain words and labelled frames, nothing computed here.

Every string that comes from a file or a parameter is HTML-escaped before it is placed in
Markdown, so a value such as ``<script>`` shows as text.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import numpy as np
import pandas as pd

from decision import evidence

__all__ = [
    "agreements_table",
    "compare_fits",
    "diagnostics_text",
    "enforcement_table",
    "escape",
    "fit_inputs_table",
    "headline_table",
    "headline_text",
    "percent",
    "run_header",
    "sources_table",
]

#: Plain-words labels for headline quantities.
LABELS = {
    "p_accept": "DPRK accepts a testing freeze",
    "p_hold_monitoring": "the freeze holds through the monitoring window",
    "p_hold_after": "it then holds through the next exercise cycle",
    "p_dprk_complies": "DPRK accepts and complies throughout",
    "p_hold_new_freeze": "a new freeze holds six months (history alone)",
    "launches_prevented_per_month": "missiles a freeze prevents per month",
    "long_range_prevented_per_month": "long-range missiles prevented per month",
    "cooperation": "extent of China's cooperation (0 to 1)",
    "p_china_follows_through": "China meets the enforcement plan in full",
    "p_china_accepts": "China accepts the counter-proposal",
    "cooperation_mean": "China's cooperation propensity",
}


def escape(value) -> str:
    """HTML-escape any value for safe inclusion in Markdown or HTML."""
    return html.escape(str(value), quote=True)


def percent(x: float) -> str:
    """0.1234 -> '12%'."""
    return f"{100 * float(x):.0f}%"


def run_header(*, as_of, fits: Mapping, observations: pd.DataFrame | None) -> str:
    """One paragraph: the date, the monitoring data used, and any convergence warning."""
    lines = [f"**Evidence as of {escape(as_of)}.** "]
    if observations is not None and len(observations):
        lines.append(f"Monitoring observations: {len(observations)} "
                     f"(through {escape(observations['date'].max())}). ")
    else:
        lines.append("No monitoring observations yet. ")
    warnings = [f.flagged_message() for f in fits.values() if f.flagged_message()]
    if warnings:
        lines.append("\n\n> **Warning: a model did not pass its convergence checks; treat its "
                     "numbers as provisional.** " + escape("; ".join(warnings)))
    return "".join(lines)


def _interval(draws: np.ndarray) -> tuple[float, float, float]:
    lo, hi = np.percentile(draws, [5, 95])
    return float(np.mean(draws)), float(lo), float(hi)


def headline_table(fits: Mapping) -> pd.DataFrame:
    """Mean and 90% interval of every headline quantity of every fit."""
    rows = []
    for key, fit in fits.items():
        for name in fit.headline_names:
            mean, lo, hi = _interval(fit.draws(name))
            label = LABELS.get(name) or (f"China's cooperation is {name[len('p_level_'):]}"
                                         if name.startswith("p_level_") else name)
            rows.append({"model": key, "quantity": label, "variable": name,
                         "mean": round(mean, 3), "5%": round(lo, 3), "95%": round(hi, 3)})
    return pd.DataFrame(rows).set_index(["model", "quantity"])


def headline_text(dprk, china) -> str:
    """The key numbers in a few plain sentences."""
    comply = dprk.draws("p_dprk_complies").mean()
    accept = dprk.draws("p_accept").mean()
    hold = dprk.draws("p_hold_monitoring").mean()
    rate, rlo, rhi = _interval(dprk.draws("launches_prevented_per_month"))
    coop, clo, chi = _interval(china.draws("cooperation"))
    full = china.draws("p_china_follows_through").mean()
    return (
        f"- The DPRK accepts a testing freeze with probability **{percent(accept)}**; once "
        f"accepted, it holds through the monitoring window with probability "
        f"**{percent(hold)}**; accepting and complying throughout: **{percent(comply)}**.\n"
        f"- A freeze would prevent about **{rate:.1f}** missile launches a month "
        f"(90% interval {rlo:.1f} to {rhi:.1f}).\n"
        f"- China's cooperation on a scheduled plan: **{coop:.2f}** of the plan "
        f"(90% interval {clo:.2f} to {chi:.2f}); it meets the plan in full with probability "
        f"**{percent(full)}**."
    )


def diagnostics_text(fit) -> str:
    """R-hat, ESS and divergences in one line, with a pass or fail mark."""
    d = fit.diagnostics
    status = "passed" if d.ok else "**failed**: " + escape("; ".join(d.flags))
    rhat = "n/a" if not np.isfinite(d.max_r_hat) else f"{d.max_r_hat:.3f}"
    source = " (served from the posterior cache)" if fit.from_cache else ""
    return (f"Convergence checks {status}. Largest R-hat {rhat}, smallest bulk ESS "
            f"{d.min_ess_bulk:.0f}, {d.divergences} divergences{source}.")


def agreements_table(agreements: pd.DataFrame) -> pd.DataFrame:
    """Earlier agreements with time to breach and whether it was censored."""
    cols = [c for c in ("agreement", "signed", "breach_date", "duration_months", "observed",
                        "source") if c in agreements]
    out = agreements[cols].copy()
    out["duration_months"] = out["duration_months"].round(1)
    return out.rename(columns={"observed": "breached"}).set_index("agreement")


def enforcement_table(record: pd.DataFrame) -> pd.DataFrame:
    """China's enforcement record as coded, with the rationale for each coding."""
    cols = [c for c in ("episode", "commitment", "commitment_date", "enforced", "extent",
                        "lag_months", "rationale") if c in record]
    return record[cols].set_index(cols[0])


def sources_table(*, as_of) -> pd.DataFrame:
    """The evidence files, their rows and sources as of the date."""
    return evidence.describe(as_of=as_of)


def fit_inputs_table(fits: Mapping) -> pd.DataFrame:
    """What produced each posterior: data hash, seed, sampler, package version, cache."""
    rows = []
    for key, fit in fits.items():
        i = fit.inputs
        s = i["sampler"]
        rows.append({"model": key, "data hash": i["data_hash"][:12], "seed": i["seed"],
                     "draws x chains": f"{s['draws']} x {s['chains']}", "tune": s["tune"],
                     "package": i["package_version"], "from cache": fit.from_cache,
                     "diagnostics": "ok" if fit.diagnostics.ok else "flagged"})
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
