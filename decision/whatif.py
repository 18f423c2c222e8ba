"""What if one judgment were fixed? The case tree re-evaluated on the already-fitted draws.

An analysis (:func:`decision.case.analyze`) holds the draws of every tree parameter. Fixing one
analyst judgment at a value and rolling the tree back again, with every other parameter at its
draws (the models' posterior draws untouched, so nothing is refitted), shows how the choice
depends on that judgment. Linked probabilities of one chance node are rescaled so that they
still sum to 1 (see :mod:`decision.sensitivity.space`).

:func:`judgments`
    The case's judgments with the range a what-if explores and their base value.
:func:`what_if`
    The tree with one judgment fixed: each strategy's expected value and probability of being
    optimal, and the best strategy.
:func:`what_if_table`
    The static table: judgments fixed one at a time at given values (by default the low and
    high ends of each one's range).
:func:`what_if_control`
    For a notebook: a dropdown of judgments and a slider over the chosen judgment's range that
    re-evaluates the tree as it moves (ipywidgets). Where no widget front end is present
    (ipywidgets missing, a headless run, an exported page), it shows the static table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from decision.core.errors import InputError
from decision.core.suggest import did_you_mean

__all__ = ["WhatIf", "WhatIfControl", "judgments", "what_if", "what_if_control", "what_if_table"]


def _space(analysis, names: Iterable[str] | None = None):
    """Return the sensitivity parameter space of the analysis's draws, over the judgments."""
    from decision.sensitivity import parameter_space

    tree = analysis.case.tree
    chosen = list(names) if names is not None else _judgment_names(tree)
    return parameter_space(analysis.result, parameters=chosen)


def _judgment_names(tree) -> list[str]:
    return [name for name, spec in tree.parameters.items() if getattr(spec, "judgment", False)]


def judgments(analysis) -> pd.DataFrame:
    """Return the case's judgments: description, units, range explored, base value.

    The range is the judgment's ``range`` in the tree file if it gives one, else the 5th to
    95th percentile of its distribution (as in the sensitivity report); the base value is
    its mean.

    Returns
    -------
    pandas.DataFrame
        Indexed by parameter: ``description``, ``units``, ``low``, ``high``, ``base``.
    """
    space = _space(analysis)
    rows = []
    for name in space.names:
        spec = space.tree.parameters[name]
        rows.append(
            {
                "parameter": name,
                "description": spec.description or "",
                "units": getattr(spec, "units", None) or "",
                "low": space.low[name],
                "high": space.high[name],
                "base": space.base_value(name),
            }
        )
    return pd.DataFrame(rows).set_index("parameter")


@dataclasses.dataclass(frozen=True)
class WhatIf:
    """The case tree with one judgment fixed, against the analysis as it stands.

    Attributes
    ----------
    name, value
        The judgment and the value it is fixed at.
    values
        Strategy -> expected value with the judgment fixed.
    probability_optimal
        Strategy -> share of draws in which it is best, with the judgment fixed.
    base_values
        Strategy -> expected value in the analysis (the judgment uncertain).
    units
        Units of the values (the tree's).
    """

    name: str
    value: float
    values: dict[str, float]
    probability_optimal: dict[str, float]
    base_values: dict[str, float]
    units: str = ""

    @property
    def best(self) -> str:
        """The strategy with the highest expected value with the judgment fixed."""
        return max(self.values, key=self.values.get)

    @property
    def base_best(self) -> str:
        """The strategy the analysis recommends."""
        return max(self.base_values, key=self.base_values.get)

    def table(self) -> pd.DataFrame:
        """Each strategy's expected value, its change from the analysis, P(optimal)."""
        return pd.DataFrame(
            {
                "expected value": self.values,
                "change": {k: self.values[k] - self.base_values[k] for k in self.values},
                "probability optimal": self.probability_optimal,
            }
        ).rename_axis("strategy")

    def text(self, *, html: bool = False) -> str:
        """Say the result in one sentence: Markdown, or HTML with ``html`` (names escaped)."""
        from decision.reporting import escape

        strong, end = ("<b>", "</b>") if html else ("**", "**")
        verdict = (
            "the recommendation stands"
            if self.best == self.base_best
            else f"the recommendation changes from {escape(self.base_best)}"
        )
        return (
            f"With {strong}{escape(self.name)} = {self.value:.4g}{end}, the best strategy is "
            f"{strong}{escape(self.best)}{end} ({verdict})."
        )


def what_if(analysis, name: str, value: float) -> WhatIf:
    """Fix judgment ``name`` at ``value`` and roll the case tree back on the analysis's draws.

    Raises
    ------
    InputError
        For a name that is not a judgment of the case's tree (naming the tree file).
    """
    tree = analysis.case.tree
    names = _judgment_names(tree)
    if name not in names:
        raise InputError(
            f"'{name}' is not a judgment of the case{did_you_mean(name, names)}",
            file=tree.source or analysis.spec.tree_path,
            field=f"parameters.{name}",
        )
    space = _space(analysis, [name])
    values, informed = space.evaluate_blocks({name: [float(value)]}, per_draw=True)
    options = space.options
    best = np.argmax(informed[0], axis=1)
    share = np.bincount(best, minlength=len(options)) / best.size
    return WhatIf(
        name=name,
        value=float(value),
        values={o: float(v) for o, v in zip(options, values[0], strict=True)},
        probability_optimal={o: float(p) for o, p in zip(options, share, strict=True)},
        base_values={o: float(analysis.result.options[o]) for o in options},
        units=getattr(tree, "units", None) or "",
    )


