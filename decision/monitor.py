"""The monthly monitoring update: ledger through a month -> updated models -> re-rolled case tree.

:func:`monitor` reads the observation ledger up to the end of a month, refits both models with
it (evidence as of the same day), re-evaluates the case tree, and compares what was observed
with the monitoring schedule. :func:`record_run` keeps every monthly run in the run history
(SQLite), from which :func:`trend` draws the trend of every headline number.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from decision.core.config import DEFAULT_SEED
from decision.core.dates import month_end, parse_month
from decision.core.errors import InputError
from decision.core.provenance import sha256_file

__all__ = [
    "MonitorResult",
    "monitor",
    "record_results",
    "resolve_month",
]

#: Recorded for every monthly run besides the case's headline quantities.
EXTRA_RECORDED = ("value_of_monitoring",)


def resolve_month(through: str, ledger: str | Path) -> str:
    """``latest`` means the latest month with an observation in the ledger."""
    if through != "latest":
        return parse_month(through, field="through")
    from decision.ledger import latest_month

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

    @property
    def current_option(self) -> str | None:
        """The second-stage option the contingent plan points to at the likeliest level."""
        return self.analysis.contingent_plan.get(self.current_level)

    def headline(self) -> dict[str, float]:
        """The recorded numbers: probabilities, values and probability optimal per strategy."""
        d = self.analysis.to_dict()
        out = {name: float(d[name]) for name in (*d["headline_names"], *EXTRA_RECORDED)}
        for strategy, value in d["options"].items():
            out[f"value: {strategy}"] = float(value)
            out[f"P(optimal): {strategy}"] = float(d["probability_optimal"].get(strategy, 0.0))
        return out

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
) -> MonitorResult:
    """Update the analysis with the ledger through ``through`` (``YYYY-MM`` or ``latest``).

    Evidence and observations are used as of the last day of that month.
    """
    from decision import evidence
    from decision.case import analyze, condition_probabilities
    from decision.ledger import validate_ledger
    from decision.observations import load_observations
    from decision.schedule import compare_to_schedule, default_schedule_path, load_schedule

    month = resolve_month(through, ledger)
    as_of = month_end(month, field="through")
    validate_ledger(ledger)
    observations = load_observations(ledger, as_of=as_of)
    the_schedule = load_schedule(schedule)
    status = compare_to_schedule(the_schedule, observations, month)
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
    )


def record_results(history, run_id: int, analysis_json: Mapping[str, Any]) -> None:
    """Finish a history run with the headline numbers of a rendered monitoring report."""
    names = (*analysis_json.get("headline_names", ()), *EXTRA_RECORDED)
    values = {name: analysis_json[name] for name in names if name in analysis_json}
    for strategy, value in analysis_json.get("options", {}).items():
        values[f"value: {strategy}"] = value
        values[f"P(optimal): {strategy}"] = analysis_json["probability_optimal"].get(strategy, 0)
    history.finish(
        run_id, {k: float(v) for k, v in values.items() if v is not None and np.isfinite(float(v))}
    )
