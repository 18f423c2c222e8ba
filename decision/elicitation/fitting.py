"""Fitting a distribution to one expert's answers, with PreliZ, and measuring how well it fits.

How answers become a distribution (``docs/elicitation.md``):

==============  ===========================================================================
three-point     ``low``, ``mode``, ``high`` are the smallest value thought possible, the most
                likely value and the largest value thought possible. Read as the triangular
                distribution with those ends and that mode (``triangular``: ``low`` and ``high``
                are its 0th and 100th percentiles) or as the PERT distribution on [low, high]
                (``pert``: a beta with lambda 4). Exact: nothing is fitted.
quantiles       ``pNN`` answers are the NNth percentiles. The family's parameters are found by
                least squares on the stated probabilities (the fitted distribution's CDF at
                each stated value against its percentile, as PreliZ's ``quartile`` does for
                quartiles), starting from PreliZ's maximum-entropy fit of the outermost stated
                interval (``pz.maxent``).
mode-interval   ``mode``, ``low``, ``high``, ``mass``: the distribution of the family with that
                mode and that probability inside [low, high]: PreliZ's maximum-entropy fit
                with the mode fixed (``pz.maxent(..., fixed_stat=("mode", mode))``), then the
                two conditions solved exactly from there (a two-parameter family has one
                distribution meeting both).
==============  ===========================================================================

The fit error is the largest miss, in probability, of the distribution actually written (its
parameters rounded to four significant digits): at each stated value, the distance between
the fitted CDF and the stated percentile (for a three-point answer, the ends' 0 and 1), and
for a stated mode the distance between the fitted mode and it as a share of the answers'
range. A fit whose error exceeds the tolerance (:data:`DEFAULT_TOLERANCE`, 0.01) is refused.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from decision.core.errors import InputError
from decision.elicitation._preliz import preliz, quiet
from decision.elicitation.records import Elicited, answer_quantiles
from decision.elicitation.stored import stored_fit
from decision.tree.parameters import DistributionParameter, parse_parameters

__all__ = [
    "DEFAULT_TOLERANCE",
    "Fit",
    "FitRefused",
    "describe_parameter",
    "describe_spec",
    "fit_answers",
    "ks_distance",
    "method_words",
    "preliz_distribution",
    "spec_parameter",
]

#: Largest miss of the stated answers, in probability, a fit may have.
DEFAULT_TOLERANCE = 0.01

#: Significant digits of a fitted distribution's parameters as written.
DIGITS = 4


class FitRefused(InputError):
    """A fitted distribution misses the stated answers by more than the tolerance."""


def method_words(method) -> str:
    """Exactly how answers of this method map to the distribution, in words."""
    name, dist = method.name, method.distribution
    if name == "three-point" and dist == "triangular":
        return (
            "three-point (low, mode, high) read as triangular: low and high are the smallest "
            "and largest values thought possible (the 0th and 100th percentiles), mode the "
            "most likely value"
        )
    if name == "three-point":
        return (
            "three-point (low, mode, high) read as PERT: a beta distribution on [low, high] "
            "with that mode and lambda 4"
        )
    if name == "quantiles":
        return (
            f"stated percentiles fitted by a {dist} distribution (least squares on the stated "
            "probabilities, PreliZ)"
        )
    return (
        f"a mode and an interval with its probability, read as the {dist} distribution with "
        "that mode and that probability inside the interval (PreliZ maxent, solved exactly)"
    )


def _significant(value: float, digits: int = DIGITS) -> float:
    if value == 0 or not math.isfinite(value):
        return float(value)
    return float(f"{value:.{digits}g}")


def spec_parameter(spec: Mapping[str, Any], name: str = "x") -> DistributionParameter:
    """Parse a tree parameter spec (``{distribution: ..., ...}``) into a tree parameter."""
    return parse_parameters({name: dict(spec)})[name]


def describe_spec(spec: Mapping[str, Any]) -> str:
    """Describe a spec in short words: ``triangular(30, 60, 100)``, ``0.5 beta(2, 8) + ...``."""
    dist = spec["distribution"]
    if dist == "mixture":
        return " + ".join(f"{c['weight']:.2g} {describe_spec(c)}" for c in spec["components"])
    from decision.tree.parameters import DISTRIBUTIONS

    required, optional = DISTRIBUTIONS[dist]
    args = [spec[k] for k in required] + [spec[k] for k in optional if k in spec]
    return f"{dist}({', '.join(f'{a:.4g}' for a in args)})"


def describe_parameter(parameter) -> str:
    """Describe a tree parameter like :func:`describe_spec` (its kind if not a distribution)."""
    if getattr(parameter, "kind", "") != "distribution":
        return parameter.kind
    if parameter.distribution == "mixture":
        return " + ".join(
            f"{w:.2g} {describe_parameter(c)}"
            for c, w in zip(parameter.components, parameter.weights, strict=True)
        )
    return describe_spec({"distribution": parameter.distribution, **parameter.arguments})


def ks_distance(a: DistributionParameter, b: DistributionParameter, points: int = 2001) -> float:
    """Largest distance between two distributions' CDFs (Kolmogorov-Smirnov).

    Evaluated at both distributions' quantiles from 0.0005 to 0.9995 (``points`` each).
    """
    q = np.linspace(0.0005, 0.9995, points)
    x = np.concatenate([np.asarray(a.ppf(q), float), np.asarray(b.ppf(q), float)])
    x = x[np.isfinite(x)]
    fa, fb = a.frozen(), b.frozen()
    return float(np.max(np.abs(fa.cdf(x) - fb.cdf(x)))) if x.size else 0.0


def _mode(spec: Mapping[str, float]) -> float | None:
    dist = spec["distribution"]
    if dist in ("triangular", "pert"):
        return spec["mode"]
    if dist == "normal":
        return spec["mean"]
    if dist == "lognormal":
        return math.exp(spec["mu"] - spec["sigma"] ** 2)
    if dist == "beta" and spec["alpha"] > 1 and spec["beta"] > 1:
        return (spec["alpha"] - 1) / (spec["alpha"] + spec["beta"] - 2)
    return None


@dataclasses.dataclass(frozen=True)
class Fit:
    """One expert's answers to one judgment, as a distribution, and how well it fits them.

    Attributes
    ----------
    elicited
        The answer (judgment, record, file).
    spec
        The tree parameter spec written for it (``{"distribution": ..., <arguments>}``).
    error
        The largest miss of the stated answers, in probability (see the module docstring).
    worst
        The answer missed most, in words.
    """

    elicited: Elicited
    spec: dict[str, Any]
    error: float
    worst: str

    @property
    def name(self) -> str:
        """The judgment."""
        return self.elicited.name

    @property
    def expert(self) -> str:
        """The expert's id."""
        return self.elicited.expert

    @property
    def parameter(self) -> DistributionParameter:
        """The spec as a tree parameter (``ppf``, ``frozen()``, ``sample``)."""
        return spec_parameter(self.spec, self.name)

    @property
    def method(self) -> str:
        """How the answers were read, in words."""
        return method_words(self.elicited.method)

    def check(self, tolerance: float = DEFAULT_TOLERANCE) -> Fit:
        """Return the fit, or refuse it when it misses the answers by more than ``tolerance``.

        Raises
        ------
        FitRefused
            Naming the record file and the judgment's answers.
        """
        if self.error > tolerance:
            raise FitRefused(
                f"the {self.spec['distribution']} distribution fitted to these answers misses "
                f"them by {self.error:.3g} in probability, more than the tolerance "
                f"{tolerance:g} ({self.worst}); revise the answers, read them as another "
                "distribution (method), or allow a larger miss (--tolerance)",
                file=self.elicited.file,
                field=f"{self.elicited.field}.answers",
            )
        return self


