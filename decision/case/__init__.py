"""Cases: a case spec, its scenarios, and the case analysed with the models' posterior draws.

==============  ===========================================================================
``spec``        :class:`CaseSpec` (what the engine knows of a case), ``load_spec``.
``scenario``    :class:`Scenario` files: parameter specs and prior overrides.
``analysis``    :class:`Case` (tree + scenario + spec), :func:`analyze`, :class:`Analysis`,
                the contingent plan and the value of deciding later.
==============  ===========================================================================

Cases shipped with the package are in ``decision/cases/``; ``docs/cases.md`` says how to add one.
"""

from decision.case.analysis import (
    Analysis,
    Case,
    analyze,
    condition_probabilities,
    contingent_plan,
    load_case,
    merged_priors,
    probability_of_acting,
    second_stage_options,
    value_of_deciding_later,
)
from decision.case.scenario import SCENARIO_KEYS, Scenario, list_scenarios, load_scenario
from decision.case.spec import (
    DEFAULT_CASE,
    CaseSpec,
    HeadlineQuantity,
    ReportTitles,
    SecondStage,
    load_spec,
    shipped_cases,
)

__all__ = [
    "DEFAULT_CASE",
    "SCENARIO_KEYS",
    "Analysis",
    "Case",
    "CaseSpec",
    "HeadlineQuantity",
    "ReportTitles",
    "Scenario",
    "SecondStage",
    "analyze",
    "condition_probabilities",
    "contingent_plan",
    "list_scenarios",
    "load_case",
    "load_scenario",
    "load_spec",
    "merged_priors",
    "probability_of_acting",
    "second_stage_options",
    "shipped_cases",
    "value_of_deciding_later",
]
