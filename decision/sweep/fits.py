"""The fits a sweep needs: one per distinct set of model inputs, keyed by a hash of them.

Scenarios that vary only tree parameters share the base scenario's fit; a scenario that
varies priors, ``as_of`` or the observations file needs the fit of its own model inputs.
:class:`FitCatalog` gives every set of model inputs a key (a hash of the merged priors, the
date, the observations' content, the model settings, the sampler settings, ``strict`` and the
package version) and records the :class:`FitSpec` a worker fits from.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from decision.case import merged_priors
from decision.core.config import deep_merge
from decision.core.errors import InputError
from decision.sweep.ids import canonical_json, digest
from decision.sweep.inputs import VariedInputs

__all__ = ["FitCatalog", "FitSpec"]


@dataclasses.dataclass(frozen=True)
class FitSpec:
    """Everything a fit of the case's models depends on (and the observations to fit on)."""

    key: str
    case: str
    as_of: str
    observations: Any  # a validated observations frame, or None
    priors: dict[str, dict[str, Any]]
    settings: dict[str, Any]
    sampler: dict[str, Any]
    strict: bool
    use_cache: bool


class FitCatalog:
    """The distinct fits a sweep needs, keyed by a hash of their model inputs.

    Parameters
    ----------
    inputs
        The sweep's checked inputs (its case, base scenario and observation files).
    sampler, strict, use_cache
        The settings of every fit.
    """

    def __init__(self, inputs: VariedInputs, *, sampler: dict, strict: bool, use_cache: bool):
        from decision import __version__

        self.inputs = inputs
        self.sampler = sampler
        self.strict = strict
        self.use_cache = use_cache
        self.version = __version__
        self.specs: dict[str, FitSpec] = {}
        self._keys: dict[str, str] = {}
        self._frames: dict[tuple[str, str], Any] = {}

    def key_for(self, as_of: str, observations: str | None, prior_values: Mapping) -> str:
        """Return the key of the fit with these inputs (recording its :class:`FitSpec`)."""
        from decision.models import MODELS

        inputs = self.inputs
        token = canonical_json(
            [as_of, observations, sorted([list(k), v] for k, v in prior_values.items())]
        )
        if token in self._keys:
            return self._keys[token]
        extra: dict[str, dict] = {}
        for (model, prior, param), value in prior_values.items():
            extra.setdefault(model, {}).setdefault(prior, {})[param] = value
        try:
            merged = merged_priors(inputs.base, extra, case=inputs.case)
        except InputError as exc:
            raise inputs.located(exc) from None
        full = {m: deep_merge(cls.default_priors, merged.get(m)) for m, cls in MODELS.items()}
        path, sha = inputs.observations_file(observations)
        key = digest(
            {
                "as_of": as_of,
                "observations": sha,
                "priors": full,
                "settings": inputs.base.settings,
                "sampler": self.sampler,
                "strict": self.strict,
                "version": self.version,
            }
        )
        if key not in self.specs:
            frame = None
            if path is not None:
                if (path, as_of) not in self._frames:
                    from decision.observations import load_observations

                    self._frames[(path, as_of)] = load_observations(path, as_of=as_of)
                frame = self._frames[(path, as_of)]
            self.specs[key] = FitSpec(
                key=key,
                case=inputs.case,
                as_of=as_of,
                observations=frame,
                priors=full,
                settings=dict(inputs.base.settings),
                sampler=dict(self.sampler),
                strict=self.strict,
                use_cache=self.use_cache,
            )
        self._keys[token] = key
        return key
