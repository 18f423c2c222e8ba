"""The monitoring schedule: what China and the DPRK are expected to do, month by month.

The freeze-plus-pressure proposal asks China to step up sanctions enforcement "in a
scheduled step-by-step way that produces a measurable increase in pressure", and the
DPRK to suspend nuclear tests, missile launches and nuclear-technology exports, over six
months of monitoring. The schedule is a YAML file the analyst edits; the package ships an
analyst's plan for Sep 2017 - Feb 2018 (:func:`default_schedule_path`).
:func:`compare_to_schedule` sets the observation ledger against it.

Format (see ``docs/monitoring.md`` for a full example)
------------------------------------------------------
Top-level keys (no others are allowed):

``title``, ``status``     required text; ``status`` says what the plan is (e.g. "analyst
                          plan (a judgment; not an agreed or official schedule)").
``proposal``              optional text: what the schedule monitors.
``rationale``             required text: why these steps and targets.
``monitoring``            ``start`` and ``end``: months ``YYYY-MM`` (quoted or not).
``china_steps``           list of steps, each with
                          ``id`` (letters, digits, ``_.-``; unique), ``month`` (``YYYY-MM``,
                          within monitoring), ``measure`` (``trade``, ``financial`` or
                          ``weapons_technology``), ``description``, optional ``basis``
                          (the real measure it rests on), and ``target``: ``metric`` (what
                          is measured and where), optional ``baseline``, and exactly one of
                          ``reduction`` (fraction by which the metric must fall, in (0, 1])
                          or ``at_least`` (a count >= 0, with optional ``unit``).
``dprk_commitments``      list of commitments, each with ``id`` (unique), ``kind``
                          (``missile_launch``, ``nuclear_test`` or ``suspected_export``: the
                          ledger kind that breaches it), ``description``, ``from`` and ``to``
                          (months, within monitoring) and optional ``breach_confidence``
                          (default 0: a ledger row of that kind counts as a breach when its
                          confidence is at least this).

Errors name the file, the key path (list positions count from 0, e.g.
``china_steps[2].target.reduction``) and the line.
"""

from __future__ import annotations

import datetime as dt
import os
from importlib.resources import as_file, files
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    model_validator,
)

from decision.core.dates import MONTH_PATTERN, is_month
from decision.core.errors import InputError
from decision.core.validation import KeyPathError, read_yaml_document
from decision.models.monitoring import NOT_REPORTED, OBSERVED
from decision.monitoring.ledger import step_tags, validate_ledger
from decision.observations import COLUMNS, validate_observations

__all__ = [
    "MEASURES",
    "STATUSES",
    "Target",
    "ChinaStep",
    "DPRKCommitment",
    "Monitoring",
    "Schedule",
    "default_schedule_path",
    "load_schedule",
    "compare_to_schedule",
]

#: The kinds of enforcement measure a China step may be.
MEASURES: tuple[str, ...] = ("trade", "financial", "weapons_technology")

#: Values of the ``observed`` column of :func:`compare_to_schedule`.
STATUSES: tuple[str, ...] = ("met", "missed", "not yet reported", "breached", "not reported")

_MONTH = f"^{MONTH_PATTERN.pattern}$"
_ITEM_ID = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
Month = Annotated[str, StringConstraints(pattern=_MONTH)]
ItemId = Annotated[str, StringConstraints(pattern=_ITEM_ID)]
#: What the patterns mean, for error messages.
_PATTERNS = {_MONTH: "a month as YYYY-MM", _ITEM_ID: "an id of letters, digits, '_', '.' or '-'"}
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

_CONFIG = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)


def _month_range(start: str, end: str) -> list[str]:
    periods = pd.period_range(start=start, end=end, freq="M")
    return [str(p) for p in periods]


class Target(BaseModel):
    """A measurable target: a metric and either a reduction fraction or a count to reach."""

    model_config = _CONFIG

    metric: Text
    baseline: Text | None = None
    reduction: float | None = Field(default=None, gt=0, le=1)
    at_least: float | None = Field(default=None, ge=0)
    unit: Text | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Target:
        if (self.reduction is None) == (self.at_least is None):
            raise ValueError(
                "expected exactly one of 'reduction' (a fraction) or 'at_least' (a count)"
            )
        if self.unit is not None and self.at_least is None:
            raise ValueError("'unit' goes with 'at_least' only")
        return self

    def describe(self) -> str:
        """Describe the target in words."""
        if self.reduction is not None:
            goal = f"down at least {self.reduction:.0%}"
        else:
            goal = f"at least {self.at_least:g}" + (f" {self.unit}" if self.unit else "")
        base = f" vs {self.baseline}" if self.baseline else ""
        return f"{self.metric}: {goal}{base}"


