"""Named quantities of a tree: numbers, distributions, supplied draws and expressions.

Every parameter spec keeps its free-text metadata (``description``, ``rationale``,
``source``, ``judgment``, ``units``, ``range``, ``bounds``, and ``provenance``: who judged it,
when and how) for the assumptions table.
"""

from __future__ import annotations

import datetime as dt
import keyword
import math
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from decision.core.errors import InputError
from decision.core.suggest import did_you_mean
from decision.tree import samplers
from decision.tree.expressions import FUNCTIONS, Expression, compile_expression

__all__ = [
    "Parameter",
    "FixedParameter",
    "DistributionParameter",
    "MixtureParameter",
    "SuppliedParameter",
    "ExpressionParameter",
    "DISTRIBUTIONS",
    "parse_parameters",
    "sample_parameters",
    "complete_draws",
    "MAX_DRAWS",
]

#: Most draws one evaluation may ask for (memory guard: ~80 MB per array at this size).
MAX_DRAWS = 10_000_000

#: Distribution name -> (required arguments, optional arguments with defaults).
DISTRIBUTIONS: dict[str, tuple[tuple[str, ...], dict[str, float]]] = {
    "beta": (("alpha", "beta"), {}),
    "normal": (("mean", "sd"), {}),
    "lognormal": (("mu", "sigma"), {}),
    "uniform": (("low", "high"), {}),
    "triangular": (("low", "mode", "high"), {}),
    "pert": (("low", "mode", "high"), {"lambda": 4.0}),
}

_METADATA = (
    "description",
    "rationale",
    "source",
    "judgment",
    "units",
    "range",
    "bounds",
    "provenance",
)
_KINDS = ("value", "distribution", "supplied", "expression")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, kw_only=True)
class Parameter:
    """Base of all parameter specs: a name and free-text metadata.

    Attributes
    ----------
    name
        The name expressions use.
    description, rationale, source, units
        Free text, kept for the assumptions table.
    judgment
        True when the value is an analyst's judgment rather than data.
    range
        A plausible ``(low, high)`` for one-way sensitivity analysis, if given.
    bounds
        Hard ``(low, high)`` limits, if given (metadata only).
    provenance
        Where a judgment came from (e.g. experts, dates, elicitation method), as written by
        ``decision elicit fit``; plain data, metadata only.
    """

    kind: ClassVar[str] = "parameter"
    name: str
    description: str | None = None
    rationale: str | None = None
    source: str | None = None
    units: str | None = None
    judgment: bool = False
    range: tuple[float, float] | None = None
    bounds: tuple[float, float] | None = None
    provenance: Mapping[str, Any] | None = None

    @property
    def is_uncertain(self) -> bool:
        """True when draws of this parameter may differ from one another."""
        return False

    def ppf(self, q):
        """Quantile(s) ``q`` of the parameter; only numbers and distributions have them."""
        raise InputError(
            f"parameter '{self.name}' is {self.kind}: it has no closed-form "
            "quantiles; take them from its draws",
            field=f"parameters.{self.name}",
        )

    def mean(self) -> float:
        """The parameter's mean (numbers and distributions only)."""
        raise InputError(
            f"parameter '{self.name}' is {self.kind}: it has no closed-form mean",
            field=f"parameters.{self.name}",
        )

    def metadata(self) -> dict[str, Any]:
        """The free-text metadata as a dict (keys with no value left out)."""
        out = {key: getattr(self, key) for key in _METADATA}
        return {k: v for k, v in out.items() if v not in (None, False)}


@dataclass(frozen=True, kw_only=True)
class FixedParameter(Parameter):
    """A known number."""

    kind: ClassVar[str] = "fixed"
    value: float

    def ppf(self, q):
        return np.full(np.shape(q), self.value)[()] if np.ndim(q) else self.value

    def mean(self) -> float:
        return self.value


