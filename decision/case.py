"""A case: a decision tree kept with the package, its scenarios, and the posterior draws it uses.

The Korea case (``decision/cases/freeze_plus_pressure``) is a tree file in the package's own
format plus scenario files. A scenario replaces parameter specs of the tree (same syntax) and
may override the Bayesian models' priors::

    name: pessimistic-china
    description: ...

Parameters
----------
      china_keeps_if_full: {distribution: triangular, low: 0, mode: 0.2, high: 0.4, ...}
    priors:
      china: {cooperation_mean: {alpha: 1.5, beta: 4.0}}

:func:`analyze` fits both models (or loads them from the cache), feeds their posterior draws
to the tree's ``supplied`` parameters, evaluates every strategy and the contingent plan, and
computes the value of monitoring.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from decision.core.config import DEFAULT_AS_OF, DEFAULT_SEED
from decision.core.dates import parse_date
from decision.core.errors import InputError
from decision.core.suggest import did_you_mean
from decision.core.yaml import read_yaml_file
from decision.tree import Tree, TreeResult, evaluate, load_tree
from decision.tree.loading import read_yaml

__all__ = [
    "DEFAULT_CASE",
    "SCENARIO_KEYS",
    "SUPPLIED_FROM_MODELS",
    "Analysis",
    "Case",
    "Scenario",
    "analyze",
    "case_folder",
    "list_scenarios",
    "load_case",
    "load_scenario",
    "merged_priors",
    "probability_of_scale_down",
]

DEFAULT_CASE = "freeze_plus_pressure"

#: Tree parameter -> (model key, posterior variable) for every ``supplied`` parameter.
SUPPLIED_FROM_MODELS: dict[str, tuple[str, str]] = {
    "p_china_accepts": ("china", "p_china_accepts"),
    "p_accept": ("dprk", "p_accept"),
    "p_hold_monitoring": ("dprk", "p_hold_monitoring"),
    "p_hold_after": ("dprk", "p_hold_after"),
    "p_level_low": ("china", "p_level_low"),
    "p_level_partial": ("china", "p_level_partial"),
    "p_level_full": ("china", "p_level_full"),
    "breach_fraction_monitoring": ("dprk", "breach_fraction_monitoring"),
    "breach_fraction_after": ("dprk", "breach_fraction_after"),
    "launches_prevented_per_month": ("dprk", "launches_prevented_per_month"),
    "long_range_prevented_per_month": ("dprk", "long_range_prevented_per_month"),
}

#: Names of the tree's nodes the analysis reads.
STRATEGY_PROPOSAL = "freeze-plus-pressure"
SECOND_DECISION = "Spring exercises"
COOPERATION_NODE = "China's cooperation"
FULL_EXERCISES = "full exercises"
#: Top-level keys a scenario file may have.
SCENARIO_KEYS = frozenset({"name", "description", "parameters", "priors", "settings"})


def case_folder(case: str = DEFAULT_CASE) -> Path:
    """Folder of a case shipped with the package."""
    folder = Path(str(resources.files("decision.cases").joinpath(case)))
    if not (folder / "tree.yaml").is_file():
        raise InputError(f"unknown case '{case}'", field="case")
    return folder


def list_scenarios(case: str = DEFAULT_CASE) -> list[Path]:
    """The scenario files of a case, baseline first."""
    files = sorted((case_folder(case) / "scenarios").glob("*.yaml"))
    return sorted(files, key=lambda p: (p.stem != "baseline", p.stem))


@dataclasses.dataclass(frozen=True)
class Scenario:
    """Named overrides of a case's parameters and of the models' priors."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    priors: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    settings: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    path: str | None = None


def load_scenario(path: str | Path | None, case: str = DEFAULT_CASE) -> Scenario:
    """Read a scenario file; ``None`` or a bare scenario name picks one shipped with the case."""
    if path is None:
        return Scenario(name="baseline")
    path = Path(path)
    if not path.suffix and not path.exists():
        path = case_folder(case) / "scenarios" / f"{path.name}.yaml"
    data = read_yaml_file(path, what="a scenario file (YAML)")
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise InputError("expected a mapping with name, description, parameters, priors", file=path)
    for key in data:
        if key not in SCENARIO_KEYS:
            raise InputError(
                f"unknown key (expected one of: {', '.join(sorted(SCENARIO_KEYS))})",
                file=path,
                field=key,
            )
    for key in ("parameters", "priors", "settings"):
        if data.get(key) is not None and not isinstance(data[key], Mapping):
            raise InputError("expected a mapping", file=path, field=key)
    return Scenario(
        name=str(data.get("name") or path.stem),
        description=str(data.get("description") or ""),
        parameters=dict(data.get("parameters") or {}),
        priors=dict(data.get("priors") or {}),
        settings=dict(data.get("settings") or {}),
        path=str(path),
    )


