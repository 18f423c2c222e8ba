"""What reports show of the elicitation: provenance per judgment, hindsight, expert disagreement.

* :func:`judgment_provenance`: for every judgment of an analysed case, its distribution, the
  experts' spread and where it came from (the spec's own ``provenance``, written by
  ``decision elicit fit``; else the case's elicitation records when the spec agrees with their
  pool; else the scenario that set it, or "not elicited"), and whether it was elicited after
  the analysis date (the hindsight flag).
* :func:`expert_disagreement`: the recommendation under each expert's own judgments alone, the
  models' posterior draws fitted once and the tree re-evaluated per expert.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from decision.case.scenario import Scenario
from decision.core.config import DEFAULT_SEED
from decision.elicitation.elicit import cached_elicitation
from decision.elicitation.fitting import DEFAULT_TOLERANCE, describe_parameter, ks_distance

__all__ = [
    "Disagreement",
    "expert_disagreement",
    "hindsight_messages",
    "judgment_provenance",
    "provenance_words",
]


def provenance_words(provenance: Mapping[str, Any]) -> str:
    """Say a spec's provenance in one line: experts and dates, pool, how answers were read."""
    experts = list(provenance.get("experts") or [])
    dates = list(provenance.get("dates") or [])
    dates += [""] * (len(experts) - len(dates))
    who = ", ".join(f"{e} ({d})" if d else e for e, d in zip(experts, dates, strict=False))
    pool = provenance.get("pool")
    text = f"{pool} of {who}" if pool and pool != "one expert" else who
    method = str(provenance.get("method") or "").split(":")[0]
    if method:
        text += f"; {method}"
    illustrative = provenance.get("illustrative")
    if illustrative:
        text += "; ILLUSTRATIVE expert: " + ", ".join(map(str, illustrative))
    return text


def _spread(provenance: Mapping[str, Any]) -> str:
    medians = provenance.get("medians") or {}
    if len(medians) < 2:
        return "one expert" if medians else ""
    values = [float(v) for v in medians.values()]
    return f"medians {min(values):.3g} to {max(values):.3g} ({len(values)} experts)"


def _dates(provenance: Mapping[str, Any]) -> list[dt.date]:
    out = []
    for text in provenance.get("dates") or []:
        try:
            out.append(dt.date.fromisoformat(str(text)))
        except ValueError:
            continue
    return out


def judgment_provenance(case, as_of, *, tolerance: float = DEFAULT_TOLERANCE) -> pd.DataFrame:
    """Every judgment of a case: distribution, experts' spread, provenance, hindsight.

    Parameters
    ----------
    case
        A :class:`decision.case.Case` (its tree with a scenario applied).
    as_of
        The analysis date: judgments elicited after it are flagged.
    tolerance
        How close (largest CDF distance) a spec must be to the records' pool to be credited
        to them.

    Returns
    -------
    pandas.DataFrame
        Indexed by judgment: ``distribution``, ``experts' spread``, ``provenance``,
        ``elicited`` (the latest date, ISO, or empty) and ``after as_of`` (bool).
    """
    from decision.core.dates import parse_date

    as_of = parse_date(as_of)
    elicitation = cached_elicitation(case.spec, tolerance=tolerance)
    scenario = case.scenario
    rows = []
    for name, parameter in case.tree.parameters.items():
        if not parameter.judgment:
            continue
        provenance = parameter.provenance
        words = ""
        pooled = elicitation.pools.get(name) if elicitation is not None else None
        if provenance is None and pooled is not None:
            if (
                parameter.kind == "distribution"
                and ks_distance(pooled.parameter, parameter) <= tolerance
            ):
                provenance = elicitation.provenance(name)
            else:
                words = "differs from the case's elicitation records"
        if provenance is None and name in scenario.parameters:
            words = f"set by scenario '{scenario.name}'" + (f"; {words}" if words else "")
        if provenance is None and not words:
            words = "not elicited"
        dates = _dates(provenance or {})
        rows.append(
            {
                "judgment": name,
                "distribution": describe_parameter(parameter),
                "experts' spread": _spread(provenance or {}),
                "provenance": provenance_words(provenance) if provenance else words,
                "elicited": max(dates).isoformat() if dates else "",
                "after as_of": bool(dates) and max(dates) > as_of,
            }
        )
    columns = ["distribution", "experts' spread", "provenance", "elicited", "after as_of"]
    if not rows:
        return pd.DataFrame(columns=columns).rename_axis("judgment")
    return pd.DataFrame(rows).set_index("judgment")[columns]


