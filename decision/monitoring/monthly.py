"""The monthly monitoring update: ledger through a month -> updated models -> re-rolled case tree.

:func:`monitor` reads the observation ledger up to the end of a month, refits both models with
it (evidence as of the same day), re-evaluates the case tree, compares what was observed
with the monitoring schedule, and finds the decision still open at that date
(:func:`decision.monitoring.open_decision.open_decision`: while the window runs, whether the
deal stands and the contingent plan; once it has closed, the second-stage decision itself).
:func:`run_monthly_report` renders the monthly report (which
calls :func:`monitor` inside its notebook) and records the run in the run history
(:class:`~decision.monitoring.history.RunHistory`): started before the render, failed with the
error if it fails or is interrupted, finished with the headline numbers if it succeeds. The
report's trend chart is drawn from those records.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from decision.core.config import DEFAULT_SEED
from decision.core.dates import month_end, parse_month
from decision.core.errors import InputError
from decision.core.progress import Progress, activate, current
from decision.core.provenance import sha256_file

__all__ = [
    "MonitorResult",
    "MonthlyReport",
    "headline_numbers",
    "monitor",
    "resolve_month",
    "run_monthly_report",
]

#: Recorded for every monthly run besides the case's headline quantities.
EXTRA_RECORDED = ("value_of_monitoring",)


def resolve_month(through: str, ledger: str | Path) -> str:
    """``latest`` means the latest month with an observation in the ledger."""
    if through != "latest":
        return parse_month(through, field="through")
    from decision.monitoring.ledger import latest_month

    month = latest_month(ledger)
    if month is None:
        raise InputError("the ledger has no observations, so there is no latest month", file=ledger)
    return month


@dataclasses.dataclass
class MonitorResult:
    """One monthly update."""

    through: str
    analysis: Any
    observations: pd.DataFrame
    schedule_status: pd.DataFrame
    current_level: str
    level_probabilities: dict[str, float]
    hashes: dict[str, str]
    open_decision: Any = None

    @property
    def current_option(self) -> str | None:
        """The second-stage option the contingent plan points to at the likeliest level."""
        return self.analysis.contingent_plan.get(self.current_level)

    def headline(self) -> dict[str, float]:
        """Return the recorded numbers: probabilities, values and P(optimal) per strategy."""
        return headline_numbers(self.analysis.to_dict())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (``decision monitor --json``)."""
        status = self.schedule_status
        return {
            "through": self.through,
            "as_of": self.analysis.as_of.isoformat(),
            "observations": int(len(self.observations)),
            "recommendation": self.analysis.recommendation,
            "contingent_plan": dict(self.analysis.contingent_plan),
            "current_cooperation_level": self.current_level,
            "cooperation_level_probabilities": self.level_probabilities,
            "current_option": self.current_option,
            "schedule": status[["item", "actor", "month", "expected", "observed"]]
            .astype(str)
            .to_dict(orient="records"),
            "headline": self.headline(),
            "open_decision": None if self.open_decision is None else self.open_decision.to_dict(),
            "flags": self.analysis.to_dict()["flags"],
            "hashes": self.hashes,
        }


def monitor(
    through: str,
    *,
    ledger: str | Path,
    schedule: str | Path | None = None,
    scenario: str | Path | None = None,
    case: Any = None,
    sampler: Mapping[str, Any] | None = None,
    seed: int = DEFAULT_SEED,
    use_cache: bool = True,
    strict: bool = False,
    progress: Progress | None = None,
) -> MonitorResult:
    """Update the analysis with the ledger through ``through`` (``YYYY-MM`` or ``latest``).

    Evidence and observations are used as of the last day of that month. ``progress`` shows
    the stages (reading the ledger, each model's fit, the tree); default: the active
    reporter, silent unless a command made one active.
    """
    from decision import evidence
    from decision.case import analyze, condition_probabilities
    from decision.monitoring.ledger import validate_ledger
    from decision.monitoring.open_decision import open_decision
    from decision.monitoring.schedule import (
        compare_to_schedule,
        default_schedule_path,
        load_schedule,
    )
    from decision.observations import load_observations

    progress = progress or current()
    month = resolve_month(through, ledger)
    as_of = month_end(month, field="through")
    progress.stage(f"reading the ledger through {month} and the schedule")
    validate_ledger(ledger)
    observations = load_observations(ledger, as_of=as_of)
    the_schedule = load_schedule(schedule)
    status = compare_to_schedule(the_schedule, observations, month)
    with activate(progress):
        analysis = analyze(
            scenario,
            case=case,
            as_of=as_of,
            observations=observations,
            sampler=sampler,
            seed=seed,
            use_cache=use_cache,
            strict=strict,
        )
    levels = condition_probabilities(analysis.result, analysis.spec)
    hashes = {
        "ledger": sha256_file(ledger),
        "evidence": evidence.data_hash(as_of=as_of),
        "schedule": sha256_file(schedule or default_schedule_path()),
    }
    return MonitorResult(
        month,
        analysis,
        observations,
        status,
        max(levels, key=levels.get) if levels else "",
        levels,
        hashes,
        open_decision(analysis, observations),
    )