def _preliz_family(name: str):
    pz = preliz()
    return {"beta": pz.Beta, "normal": pz.Normal, "lognormal": pz.LogNormal}[name]


def preliz_distribution(spec: Mapping[str, Any]):
    """Return the PreliZ distribution of a single-distribution spec (for PreliZ's tools)."""
    pz = preliz()
    dist = spec["distribution"]
    with quiet():
        if dist == "triangular":
            return pz.Triangular(lower=spec["low"], c=spec["mode"], upper=spec["high"])
        if dist == "pert":
            width = spec["high"] - spec["low"]
            lam = spec.get("lambda", 4.0)
            return pz.BetaScaled(
                alpha=1 + lam * (spec["mode"] - spec["low"]) / width,
                beta=1 + lam * (spec["high"] - spec["mode"]) / width,
                lower=spec["low"],
                upper=spec["high"],
            )
        if dist == "beta":
            return pz.Beta(alpha=spec["alpha"], beta=spec["beta"])
        if dist == "normal":
            return pz.Normal(mu=spec["mean"], sigma=spec["sd"])
        if dist == "lognormal":
            return pz.LogNormal(mu=spec["mu"], sigma=spec["sigma"])
        if dist == "uniform":
            return pz.Uniform(lower=spec["low"], upper=spec["high"])
    raise InputError(f"PreliZ has no single distribution for {dist!r}", field="distribution")


def _spec_of(dist_name: str, fitted) -> dict[str, Any]:
    """Write a fitted PreliZ distribution as a tree spec, parameters to :data:`DIGITS` digits."""
    params = dict(zip(fitted.param_names, (float(p) for p in fitted.params), strict=True))
    if dist_name == "beta":
        args = {"alpha": params["alpha"], "beta": params["beta"]}
    elif dist_name == "normal":
        args = {"mean": params["mu"], "sd": params["sigma"]}
    else:
        args = {"mu": params["mu"], "sigma": params["sigma"]}
    return {"distribution": dist_name, **{k: _significant(v) for k, v in args.items()}}