def hindsight_messages(table: pd.DataFrame, as_of) -> list[str]:
    """One message per judgment of a :func:`judgment_provenance` table elicited after ``as_of``."""
    return [
        f"{name}: elicited {row['elicited']} ({row['provenance']}), after the analysis date "
        f"{as_of}; it may reflect hindsight"
        for name, row in table[table["after as_of"]].iterrows()
    ]


@dataclasses.dataclass
class Disagreement:
    """The recommendation under each expert's judgments alone.

    Attributes
    ----------
    table
        One row per expert (and the pool, and the analysis itself): who, when, how many
        judgments they answered, the recommendation, its probability of being optimal, and
        each strategy's expected value.
    reference
        The analysis's own recommendation.
    strategies
        The strategies, in the tree's order.
    """

    table: pd.DataFrame
    reference: str
    strategies: list[str]

    @property
    def agree(self) -> bool:
        """Whether every expert's judgments lead to the same recommendation."""
        experts = self.table[self.table["kind"] == "expert"]
        return experts["recommendation"].nunique() <= 1


def expert_disagreement(
    analysis,
    *,
    extra: Iterable[str | os.PathLike] = (),
    seed: int = DEFAULT_SEED,
    tolerance: float = DEFAULT_TOLERANCE,
) -> Disagreement:
    """Re-evaluate the analysed case under each expert's own judgments, the posteriors fixed.

    Each expert's fitted distributions replace the judgments that expert answered in the
    analysis's scenario (the others keep their specs); the models are not refitted (the
    analysis's fits are reused) and every evaluation uses the same ``seed``.

    Parameters
    ----------
    analysis
        A :class:`decision.case.Analysis`.
    extra
        Record files of further experts (e.g. ``examples/elicitation-hawkish/...``).
    seed
        Seed of the judgments' draws.
    tolerance
        Largest fit error accepted.
    """
    from decision.case import analyze

    elicitation = cached_elicitation(analysis.spec, extra=extra, tolerance=tolerance)
    base = analysis.case.scenario
    strategies = list(analysis.result.options)
    judgments = [n for n, p in analysis.case.tree.parameters.items() if p.judgment]

    def row(kind: str, label: str, result, **info) -> dict[str, Any]:
        best = result.recommendation
        return {
            "judgments of": label,
            "kind": kind,
            **info,
            "recommendation": best,
            "probability optimal": float(result.result.probability_optimal.get(best, 0.0)),
            **{s: float(result.result.options[s]) for s in strategies},
        }

    def rerun(name: str, specs: Mapping[str, Any]):
        scenario = Scenario(
            name=name,
            description=base.description,
            parameters={**base.parameters, **specs},
            priors=base.priors,
            settings=base.settings,
        )
        return analyze(
            scenario, case=analysis.spec, as_of=analysis.as_of, fits=analysis.fits, seed=seed
        )

    rows = [
        row(
            "analysis",
            f"this analysis (scenario '{base.name}')",
            analysis,
            elicited="",
            answered="",
        )
    ]
    if elicitation is not None:
        for expert_id, expert in elicitation.experts.items():
            specs = elicitation.expert_specs(expert_id)
            label = f"{expert.name} ({expert_id})" + (
                " [ILLUSTRATIVE]" if expert.illustrative else ""
            )
            rows.append(
                row(
                    "expert",
                    label,
                    rerun(f"expert {expert_id}", specs),
                    elicited=", ".join(d.isoformat() for d in elicitation.dates(expert_id)),
                    answered=f"{len(specs)} of {len(judgments)}",
                )
            )
        if len(elicitation.experts) > 1:
            rows.append(
                row(
                    "pool",
                    f"pool of all experts ({elicitation.scheme})",
                    rerun("pooled experts", elicitation.pooled_specs()),
                    elicited="",
                    answered=f"{len(elicitation.pools)} of {len(judgments)}",
                )
            )
    table = pd.DataFrame(rows).set_index("judgments of")
    return Disagreement(table=table, reference=analysis.recommendation, strategies=strategies)
