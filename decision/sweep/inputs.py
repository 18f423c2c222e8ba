"""The inputs a sweep varies, checked against its case.

A varied key is one of:

* a tree parameter of the case (``china_pressure_if_refused``, or
  ``parameters.china_pressure_if_refused``): a number replaces the parameter in every draw, a
  mapping replaces its spec (checked by loading the case with it);
* a prior parameter of one of the case's models, ``priors.<model>.<prior>.<parameter>``: a
  number (positive for shapes, scales and rates), merged over the base scenario's priors;
* ``as_of``: a date;
* ``observations``: an observations file (relative to the sweep file) or ``null``.

:class:`VariedInputs` classifies the keys (:meth:`~VariedInputs.key_kind`), checks and
normalises their values (:meth:`~VariedInputs.value`), and maps a sampled key's unit points
through its distribution (:meth:`~VariedInputs.sampled`). Every error names the sweep file,
the key path and the line.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from decision.case import Scenario, load_case
from decision.core.dates import parse_date
from decision.core.errors import InputError
from decision.core.provenance import sha256_file
from decision.core.suggest import did_you_mean
from decision.core.validation import KeyPath, KeyPathError, YamlDocument
from decision.sweep.ids import canonical_json
from decision.sweep.sampling import (
    DEFAULT_DISTRIBUTION,
    days_between,
    pick,
    quantiles,
    tree_distribution,
)

__all__ = ["VariedInputs"]

#: Prior parameters that must be positive (a scale, a rate, a Beta shape).
_POSITIVE_SUFFIXES = ("alpha", "beta", "sigma", "scale", "rate")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class VariedInputs:
    """Check a sweep's varied keys and their values against its case.

    Parameters
    ----------
    document
        The sweep file (errors name it, with the key path and the line).
    case
        The case's name or folder.
    base
        The base scenario (a parameter spec is checked by loading the case with it).
    params
        The tree parameters of the case under the base scenario.
    """

    def __init__(self, document: YamlDocument, case: str, base: Scenario, params: Mapping):
        self.document = document
        self.case = case
        self.base = base
        self.params = params
        self._observations: dict[str, tuple[str, str]] = {}
        self._specs_ok: set[str] = set()

    def error(self, message: str, loc: Sequence[str | int]) -> InputError:
        """Make an error naming the sweep file, the key path ``loc`` and its line."""
        return self.document.error(message, loc)

    def located(self, exc: InputError) -> InputError:
        """Return an error of another file as it is; else locate it in the sweep file.

        The error's ``field`` (``priors.china.accepts``) is the key path in the sweep file.
        """
        if exc.file is not None:
            return exc
        return self.error(exc.detail, tuple(exc.field.split(".")) if exc.field else ())

    def date(self, value: Any, loc: KeyPath) -> str:
        """Check a date; return it as ISO text."""
        try:
            return parse_date(value).isoformat()
        except InputError as exc:
            raise self.error(exc.detail, loc) from None

    def observations(self, value: Any, loc: KeyPath) -> str | None:
        """Check an observations file (relative to the sweep file); ``None`` for none."""
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.error(f"expected a file path or null, got {value!r}", loc)
        if value not in self._observations:
            path = Path(value) if Path(value).is_absolute() else self.document.path.parent / value
            if not path.is_file():
                raise self.error(f"observations file not found: {path}", loc)
            from decision.observations import load_observations

            load_observations(path)  # errors name the CSV file, row and column
            self._observations[value] = (str(path.resolve()), sha256_file(path))
        return value

    def observations_file(self, value: str | None) -> tuple[str | None, str | None]:
        """Return (absolute path, content hash) of a checked observations value."""
        if value is None:
            return None, None
        return self._observations[value]

    def key_kind(self, key: str, loc: KeyPath) -> tuple:
        """Classify a varied key.

        Returns ``("param", name)``, ``("prior", model, prior, parameter)``, ``("as_of",)``
        or ``("observations",)``.
        """
        from decision.models import MODELS

        if key in ("as_of", "observations"):
            return (key,)
        if key.startswith("priors."):
            parts = key.split(".")
            if len(parts) != 4:
                raise self.error(
                    "expected priors.<model>.<prior>.<parameter>, e.g. priors.china.accepts.alpha",
                    loc,
                )
            _, model, prior, param = parts
            if model not in MODELS:
                raise self.error(
                    f"unknown model '{model}'{did_you_mean(model, MODELS)} (expected one of: "
                    f"{', '.join(MODELS)})",
                    loc,
                )
            defaults = MODELS[model].default_priors
            if prior not in defaults or not isinstance(defaults[prior], Mapping):
                raise self.error(
                    f"unknown prior '{prior}' of model '{model}'"
                    f"{did_you_mean(prior, defaults)} (known: {', '.join(defaults)})",
                    loc,
                )
            if param not in defaults[prior]:
                raise self.error(
                    f"prior '{model}.{prior}' has no parameter '{param}'"
                    f"{did_you_mean(param, defaults[prior])} (expected one of: "
                    f"{', '.join(defaults[prior])})",
                    loc,
                )
            return ("prior", model, prior, param)
        name = key.removeprefix("parameters.")
        if name in self.params:
            return ("param", name)
        known = [*self.params, "as_of", "observations", "priors.<model>.<prior>.<parameter>"]
        raise self.error(
            f"unknown key '{key}'{did_you_mean(name, known)}: expected a tree parameter "
            "of the case, priors.<model>.<prior>.<parameter>, as_of or observations",
            loc,
        )

    def value(self, kind: tuple, value: Any, loc: KeyPath) -> Any:
        """Check and normalise one value of a varied key."""
        if kind[0] == "as_of":
            return self.date(value, loc)
        if kind[0] == "observations":
            return self.observations(value, loc)
        if kind[0] == "prior":
            if not _is_number(value) or not math.isfinite(value):
                raise self.error(f"expected a number, got {value!r}", loc)
            if kind[3] in _POSITIVE_SUFFIXES and not value > 0:
                raise self.error(f"expected a positive number, got {value!r}", loc)
            return float(value)
        if _is_number(value):
            if not math.isfinite(value):
                raise self.error(f"expected a finite number, got {value!r}", loc)
            return float(value)
        if isinstance(value, Mapping):
            spec = json.loads(json.dumps(dict(value), default=str))
            token = canonical_json({kind[1]: spec})
            if token not in self._specs_ok:
                trial = dataclasses.replace(
                    self.base,
                    parameters={**self.base.parameters, kind[1]: spec},
                    path=self.document.file,
                )
                try:
                    load_case(trial, self.case)
                except InputError as exc:
                    raise self.error(exc.detail, loc) from None
                self._specs_ok.add(token)
            return spec
        raise self.error(f"expected a number or a parameter spec (a mapping), got {value!r}", loc)

    def sampled(self, kind: tuple, spec: Any, u, loc: KeyPath) -> list:
        """Map unit points ``u`` through the distribution ``spec`` of a sampled key."""
        if not isinstance(spec, Mapping):
            raise self.error(
                "expected a distribution: {low, high}, {distribution: ..., ...} or {values: [...]}",
                loc,
            )
        if "values" in spec:
            extra = set(spec) - {"values"}
            if extra:
                raise self.error(
                    f"unexpected key(s) {', '.join(sorted(map(str, extra)))} beside 'values'", loc
                )
            values = spec["values"]
            if not isinstance(values, list) or not values:
                raise self.error("expected 'values' to be a non-empty list", loc + ("values",))
            normal = [self.value(kind, v, loc + ("values", i)) for i, v in enumerate(values)]
            return pick(normal, u)
        if kind[0] == "as_of":
            if spec.get("distribution", DEFAULT_DISTRIBUTION) != "uniform" or set(spec) - {
                "distribution",
                "low",
                "high",
            }:
                raise self.error(
                    "as_of can be sampled uniformly between low and high dates, or from "
                    "values: [...]",
                    loc,
                )
            for key in ("low", "high"):
                if key not in spec:
                    raise self.error(f"uniform needs '{key}' (expected low, high)", loc)
            low = parse_date(self.date(spec["low"], loc + ("low",)))
            high = parse_date(self.date(spec["high"], loc + ("high",)))
            if high < low:
                raise self.error("expected high on or after low", loc)
            return days_between(low, high, u)
        if kind[0] == "observations":
            raise self.error("observations can be sampled from values: [...] only", loc)
        try:
            distribution = tree_distribution(spec)
        except KeyPathError as exc:
            raise self.error(str(exc), loc + exc.loc) from None
        return [self.value(kind, float(x), loc) for x in quantiles(distribution, u)]
