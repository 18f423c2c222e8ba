"""What was public on a date: each evidence table's ``as_of`` rule.

Every table has a ``published`` column: the date the row's fact became public. A row is
kept only when ``published <= as_of`` (``as_of`` is inclusive: what was public by the end of
that day). Table by table, ``published`` is:

* ``launches_monthly``: the month's last day (launches are public the day they happen, so a
  month's count is complete at its end; the partial last month, the database's date).
* ``nuclear_tests``, ``unsc_resolutions``: the event's own date.
* ``agreements``: the day the agreement was signed or took effect; a breach after ``as_of``
  counts as not yet happened (breaches were public the day they happened). The filter adds
  ``observed`` (bool; False = censored), ``duration_months`` (to the breach, or to ``as_of``
  if censored) and ``months_to_breach`` (NaN if censored), with months = days /
  :data:`DAYS_PER_MONTH`. On a censored row the breach fields and notes are blanked and
  ``partial_compliance_first`` is <NA>, because they describe later events.
* ``china_enforcement``: when the evidence behind the coding was public.
* ``trade_annual``, ``trade_monthly``: when the figure was released (or a stated rule).
* ``exercises``: when the row's status was public.
* ``dprk_offers``: when the DPRK's answer was public.
* ``china_obligations``, ``dprk_transfers``: when the record was public.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from decision.evidence.schemas import NAMES

__all__ = ["DAYS_PER_MONTH", "filter_as_of"]

#: Days in an average month; durations in months are days / DAYS_PER_MONTH.
DAYS_PER_MONTH = 30.4375


def _published(df: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Keep the rows published on or before ``as_of``."""
    return df[df["published"] <= as_of]


def _filter_agreements(df: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Keep the agreements published by ``as_of``, censoring breaches not yet public."""
    out = df[df["published"] <= as_of].copy()
    observed = (out["breach_date"].notna() & (out["breach_date"] <= as_of)).astype(bool)
    end = out["breach_date"].where(observed, as_of)
    duration = (end - out["signed"]).dt.days / DAYS_PER_MONTH
    censored = ~observed
    out["partial_compliance_first"] = out["partial_compliance_first"].astype("boolean")
    if censored.any():
        out.loc[censored, "breach_date"] = pd.NaT
        out.loc[censored, "breach_event"] = np.nan
        out.loc[censored, "breach_rationale"] = (
            f"censored: no breach public by {as_of.date().isoformat()}"
        )
        out.loc[censored, "notes"] = np.nan
        out.loc[censored, "partial_compliance_first"] = pd.NA
    out["observed"] = observed
    out["duration_months"] = duration.astype("float64")
    out["months_to_breach"] = duration.where(observed).astype("float64")
    return out


_FILTERS: dict[str, Callable[[pd.DataFrame, pd.Timestamp], pd.DataFrame]] = {
    name: (_filter_agreements if name == "agreements" else _published) for name in NAMES
}


def filter_as_of(name: str, frame: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Return the rows of validated table ``name`` public by ``as_of``, by the table's rule.

    The index is kept as it was (not renumbered).
    """
    return _FILTERS[name](frame, as_of)
