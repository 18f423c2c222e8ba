"""Judgments elicited, not typed: expert records, fitted distributions, pooling, provenance.

==============  ===========================================================================
``records``     The record format (one YAML file per expert and session), validated with
                pydantic; coverage of the case tree's judgments; seed questions.
``fitting``     Answers -> a distribution with PreliZ (three-point, quantiles, mode and
                interval), the fit error, refusal beyond the tolerance.
``pooling``     The linear opinion pool (a mixture), equal or Cooke performance weights.
``hindsight``   Judgments elicited after the analysis date are flagged; a rationale may not
                cite a later event.
``elicit``      A case's records checked, fitted and pooled (:func:`elicit_case`), written as
                a scenario with provenance.
``summary``     What reports show: provenance per judgment, expert disagreement.
``plots``       Figures of fitted and pooled distributions against the answers.
``notebook``    Helpers of ``notebooks/05_elicitation``: records from answers, widgets.
==============  ===========================================================================

``decision elicit fit|check|new|compare`` (:mod:`decision.cli.elicit`) is the command line; ``docs/elicitation.md`` the
guide.
"""

from decision.elicitation.elicit import (
    POOLS,
    Elicitation,
    cached_elicitation,
    elicit_case,
    elicitation_folder,
)
from decision.elicitation.fitting import (
    DEFAULT_TOLERANCE,
    Fit,
    FitRefused,
    describe_parameter,
    describe_spec,
    fit_answers,
    ks_distance,
    method_words,
)
from decision.elicitation.hindsight import check_rationale, cited_dates, hindsight_flags
from decision.elicitation.pooling import (
    Pool,
    calibration_score,
    equal_weights,
    linear_pool,
    performance_weights,
)
from decision.elicitation.records import (
    METHODS,
    SEEDS_FILE,
    Elicited,
    Expert,
    Judgment,
    Method,
    Record,
    SeedAnswer,
    SeedQuestion,
    coverage,
    latest_answers,
    load_record,
    load_records,
    load_seeds,
    parse_record,
)
from decision.elicitation.summary import (
    Disagreement,
    expert_disagreement,
    hindsight_messages,
    judgment_provenance,
    provenance_words,
)

__all__ = [
    "DEFAULT_TOLERANCE",
    "METHODS",
    "POOLS",
    "SEEDS_FILE",
    "Disagreement",
    "Elicitation",
    "Elicited",
    "Expert",
    "Fit",
    "FitRefused",
    "Judgment",
    "Method",
    "Pool",
    "Record",
    "SeedAnswer",
    "SeedQuestion",
    "cached_elicitation",
    "calibration_score",
    "check_rationale",
    "cited_dates",
    "coverage",
    "describe_parameter",
    "describe_spec",
    "elicit_case",
    "elicitation_folder",
    "equal_weights",
    "expert_disagreement",
    "fit_answers",
    "hindsight_flags",
    "hindsight_messages",
    "judgment_provenance",
    "ks_distance",
    "latest_answers",
    "linear_pool",
    "load_record",
    "load_records",
    "load_seeds",
    "method_words",
    "parse_record",
    "performance_weights",
    "provenance_words",
]
