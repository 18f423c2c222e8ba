"""The decision still open at a monitoring date, given what has been observed.

A monthly report does not re-decide the first-stage choice: monitoring exists because the
strategy that holds the case's second-stage decision (:class:`decision.case.SecondStage`) was
chosen when the question was posed. What is open depends on what monitoring has seen:

* **The window runs** (no refusal, no breach, months left): whether the deal still stands,
  and the contingent plan for the second-stage decision.
* **The window has closed**: by a refusal of the DPRK (an explicit ``freeze_accepted = 0``
  row, or a test before any acceptance, which the DPRK model reads as a refusal), a breach of
  an accepted freeze, China's refusal (``accepts_proposal = 0``), or the window's end. The
  open decision is then the second-stage decision itself, every option against every other,
  evaluated with the evidence at hand (:func:`second_stage_choice`). When the evidence has
  closed the tree's path to that decision (a branch on the path has probability 0 in every
  draw: the DPRK refused, the freeze broke, China refused; :func:`closed_branch`), the case's
  own terms answer it: the tree has no second-stage decision on the observed branch, so its
  ``no_action`` option stands (e.g. the exercises go ahead in full), and the option values
  are shown as what each option would be worth on the path the evidence closed.

:func:`window_state` reads the closing events from the same monitoring record the models use
(:func:`decision.models.monitoring.monitoring_record`: the evidence tables merged with the
ledger, as published by the cutoff). Node and option names come from the case spec and its
tree, never from this module.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from decision.core.config import deep_merge
from decision.core.dates import parse_date

__all__ = [
    "ClosedBranch",
    "ClosingEvent",
    "OpenDecision",
    "closed_branch",
    "WindowState",
    "open_decision",
    "second_stage_choice",
    "window_state",
]

#: Keys of the models whose settings define the monitoring window and its records.
_DPRK, _CHINA = "dprk", "china"


@dataclasses.dataclass(frozen=True)
class ClosingEvent:
    """An observed event that closes the monitoring window.

    Attributes
    ----------
    date
        The day it happened (for the window's end: its last day).
    kind
        ``dprk_refused``, ``dprk_tested_before_accepting``, ``dprk_breach``,
        ``china_refused`` or ``window_ended``.
    words
        What happened, in plain words (e.g. "the DPRK's nuclear test of 3 Sep 2017").
    """

    date: dt.date
    kind: str
    words: str


@dataclasses.dataclass(frozen=True)
class WindowState:
    """Where the monitoring window stands at a cutoff.

    Attributes
    ----------
    start, end
        First and last day of the monitoring window.
    cutoff
        The last day whose publications are used.
    months_monitored, window_months
        Complete months monitored by the cutoff, and the window's length.
    dprk_answer
        1 accepted, 0 refused (explicitly or by testing before accepting), ``None`` unknown.
    dprk_accepted_on
        Day of the acceptance (``None`` unless accepted).
    china_answer
        China's latest published answer to the proposal (1 / 0), or ``None``.
    events
        The closing events seen, in date order (empty while the window runs).
    """

    start: dt.date
    end: dt.date
    cutoff: dt.date
    months_monitored: int
    window_months: int
    dprk_answer: int | None
    dprk_accepted_on: dt.date | None
    china_answer: int | None
    events: tuple[ClosingEvent, ...]

    @property
    def closed(self) -> bool:
        """Whether the window has closed (a refusal, a breach or its end)."""
        return bool(self.events)

    @property
    def closed_by(self) -> ClosingEvent | None:
        """The first closing event, or ``None`` while the window runs."""
        return self.events[0] if self.events else None


def _day(date: dt.date) -> str:
    return f"{date.day} {date:%b %Y}"


def _settings(model_key: str, scenario_settings: Mapping[str, Any] | None) -> dict[str, Any]:
    from decision.models import MODELS

    return deep_merge(
        MODELS[model_key].default_settings(), (scenario_settings or {}).get(model_key)
    )


def window_state(
    observations: pd.DataFrame | None,
    as_of: dt.date | str,
    settings: Mapping[str, Any] | None = None,
) -> WindowState:
    """Read the state of the monitoring window at ``as_of`` from the evidence and the ledger.

    Parameters
    ----------
    observations
        The ledger frame (:func:`decision.observations.load_observations`), or ``None``.
    as_of
        The cutoff: nothing published later is used.
    settings
        Model settings by model key, as a scenario gives them (``{"dprk": {...}}``); the
        DPRK model's ``monitoring_start``, ``monitoring_months`` and ``through`` define the
        window (defaults: the model's).
    """
    from decision import evidence
    from decision.models.monitoring import freeze_status, monitoring_record

    as_of = parse_date(as_of)
    dprk = _settings(_DPRK, settings)
    window = int(dprk["monitoring_months"])
    record = monitoring_record(observations, dprk, as_of)
    freeze = freeze_status(record, window)
    start, cutoff = record.start, record.cutoff
    end = (pd.Timestamp(start) + pd.DateOffset(months=window) - pd.Timedelta(days=1)).date()
    rows = _published_rows(observations, start, cutoff)

    nuclear = {d.date() for d in evidence.nuclear_tests(as_of=cutoff)["date"]}
    nuclear |= set(_dates(rows, "DPRK", "nuclear_test"))
    ledger_launches = set(_dates(rows, "DPRK", "missile_launch"))

    def test_words(date: dt.date) -> str:
        if date in nuclear:
            return f"the DPRK's nuclear test of {_day(date)}"
        if date in ledger_launches:
            return f"the DPRK's missile launch of {_day(date)}"
        return f"the DPRK's missile launches in {date:%b %Y} (monthly launch table)"

    events: list[ClosingEvent] = []
    accepted_on = None
    if freeze.accepted == 0 and freeze.reason == "ledger":
        date = record.accept_events[-1][0]
        events.append(
            ClosingEvent(date, "dprk_refused", f"the DPRK refused the offer on {_day(date)}")
        )
    elif freeze.accepted == 0:
        date = record.test_dates[0]
        events.append(
            ClosingEvent(
                date,
                "dprk_tested_before_accepting",
                f"{test_words(date)}, before the DPRK accepted anything, is read as a refusal "
                "of the offer (not as a breach of a freeze it never accepted)",
            )
        )
    elif freeze.accepted == 1:
        accepted_on = record.accept_events[-1][0]
        later = [d for d in record.test_dates if d >= accepted_on]
        if later:
            events.append(
                ClosingEvent(
                    later[0],
                    "dprk_breach",
                    f"{test_words(later[0])} broke the freeze the DPRK accepted on "
                    f"{_day(accepted_on)}",
                )
            )
    china = _answers(rows, "China", "accepts_proposal")
    china_answer = china[-1][1] if china else None
    if china_answer == 0:
        date = china[-1][0]
        events.append(
            ClosingEvent(date, "china_refused", f"China refused the proposal on {_day(date)}")
        )
    if record.months_monitored >= window and not any(e.date <= end for e in events):
        events.append(
            ClosingEvent(
                end,
                "window_ended",
                f"the {window}-month monitoring window ended on {_day(end)}",
            )
        )
    return WindowState(
        start=start,
        end=end,
        cutoff=cutoff,
        months_monitored=min(record.months_monitored, window),
        window_months=window,
        dprk_answer=freeze.accepted,
        dprk_accepted_on=accepted_on,
        china_answer=china_answer,
        events=tuple(sorted(events, key=lambda e: e.date)),
    )


def _published_rows(observations, start: dt.date, cutoff: dt.date) -> pd.DataFrame:
    if observations is None or not len(observations):
        return pd.DataFrame(columns=["date", "actor", "kind", "value", "published"])
    dates = pd.to_datetime(observations["date"]).dt.date
    published = (
        pd.to_datetime(observations["published"]).fillna(pd.to_datetime(observations["date"]))
        if "published" in observations
        else pd.to_datetime(observations["date"])
    ).dt.date
    keep = (dates >= start) & (dates <= cutoff) & (published <= cutoff)
    return observations[keep.to_numpy()].assign(_date=dates[keep], _published=published[keep])


def _dates(rows: pd.DataFrame, actor: str, kind: str) -> list[dt.date]:
    if not len(rows):
        return []
    return list(rows.loc[(rows["actor"] == actor) & (rows["kind"] == kind), "_date"])


def _answers(rows: pd.DataFrame, actor: str, kind: str) -> list[tuple[dt.date, int]]:
    """``(date, value)`` of the rows of a kind, in published order (the last one stands)."""
    if not len(rows):
        return []
    sel = rows[(rows["actor"] == actor) & (rows["kind"] == kind)]
    sel = sel.sort_values("_published", kind="stable")
    return [(d, int(v)) for d, v in zip(sel["_date"], sel["value"], strict=True)]


@dataclasses.dataclass(frozen=True)
class ClosedBranch:
    """A branch on the tree's path to the second-stage decision that the evidence has closed.

    Attributes
    ----------
    node
        The chance node's name (e.g. "DPRK accepts the conditional freeze").
    branch
        The outcome on the path to the decision, with probability 0 in every draw.
    observed
        The node's other outcomes (one of which was observed).
    """

    node: str
    branch: str
    observed: tuple[str, ...]


def _stage_paths(result, spec) -> list[str]:
    stage = spec.second_stage
    prefix = f"{result.root_path}/{stage.strategy}/"
    tree = result.tree
    return [
        p for p in result.policy if p.startswith(prefix) and tree.nodes[p].name == stage.decision
    ]


def closed_branch(result, spec) -> ClosedBranch | None:
    """Find the first branch on the path to the second-stage decision that has probability 0.

    The path is that to the decision's first instance under the spec's strategy; a branch
    closed in every draw means the evidence has ruled it out (the models give an observed
    answer or breach probability 1 or 0). Returns ``None`` when the path is open or the spec
    has no second stage.
    """
    if spec.second_stage is None:
        return None
    paths = _stage_paths(result, spec)
    if not paths:
        return None
    target, tree = paths[0], result.tree
    ancestors = sorted(
        (
            p
            for p, node in tree.nodes.items()
            if node.kind == "chance" and target.startswith(p + "/")
        ),
        key=len,
    )
    for path in ancestors:
        node = tree.nodes[path]
        label = target[len(path) + 1 :].split("/")[0]
        branch = next((b for b in node.branches if b.label == label), None)
        if branch is None or branch.probability is None:
            continue
        probability = np.asarray(branch.probability(result.parameters), dtype=float)
        if np.all(probability <= 0):
            others = tuple(b.label for b in node.branches if b.label != label)
            return ClosedBranch(str(node.name), label, others)
    return None


def second_stage_choice(result, spec) -> pd.DataFrame:
    """Evaluate every option of the case's second-stage decision with the draws at hand.

    The second-stage decision nodes under the spec's strategy are evaluated as the tree has
    them (each option's value given the decision is reached, per draw), and the values at the
    different outcomes of the spec's ``condition`` node are combined per draw with that
    node's outcome probabilities in the same draw (e.g. China's observed cooperation levels).
    So the comparison holds whether or not the path to the decision is still open: after a
    refusal the tree's branch to it has probability 0, yet each option's value, as the tree
    models what follows it, is still defined. Values are expected values for a linear
    utility; under an exponential utility each outcome's certainty equivalents are averaged
    (an approximation).

    Parameters
    ----------
    result
        The evaluated case tree (:class:`decision.tree.TreeResult`), whose parameters are the
        draws at hand (posteriors given what monitoring has seen).
    spec
        The case spec (:class:`decision.case.CaseSpec`); returns an empty frame when it names
        no second stage.

    Returns
    -------
    pandas.DataFrame
        One row per option, in the tree's order, indexed by ``option``: ``value`` (mean over
        draws), ``5%`` and ``95%`` (over draws), ``probability best`` (share of draws in which
        the option has the highest value) and ``no action`` (whether it is the spec's
        ``no_action`` option). ``attrs["weights"]`` holds each condition outcome's mean
        probability.
    """
    stage = spec.second_stage
    columns = ["value", "5%", "95%", "probability best", "no action"]
    if stage is None:
        return pd.DataFrame(columns=columns)
    tree = result.tree
    paths = _stage_paths(result, spec)
    if not paths:
        return pd.DataFrame(columns=columns)
    n = result.n
    blocks: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if stage.condition is None:
        blocks["always"] = (np.ones(n), np.asarray(result.option_values[paths[0]].values))
    else:
        marker = f"/{stage.condition}/"
        condition_path = None
        for path in paths:
            if marker not in path:
                continue
            here = path[: path.index(marker) + len(marker) - 1]
            condition_path = condition_path or here
            if here != condition_path:
                continue  # the first instance of the condition under the strategy
            level = path[len(here) + 1 :].split("/")[0]
            if level in blocks:
                continue
            branch = next(b for b in tree.nodes[here].branches if b.label == level)
            weight = np.broadcast_to(np.asarray(branch.probability(result.parameters)), (n,))
            blocks[level] = (weight, np.asarray(result.option_values[path].values))
    options = [str(o) for o in result.option_values[paths[0]].coords["option"].values]
    weights = np.column_stack([w for w, _ in blocks.values()])
    total = weights.sum(axis=1, keepdims=True)
    shares = np.divide(
        weights, total, out=np.full_like(weights, 1 / weights.shape[1]), where=total > 0
    )
    values = sum(shares[:, [i]] * v for i, (_, v) in enumerate(blocks.values()))
    lo, hi = np.percentile(values, [5, 95], axis=0)
    best = np.argmax(values, axis=1)
    table = pd.DataFrame(
        {
            "value": values.mean(axis=0),
            "5%": lo,
            "95%": hi,
            "probability best": [float(np.mean(best == i)) for i in range(len(options))],
            "no action": [o == stage.no_action for o in options],
        },
        index=pd.Index(options, name="option"),
    )
    table.attrs["weights"] = {k: float(np.mean(s)) for k, s in zip(blocks, shares.T, strict=True)}
    return table


@dataclasses.dataclass(frozen=True)
class OpenDecision:
    """The decision open at a monitoring date (see the module docstring).

    Attributes
    ----------
    state
        The monitoring window's state.
    decided
        The first-stage option chosen when the question was posed (the strategy that holds
        the second stage), shown as history.
    decided_on
        The day the question was posed (the case spec's ``proposed``), or ``None``.
    choice
        With the window closed: :func:`second_stage_choice`; while it runs: ``None``.
    closed
        The branch on the tree's path to the second-stage decision the evidence closed, or
        ``None`` (the path is open).
    no_action
        The spec's option for "do not act on what was observed" (e.g. full exercises).
    """

    state: WindowState
    decided: str | None
    decided_on: dt.date | None
    choice: pd.DataFrame | None
    closed: ClosedBranch | None = None
    no_action: str | None = None

    @property
    def best_option(self) -> str | None:
        """The second-stage option with the highest value (``None`` while the window runs)."""
        if self.choice is None or not len(self.choice):
            return None
        return str(self.choice["value"].idxmax())

    @property
    def answer(self) -> str | None:
        """The second-stage option the evidence at hand points to (``None`` while it runs).

        With the path to the decision closed by the evidence, the case's terms: its
        ``no_action`` option (the tree has no second-stage decision on the observed branch);
        otherwise the option with the highest value.
        """
        if not self.state.closed:
            return None
        if self.closed is not None and self.no_action is not None:
            return self.no_action
        return self.best_option

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        state = self.state
        return {
            "window_closed": state.closed,
            "closed_by": None
            if state.closed_by is None
            else {
                "date": state.closed_by.date.isoformat(),
                "kind": state.closed_by.kind,
                "words": state.closed_by.words,
            },
            "months_monitored": state.months_monitored,
            "window_months": state.window_months,
            "dprk_answer": state.dprk_answer,
            "china_answer": state.china_answer,
            "decided": self.decided,
            "decided_on": None if self.decided_on is None else self.decided_on.isoformat(),
            "best_option": self.best_option,
            "answer": self.answer,
            "closed_branch": None if self.closed is None else dataclasses.asdict(self.closed),
            "choice": None
            if self.choice is None
            else {
                option: {k: (bool(v) if k == "no action" else float(v)) for k, v in row.items()}
                for option, row in self.choice.to_dict(orient="index").items()
            },
        }


def open_decision(analysis, observations: pd.DataFrame | None) -> OpenDecision:
    """Find the decision open at the analysis's date, given the observations.

    Parameters
    ----------
    analysis
        The case analysed as of the monitoring cutoff (:class:`decision.case.Analysis`).
    observations
        The ledger frame used, or ``None``.
    """
    spec = analysis.spec
    state = window_state(observations, analysis.as_of, analysis.case.scenario.settings)
    stage = spec.second_stage
    closed = state.closed and stage is not None
    return OpenDecision(
        state=state,
        decided=None if stage is None else stage.strategy,
        decided_on=spec.proposed,
        choice=second_stage_choice(analysis.result, spec) if closed else None,
        closed=closed_branch(analysis.result, spec) if closed else None,
        no_action=None if stage is None else stage.no_action,
    )