class ChinaStep(BaseModel):
    """One scheduled enforcement step expected of China."""

    model_config = _CONFIG

    id: ItemId
    month: Month
    measure: Literal["trade", "financial", "weapons_technology"]
    description: Text
    basis: Text | None = None
    target: Target


class DPRKCommitment(BaseModel):
    """One DPRK commitment and the months it applies."""

    model_config = _CONFIG

    id: ItemId
    kind: Literal["missile_launch", "nuclear_test", "suspected_export"]
    description: Text
    from_: Month = Field(alias="from")
    to: Month
    breach_confidence: float = Field(default=0.0, ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> DPRKCommitment:
        if self.to < self.from_:
            raise ValueError(f"expected 'to' ({self.to}) not before 'from' ({self.from_})")
        return self

    @property
    def months(self) -> list[str]:
        """The months (``YYYY-MM``) the commitment applies."""
        return _month_range(self.from_, self.to)


class Monitoring(BaseModel):
    """The monitoring window."""

    model_config = _CONFIG

    start: Month
    end: Month

    @model_validator(mode="after")
    def _ordered(self) -> Monitoring:
        if self.end < self.start:
            raise ValueError(f"expected 'end' ({self.end}) not before 'start' ({self.start})")
        return self


class Schedule(BaseModel):
    """A monitoring schedule (see the module docstring for the file format)."""

    model_config = _CONFIG

    title: Text
    status: Text
    proposal: Text | None = None
    rationale: Text
    monitoring: Monitoring
    china_steps: list[ChinaStep] = Field(default_factory=list)
    dprk_commitments: list[DPRKCommitment] = Field(default_factory=list)
    _source: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _consistent(self) -> Schedule:
        start, end = self.monitoring.start, self.monitoring.end
        seen: set[str] = set()
        for group, items in (
            ("china_steps", self.china_steps),
            ("dprk_commitments", self.dprk_commitments),
        ):
            for i, item in enumerate(items):
                if item.id in seen:
                    raise KeyPathError(
                        f"duplicate id {item.id!r}: ids must be unique", (group, i, "id")
                    )
                seen.add(item.id)
                months = (
                    [("month", item.month)]
                    if isinstance(item, ChinaStep)
                    else [("from", item.from_), ("to", item.to)]
                )
                for key, month in months:
                    if not start <= month <= end:
                        raise KeyPathError(
                            f"expected a month within monitoring ({start} to {end}), got {month!r}",
                            (group, i, key),
                        )
        return self

    @property
    def source(self) -> str | None:
        """The file the schedule was read from, if any."""
        return self._source

    @property
    def months(self) -> list[str]:
        """The monitoring months, ``YYYY-MM``."""
        return _month_range(self.monitoring.start, self.monitoring.end)

    def step(self, step_id: str) -> ChinaStep:
        """Return the China step with this id."""
        for s in self.china_steps:
            if s.id == step_id:
                return s
        raise InputError(
            f"no China step with id {step_id!r} (expected one of: "
            + ", ".join(s.id for s in self.china_steps)
            + ")",
            field="step",
        )


def default_schedule_path() -> Path:
    """Path of the shipped schedule ``decision/data/monitoring_schedule.yaml``."""
    with as_file(files("decision").joinpath("data", "monitoring_schedule.yaml")) as path:
        return Path(path)


def load_schedule(path: str | os.PathLike | None = None) -> Schedule:
    """Read and validate a schedule YAML file (default: :func:`default_schedule_path`).

    Raises
    ------
    InputError
        Naming the file and the key path (``field``), with the line in the message.
    """
    path = Path(path) if path is not None else default_schedule_path()
    document = read_yaml_document(path, what="a monitoring schedule (YAML file)")
    if not isinstance(document.data, dict):
        raise InputError(
            "expected a mapping with keys title, status, rationale, monitoring, "
            "china_steps, dprk_commitments",
            file=document.file,
        )
    schedule = document.validate(Schedule, patterns=_PATTERNS)
    schedule._source = document.file
    return schedule


# ---------------------------------------------------------------------------
# Comparing observations with the schedule
# ---------------------------------------------------------------------------


def _month_of(value: Any, field: str) -> str:
    if isinstance(value, (dt.date, pd.Timestamp)):
        return pd.Timestamp(value).strftime("%Y-%m")
    text = str(value).strip()
    if is_month(text):
        return text
    try:
        return dt.date.fromisoformat(text).strftime("%Y-%m")
    except ValueError:
        raise InputError(
            f"expected a month as YYYY-MM (or a date), got {value!r}", field=field
        ) from None


def _observations_frame(observations: Any) -> pd.DataFrame:
    if isinstance(observations, (str, os.PathLike)):
        return validate_ledger(observations)
    if not isinstance(observations, pd.DataFrame):
        raise InputError(
            "expected an observations DataFrame or the path of a ledger", field="observations"
        )
    frame = observations
    typed = (
        list(frame.columns) == list(COLUMNS)
        and pd.api.types.is_datetime64_any_dtype(frame["date"])
        and pd.api.types.is_float_dtype(frame["value"])
        and pd.api.types.is_float_dtype(frame["confidence"])
    )
    if typed and frame.index.name == "row":
        return frame
    checked = validate_observations(frame)
    if frame.index.name == "row":
        checked.index = frame.index
    else:
        checked.index = pd.RangeIndex(2, 2 + len(checked), name="row")
    return checked


def _monitoring_record(schedule: Schedule, frame: pd.DataFrame, cutoff: dt.date):
    """Build the monitoring record of the schedule's window as published by ``cutoff``."""
    from decision.models.monitoring import monitoring_record

    start = f"{schedule.monitoring.start}-01"
    return monitoring_record(frame, {"monitoring_start": start, "through": None}, cutoff)


def _num(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:g}"


def _evidence_text(frame: pd.DataFrame) -> str:
    parts = []
    for row, rec in frame.iterrows():
        conf = "" if float(rec["confidence"]) == 1 else f", confidence {_num(rec['confidence'])}"
        parts.append(
            f"row {row} ({rec['date']:%Y-%m-%d}): {rec['kind']} = "
            f"{_num(rec['value'])}{conf} from {rec['source']}"
        )
    return "; ".join(parts)


def compare_to_schedule(
    schedule: Schedule, observations: Any, through: Any, *, record: Any = None
) -> pd.DataFrame:
    """Set the observations against every scheduled item due through a month.

    Parameters
    ----------
    schedule
        From :func:`load_schedule`.
    observations
        A ledger path, or an observations frame (as
        :func:`decision.monitoring.ledger.validate_ledger` or
        :func:`decision.observations.load_observations` returns it). Rows dated or
        published after the end of ``through`` are ignored.
    through
        The last month to compare (``YYYY-MM``, or a date in it).
    record
        The monitoring record (:func:`decision.models.monitoring.monitoring_record`) that
        says, per kind and month, whether anything is on record; default: built from the
        evidence tables and ``observations`` as published by the end of ``through``, with
        monitoring starting at the schedule's first month.

    Matching
    --------
    China step: its evidence is the China ``enforcement_step`` and (for trade steps)
    ``trade_level`` rows whose note names the step (``[step-id]``), plus untagged rows
    dated in the step's month. Observed: the latest ``enforcement_step`` row decides
    (1 ``met``, 0 ``missed``); without one, the latest ``trade_level`` (>= 1 ``met``,
    below ``missed``); with neither, ``not yet reported``.

    DPRK commitment: one item per month it applies. Its evidence is the ledger rows of its
    kind dated in that month; any with confidence >= ``breach_confidence`` makes it
    ``breached``, and so does a test the evidence tables record that month (the monitoring
    record's count). Otherwise it is ``met`` only when the monitoring record has the kind
    *observed* that month (the launch table's count, a complete month of the nuclear-test
    table, a ledger report below the threshold), and ``not reported`` when nothing is on
    record: silence is never read as compliance.

    Returns
    -------
    pandas.DataFrame
        One row per item due, ordered by month (China steps first): ``item`` (id),
        ``actor``, ``month``, ``measure`` (China: trade / financial / weapons_technology;
        DPRK: the breaching kind), ``expected`` (text), ``observed`` (one of
        :data:`STATUSES`), ``value`` (China: the deciding row's value; DPRK: breaching
        rows; NaN when nothing decided), ``evidence_rows`` (tuple of ledger row numbers)
        and ``evidence`` (text). ``attrs["unmatched_rows"]`` lists China step rows whose
        tagged id is not in the schedule.
    """
    through_m = _month_of(through, "through")
    frame = _observations_frame(observations)
    end = pd.Period(through_m, freq="M").end_time.normalize()
    published = frame["published"] if "published" in frame else frame["date"]
    frame = frame[(frame["date"] <= end) & (published.fillna(frame["date"]) <= end)]
    months = frame["date"].dt.strftime("%Y-%m")
    if record is None:
        record = _monitoring_record(schedule, frame, end.date())
    on_record = {
        (r.month, r.kind): (r.status, int(r.events)) for r in record.status.itertuples(index=False)
    }
    step_ids = {s.id for s in schedule.china_steps}
    tags = frame["note"].map(step_tags)

    records: list[dict[str, Any]] = []
    unmatched: list[int] = []
    china_rows = frame[
        (frame["actor"] == "China") & frame["kind"].isin(["enforcement_step", "trade_level"])
    ]
    for row in china_rows.index:
        if tags[row] and not set(tags[row]) & step_ids:
            unmatched.append(int(row))

    for step in schedule.china_steps:
        if step.month > through_m:
            continue
        kinds = ["enforcement_step"] + (["trade_level"] if step.measure == "trade" else [])
        pick = china_rows.index[china_rows["kind"].isin(kinds)]
        chosen = [
            r for r in pick if step.id in tags[r] or (not tags[r] and months[r] == step.month)
        ]
        evidence = frame.loc[chosen]
        steps = evidence[evidence["kind"] == "enforcement_step"]
        levels = evidence[evidence["kind"] == "trade_level"]
        if len(steps):
            value = float(steps["value"].iloc[-1])
            observed = "met" if value == 1 else "missed"
        elif len(levels):
            value = float(levels["value"].iloc[-1])
            observed = "met" if value >= 1 else "missed"
        else:
            value, observed = float("nan"), "not yet reported"
        records.append(
            {
                "item": step.id,
                "actor": "China",
                "month": step.month,
                "measure": step.measure,
                "expected": f"{step.description} Target: {step.target.describe()}",
                "observed": observed,
                "value": value,
                "evidence_rows": tuple(int(r) for r in evidence.index),
                "evidence": _evidence_text(evidence),
            }
        )

    for commitment in schedule.dprk_commitments:
        for month in commitment.months:
            if month > through_m:
                continue
            sel = frame[
                (frame["actor"] == "DPRK") & (frame["kind"] == commitment.kind) & (months == month)
            ]
            breaches = sel[sel["confidence"] >= commitment.breach_confidence]
            status, events = on_record.get((month, commitment.kind), (NOT_REPORTED, 0))
            if commitment.kind != "suspected_export":  # tests: the tables count them too
                events = max(events, len(breaches))
            else:  # exports: only the ledger reports them, with a confidence
                events = len(breaches)
            if events:
                observed = "breached"
            elif status == OBSERVED or len(sel):
                observed = "met"
            else:
                observed = "not reported"
            records.append(
                {
                    "item": commitment.id,
                    "actor": "DPRK",
                    "month": month,
                    "measure": commitment.kind,
                    "expected": commitment.description
                    + (
                        f" (a report counts as a breach at confidence >= "
                        f"{commitment.breach_confidence:g})"
                        if commitment.breach_confidence
                        else ""
                    ),
                    "observed": observed,
                    "value": float(events),
                    "evidence_rows": tuple(int(r) for r in sel.index),
                    "evidence": _evidence_text(sel),
                }
            )

    columns = [
        "item",
        "actor",
        "month",
        "measure",
        "expected",
        "observed",
        "value",
        "evidence_rows",
        "evidence",
    ]
    out = pd.DataFrame.from_records(records, columns=columns)
    if len(out):
        order = out["actor"].map({"China": 0, "DPRK": 1})
        out = (
            out.assign(_order=order)
            .sort_values(["month", "_order"], kind="stable")
            .drop(columns="_order")
            .reset_index(drop=True)
        )
    out["value"] = out["value"].astype("float64")
    out.attrs["unmatched_rows"] = unmatched
    out.attrs["through"] = through_m
    return out