@dataclasses.dataclass
class Case:
    """A case tree with one scenario applied."""

    tree: Tree
    scenario: Scenario
    name: str = DEFAULT_CASE

    def supplied_draws(self, fits: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Posterior draws for every ``supplied`` tree parameter, aligned draw by draw."""
        out = {}
        for param, (model, var) in SUPPLIED_FROM_MODELS.items():
            if param in self.tree.parameters:
                out[param] = np.asarray(fits[model].draws(var), dtype=float)
        lengths = {len(v) for v in out.values()}
        if len(lengths) > 1:  # both models use the same sampler settings, so this is a bug
            raise ValueError(f"posterior draw counts differ between models: {sorted(lengths)}")
        return out

    def assumptions(self) -> pd.DataFrame:
        """Every parameter with its kind, 90% range, and rationale: the assumptions table."""
        rows = []
        for name, spec in self.tree.parameters.items():
            kind = getattr(spec, "kind", "")
            lo = hi = np.nan
            if spec.is_uncertain and hasattr(spec, "ppf") and kind == "distribution":
                lo, hi = (float(x) for x in spec.ppf(np.array([0.05, 0.95])))
            rows.append(
                {
                    "parameter": name,
                    "kind": "posterior draws" if kind == "supplied" else kind,
                    "judgment": bool(getattr(spec, "judgment", False)),
                    "description": spec.description or "",
                    "5%": lo,
                    "95%": hi,
                    "rationale": spec.rationale or spec.source or "",
                }
            )
        return pd.DataFrame(rows).set_index("parameter")


def load_case(scenario: str | Path | Scenario | None = None, case: str = DEFAULT_CASE) -> Case:
    """Load a case tree with a scenario's parameter specs merged over its own."""
    scen = scenario if isinstance(scenario, Scenario) else load_scenario(scenario, case)
    merged_priors(scen)  # unknown models or prior keys fail here, before any fitting
    tree_path = case_folder(case) / "tree.yaml"
    data = dict(read_yaml(tree_path))
    params = dict(data.get("parameters") or {})
    for name, spec in scen.parameters.items():
        if name not in params:
            raise InputError(
                f"unknown parameter{did_you_mean(name, params)}",
                file=scen.path or scen.name,
                field=f"parameters.{name}",
            )
        params[name] = spec
    data["parameters"] = params
    try:
        tree = load_tree(data)
    except InputError as exc:
        # Name the file the faulty spec came from: the scenario's or the case tree's.
        parts = (exc.field or "").split(".")
        from_scenario = len(parts) > 1 and parts[0] == "parameters" and parts[1] in scen.parameters
        file = scen.path or scen.name if from_scenario else tree_path
        raise InputError(exc.detail, file=file, row=exc.row, field=exc.field) from None
    return Case(tree=tree, scenario=scen, name=case)


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

    @property
    def recommendation(self) -> str:
        return self.result.optimal

    def strategy_table(self) -> pd.DataFrame:
        """Expected value, 90% interval over parameter uncertainty, and probability optimal."""
        per_draw = self.result.root_values_per_draw
        values = np.asarray(per_draw)
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
        dprk, china = self.fits["dprk"], self.fits["china"]
        return {
            "p_dprk_complies": float(dprk.draws("p_dprk_complies").mean()),
            "p_china_follows_through": float(china.draws("p_china_follows_through").mean()),
            "p_china_accepts": float(china.draws("p_china_accepts").mean()),
            "p_accept": float(dprk.draws("p_accept").mean()),
            "p_hold_monitoring": float(dprk.draws("p_hold_monitoring").mean()),
            "launches_prevented_per_month": float(
                dprk.draws("launches_prevented_per_month").mean()
            ),
        }

    def to_dict(self) -> dict[str, Any]:
        """The JSON object ``decision analyze --json`` prints."""
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
            **self.headline(),
            "value_of_monitoring": float(self.value_of_monitoring),
            "fixed_plan_values": dict(self.fixed_plan_values),
            "draws": int(np.asarray(self.result.root_values_per_draw).shape[0]),
            "diagnostics": diagnostics,
            "diagnostics_ok": all(d["ok"] for d in diagnostics.values()),
            "flags": [f.flagged_message() for f in self.fits.values() if f.flagged_message()],
        }