@dataclass(frozen=True, kw_only=True)
class DistributionParameter(Parameter):
    """A quantity drawn from a named distribution (see :data:`DISTRIBUTIONS`).

    Attributes
    ----------
    distribution
        ``beta``, ``normal``, ``lognormal``, ``uniform``, ``triangular`` or ``pert``.
    arguments
        Its arguments, e.g. ``{"alpha": 2, "beta": 6}``.
    """

    kind: ClassVar[str] = "distribution"
    distribution: str
    arguments: Mapping[str, float] = field(default_factory=dict)

    @property
    def is_uncertain(self) -> bool:
        return True

    def frozen(self):
        """The equivalent frozen :mod:`scipy.stats` distribution."""
        from scipy import stats  # imported on first use: keeps the command line quick

        a = self.arguments
        if self.distribution == "beta":
            return stats.beta(a["alpha"], a["beta"])
        if self.distribution == "normal":
            return stats.norm(a["mean"], a["sd"])
        if self.distribution == "lognormal":
            return stats.lognorm(s=a["sigma"], scale=math.exp(a["mu"]))
        if self.distribution == "uniform":
            return stats.uniform(loc=a["low"], scale=a["high"] - a["low"])
        if self.distribution == "triangular":
            width = a["high"] - a["low"]
            return stats.triang(c=(a["mode"] - a["low"]) / width, loc=a["low"], scale=width)
        alpha, beta = _pert_shape(a)
        return stats.beta(alpha, beta, loc=a["low"], scale=a["high"] - a["low"])

    def ppf(self, q):
        return self.frozen().ppf(q)

    def mean(self) -> float:
        return float(self.frozen().mean())

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` independent draws (see :mod:`decision.tree.samplers`)."""
        a = self.arguments
        if self.distribution == "beta":
            return samplers.beta(rng, a["alpha"], a["beta"], n)
        if self.distribution == "normal":
            return rng.normal(a["mean"], a["sd"], n)
        if self.distribution == "lognormal":
            return samplers.lognormal(rng, a["mu"], a["sigma"], n)
        if self.distribution == "uniform":
            return rng.uniform(a["low"], a["high"], n)
        if self.distribution == "triangular":
            return rng.triangular(a["low"], a["mode"], a["high"], n)
        alpha, beta = _pert_shape(a)
        draws = samplers.beta(rng, alpha, beta, n)
        draws *= a["high"] - a["low"]
        draws += a["low"]
        return draws


@dataclass(frozen=True, kw_only=True)
class SuppliedParameter(Parameter):
    """A quantity whose draws the caller passes in (e.g. posterior draws of a model).

    Attributes
    ----------
    default
        A number used when the caller supplies nothing; ``None`` makes it required.
    """

    kind: ClassVar[str] = "supplied"
    default: float | None = None

    @property
    def is_uncertain(self) -> bool:
        return True


@dataclass(frozen=True, kw_only=True)
class ExpressionParameter(Parameter):
    """A quantity computed from other parameters, e.g. ``0.6 * p_oil + 0.2 * (1 - p_oil)``."""

    kind: ClassVar[str] = "expression"
    expression: Expression

    def mean(self) -> float:
        if self.expression.constant is not None:
            return self.expression.constant
        return super().mean()

    def ppf(self, q):
        if self.expression.constant is not None:
            value = self.expression.constant
            return np.full(np.shape(q), value)[()] if np.ndim(q) else value
        return super().ppf(q)


#: The ``distribution`` name of a weighted mixture (see :class:`MixtureParameter`).
MIXTURE = "mixture"


@dataclass(frozen=True, kw_only=True)
class MixtureParameter(DistributionParameter):
    """A weighted mixture of distributions, e.g. a linear opinion pool of experts' judgments.

    A draw picks a component with probability equal to its weight and draws from it; the
    cumulative distribution is the weighted sum of the components'.

    Attributes
    ----------
    components
        The component distributions (none of them a mixture).
    weights
        Their weights, positive and summing to one.
    """

    distribution: str = MIXTURE
    components: tuple[DistributionParameter, ...] = ()
    weights: tuple[float, ...] = ()

    def frozen(self) -> _FrozenMixture:
        """Return the mixture as an object with ``cdf``, ``pdf``, ``ppf``, ``mean``, ``std``."""
        return _FrozenMixture(tuple(c.frozen() for c in self.components), self.weights)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` independent draws: a component per draw by weight, then each drawn at once."""
        which = rng.choice(len(self.weights), size=n, p=np.asarray(self.weights))
        draws = np.empty(n)
        for index, component in enumerate(self.components):
            where = np.flatnonzero(which == index)
            if where.size:
                draws[where] = component.sample(where.size, rng)
        return draws


class _FrozenMixture:
    """A frozen mixture of frozen :mod:`scipy.stats` distributions (what ``frozen()`` gives)."""

    def __init__(self, components, weights) -> None:
        self.components = components
        self.weights = np.asarray(weights, dtype=float)

    def cdf(self, x):
        return sum(w * c.cdf(x) for w, c in zip(self.weights, self.components, strict=True))

    def pdf(self, x):
        return sum(w * c.pdf(x) for w, c in zip(self.weights, self.components, strict=True))

    def mean(self) -> float:
        return float(sum(w * c.mean() for w, c in zip(self.weights, self.components, strict=True)))

    def var(self) -> float:
        second = sum(
            w * (c.var() + c.mean() ** 2)
            for w, c in zip(self.weights, self.components, strict=True)
        )
        return float(second - self.mean() ** 2)

    def std(self) -> float:
        return math.sqrt(max(self.var(), 0.0))

    def ppf(self, q):
        """Quantiles by bisection: the mixture's lies between its components' at ``q``."""
        q = np.asarray(q, dtype=float)
        ends = np.stack([c.ppf(q) for c in self.components])
        low, high = ends.min(axis=0), ends.max(axis=0)
        inside = (q > 0) & (q < 1) & (low < high)
        lo, hi, target = low[inside], high[inside], q[inside]
        for _ in range(200):  # halves the bracket each time: float precision long before
            middle = 0.5 * (lo + hi)
            below = self.cdf(middle) < target
            lo = np.where(below, middle, lo)
            hi = np.where(below, hi, middle)
            if np.all(hi - lo <= 1e-12 * np.maximum(1.0, np.abs(middle))):
                break
        out = np.where(q <= 0, low, high)  # the ends, and components that agree at q
        out[inside] = 0.5 * (lo + hi)
        out[np.isnan(q)] = np.nan
        return out[()] if out.ndim == 0 else out


def _pert_shape(a: Mapping[str, float]) -> tuple[float, float]:
    width = a["high"] - a["low"]
    lam = a.get("lambda", 4.0)
    return 1 + lam * (a["mode"] - a["low"]) / width, 1 + lam * (a["high"] - a["mode"]) / width


# ----------------------------------------------------------------------------- parsing


def _number(value, *, file, field_name, what) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{what} must be a number, got {value!r}", file=file, field=field_name)
    number = float(value)
    if not math.isfinite(number):
        raise InputError(f"{what} must be finite, got {value!r}", file=file, field=field_name)
    return number


def _pair(value, *, file, field_name, what) -> tuple[float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise InputError(
            f"{what} must be a list [low, high], got {value!r}", file=file, field=field_name
        )
    low = _number(value[0], file=file, field_name=field_name, what=f"{what} low")
    high = _number(value[1], file=file, field_name=field_name, what=f"{what} high")
    if low > high:
        raise InputError(
            f"{what} [low, high] has low > high: {value!r}", file=file, field=field_name
        )
    return low, high


def _text(value, *, file, field_name, what) -> str:
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise InputError(f"{what} must be text, got {value!r}", file=file, field=field_name)
    return str(value)


def check_name(name, *, file, field_name, what="parameter name") -> str:
    """Check that ``name`` can be written in an expression."""
    if (
        not isinstance(name, str)
        or not _NAME.match(name)
        or keyword.iskeyword(name)
        or name.startswith("__")
    ):
        raise InputError(
            f"{what} {name!r} must be an identifier (letters, digits, '_', not "
            "starting with a digit or '__', not a Python keyword)",
            file=file,
            field=field_name,
        )
    if name in FUNCTIONS:
        raise InputError(
            f"{what} '{name}' is the name of a function; choose another",
            file=file,
            field=field_name,
        )
    return name


def parse_parameters(raw, *, file=None) -> dict[str, Parameter]:
    """Parse the ``parameters`` mapping of a tree file into specs (in file order)."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InputError(
            f"'parameters' must be a mapping of names to specs, got {type(raw).__name__}",
            file=file,
            field="parameters",
        )
    names = list(raw)
    for name in names:
        check_name(name, file=file, field_name=f"parameters.{name}")
    specs: dict[str, Parameter] = {}
    for name, spec in raw.items():
        specs[name] = _parse_one(name, spec, names, file=file)
    _check_cycles(specs, file=file)
    return specs