@dataclasses.dataclass(frozen=True)
class MonthlyReport:
    """A rendered and recorded monthly report (from :func:`run_monthly_report`).

    Attributes
    ----------
    folder
        The published report folder (``<out_dir>/<month>/``).
    run_id
        The run's id in the run history.
    history
        The run-history database the run is recorded in.
    """

    folder: Path
    run_id: int
    history: Path


def run_monthly_report(
    through: str = "latest",
    *,
    ledger: str | Path,
    schedule: str | Path | None = None,
    scenario: str | None = None,
    case: str | None = None,
    history: str | Path | None = None,
    out_dir: str | Path = Path("reports") / "monitoring",
    parameters: Mapping[str, Any] | None = None,
    source: str | Mapping[str, str] = "-p",
    progress: Progress | None = None,
) -> MonthlyReport:
    """Render the monthly monitoring report for a month and record the run in the run history.

    The run is recorded as started before the report renders, as failed (with the error) when
    rendering fails or is interrupted, and as succeeded with the report's headline numbers
    (``analysis.json``) when it is published to ``<out_dir>/<month>/``.

    Parameters
    ----------
    through
        The month (``YYYY-MM``), or ``latest``: the latest month with an observation in the
        ledger.
    ledger
        The observation ledger (CSV).
    schedule
        The monitoring schedule (YAML); ``None`` for the shipped one.
    scenario, case
        A scenario name or file, and a case name or folder; ``None`` for the template's defaults.
    history
        The run-history database; default ``<out_dir>/history.sqlite``.
    out_dir
        Folder holding one report folder per month.
    parameters
        Further parameters of the monitoring template (sampler budget, seed, ...).
    source
        Where ``parameters`` came from, for error messages: one label, or one per template
        parameter (``{"ledger_file": "--ledger", ...}``).
    progress
        Shows the report's stages (default: the active reporter, silent unless a command
        made one active).

    Returns
    -------
    MonthlyReport
        The report folder, the run id and the history it is recorded in.

    Raises
    ------
    InputError
        For a bad month, ledger or parameter, before the run is recorded.
    ReportFailed
        If the report's notebook raised (the run is recorded as failed).
    """
    from decision.monitoring.history import RunHistory
    from decision.report import render_report

    month = resolve_month(through, ledger)
    out_dir = Path(out_dir)
    history_path = Path(history) if history is not None else out_dir / "history.sqlite"
    values: dict[str, Any] = {
        "through": month,
        "ledger_file": str(ledger),
        "history_file": str(history_path.resolve()),
    }
    if schedule is not None:
        values["schedule_file"] = str(schedule)
    if scenario is not None:
        values["scenario"] = scenario
    if case is not None:
        values["case"] = case
    values.update(parameters or {})
    hashes = {"ledger": sha256_file(ledger) if Path(ledger).is_file() else None}
    with RunHistory(history_path).record(month, values, hashes) as run, activate(progress):
        folder = render_report(
            values, template="monitoring", out_dir=out_dir, name=month, source=source
        )
        analysis = json.loads((folder / "analysis.json").read_text(encoding="utf-8"))
        run.results = {  # a number the report could not compute is left out
            name: value for name, value in headline_numbers(analysis).items() if np.isfinite(value)
        }
    return MonthlyReport(folder, run.run_id, history_path)


def headline_numbers(analysis: Mapping[str, Any]) -> dict[str, float]:
    """Return the numbers a monthly run records, from an analysis (``Analysis.to_dict()``).

    The case's headline quantities and the value of monitoring, and for each strategy its
    expected value (``value: <strategy>``) and probability of being optimal
    (``P(optimal): <strategy>``). A number missing from ``analysis`` is NaN.
    """

    def number(value: Any) -> float:
        return float("nan") if value is None else float(value)

    names = (*analysis.get("headline_names", ()), *EXTRA_RECORDED)
    out = {name: number(analysis.get(name)) for name in names}
    for strategy, value in analysis.get("options", {}).items():
        out[f"value: {strategy}"] = number(value)
        out[f"P(optimal): {strategy}"] = number(analysis["probability_optimal"].get(strategy, 0.0))
    return out
