"""Index pages of a reports folder: every published report, and the scenarios compared.

Both pages are plain HTML written atomically; every text from a file is escaped.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

from decision.core.atomic import atomic_write_text

__all__ = ["write_index", "write_scenario_index"]


def write_index(out_dir: str | os.PathLike) -> Path:
    """Write ``index.html`` listing every report published in ``out_dir``, newest first.

    Listing and writing happen under one lock, so of two runs finishing at once the one that
    writes last lists both reports.
    """
    import filelock

    out_dir = Path(out_dir)
    with filelock.FileLock(str(out_dir / ".index.lock")):
        return _write_index_locked(out_dir)


def _write_index_locked(out_dir: Path) -> Path:
    rows = []
    for manifest in out_dir.glob("*/manifest.json"):
        if manifest.parent.name.startswith("."):  # staging and failed runs
            continue
        try:
            info = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        rows.append((info.get("created", ""), manifest.parent.name, info))
    rows.sort(reverse=True)
    items = "\n".join(
        f'<tr><td><a href="{html.escape(n)}/report.html">{html.escape(n)}</a></td>'
        f"<td>{html.escape(str(i.get('template')))}</td>"
        f"<td>{html.escape(str(i.get('parameters', {}).get('as_of', '')))}</td>"
        f"<td>{html.escape(c)}</td></tr>"
        for c, n, i in rows
    )
    return atomic_write_text(
        out_dir / "index.html",
        (
            "<!doctype html><meta charset='utf-8'><title>decision reports</title>"
            "<h1>Reports</h1><table><tr><th>run</th><th>report</th><th>as of</th>"
            f"<th>rendered</th></tr>{items}</table>"
        ),
    )


def write_scenario_index(out_dir: str | os.PathLike, names: list[str], spec=None) -> Path:
    """Write ``scenarios.html``: one row per rendered scenario comparing recommendations and values.

    Parameters
    ----------
    out_dir
        The reports folder holding ``<name>/analysis.json`` for each scenario.
    names
        Run names of the scenarios; those not rendered are left out.
    spec
        The case (a :class:`~decision.case.CaseSpec`, a name or folder; ``None`` for the
        default case): its headline quantities and the page's title.
    """
    from decision.case import load_spec

    spec = load_spec(spec)
    shown = [q for q in spec.headline if q.probability][:3]
    out_dir = Path(out_dir)
    rows, strategies = [], []
    for name in names:
        try:
            info = json.loads((out_dir / name / "analysis.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for s in info["options"]:
            if s not in strategies:
                strategies.append(s)
        rows.append((name, info))
    head = "".join(f"<th>{html.escape(s)}<br>EV (P optimal)</th>" for s in strategies)
    body = []
    for name, info in rows:
        cells = "".join(
            f"<td>{info['options'].get(s, float('nan')):.3f} "
            f"({100 * info['probability_optimal'].get(s, 0):.0f}%)</td>"
            for s in strategies
        )
        plan = "; ".join(
            f"{html.escape(k)}: {html.escape(v)}"
            for k, v in info.get("contingent_plan", {}).items()
        )
        flags = " &#9888; convergence" if info.get("flags") else ""
        body.append(
            f'<tr><td><a href="{html.escape(name)}/report.html">{html.escape(name)}</a>{flags}</td>'
            f"<td><b>{html.escape(info['recommendation'])}</b></td>{cells}"
            f"<td>{plan}</td><td>{info['value_of_monitoring']:.4f}</td>"
            + "".join(f"<td>{100 * info.get(q.name, float('nan')):.0f}%</td>" for q in shown)
            + "</tr>"
        )
    headline_heads = "".join(f"<th>{html.escape(q.label)}</th>" for q in shown)
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Scenarios compared</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}</style></head><body>"
        f"<h1>{html.escape(spec.reports.scenarios)}</h1>"
        "<p>Expected value in the tree's units and the share of draws in which each strategy "
        "is best; the contingent plan maps what is observed to the later decision.</p>"
        f"<table><tr><th>scenario</th><th>recommendation</th>{head}<th>contingent plan</th>"
        f"<th>value of monitoring</th>{headline_heads}"
        f"</tr>{''.join(body)}</table></body></html>"
    )
    return atomic_write_text(out_dir / "scenarios.html", page)
