"""Pooling experts: the linear opinion pool, with equal or performance (Cooke) weights.

The pool of a judgment is the weighted mixture of the experts' fitted distributions (a linear
opinion pool): its CDF is the weighted sum of theirs. Experts who gave the same distribution
are one component with their weights summed, so a pool of identical experts is that
distribution; experts who disagree give a mixture, which the tree engine samples as it is
(``distribution: mixture``), keeping the disagreement (two experts far apart make a bimodal
pool) instead of hiding it in a single family fitted to the pool.

Weights are equal unless seed questions exist (``seeds.yaml`` beside the records, true values
known to the facilitator, answered by every expert as 5th, 50th and 95th percentiles): then
they are Cooke's classical-model performance weights, calibration times information, for the
experts whose calibration reaches the cutoff ``alpha``:

* calibration: the p-value of the chi-square test (3 degrees of freedom) of ``2 N I(s, p)``,
  where ``s`` is the share of the N true values falling below the 5th, between the 5th and
  50th, the 50th and 95th, and above the 95th percentile, and ``p`` = (0.05, 0.45, 0.45, 0.05);
* information: the mean over seed questions of the relative information of the expert's
  distribution (uniform between the stated percentiles) with respect to the uniform
  distribution on the question's intrinsic range (all experts' answers and the true value,
  widened by 10% on each side).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from decision.core.errors import InputError
from decision.elicitation.fitting import Fit, spec_parameter
from decision.elicitation.records import Record, SeedQuestion

__all__ = [
    "CALIBRATION_BINS",
    "Pool",
    "calibration_score",
    "equal_weights",
    "linear_pool",
    "performance_weights",
]

#: Probabilities of the four bins that the 5th, 50th and 95th percentiles make.
CALIBRATION_BINS = np.array([0.05, 0.45, 0.45, 0.05])
#: Share of a seed question's intrinsic range added on each side (Cooke's overshoot).
OVERSHOOT = 0.1


@dataclasses.dataclass(frozen=True)
class Pool:
    """A judgment's linear opinion pool.

    Attributes
    ----------
    name
        The judgment.
    fits
        Each expert's fitted distribution (one per expert).
    weights
        Their weights (summing to one).
    scheme
        How the weights were set: ``one expert``, ``equal weights`` or ``performance weights``.
    """

    name: str
    fits: tuple[Fit, ...]
    weights: tuple[float, ...]
    scheme: str

    @property
    def experts(self) -> list[str]:
        """The experts' ids."""
        return [f.expert for f in self.fits]

    @property
    def spec(self) -> dict[str, Any]:
        """The pool as a tree spec: one distribution, or a mixture of the distinct ones."""
        distinct: list[list] = []
        for fit, weight in zip(self.fits, self.weights, strict=True):
            for entry in distinct:
                if entry[0] == fit.spec:
                    entry[1] += weight
                    break
            else:
                distinct.append([dict(fit.spec), weight])
        distinct = [entry for entry in distinct if entry[1] > 0]
        if len(distinct) == 1:
            return dict(distinct[0][0])
        return {
            "distribution": "mixture",
            "components": [{"weight": round(weight, 6), **spec} for spec, weight in distinct],
        }

    @property
    def parameter(self):
        """The pool as a tree parameter (``ppf``, ``frozen()``, ``sample``)."""
        return spec_parameter(self.spec, self.name)

    @property
    def error(self) -> float:
        """The largest fit error among the experts' distributions."""
        return max(f.error for f in self.fits)

    def medians(self) -> dict[str, float]:
        """Each expert's median."""
        return {f.expert: float(f.parameter.ppf(0.5)) for f in self.fits}

    def spread(self) -> str:
        """Describe the experts' spread in words: the range of their medians."""
        medians = self.medians()
        if len(medians) == 1:
            return "one expert"
        low, high = min(medians.values()), max(medians.values())
        return f"medians {low:.3g} to {high:.3g} ({len(medians)} experts)"


def linear_pool(
    fits: Sequence[Fit], weights: Mapping[str, float] | None = None, *, scheme: str | None = None
) -> Pool:
    """Pool one judgment's fits with the experts' weights (equal when ``weights`` is None).

    Experts without a weight in ``weights`` get none; the weights of those present are
    normalised to sum to one.

    Raises
    ------
    InputError
        When the fits are of different judgments, an expert appears twice, or no expert has
        a positive weight.
    """
    if not fits:
        raise InputError("nothing to pool: no expert answered", field="fits")
    names = {f.name for f in fits}
    if len(names) != 1:
        raise InputError(f"fits of different judgments: {sorted(names)}", field="fits")
    experts = [f.expert for f in fits]
    if len(set(experts)) != len(experts):
        raise InputError(f"an expert appears twice in the pool: {experts}", field="fits")
    raw = [1.0 if weights is None else float(weights.get(e, 0.0)) for e in experts]
    total = math.fsum(raw)
    if not total > 0:
        raise InputError(
            f"no expert who answered '{fits[0].name}' has a positive weight", field="weights"
        )
    if scheme is None:
        scheme = "one expert" if len(fits) == 1 else "equal weights"
    return Pool(
        name=fits[0].name,
        fits=tuple(fits),
        weights=tuple(w / total for w in raw),
        scheme="one expert" if len(fits) == 1 else scheme,
    )


