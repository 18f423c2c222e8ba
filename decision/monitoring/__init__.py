"""Monitoring: the observation ledger, the schedule, the run history and the monthly run.

==============  ===========================================================================
``ledger``      The observation ledger (CSV): append-only, locked, atomic adds; duplicate
                and contradiction rules; validation.
``schedule``    The monitoring schedule (YAML): China's scheduled steps and the DPRK's
                commitments; what was observed against what was scheduled.
``history``     The run history (SQLite, WAL): every monthly run, its hashes and headline
                results; trends across months.
``monthly``     The monthly update (:func:`monitor`: ledger through a month -> refit ->
                re-rolled case tree -> schedule status) and the monthly report run with its
                bookkeeping in the run history (:func:`run_monthly_report`).
==============  ===========================================================================

See ``docs/monitoring.md`` for the file formats and the workflow.
"""

from decision.monitoring.history import DEFAULT_HISTORY_PATH, Run, RunHistory
from decision.monitoring.ledger import (
    add_observation,
    latest_month,
    ledger_months,
    ledger_sha256,
    list_observations,
    step_tags,
    validate_ledger,
)
from decision.monitoring.monthly import (
    MonitorResult,
    MonthlyReport,
    monitor,
    resolve_month,
    run_monthly_report,
)
from decision.monitoring.schedule import (
    Schedule,
    compare_to_schedule,
    default_schedule_path,
    load_schedule,
)

__all__ = [
    "DEFAULT_HISTORY_PATH",
    "MonitorResult",
    "MonthlyReport",
    "Run",
    "RunHistory",
    "Schedule",
    "add_observation",
    "compare_to_schedule",
    "default_schedule_path",
    "latest_month",
    "ledger_months",
    "ledger_sha256",
    "list_observations",
    "load_schedule",
    "monitor",
    "resolve_month",
    "run_monthly_report",
    "step_tags",
    "validate_ledger",
]
