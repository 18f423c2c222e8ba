"""The evidence tables shipped in ``decision/data``: definitions, loading, as-of rules, summaries.

This package is the one reader of evidence. Every table is a CSV file inside the package,
validated on load, and every loader limits its answer to what was public on an ``as_of``
date (default :data:`decision.core.config.DEFAULT_AS_OF`, the day of the proposal,
2017-08-20). See ``decision/data/README.md`` for each table's definitions, units and sources.

Modules
-------
``schemas``      The tables' definitions (columns, allowed values, row checks), :data:`NAMES`.
``asof``         Each table's rule for what was public on a date; :data:`DAYS_PER_MONTH`.
``loading``      :func:`load` and one loader per table; files read, validated and cached.
``fingerprint``  :func:`data_hash`: the evidence at a date as a cache key for posteriors.
``summary``      :func:`describe` and :func:`sources`: what the tables hold, for people.
``coverage``     :func:`coverage`: the dates the evidence covers; checks an ``as_of``.
"""

from decision.evidence.asof import DAYS_PER_MONTH
from decision.evidence.coverage import Coverage, coverage
from decision.evidence.fingerprint import data_hash
from decision.evidence.loading import (
    agreements,
    china_enforcement,
    china_obligations,
    data_path,
    dprk_offers,
    dprk_transfers,
    exercises,
    launches_monthly,
    load,
    nuclear_tests,
    trade_annual,
    trade_monthly,
    unsc_resolutions,
)
from decision.evidence.schemas import (
    AGREEMENTS,
    CHINA,
    CHINA_OBLIGATIONS,
    DPRK_OFFERS,
    DPRK_TRANSFERS,
    EXERCISES,
    EXTENTS,
    LAUNCHES,
    NAMES,
    NUCLEAR,
    NUCLEAR_TESTS_COMPLETE_THROUGH,
    OFFER_TYPES,
    SOURCE_SEPARATOR,
    TESTING_FREEZES,
    TRADE_ANNUAL,
    TRADE_MONTHLY,
    TRADE_SERIES,
    UNSC,
)
from decision.evidence.summary import describe, sources

__all__ = [
    # the tables and their loaders
    "NAMES",
    "load",
    "launches_monthly",
    "nuclear_tests",
    "agreements",
    "unsc_resolutions",
    "china_enforcement",
    "trade_annual",
    "trade_monthly",
    "exercises",
    "dprk_offers",
    "china_obligations",
    "dprk_transfers",
    "data_path",
    # what the tables hold
    "data_hash",
    "sources",
    "describe",
    "Coverage",
    "coverage",
    # constants the models use
    "DAYS_PER_MONTH",
    "OFFER_TYPES",
    "NUCLEAR_TESTS_COMPLETE_THROUGH",
    # the table definitions and their allowed values
    "LAUNCHES",
    "NUCLEAR",
    "AGREEMENTS",
    "UNSC",
    "CHINA",
    "TRADE_ANNUAL",
    "TRADE_MONTHLY",
    "EXERCISES",
    "DPRK_OFFERS",
    "CHINA_OBLIGATIONS",
    "DPRK_TRANSFERS",
    "TESTING_FREEZES",
    "EXTENTS",
    "TRADE_SERIES",
    "SOURCE_SEPARATOR",
]
