"""Which attribute carries a result: each option's expected value split by attribute.

With a linear utility the value of a path is a weighted sum over attributes, so an option's
expected value is the sum of its attributes' weighted contributions under the same policy.
:func:`value_by_attribute` computes them by rolling the tree back once per attribute with the
other attributes' weights set to 0 and every later decision held at the policy of the full
evaluation, so the parts add up to the option values that :func:`~decision.tree.evaluate`
reports.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr

from decision.core.errors import InputError
from decision.tree.evaluation import TreeResult, evaluate
from decision.tree.expressions import constant

__all__ = ["value_by_attribute"]


def value_by_attribute(result: TreeResult) -> xr.DataArray:
    """Each root option's expected value split by attribute.

    Parameters
    ----------
    result
        An evaluated multi-attribute tree with a linear utility.

    Returns
    -------
    xarray.DataArray
        (option, attribute): the weighted contribution of each attribute to each root option's
        expected value, later decisions following ``result.policy``; each row sums to the
        option's value in ``result.options`` (to rounding).

    Raises
    ------
    InputError
        For a tree without attributes or with a non-linear utility (values do not add up
        across attributes then).
    """
    tree = result.tree
    if not tree.attributes:
        raise InputError("the tree has no attributes to split values by", field="attributes")
    if not tree.utility.is_linear:
        raise InputError("values split by attribute only under a linear utility", field="utility")
    root = tree.root.path
    held = {path: option for path, option in result.policy.items() if path != root}
    names = list(tree.attributes)
    options = list(result.options)
    out = np.zeros((len(options), len(names)))
    for j, name in enumerate(names):
        zeroed = {
            other: dataclasses.replace(attribute, weight=constant(0.0))
            for other, attribute in tree.attributes.items()
            if other != name
        }
        one = dataclasses.replace(tree, attributes={**tree.attributes, **zeroed})
        part = evaluate(one, draws=result.parameters, force=held)
        out[:, j] = [part.options[o] for o in options]
    return xr.DataArray(
        out,
        dims=("option", "attribute"),
        coords={"option": options, "attribute": names},
        attrs={"units": tree.units or "", "policy": "later decisions held at the full policy"},
    )