def _parse_one(name: str, spec, names: list[str], *, file) -> Parameter:
    where = f"parameters.{name}"
    others = [n for n in names if n != name]
    if isinstance(spec, bool) or spec is None:
        raise InputError(
            f"expected a number, an expression or a mapping, got {spec!r}", file=file, field=where
        )
    if isinstance(spec, (int, float)):
        return FixedParameter(
            name=name, value=_number(spec, file=file, field_name=where, what="value")
        )
    if isinstance(spec, str):
        expr = compile_expression(spec, others, what="expression", file=file, field=where)
        return ExpressionParameter(name=name, expression=expr)
    if not isinstance(spec, Mapping):
        raise InputError(
            f"expected a number, an expression or a mapping, got {type(spec).__name__}",
            file=file,
            field=where,
        )
    kinds = [k for k in _KINDS if k in spec]
    if len(kinds) != 1:
        problem = "none" if not kinds else " and ".join(f"'{k}'" for k in kinds)
        raise InputError(
            f"a parameter mapping needs exactly one of 'value', 'distribution', "
            f"'supplied: true' or 'expression' (found {problem})",
            file=file,
            field=where,
        )
    kind = kinds[0]
    allowed = set(_METADATA) | {kind}
    if kind == "distribution":
        dist = spec["distribution"]
        if dist == MIXTURE:
            allowed.add("components")
        elif not isinstance(dist, str) or dist not in DISTRIBUTIONS:
            raise InputError(
                f"unknown distribution {dist!r}{did_you_mean(str(dist), DISTRIBUTIONS)}; "
                "expected one of " + ", ".join([*DISTRIBUTIONS, MIXTURE]),
                file=file,
                field=f"{where}.distribution",
            )
        else:
            required, optional = DISTRIBUTIONS[dist]
            allowed |= set(required) | set(optional)
    if kind == "supplied":
        allowed.add("default")
    for key in spec:
        if key not in allowed:
            raise InputError(
                f"unknown key '{key}'{did_you_mean(str(key), allowed)} in a {kind} "
                "parameter; allowed: " + ", ".join(sorted(allowed)),
                file=file,
                field=where,
            )
    meta: dict[str, Any] = {}
    for key in ("description", "rationale", "source", "units"):
        if spec.get(key) is not None:
            meta[key] = _text(spec[key], file=file, field_name=f"{where}.{key}", what=key)
    if "judgment" in spec:
        if not isinstance(spec["judgment"], bool):
            raise InputError(
                f"judgment must be true or false, got {spec['judgment']!r}",
                file=file,
                field=f"{where}.judgment",
            )
        meta["judgment"] = spec["judgment"]
    for key in ("range", "bounds"):
        if spec.get(key) is not None:
            meta[key] = _pair(spec[key], file=file, field_name=f"{where}.{key}", what=key)
    if spec.get("provenance") is not None:
        meta["provenance"] = _plain_mapping(
            spec["provenance"], file=file, field_name=f"{where}.provenance"
        )
    if kind == "value":
        return FixedParameter(
            name=name,
            value=_number(spec["value"], file=file, field_name=where, what="value"),
            **meta,
        )
    if kind == "expression":
        expr = compile_expression(
            spec["expression"], others, what="expression", file=file, field=where
        )
        return ExpressionParameter(name=name, expression=expr, **meta)
    if kind == "supplied":
        if spec["supplied"] is not True:
            raise InputError(
                "write 'supplied: true' for a parameter whose draws the caller "
                f"passes in, got {spec['supplied']!r}",
                file=file,
                field=where,
            )
        default = None
        if spec.get("default") is not None:
            default = _number(
                spec["default"], file=file, field_name=f"{where}.default", what="default"
            )
        return SuppliedParameter(name=name, default=default, **meta)
    dist = spec["distribution"]
    if dist == MIXTURE:
        return _parse_mixture(name, spec.get("components"), file=file, where=where, meta=meta)
    arguments = _distribution_arguments(dist, spec, file=file, where=where)
    return DistributionParameter(name=name, distribution=dist, arguments=arguments, **meta)


