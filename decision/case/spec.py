"""What makes a case a case: the spec object a case folder defines, and how it is found.

A case is a folder holding a tree file in the package's own format (``tree.yaml``), scenario files
(``scenarios/*.yaml``) and an ``__init__.py`` that defines ``SPEC = CaseSpec(...)``. The spec names
everything the engine needs to know about the case and nothing else does: which tree parameters
come from which model's posterior, the strategy whose second-stage plan is reported, the headline
quantities and their labels, the parameter groups for EVPPI, the models' prior overrides, the
monitoring study for the preposterior value of monitoring, and the report titles. Cases shipped
with the package live in ``decision/cases/<name>/``; any other folder is loaded by its path
(``decision analyze --case PATH``). See ``docs/cases.md``.

A case folder is code, like a report template: load only case folders you trust.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from decision.core.errors import InputError
from decision.core.suggest import did_you_mean

__all__ = [
    "DEFAULT_CASE",
    "CaseSpec",
    "HeadlineQuantity",
    "ReportTitles",
    "SecondStage",
    "load_spec",
    "shipped_cases",
]

#: The case used when none is named.
DEFAULT_CASE = "freeze_plus_pressure"


@dataclasses.dataclass(frozen=True)
class HeadlineQuantity:
    """A posterior quantity reported on its own (in JSON, the brief, the run history, sweeps).

    Attributes
    ----------
    name
        Key in ``decision analyze --json`` and in results tables.
    model
        Key of the model whose posterior holds it (``dprk``, ``china``, ...).
    variable
        The posterior variable; its mean is reported.
    label
        Plain words for reports.
    probability
        Whether it is a probability (shown as a percentage).
    """

    name: str
    model: str
    variable: str
    label: str
    probability: bool = True


@dataclasses.dataclass(frozen=True)
class SecondStage:
    """A later decision inside one strategy, rolled back per observed condition: a contingent plan.

    Attributes
    ----------
    strategy
        The root option that contains the later decision.
    decision
        Name of the later decision node(s).
    condition
        Name of the chance node whose outcome labels index the plan (e.g. an observed level),
        or None when the plan has one entry.
    no_action
        The option of the later decision that means "do not act on what was observed" (its
        value is the baseline of "probability of acting").
    plan_intro
        Sentence that introduces the plan in the brief.
    condition_words
        How one plan line reads, with ``{level}`` and ``{option}`` placeholders.
    value_words
        Sentence stating the value of deciding later, with ``{best_fixed}`` and ``{value}``.
    """

    strategy: str
    decision: str
    condition: str | None = None
    no_action: str | None = None
    plan_intro: str = "The later decision should follow what is observed:"
    condition_words: str = "{level}: **{option}**"
    value_words: str = (
        "Deciding later, after observing, rather than committing now to the best single option "
        "({best_fixed}), is worth **{value}** points of expected value."
    )


@dataclasses.dataclass(frozen=True)
class ReportTitles:
    """Titles of the case's reports."""

    brief: str = "Decision brief"
    sensitivity: str = "Sensitivity and value of information"
    monitoring: str = "Monthly monitoring report"
    scenarios: str = "Scenarios compared"