def _solve(cls, start, residuals):
    """Least squares over a PreliZ family's parameters (positive ones on the log scale)."""
    from scipy.optimize import least_squares

    names = list(start.param_names)
    positive = [low >= 0 for low, _ in start.params_support]
    x0 = np.array(
        [math.log(v) if pos else v for v, pos in zip(start.params, positive, strict=True)]
    )

    def distribution(theta):
        params = [math.exp(t) if pos else t for t, pos in zip(theta, positive, strict=True)]
        return cls(**dict(zip(names, params, strict=True)))

    size = len(residuals(distribution(x0)))
    solution = least_squares(
        lambda theta: residuals(distribution(theta)),
        x0,
        method="lm" if size >= len(x0) else "trf",
    )
    return distribution(solution.x)


def _fit_quantiles(family: str, points: list[tuple[float, float]]):
    """Least squares on the stated probabilities, from PreliZ's maxent fit of the outer interval."""
    cls = _preliz_family(family)
    (p_first, x_first), (p_last, x_last) = points[0], points[-1]
    probabilities = np.array([p for p, _ in points])
    values = np.array([x for _, x in points])
    with quiet():
        start = cls()
        preliz().maxent(start, x_first, x_last, p_last - p_first, plot=False)
        return _solve(cls, start, lambda d: np.asarray(d.cdf(values), dtype=float) - probabilities)


def _fit_mode_interval(family: str, answers: Mapping[str, float]):
    """PreliZ's maxent with the mode fixed, then both conditions solved exactly from there.

    PreliZ 0.24's ``maxent`` folds the fixed mode into its interval constraint, so a solution
    can miss both a little; with two parameters and two conditions (the interval's probability
    and the mode), least squares from its answer meets both.
    """
    cls = _preliz_family(family)
    low, high, mass, mode = answers["low"], answers["high"], answers["mass"], answers["mode"]
    with quiet():
        start = cls()
        preliz().maxent(start, low, high, mass, fixed_stat=("mode", mode), plot=False)
        return _solve(
            cls,
            start,
            lambda d: np.array(
                [float(d.cdf(high) - d.cdf(low)) - mass, (float(d.mode()) - mode) / (high - low)]
            ),
        )


def _three_point(method, answers: Mapping[str, float]) -> dict[str, Any]:
    """Read a three-point answer as a triangular or PERT spec (PreliZ checks it is valid)."""
    spec = {
        "distribution": method.distribution,
        "low": answers["low"],
        "mode": answers["mode"],
        "high": answers["high"],
    }
    preliz_distribution(spec)  # PreliZ checks the parameters make a distribution
    return spec


def _fitted_spec(method, answers: Mapping[str, float]) -> dict[str, Any]:
    """Read ``answers`` as the distribution ``method`` names (PreliZ; see the module docs)."""
    if method.name == "three-point":
        return _three_point(method, answers)
    if method.name == "quantiles":
        points = answer_quantiles(answers)
        return _spec_of(method.distribution, _fit_quantiles(method.distribution, points))
    return _spec_of(method.distribution, _fit_mode_interval(method.distribution, answers))


def fit_answers(elicited: Elicited) -> Fit:
    """Fit the distribution the record's method names to one expert's answers.

    Returns
    -------
    Fit
        The spec and its fit error; call :meth:`Fit.check` to refuse a poor fit.
    """
    method, answers = elicited.method, elicited.judgment.answers
    spec = stored_fit(
        method.name, method.distribution, answers, lambda: _fitted_spec(method, answers)
    )
    error, worst = _misses(spec, method, answers)
    return Fit(elicited=elicited, spec=spec, error=error, worst=worst)


def _misses(spec, method, answers) -> tuple[float, str]:
    """Measure the largest miss of the answers by the written spec, and say which it is."""
    cdf = spec_parameter(spec).frozen().cdf
    misses: list[tuple[float, str]] = []
    if method.name == "quantiles":
        for p, x in answer_quantiles(answers):
            got = float(cdf(x))
            misses.append(
                (
                    abs(got - p),
                    f"at {x:g} it gives the {100 * got:.3g}th percentile, not the {100 * p:g}th",
                )
            )
    else:
        low, high = answers["low"], answers["high"]
        if method.name == "three-point":
            for x, p in ((low, 0.0), (high, 1.0)):
                got = float(cdf(x))
                misses.append((abs(got - p), f"at {x:g} its CDF is {got:.3g}, not {p:g}"))
        else:
            mass = float(cdf(high) - cdf(low))
            misses.append(
                (
                    abs(mass - answers["mass"]),
                    f"[{low:g}, {high:g}] holds {mass:.3g} of the probability, not "
                    f"{answers['mass']:g}",
                )
            )
        mode = _mode(spec)
        if mode is None:
            misses.append((1.0, "the fitted distribution has no mode inside its support"))
        else:
            misses.append(
                (
                    abs(mode - answers["mode"]) / (high - low),
                    f"its mode is {mode:.4g}, not {answers['mode']:g}",
                )
            )
    return max(misses, key=lambda m: m[0])