def _distribution_arguments(dist: str, spec: Mapping, *, file, where: str) -> dict[str, float]:
    """Check and return the arguments of a named distribution (see :data:`DISTRIBUTIONS`)."""
    required, optional = DISTRIBUTIONS[dist]
    arguments = {}
    for key in required:
        if key not in spec:
            raise InputError(
                f"a {dist} distribution needs {', '.join(required)} (missing '{key}')",
                file=file,
                field=where,
            )
        arguments[key] = _number(spec[key], file=file, field_name=f"{where}.{key}", what=key)
    for key, default in optional.items():
        arguments[key] = (
            default
            if spec.get(key) is None
            else _number(spec[key], file=file, field_name=f"{where}.{key}", what=key)
        )
    _check_distribution(dist, arguments, file=file, where=where)
    return arguments


#: Most components a mixture may have.
MAX_MIXTURE_COMPONENTS = 100


def _parse_mixture(name: str, raw, *, file, where: str, meta: dict) -> MixtureParameter:
    """Parse a ``mixture``: ``components``, each ``{weight: w, distribution: ..., <args>}``."""
    where = f"{where}.components"
    if not isinstance(raw, list) or not raw or len(raw) > MAX_MIXTURE_COMPONENTS:
        raise InputError(
            "a mixture needs 'components': a list of 1 to "
            f"{MAX_MIXTURE_COMPONENTS} mappings {{weight: w, distribution: ..., <arguments>}}",
            file=file,
            field=where,
        )
    components, weights = [], []
    for index, item in enumerate(raw):
        at = f"{where}[{index}]"
        if not isinstance(item, Mapping):
            raise InputError(
                f"expected a mapping {{weight: w, distribution: ...}}, got {item!r}",
                file=file,
                field=at,
            )
        dist = item.get("distribution")
        if not isinstance(dist, str) or dist not in DISTRIBUTIONS:
            raise InputError(
                f"a component's distribution must be one of {', '.join(DISTRIBUTIONS)} "
                f"(not a mixture), got {dist!r}",
                file=file,
                field=f"{at}.distribution",
            )
        required, optional = DISTRIBUTIONS[dist]
        allowed = {"weight", "distribution", *required, *optional}
        for key in item:
            if key not in allowed:
                raise InputError(
                    f"unknown key '{key}'{did_you_mean(str(key), allowed)} in a mixture "
                    "component; allowed: " + ", ".join(sorted(allowed)),
                    file=file,
                    field=at,
                )
        weight = _number(item.get("weight"), file=file, field_name=f"{at}.weight", what="weight")
        if weight <= 0:
            raise InputError(f"weight must be > 0, got {weight}", file=file, field=f"{at}.weight")
        arguments = _distribution_arguments(dist, item, file=file, where=at)
        components.append(
            DistributionParameter(name=f"{name}[{index}]", distribution=dist, arguments=arguments)
        )
        weights.append(weight)
    total = math.fsum(weights)
    return MixtureParameter(
        name=name,
        components=tuple(components),
        weights=tuple(w / total for w in weights),
        **meta,
    )