def what_if_table(analysis, fixed: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Judgments fixed one at a time: the best strategy and each strategy's expected value.

    Parameters
    ----------
    analysis
        An evaluated case (:func:`decision.case.analyze`).
    fixed
        Judgment -> a value or a list of values; default: every judgment at the low and the
        high end of its range (:func:`judgments`).

    Returns
    -------
    pandas.DataFrame
        One row per judgment and value, rounded: ``judgment``, ``value``, ``best strategy``,
        whether the recommendation ``changes``, and each strategy's expected value.
    """
    if fixed is None:
        ranges = judgments(analysis)
        fixed = {name: [row["low"], row["high"]] for name, row in ranges.iterrows()}
    rows = []
    for name, given in fixed.items():
        for value in np.atleast_1d(np.asarray(given, dtype=float)):
            result = what_if(analysis, name, float(value))
            rows.append(
                {
                    "judgment": name,
                    "value": float(value),
                    "best strategy": result.best,
                    "changes": result.best != result.base_best,
                    **result.values,
                }
            )
    return pd.DataFrame(rows).round(4)


class WhatIfControl:
    """A dropdown of judgments and a slider over the chosen one's range (see the module).

    Displayed in a notebook, it is the interactive control where a widget front end is
    present (JupyterLab with ipywidgets), and the static :func:`what_if_table` anywhere else:
    the display carries both, and a front end shows the richest it can. Without ipywidgets
    installed it is the static table alone.

    Attributes
    ----------
    widget
        The ipywidgets box (None without ipywidgets).
    static
        The static table shown where widgets cannot be.
    """

    def __init__(self, analysis, *, steps: int = 40):
        self.analysis = analysis
        self.ranges = judgments(analysis)
        self.steps = steps
        self.static = what_if_table(
            analysis, {n: [r["low"], r["high"]] for n, r in self.ranges.iterrows()}
        )
        self.widget = self._build()

    def _build(self):
        try:
            import ipywidgets
        except ImportError:
            return None
        first = self.ranges.index[0]
        self.dropdown = ipywidgets.Dropdown(
            options=[
                (f"{name}: {row['description']}"[:90], name) for name, row in self.ranges.iterrows()
            ],
            value=first,
            description="judgment",
            layout=ipywidgets.Layout(width="95%"),
        )
        self.slider = ipywidgets.FloatSlider(
            description="value",
            continuous_update=False,
            readout_format=".4g",
            layout=ipywidgets.Layout(width="95%"),
        )
        self.output = ipywidgets.HTML()
        self._set_range(first)
        self.dropdown.observe(self._on_judgment, names="value")
        self.slider.observe(self._on_value, names="value")
        self.show(first, self.slider.value)
        return ipywidgets.VBox([self.dropdown, self.slider, self.output])

    def _set_range(self, name: str) -> None:
        row = self.ranges.loc[name]
        low, high = float(row["low"]), float(row["high"])
        with self.slider.hold_trait_notifications():
            # Widen before narrowing, so min never exceeds max on the way.
            self.slider.min, self.slider.max = min(low, self.slider.min), max(high, self.slider.max)
            self.slider.min, self.slider.max = low, high
            self.slider.step = (high - low) / self.steps
            self.slider.value = float(np.clip(row["base"], low, high))

    def _on_judgment(self, change) -> None:
        self._set_range(change["new"])
        self.show(change["new"], self.slider.value)

    def _on_value(self, change) -> None:
        self.show(self.dropdown.value, change["new"])

    def show(self, name: str, value: float) -> WhatIf:
        """Re-evaluate the tree with ``name`` fixed at ``value`` and show the result."""
        result = what_if(self.analysis, name, value)
        if getattr(self, "output", None) is not None:
            self.output.value = _html(result)
        return result

    def _repr_mimebundle_(self, include=None, exclude=None):
        """Return the widget's view where a front end can show it, and the static table."""
        bundle = {
            "text/html": (
                "<p>What if one judgment were fixed (each at the low and the high end of its "
                "range; open the notebook in JupyterLab for the interactive control):</p>"
                + self.static.to_html(index=False, escape=True)
            ),
            "text/plain": self.static.to_string(index=False),
        }
        if self.widget is not None:
            view = self.widget._repr_mimebundle_(include=include, exclude=exclude) or {}
            view.pop("text/plain", None)
            bundle.update(view)
        return bundle


def _html(result: WhatIf) -> str:
    """Return the result as HTML: the sentence and the strategy table (text escaped)."""
    import html

    table = result.table().round(4)
    table["probability optimal"] = table["probability optimal"].map("{:.0%}".format)
    units = f" ({html.escape(result.units)})" if result.units else ""
    return f"<p>{result.text(html=True)}</p><p>Expected values{units}:</p>" + table.to_html(
        escape=True
    )


def what_if_control(analysis, *, steps: int = 40) -> WhatIfControl:
    """Return the what-if control for a notebook (see :class:`WhatIfControl`)."""
    return WhatIfControl(analysis, steps=steps)