@dataclasses.dataclass(frozen=True)
class CaseSpec:
    """Everything particular to one case, in one object.

    Attributes
    ----------
    name
        The case's id (its folder name for a shipped case).
    folder
        The case folder (``tree.yaml``, ``scenarios/``).
    title
        Short title ("Freeze-plus-pressure").
    question
        The decision question, one paragraph of Markdown, opening the brief.
    supplied
        Tree parameter -> ``(model key, posterior variable)`` for every ``supplied`` parameter.
    headline
        Quantities reported on their own.
    strategies
        Root option -> plain words used in recommendations (options not listed read as named).
    second_stage
        The contingent plan to report, if the case has one.
    parameter_groups
        Named groups of judgment parameters for EVPPI (names absent from the tree are skipped).
    priors
        Model key -> prior overrides this case applies over the models' documented defaults
        (scenarios override these in turn).
    monitoring_study
        A zero-argument callable returning the study valued by the preposterior value of
        monitoring (:class:`decision.sensitivity.preposterior.MonitoringStudy`), or None.
    evidence_inputs
        A callable taking the ``as_of`` date and returning tree parameter -> number for
        ``supplied`` parameters read from the evidence tables rather than a model (e.g. an
        exercise calendar), or None.
    reports
        Report titles.
    notes
        Markdown shown near the end of the brief (e.g. how this version of the analysis
        differs from an earlier one); trusted text, like ``question``.
    tree_file
        The tree file's name inside ``folder``.
    proposed
        The day the decision question was posed (e.g. the proposal's publication), or None:
        an analysis as of an earlier day is refused, since the question did not exist yet.
    """

    name: str
    folder: Path
    title: str
    question: str = ""
    supplied: Mapping[str, tuple[str, str]] = dataclasses.field(default_factory=dict)
    headline: tuple[HeadlineQuantity, ...] = ()
    strategies: Mapping[str, str] = dataclasses.field(default_factory=dict)
    second_stage: SecondStage | None = None
    parameter_groups: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    priors: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    monitoring_study: Callable[[], Any] | None = None
    evidence_inputs: Callable[[Any], Mapping[str, float]] | None = None
    reports: ReportTitles = dataclasses.field(default_factory=ReportTitles)
    notes: str = ""
    tree_file: str = "tree.yaml"
    proposed: dt.date | None = None

    def __post_init__(self) -> None:
        """Check the spec's own consistency (the tree is checked by :meth:`check_tree`)."""
        object.__setattr__(self, "folder", Path(self.folder))
        where = str(self.folder / "__init__.py")
        for param, source in self.supplied.items():
            if not (isinstance(source, tuple) and len(source) == 2):
                raise InputError(
                    "expected (model key, posterior variable)",
                    file=where,
                    field=f"supplied.{param}",
                )
        for quantity in self.headline:
            if not isinstance(quantity, HeadlineQuantity):
                raise InputError("expected HeadlineQuantity entries", file=where, field="headline")

    @property
    def tree_path(self) -> Path:
        """The case's tree file."""
        return self.folder / self.tree_file

    @property
    def scenario_folder(self) -> Path:
        """The folder of the case's scenario files."""
        return self.folder / "scenarios"

    @property
    def models(self) -> tuple[str, ...]:
        """Keys of the models the case needs: those its supplied parameters and headline use."""
        keys = [model for model, _ in self.supplied.values()]
        keys += [q.model for q in self.headline]
        return tuple(dict.fromkeys(keys))

    def headline_label(self, name: str) -> str:
        """Return the label of a headline quantity (its name when unknown)."""
        return next((q.label for q in self.headline if q.name == name), name)

    def strategy_words(self, option: str) -> str:
        """Plain words for a root option."""
        return self.strategies.get(option, option)

    def check_tree(self, tree) -> None:
        """Check that the nodes and parameters the spec names exist in ``tree``.

        Raises
        ------
        InputError
            Naming the spec file and the unknown node or parameter.
        """
        where = str(self.folder / "__init__.py")
        for param in self.supplied:
            if param not in tree.parameters:
                raise InputError(
                    f"unknown tree parameter '{param}'{did_you_mean(param, tree.parameters)}",
                    file=where,
                    field="supplied",
                )
        if self.second_stage is not None:
            stage = self.second_stage
            options = tree.root.labels
            if stage.strategy not in options:
                raise InputError(
                    f"unknown strategy '{stage.strategy}'{did_you_mean(stage.strategy, options)}",
                    file=where,
                    field="second_stage.strategy",
                )
            names = {node.name for node in tree.nodes.values()}
            for field in ("decision", "condition"):
                node = getattr(stage, field)
                if node is not None and node not in names:
                    raise InputError(
                        f"unknown node '{node}'{did_you_mean(node, names)}",
                        file=where,
                        field=f"second_stage.{field}",
                    )


def shipped_cases() -> list[str]:
    """Names of the cases shipped with the package."""
    root = Path(str(resources.files("decision.cases")))
    return sorted(p.name for p in root.iterdir() if (p / "__init__.py").is_file())


_LOADED: dict[str, CaseSpec] = {}


def load_spec(case: str | Path | CaseSpec | None = None) -> CaseSpec:
    """Load the spec of a case given as a :class:`CaseSpec`, a shipped case's name or a folder.

    Parameters
    ----------
    case
        A :class:`CaseSpec` (returned as is), the name of a case shipped in
        :mod:`decision.cases`, the path of a case folder, or None for the default case.

    Raises
    ------
    InputError
        When the name is not a shipped case and not a folder with an ``__init__.py`` that
        defines ``SPEC = CaseSpec(...)``.
    """
    if isinstance(case, CaseSpec):
        return case
    case = DEFAULT_CASE if case is None or str(case) == "" else case
    text = str(case)
    if text in shipped_cases() and not Path(text).is_dir():
        return _checked(importlib.import_module(f"decision.cases.{text}"), text)
    folder = Path(text).expanduser().resolve()
    init = folder / "__init__.py"
    if not init.is_file():
        hint = did_you_mean(text, shipped_cases())
        raise InputError(
            f"unknown case{hint}: expected a shipped case ({', '.join(shipped_cases())}) or a "
            "case folder with an __init__.py that defines SPEC = CaseSpec(...)",
            file=text,
            field="case",
        )
    key = str(init)
    if key not in _LOADED:
        name = "decision_case_" + hashlib.sha256(key.encode()).hexdigest()[:12]
        loader = importlib.util.spec_from_file_location(
            name, init, submodule_search_locations=[str(folder)]
        )
        module = importlib.util.module_from_spec(loader)
        sys.modules[name] = module
        loader.loader.exec_module(module)
        _LOADED[key] = _checked(module, str(init))
    return _LOADED[key]


def _checked(module, where: str) -> CaseSpec:
    spec = getattr(module, "SPEC", None)
    if not isinstance(spec, CaseSpec):
        raise InputError("expected SPEC = CaseSpec(...) in the case's __init__.py", file=where)
    if not spec.tree_path.is_file():
        raise InputError(f"the case's tree file is missing: {spec.tree_path}", file=where)
    return spec