#: Deepest nesting of a ``provenance`` mapping.
_MAX_PROVENANCE_DEPTH = 6


def _plain_mapping(value, *, file, field_name, depth: int = 0) -> dict[str, Any]:
    """Check a mapping of plain data (text, finite numbers, booleans, dates as text, lists)."""
    if not isinstance(value, Mapping):
        raise InputError(
            f"expected a mapping, got {type(value).__name__}", file=file, field=field_name
        )
    out = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise InputError(f"keys must be text, got {key!r}", file=file, field=field_name)
        out[key] = _plain(item, file=file, field_name=f"{field_name}.{key}", depth=depth + 1)
    return out


def _plain(value, *, file, field_name, depth: int):
    if depth > _MAX_PROVENANCE_DEPTH:
        raise InputError(
            f"nested more than {_MAX_PROVENANCE_DEPTH} levels", file=file, field=field_name
        )
    if isinstance(value, Mapping):
        return _plain_mapping(value, file=file, field_name=field_name, depth=depth)
    if isinstance(value, (list, tuple)):
        return [_plain(v, file=file, field_name=field_name, depth=depth + 1) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"must be finite, got {value!r}", file=file, field=field_name)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise InputError(
        f"expected text, a number, a list or a mapping, got {type(value).__name__}",
        file=file,
        field=field_name,
    )


