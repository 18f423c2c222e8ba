"""The freeze-plus-pressure case (R. D. Williams, Lawfare, 20 Aug 2017).

"Taking China Seriously on a North Korea Deal": accept China's freeze-for-freeze, make the
conditional counter-proposal, or keep the status quo. The tree is ``tree.yaml``; its scenarios
are in ``scenarios/``.
"""

import datetime as dt
from pathlib import Path

from decision.case.spec import CaseSpec, HeadlineQuantity, ReportTitles, SecondStage


def _calendar(as_of):
    from decision.cases.freeze_plus_pressure.calendar import calendar_inputs

    return calendar_inputs(as_of)


def _monitoring_study():
    from decision.sensitivity.preposterior import MonitoringStudy

    return MonitoringStudy()


SPEC = CaseSpec(
    name="freeze_plus_pressure",
    folder=Path(__file__).parent,
    title="Freeze-plus-pressure",
    proposed=dt.date(2017, 8, 20),  # the article's publication (DEFAULT_AS_OF)
    question=(
        'Should the US and South Korea accept China\'s "freeze-for-freeze", make the conditional '
        '"freeze-plus-pressure" counter-proposal (R. D. Williams, *Lawfare*, 20 Aug 2017), or keep '
        "the status quo?"
    ),
    supplied={
        "p_china_accepts": ("china", "p_china_accepts"),
        "p_accept_f4f": ("dprk", "p_accept_freeze_for_freeze"),
        "p_accept_fpp": ("dprk", "p_accept_freeze_plus_pressure"),
        "p_hold_monitoring": ("dprk", "p_hold_monitoring"),
        "p_hold_after": ("dprk", "p_hold_after"),
        "p_covert_export_monitoring": ("dprk", "p_undetected_export_monitoring"),
        "p_covert_export_after": ("dprk", "p_undetected_export_after"),
        "p_level_low": ("china", "p_level_low"),
        "p_level_partial": ("china", "p_level_partial"),
        "p_level_full": ("china", "p_level_full"),
        "sq_enforcement": ("china", "status_quo_enforcement"),
        "breach_fraction_monitoring": ("dprk", "breach_fraction_monitoring"),
        "breach_fraction_after": ("dprk", "breach_fraction_after"),
        "launches_prevented_per_month": ("dprk", "launches_prevented_per_month"),
        "long_range_prevented_per_month": ("dprk", "long_range_prevented_per_month"),
        "nuclear_tests_prevented_per_month": ("dprk", "nuclear_tests_prevented_per_month"),
    },
    headline=(
        HeadlineQuantity(
            "p_accept_freeze_for_freeze",
            "dprk",
            "p_accept_freeze_for_freeze",
            "DPRK accepts a plain freeze-for-freeze",
        ),
        HeadlineQuantity(
            "p_accept_freeze_plus_pressure",
            "dprk",
            "p_accept_freeze_plus_pressure",
            "DPRK accepts the conditional freeze-plus-pressure deal",
        ),
        HeadlineQuantity(
            "p_china_accepts", "china", "p_china_accepts", "China accepts the counter-proposal"
        ),
        HeadlineQuantity(
            "p_hold_monitoring",
            "dprk",
            "p_hold_monitoring",
            "an accepted freeze holds visibly through the monitoring window",
        ),
        HeadlineQuantity(
            "p_accepts_and_holds_monitoring",
            "dprk",
            "p_accepts_and_holds_monitoring",
            "the DPRK accepts the counter-proposal's freeze and holds it through the window",
        ),
        HeadlineQuantity(
            "p_dprk_complies",
            "dprk",
            "p_dprk_complies",
            "DPRK accepts the counter-proposal's freeze and complies throughout",
        ),
        HeadlineQuantity(
            "p_china_follows_through",
            "china",
            "p_china_follows_through",
            "China meets the scheduled enforcement plan in full",
        ),
        HeadlineQuantity(
            "status_quo_enforcement",
            "china",
            "status_quo_enforcement",
            "share of the plan China carries out anyway, without a deal",
        ),
        HeadlineQuantity(
            "launches_prevented_per_month",
            "dprk",
            "launches_prevented_per_month",
            "missiles a freeze prevents per month",
            probability=False,
        ),
        HeadlineQuantity(
            "nuclear_tests_prevented_per_month",
            "dprk",
            "nuclear_tests_prevented_per_month",
            "nuclear tests a freeze prevents per month",
            probability=False,
        ),
    ),
    strategies={
        "status quo": "keep the status quo (full exercises, deterrence and containment)",
        "freeze-for-freeze": "accept China's plain freeze-for-freeze (suspend the exercises for "
        "a DPRK testing freeze, with no condition on China)",
        "freeze-plus-pressure": "make the freeze-plus-pressure counter-proposal (scale back the "
        "March exercises only if the DPRK freezes testing and China steps up enforcement, after "
        "six months of monitoring)",
    },
    second_stage=SecondStage(
        strategy="freeze-plus-pressure",
        decision="Spring exercises",
        condition="China's cooperation",
        no_action="full exercises",
        plan_intro=(
            "If the counter-proposal is made and the DPRK holds its freeze through the six "
            "months of monitoring, the spring exercises should follow China's cooperation:"
        ),
        condition_words="China's cooperation **{level}**: **{option}**",
        value_words=(
            "Deciding the spring exercises after six months of monitoring, rather than "
            "committing now to the best single option ({best_fixed}), is worth **{value}** "
            "points of expected value."
        ),
    ),
    parameter_groups={
        "swing weights": (
            "s_readiness",
            "s_nonproliferation",
            "s_pressure",
            "s_alliance",
            "s_diplomacy",
            "s_security",
        ),
        "readiness losses": (
            "r_suspend",
            "r_command_post",
            "r_off_peninsula",
            "r_no_decapitation",
            "c_resume",
        ),
        "non-proliferation": (
            "nonpro_swing",
            "v_long_range",
            "v_nuclear_test",
            "v_export",
            "p_covert_rd",
            "covert_rd_cost",
        ),
        "crisis risk": ("p_crisis_sq", "crisis_cut"),
        "DPRK answer to exercises": (
            "hold_full_exercises",
            "hold_command_post",
            "hold_off_peninsula",
            "hold_no_decapitation",
        ),
        "China's answer": ("china_keeps_if_full", "china_relaxes_f4f", "china_pressure_if_refused"),
        "alliance": (
            "a_offer",
            "a_suspend",
            "a_command_post",
            "a_off_peninsula",
            "a_no_decapitation",
        ),
        "diplomatic standing": (
            "d_serious",
            "d_moral",
            "d_moral_equivalence",
            "moral_share_conditional",
            "d_renege",
            "d_climbdown",
            "renege_breach_fraction",
        ),
    },
    monitoring_study=_monitoring_study,
    evidence_inputs=_calendar,
    notes=(Path(__file__).parent / "notes.md").read_text(encoding="utf-8"),
    reports=ReportTitles(
        brief="Freeze-plus-pressure: decision brief",
        sensitivity="Freeze-plus-pressure: sensitivity and value of information",
        monitoring="Freeze-plus-pressure: monthly monitoring report",
        scenarios="Freeze-plus-pressure: scenarios compared",
    ),
)