def equal_weights(experts: Sequence[str]) -> dict[str, float]:
    """Every expert the same weight."""
    return {e: 1.0 / len(experts) for e in experts}


def _seed_answers(records: Mapping[str, Record]) -> dict[str, dict[str, tuple[str, Any]]]:
    """Expert -> seed id -> (record file, answer), the latest session winning."""
    out: dict[str, dict[str, tuple[str, Any]]] = {}
    for file, record in sorted(records.items(), key=lambda kv: kv[1].date):
        mine = out.setdefault(record.expert.id, {})
        for seed, answer in record.seeds.items():
            mine[seed] = (file, answer)
    return out


def performance_weights(
    records: Mapping[str, Record],
    seeds: Mapping[str, SeedQuestion],
    *,
    alpha: float = 0.0,
    seeds_file: str | None = None,
) -> pd.DataFrame:
    """Cooke's classical-model weights from the seed questions (see the module docstring).

    Parameters
    ----------
    records
        Record file -> record; every expert must answer every seed question.
    seeds
        Seed id -> question with its true value.
    alpha
        Calibration cutoff: experts whose calibration is below it get no weight.
    seeds_file
        The seed file, for error messages.

    Returns
    -------
    pandas.DataFrame
        One row per expert: ``calibration``, ``information``, ``weight`` (normalised).

    Raises
    ------
    InputError
        Naming the record: an unknown seed question or one left unanswered; or when no
        expert reaches the cutoff.
    """
    answers = _seed_answers(records)
    files = {r.expert.id: f for f, r in records.items()}
    for expert, mine in answers.items():
        for seed, (file, _) in mine.items():
            if seed not in seeds:
                raise InputError(
                    f"unknown seed question (the seed file has: {', '.join(seeds)})",
                    file=file,
                    field=f"seeds.{seed}",
                )
        missing = [s for s in seeds if s not in mine]
        if missing:
            raise InputError(
                "performance weights need every expert's answers to every seed question; "
                f"missing: {', '.join(missing)}",
                file=files[expert],
                field="seeds",
            )
    experts = list(answers)
    ranges = {}
    for seed, question in seeds.items():
        values = [question.realization]
        for expert in experts:
            answer = answers[expert][seed][1]
            values += [answer.p05, answer.p95]
        low, high = min(values), max(values)
        width = high - low if high > low else 1.0
        ranges[seed] = (low - OVERSHOOT * width, high + OVERSHOOT * width)
    rows = []
    for expert in experts:
        counts = np.zeros(4)
        information = []
        for seed, question in seeds.items():
            answer = answers[expert][seed][1]
            points = np.array([answer.p05, answer.p50, answer.p95])
            counts[int(np.searchsorted(points, question.realization, side="right"))] += 1
            low, high = ranges[seed]
            widths = np.diff(np.concatenate([[low], points, [high]]))
            widths = np.maximum(widths, 1e-12 * (high - low))
            information.append(
                float(np.sum(CALIBRATION_BINS * np.log(CALIBRATION_BINS * (high - low) / widths)))
            )
        rows.append(
            {
                "expert": expert,
                "calibration": calibration_score(counts),
                "information": float(np.mean(information)),
            }
        )
    table = pd.DataFrame(rows).set_index("expert")
    raw = table["calibration"] * table["information"] * (table["calibration"] >= alpha)
    if not raw.sum() > 0:
        raise InputError(
            f"no expert's calibration reaches the cutoff {alpha:g}: lower it or pool with "
            "equal weights (--pool equal)",
            file=seeds_file,
            field="alpha",
        )
    table["weight"] = raw / raw.sum()
    return table


def calibration_score(counts) -> float:
    """Cooke's calibration: p-value of ``2 N I(s, p)`` against chi-square with 3 d.o.f."""
    from scipy.stats import chi2

    counts = np.asarray(counts, dtype=float)
    total = counts.sum()
    share = counts / total
    present = share > 0
    information = float(np.sum(share[present] * np.log(share[present] / CALIBRATION_BINS[present])))
    return float(chi2.sf(2 * total * information, df=3))