def _check_distribution(dist: str, a: dict[str, float], *, file, where: str) -> None:
    def fail(message):
        raise InputError(f"{dist} distribution: {message}", file=file, field=where)

    if dist == "beta" and (a["alpha"] <= 0 or a["beta"] <= 0):
        fail("alpha and beta must be > 0")
    if dist == "normal" and a["sd"] <= 0:
        fail("sd must be > 0")
    if dist == "lognormal" and a["sigma"] <= 0:
        fail("sigma (the sd of the log) must be > 0")
    if dist in ("uniform", "triangular", "pert") and not a["low"] < a["high"]:
        fail("low must be < high")
    if dist in ("triangular", "pert") and not a["low"] <= a["mode"] <= a["high"]:
        fail("mode must lie in [low, high]")
    if dist == "pert" and a["lambda"] <= 0:
        fail("lambda must be > 0")


def _check_cycles(specs: Mapping[str, Parameter], *, file) -> None:
    order_of_evaluation(specs, file=file)


def order_of_evaluation(specs: Mapping[str, Parameter], *, file=None) -> list[str]:
    """Expression parameters sorted so that each comes after the ones it reads."""
    done: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = " -> ".join(trail[trail.index(name) :] + [name])
            raise InputError(
                f"parameters refer to each other in a cycle: {cycle}",
                file=file,
                field=f"parameters.{name}",
            )
        state[name] = 1
        spec = specs[name]
        if isinstance(spec, ExpressionParameter):
            for other in sorted(spec.expression.names):
                visit(other, trail + [name])
            done.append(name)
        state[name] = 2

    for name in specs:
        visit(name, [])
    return done


# ---------------------------------------------------------------------------- sampling


