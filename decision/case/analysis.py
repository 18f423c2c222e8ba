"""A case analysed: the tree with a scenario applied, fed with the models' posterior draws.

:func:`analyze` fits the models the case needs (or loads them from the cache), feeds their
posterior draws to the tree's ``supplied`` parameters as the case spec maps them, evaluates every
strategy and, when the spec names a second stage, the contingent plan and the value of deciding
it after observing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from decision.case.scenario import Scenario, load_scenario
from decision.case.spec import CaseSpec, load_spec
from decision.core.config import DEFAULT_AS_OF, DEFAULT_SEED, deep_merge
from decision.core.dates import parse_date
from decision.core.errors import InputError
from decision.core.suggest import did_you_mean
from decision.tree import Tree, TreeResult, evaluate, load_tree
from decision.tree.loading import read_yaml

__all__ = [
    "Analysis",
    "Case",
    "analyze",
    "condition_probabilities",
    "contingent_plan",
    "load_case",
    "merged_priors",
    "probability_of_acting",
    "second_stage_options",
    "value_of_deciding_later",
]

CaseRef = str | Path | CaseSpec | None


@dataclasses.dataclass
class Case:
    """A case tree with one scenario applied, and the spec that describes the case."""

    tree: Tree
    scenario: Scenario
    spec: CaseSpec

    @property
    def name(self) -> str:
        """The case's id."""
        return self.spec.name

    def supplied_draws(self, fits: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Posterior draws for every ``supplied`` tree parameter, aligned draw by draw."""
        out = {}
        for param, (model, var) in self.spec.supplied.items():
            if param in self.tree.parameters:
                out[param] = np.asarray(fits[model].draws(var), dtype=float)
        lengths = {len(v) for v in out.values()}
        if len(lengths) > 1:  # every model uses the same sampler settings, so this is a bug
            raise ValueError(f"posterior draw counts differ between models: {sorted(lengths)}")
        return out

    def evidence_inputs(self, as_of: dt.date, n: int) -> dict[str, np.ndarray]:
        """Return the spec's evidence-derived inputs at ``as_of``, as ``n`` equal draws each."""
        if self.spec.evidence_inputs is None:
            return {}
        values = self.spec.evidence_inputs(parse_date(as_of))
        where = str(self.spec.folder / "__init__.py")
        for name in values:
            if name not in self.tree.parameters:
                raise InputError(
                    f"evidence input '{name}' is not a parameter of the tree",
                    file=where,
                    field="evidence_inputs",
                )
        return {name: np.full(n, float(value)) for name, value in values.items()}

    def supplied_by_model(self) -> dict[str, list[str]]:
        """Model key -> the tree's supplied parameters that come from that model's posterior."""
        out: dict[str, list[str]] = {}
        for param, (model, _) in self.spec.supplied.items():
            if param in self.tree.parameters:
                out.setdefault(model, []).append(param)
        return out

    def parameter_groups(self) -> dict[str, list[str]]:
        """Named groups of the tree's parameters for EVPPI.

        One group per model (its supplied parameters, e.g. "DPRK model (posterior)"), then the
        spec's judgment groups, each limited to the parameters the tree has.
        """
        from decision.models import MODEL_LABELS

        groups = {
            f"{MODEL_LABELS.get(model, model)} (posterior)": params
            for model, params in self.supplied_by_model().items()
        }
        for label, members in self.spec.parameter_groups.items():
            present = [m for m in members if m in self.tree.parameters]
            if present:
                groups[label] = present
        return groups

    def assumptions(self) -> pd.DataFrame:
        """Every parameter with its kind, 90% range, and rationale: the assumptions table."""
        rows = []
        for name, spec in self.tree.parameters.items():
            kind = getattr(spec, "kind", "")
            lo = hi = np.nan
            if spec.is_uncertain and hasattr(spec, "ppf") and kind == "distribution":
                lo, hi = (float(x) for x in spec.ppf(np.array([0.05, 0.95])))
            if kind == "supplied":
                kind = "posterior draws" if name in self.spec.supplied else "from the evidence"
            elif kind == "fixed":
                kind = "fixed convention"
            elif kind == "expression":
                kind = "derived"
            rows.append(
                {
                    "parameter": name,
                    "kind": kind,
                    "judgment": bool(getattr(spec, "judgment", False)),
                    "description": spec.description or "",
                    "5%": lo,
                    "95%": hi,
                    "rationale": spec.rationale or spec.source or "",
                }
            )
        return pd.DataFrame(rows).set_index("parameter")


def load_case(scenario: str | Path | Scenario | None = None, case: CaseRef = None) -> Case:
    """Load a case tree with a scenario's parameter specs merged over its own.

    Raises
    ------
    InputError
        Naming the scenario or tree file for an unknown parameter or a bad spec, and the case's
        ``__init__.py`` when its spec names a node or parameter the tree lacks.
    """
    spec = load_spec(case)
    scen = scenario if isinstance(scenario, Scenario) else load_scenario(scenario, spec)
    merged_priors(scen, case=spec)  # unknown models or prior keys fail here, before any fitting
    data = dict(read_yaml(spec.tree_path))
    params = dict(data.get("parameters") or {})
    for name, param_spec in scen.parameters.items():
        if name not in params:
            raise InputError(
                f"unknown parameter{did_you_mean(name, params)}",
                file=scen.path or scen.name,
                field=f"parameters.{name}",
            )
        params[name] = param_spec
    data["parameters"] = params
    try:
        tree = load_tree(data)
    except InputError as exc:
        # Name the file the faulty spec came from: the scenario's or the case tree's.
        parts = (exc.field or "").split(".")
        from_scenario = len(parts) > 1 and parts[0] == "parameters" and parts[1] in scen.parameters
        file = scen.path or scen.name if from_scenario else spec.tree_path
        raise InputError(exc.detail, file=file, row=exc.row, field=exc.field) from None
    spec.check_tree(tree)
    return Case(tree=tree, scenario=scen, spec=spec)


def merged_priors(
    scenario: Scenario, extra: Mapping[str, Any] | None = None, *, case: CaseRef = None
) -> dict[str, dict[str, Any]]:
    """Prior overrides by model: the case's, then the scenario's, then ``extra``, merged.

    Each level is merged over the one before with :func:`decision.core.config.deep_merge`, the
    first over the model's documented defaults, so an unknown model or prior key is an error.
    """
    from decision.models import MODELS

    spec = load_spec(case)
    out = {}
    for key in {**spec.priors, **scenario.priors, **(extra or {})}:
        if key not in MODELS:
            raise InputError(
                f"unknown model '{key}'{did_you_mean(key, MODELS)} "
                f"(expected one of: {', '.join(MODELS)})",
                file=scenario.path,
                field=f"priors.{key}",
            )
        where = f"priors.{key}"
        base = deep_merge(MODELS[key].default_priors, spec.priors.get(key), where=where)
        try:
            base = deep_merge(base, scenario.priors.get(key), where=where)
        except InputError as exc:
            raise InputError(exc.detail, file=exc.file or scenario.path, field=exc.field) from None
        out[key] = deep_merge(base, (extra or {}).get(key), where=where)
    return out


def _second_stage_paths(result: TreeResult, spec: CaseSpec) -> list[str]:
    stage = spec.second_stage
    if stage is None:
        return []
    return [path for path in result.policy if path.endswith(f"/{stage.decision}")]


def second_stage_options(result: TreeResult, spec: CaseSpec) -> list[str]:
    """Return the options of the case's second-stage decision (empty when it has none)."""
    for path in _second_stage_paths(result, spec):
        return [str(o) for o in result.option_values[path].coords["option"].values]
    return []


def contingent_plan(result: TreeResult, spec: CaseSpec) -> tuple[dict[str, str], dict[str, float]]:
    """Find the second-stage option chosen for each observed condition, and its share of draws.

    Returns
    -------
    plan, share
        Condition label (an outcome of the spec's ``condition`` node, or ``"always"`` when the
        spec names none) -> the option chosen most often at that condition's decisions; and
        -> the share of draws in which that option is best there.
    """
    stage = spec.second_stage
    plan: dict[str, list[str]] = {}
    share: dict[str, float] = {}
    if stage is None:
        return {}, {}
    marker = f"/{stage.condition}/" if stage.condition else None
    for path in _second_stage_paths(result, spec):
        if marker is not None and marker not in path:
            continue
        level = path.split(marker)[1].split("/")[0] if marker else "always"
        option = result.policy[path]
        plan.setdefault(level, []).append(option)
        per_draw = np.asarray(result.policy_per_draw[path])
        share[level] = float(np.mean(per_draw == option))
    return {lvl: max(set(opts), key=opts.count) for lvl, opts in plan.items()}, share


def condition_probabilities(result: TreeResult, spec: CaseSpec) -> dict[str, float]:
    """Probability of each outcome of the second stage's condition, given the stage is reached.

    Summed over every place the second-stage decision appears below the condition node and
    normalised, from the tree's own reach probabilities (averaged over draws).
    """
    stage = spec.second_stage
    if stage is None or stage.condition is None:
        return {}
    marker = f"/{stage.condition}/"
    mass: dict[str, float] = {}
    for path in _second_stage_paths(result, spec):
        if marker in path:
            level = path.split(marker)[1].split("/")[0]
            mass[level] = mass.get(level, 0.0) + float(result.reach_probabilities[path])
    total = sum(mass.values())
    return {k: v / total for k, v in mass.items()} if total > 0 else {}


def probability_of_acting(result: TreeResult, spec: CaseSpec) -> float:
    """Probability that the second-stage decision is reached and acted on (not ``no_action``).

    The sum, over the second-stage decisions whose chosen option is not the spec's
    ``no_action``, of the probability of reaching that decision (averaged over draws).
    """
    stage = spec.second_stage
    if stage is None:
        return 0.0
    return float(
        sum(
            result.reach_probabilities[path]
            for path in _second_stage_paths(result, spec)
            if result.policy[path] != stage.no_action
        )
    )


def value_of_deciding_later(
    tree: Tree, result: TreeResult, spec: CaseSpec
) -> tuple[float, dict[str, float]]:
    """Value of choosing the second stage after observing, against committing now.

    Returns
    -------
    value, fixed
        The strategy's value with the plan adapted to what is observed minus its value with the
        best single option committed now; and each option's committed value.
    """
    stage = spec.second_stage
    if stage is None or stage.strategy not in result.options:
        return 0.0, {}
    fixed = {}
    for option in second_stage_options(result, spec):
        forced = evaluate(tree, draws=result.parameters, force={stage.decision: option})
        fixed[option] = float(forced.options[stage.strategy])
    adaptive = float(result.options[stage.strategy])
    return (adaptive - max(fixed.values()) if fixed else 0.0), fixed


@dataclasses.dataclass
class Analysis:
    """The evaluated case: strategies, contingent plan, value of monitoring, diagnostics."""

    case: Case
    result: TreeResult
    fits: Mapping[str, Any]
    as_of: dt.date
    value_of_monitoring: float
    fixed_plan_values: dict[str, float]
    contingent_plan: dict[str, str]
    contingent_plan_probability: dict[str, float]

    @functools.cached_property
    def value_by_attribute(self) -> pd.DataFrame | None:
        """Each strategy's expected value split by attribute (None without attributes).

        Later decisions are held at the optimal policy, so each row sums to the strategy's
        expected value.
        """
        if not self.case.tree.attributes or not self.case.tree.utility.is_linear:
            return None
        from decision.tree import value_by_attribute

        return value_by_attribute(self.result).to_pandas()

    @property
    def spec(self) -> CaseSpec:
        """The case's spec."""
        return self.case.spec

    @property
    def recommendation(self) -> str:
        """The strategy with the highest expected value."""
        return self.result.optimal

    def strategy_table(self) -> pd.DataFrame:
        """Tabulate each strategy's expected value, 90% interval and probability of being optimal.

        The interval is over parameter uncertainty (the 5th and 95th percentiles of the draws).
        """
        values = np.asarray(self.result.root_values_per_draw)
        names = list(self.result.options)
        lo, hi = np.percentile(values, [5, 95], axis=0)
        return pd.DataFrame(
            {
                "expected value": [self.result.options[n] for n in names],
                "5%": lo,
                "95%": hi,
                "probability optimal": [self.result.probability_optimal.get(n, 0.0) for n in names],
            },
            index=pd.Index(names, name="strategy"),
        )

    def headline(self) -> dict[str, float]:
        """Posterior mean of every headline quantity of the case."""
        return {
            q.name: float(np.mean(self.fits[q.model].draws(q.variable)))
            for q in self.spec.headline
            if q.model in self.fits
        }

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON object ``decision analyze --json`` prints."""
        diagnostics = {k: f.diagnostics.to_dict() for k, f in self.fits.items()}
        table = self.strategy_table()
        return {
            "case": self.case.name,
            "scenario": self.case.scenario.name,
            "as_of": self.as_of.isoformat(),
            "recommendation": self.recommendation,
            "options": {k: float(v) for k, v in self.result.options.items()},
            "options_90": {
                k: [float(table.loc[k, "5%"]), float(table.loc[k, "95%"])] for k in table.index
            },
            "probability_optimal": {
                k: float(v) for k, v in self.result.probability_optimal.items()
            },
            "contingent_plan": dict(self.contingent_plan),
            "contingent_plan_probability": dict(self.contingent_plan_probability),
            "value_by_attribute": _nested(self.value_by_attribute),
            **self.headline(),
            "headline_names": [q.name for q in self.spec.headline if q.model in self.fits],
            "value_of_monitoring": float(self.value_of_monitoring),
            "fixed_plan_values": dict(self.fixed_plan_values),
            "draws": int(np.asarray(self.result.root_values_per_draw).shape[0]),
            "diagnostics": diagnostics,
            "diagnostics_ok": all(d["ok"] for d in diagnostics.values()),
            "flags": [f.flagged_message() for f in self.fits.values() if f.flagged_message()],
        }


def analyze(
    scenario: str | Path | Scenario | None = None,
    *,
    case: CaseRef = None,
    as_of: dt.date | str = DEFAULT_AS_OF,
    observations: pd.DataFrame | None = None,
    priors: Mapping[str, Any] | None = None,
    sampler: Mapping[str, Any] | None = None,
    seed: int = DEFAULT_SEED,
    use_cache: bool = True,
    strict: bool = False,
    fits: Mapping | None = None,
) -> Analysis:
    """Fit the models, feed their draws to the case tree, and evaluate it.

    Parameters
    ----------
    scenario
        A scenario file, a shipped scenario's name, or a :class:`Scenario`.
    case
        A shipped case's name, a case folder, or a :class:`CaseSpec` (default: the default case).
    as_of
        Evidence and observations after this date are not used.
    observations
        Monitoring observations (a validated frame), or None.
    priors
        Prior overrides by model, merged over the scenario's (which are merged over the case's
        and the models' documented defaults).
    sampler
        Sampler overrides for every model (seed included).
    seed
        Seed for the judgment parameters' draws.
    use_cache, strict
        Serve unchanged fits from the posterior cache; fail on a fit that does not converge.
    fits
        Already fitted models keyed by model (skips fitting).

    Returns
    -------
    Analysis
        The evaluated case.
    """
    from decision.models import fit_models

    the_case = load_case(scenario, case)
    spec = the_case.spec
    as_of = parse_date(as_of)
    if fits is None:
        fits = fit_models(
            keys=spec.models,
            as_of=as_of,
            observations=observations,
            priors=merged_priors(the_case.scenario, priors, case=spec),
            settings=the_case.scenario.settings,
            sampler=sampler,
            use_cache=use_cache,
            strict=strict,
        )
    supplied = the_case.supplied_draws(fits)
    n = len(next(iter(supplied.values()))) if supplied else _draw_count(fits)
    supplied.update(the_case.evidence_inputs(as_of, n))
    result = evaluate(the_case.tree, n=n, seed=seed, supplied=supplied)
    plan, share = contingent_plan(result, spec)
    value, fixed = value_of_deciding_later(the_case.tree, result, spec)
    return Analysis(the_case, result, fits, as_of, value, fixed, plan, share)


def _nested(frame: pd.DataFrame | None) -> dict[str, dict[str, float]]:
    if frame is None:
        return {}
    return {str(i): {str(c): float(frame.loc[i, c]) for c in frame.columns} for i in frame.index}


def _draw_count(fits: Mapping[str, Any]) -> int:
    """Count the posterior draws of the fits (every fit has the same number)."""
    for fit in fits.values():
        headline = getattr(fit, "headline_names", ())
        if headline:
            return len(np.asarray(fit.draws(headline[0])))
    raise InputError("the case supplies no parameter from a model and no fit has draws")