def merged_priors(
    scenario: Scenario, extra: Mapping[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """A scenario's prior overrides with ``extra`` merged over them, model by model."""
    from decision.core.config import deep_merge
    from decision.models import MODELS

    out = {}
    for key in {**scenario.priors, **(extra or {})}:
        if key not in MODELS:
            raise InputError(
                f"unknown model '{key}' (expected one of: {', '.join(MODELS)})",
                file=scenario.path,
                field=f"priors.{key}",
            )
        try:
            base = deep_merge(
                MODELS[key].default_priors, scenario.priors.get(key), where=f"priors.{key}"
            )
        except InputError as exc:
            raise InputError(exc.detail, file=exc.file or scenario.path, field=exc.field) from None
        out[key] = deep_merge(base, (extra or {}).get(key), where=f"priors.{key}")
    return out


def probability_of_scale_down(result: TreeResult) -> float:
    """Probability that the spring exercises are scaled down under the optimal policy.

    The sum, over the spring-exercise decisions whose chosen option is not full exercises, of
    the probability of reaching that decision (averaged over draws).
    """
    total = 0.0
    for path, option in result.policy.items():
        if path.endswith(f"/{SECOND_DECISION}") and option != FULL_EXERCISES:
            total += float(result.reach_probabilities[path])
    return total


def _plan_by_level(result: TreeResult) -> tuple[dict[str, str], dict[str, float]]:
    """Second-stage option chosen for each observed cooperation level, and its share of draws."""
    plan: dict[str, list[str]] = {}
    share: dict[str, float] = {}
    marker = f"/{COOPERATION_NODE}/"
    for path, option in result.policy.items():
        if not path.endswith(f"/{SECOND_DECISION}") or marker not in path:
            continue
        level = path.split(marker)[1].split("/")[0]
        plan.setdefault(level, []).append(option)
        per_draw = np.asarray(result.policy_per_draw[path])
        share[level] = float(np.mean(per_draw == option))
    return {lvl: max(set(opts), key=opts.count) for lvl, opts in plan.items()}, share


def analyze(
    scenario: str | Path | Scenario | None = None,
    *,
    case: str = DEFAULT_CASE,
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
    as_of
        Evidence and observations after this date are not used.
    priors
        Prior overrides by model, merged over the scenario's (which are merged over the
        models' documented defaults).
    sampler
        Sampler overrides for both models (seed included).
    seed
        Seed for the judgment parameters' draws.
    fits
        Already fitted models (skips fitting), keyed ``dprk`` and ``china``.
    """
    from decision.models import fit_models

    the_case = load_case(scenario, case)
    as_of = parse_date(as_of)
    if fits is None:
        fits = fit_models(
            as_of=as_of,
            observations=observations,
            priors=merged_priors(the_case.scenario, priors),
            settings=the_case.scenario.settings,
            sampler=sampler,
            use_cache=use_cache,
            strict=strict,
        )
    supplied = the_case.supplied_draws(fits)
    n = len(next(iter(supplied.values())))
    result = evaluate(the_case.tree, n=n, seed=seed, supplied=supplied)
    plan, share = _plan_by_level(result)
    fixed = {}
    for option in _second_stage_options(result):
        forced = evaluate(the_case.tree, draws=result.parameters, force={SECOND_DECISION: option})
        fixed[option] = float(forced.options[STRATEGY_PROPOSAL])
    adaptive = float(result.options[STRATEGY_PROPOSAL])
    value_of_monitoring = adaptive - max(fixed.values()) if fixed else 0.0
    return Analysis(the_case, result, fits, as_of, value_of_monitoring, fixed, plan, share)


def _second_stage_options(result: TreeResult) -> list[str]:
    for path, frame in result.option_values.items():
        if path.endswith(f"/{SECOND_DECISION}"):
            return [str(o) for o in frame.coords["option"].values]
    return []
