"""What would change our mind: the top drivers, switching points and information values.

One call that gathers, for an evaluated tree, the few numbers a decision brief shows: the
parameters whose 5th-95th percentile range moves the decision margin most (tornado), those
that switch the optimal strategy within their range (thresholds), and those most worth
learning about (EVPPI).
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from decision.sensitivity.oneway import one_way, tornado
from decision.sensitivity.thresholds import thresholds
from decision.sensitivity.voi import evpi, evppi

__all__ = ["MindChangers", "what_would_change_our_mind"]


@dataclasses.dataclass(frozen=True)
class MindChangers:
    """The drivers, switching points and EVPPI ranking of one evaluated tree."""

    drivers: pd.DataFrame
    switches: pd.DataFrame
    evppi: pd.DataFrame
    evpi: float
    reference: str


def what_would_change_our_mind(result, *, top: int = 5) -> MindChangers:
    """Top ``top`` drivers of the decision margin, every switch within range, EVPPI ranking."""
    ranked = tornado(one_way(result), "margin")
    table = thresholds(result)
    switches = table[table["threshold"].notna()].reset_index(drop=True)
    values = evppi(result).sort_values("evppi", ascending=False)
    return MindChangers(
        drivers=ranked.head(top),
        switches=switches,
        evppi=values[values["evppi"] > 0].head(top),
        evpi=float(evpi(result)),
        reference=str(result.optimal),
    )