def check_draw_count(n) -> int:
    """Validate a number of draws."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"the number of draws must be a positive integer, got {n!r}", field="n")
    if n > MAX_DRAWS:
        raise InputError(f"{n} draws is more than the limit of {MAX_DRAWS}", field="n")
    return int(n)


def _stream(entropy, label: str) -> np.random.Generator:
    """An independent random stream per parameter, stable when parameters are added."""
    seq = np.random.SeedSequence(entropy, spawn_key=(zlib.crc32(label.encode("utf-8")),))
    return np.random.default_rng(seq)


def _constant_array(value: float, n: int) -> np.ndarray:
    return np.broadcast_to(np.float64(value), (n,))


def _as_draws(value, n: int, *, what: str, field_name: str) -> np.ndarray:
    """A scalar (broadcast, read-only) or a length-``n`` array of finite floats."""
    if isinstance(value, bool):
        raise InputError(f"{what} must be numeric, got {value!r}", field=field_name)
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(
            f"{what} must be numeric, got {type(value).__name__}", field=field_name
        ) from None
    if array.ndim == 0:
        if not np.isfinite(array):
            raise InputError(f"{what} must be finite, got {value!r}", field=field_name)
        return _constant_array(float(array), n)
    if array.ndim != 1 or array.shape[0] != n:
        raise InputError(
            f"{what} must be a number or an array of {n} draws, got shape {array.shape}",
            field=field_name,
        )
    if not _all_finite(array):
        raise InputError(
            f"{what} has {int(np.sum(~np.isfinite(array)))} non-finite draw(s)", field=field_name
        )
    return array


def _all_finite(array: np.ndarray) -> bool:
    """Tell whether every element is finite (in one pass over a large array)."""
    if array.size < 65_536:
        return bool(np.isfinite(array).all())
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.add.reduce(array, axis=None)
    if math.isfinite(total):  # an inf or NaN makes the sum so
        return True
    return bool(np.isfinite(array).all())  # the sum of finite values may overflow


def _supplied_array(value, name: str) -> np.ndarray:
    where = f"supplied.{name}"
    try:
        array = np.asarray(getattr(value, "values", value), dtype=float)
    except (TypeError, ValueError):
        raise InputError(
            f"supplied draws must be numeric, got {type(value).__name__}", field=where
        ) from None
    if array.ndim == 2:  # (chain, draw) as in an ArviZ posterior
        array = array.reshape(-1)
    if array.ndim != 1 or array.size == 0:
        raise InputError(
            f"supplied draws must be a non-empty 1-D array (or chain x draw), got "
            f"shape {array.shape}",
            field=where,
        )
    if not _all_finite(array):
        raise InputError("supplied draws contain non-finite values", field=where)
    return array


def _evaluate_expressions(specs, values: dict, n: int, *, skip=(), file=None) -> None:
    for name in order_of_evaluation(specs, file=file):
        if name in values or name in skip:
            continue
        expr = specs[name].expression
        env = {k: _operand(values[k]) for k in expr.names}
        result = np.asarray(expr(env), dtype=float)
        if not np.all(np.isfinite(result)):
            raise InputError(
                f"expression {expr.text!r} is not finite in "
                f"{int(np.sum(~np.isfinite(result)))} draw(s)",
                file=file,
                field=f"parameters.{name}",
            )
        values[name] = _constant_array(float(result), n) if result.ndim == 0 else result


def _operand(array: np.ndarray):
    """A draw array as used in expressions: a scalar when every draw is the same view."""
    if isinstance(array, np.ndarray) and array.ndim == 1 and array.strides[0] == 0:
        return np.float64(array[0])
    return array


def _check_overrides(specs, overrides, *, file=None) -> dict:
    overrides = dict(overrides or {})
    for name in overrides:
        if name not in specs:
            raise InputError(
                f"cannot override unknown parameter '{name}'{did_you_mean(name, specs)}",
                file=file,
                field=f"overrides.{name}",
            )
    return overrides


def sample_parameters(
    specs: Mapping[str, Parameter], n: int, *, seed=None, supplied=None, overrides=None, file=None
) -> dict[str, np.ndarray]:
    """Draw ``n`` values of every parameter; see :meth:`decision.tree.Tree.sample_parameters`."""
    n = check_draw_count(n)
    overrides = _check_overrides(specs, overrides, file=file)
    supplied = dict(supplied or {})
    for name in supplied:
        if name not in specs:
            raise InputError(
                f"supplied draws for unknown parameter '{name}'{did_you_mean(name, specs)}",
                file=file,
                field=f"supplied.{name}",
            )
        if not isinstance(specs[name], SuppliedParameter):
            raise InputError(
                f"parameter '{name}' is {specs[name].kind}, not declared "
                "'supplied: true'; pass it in overrides to replace it",
                file=file,
                field=f"supplied.{name}",
            )
    if isinstance(seed, np.random.SeedSequence):
        entropy = seed.entropy
    else:
        entropy = np.random.SeedSequence(seed).entropy
    arrays = {
        name: _supplied_array(v, name) for name, v in supplied.items() if name not in overrides
    }
    # Supplied arrays of one length come from one joint sample (e.g. one posterior): they
    # share resampling indices so that their correlation is kept.
    indices: dict[int, np.ndarray] = {}
    for length in sorted({a.shape[0] for a in arrays.values()}):
        if length != n:
            indices[length] = _stream(entropy, f"supplied:{length}").integers(0, length, n)
    values: dict[str, np.ndarray] = {}
    for name, spec in specs.items():
        if name in overrides:
            values[name] = _as_draws(
                overrides[name], n, what=f"override of '{name}'", field_name=f"overrides.{name}"
            )
        elif isinstance(spec, FixedParameter):
            values[name] = _constant_array(spec.value, n)
        elif isinstance(spec, DistributionParameter):
            values[name] = spec.sample(n, _stream(entropy, name))
        elif isinstance(spec, SuppliedParameter):
            if name in arrays:
                array = arrays[name]
                values[name] = array if array.shape[0] == n else array[indices[array.shape[0]]]
            elif spec.default is not None:
                values[name] = _constant_array(spec.default, n)
            else:
                raise InputError(
                    f"parameter '{name}' is declared 'supplied: true': pass its "
                    "draws (supplied=...) or give it a 'default'",
                    file=file,
                    field=f"parameters.{name}",
                )
    _evaluate_expressions(specs, values, n, file=file)
    return {name: values[name] for name in specs}


def complete_draws(
    specs: Mapping[str, Parameter], draws: Mapping, *, overrides=None, file=None
) -> dict[str, np.ndarray]:
    """Fill in already-sampled ``draws``: numbers and expressions are added, overrides win."""
    overrides = _check_overrides(specs, overrides, file=file)
    draws = dict(draws)
    for name in draws:
        if name not in specs:
            raise InputError(
                f"draws given for unknown parameter '{name}'{did_you_mean(name, specs)}",
                file=file,
                field=f"draws.{name}",
            )
    lengths = {np.shape(v)[0] for v in draws.values() if np.ndim(v) == 1}
    if len(lengths) > 1:
        raise InputError(f"draws have different lengths: {sorted(lengths)}", field="draws")
    if lengths:
        n = check_draw_count(lengths.pop())
    else:
        n = 1
    values: dict[str, np.ndarray] = {}
    for name, spec in specs.items():
        if name in overrides:
            values[name] = _as_draws(
                overrides[name], n, what=f"override of '{name}'", field_name=f"overrides.{name}"
            )
        elif name in draws:
            values[name] = _as_draws(
                draws[name], n, what=f"draws of '{name}'", field_name=f"draws.{name}"
            )
        elif isinstance(spec, FixedParameter):
            values[name] = _constant_array(spec.value, n)
        elif isinstance(spec, SuppliedParameter) and spec.default is not None:
            values[name] = _constant_array(spec.default, n)
        elif not isinstance(spec, ExpressionParameter):
            raise InputError(
                f"draws lack parameter '{name}' ({spec.kind})", file=file, field=f"draws.{name}"
            )
    _evaluate_expressions(specs, values, n, file=file)
    return {name: values[name] for name in specs}
