"""The Beta CDF the China model uses: the same values and gradients under PyTensor and JAX."""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from scipy import special

from decision.models.special import beta_cdf, register_jax

POINTS = [(0.7, 3.2, 0.125), (2.5, 2.5, 0.375), (6.0, 1.4, 0.625), (12.0, 30.0, 0.875)]


@pytest.mark.parametrize(("a", "b", "x"), POINTS)
def test_values_and_gradients_agree_across_backends(a, b, x):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    register_jax()
    from pytensor.link.jax.dispatch import jax_funcify

    va, vb, vx = pt.dscalars("a", "b", "x")
    value = beta_cdf(va, vb, vx)
    pytensor_grad = pytensor.function([va, vb, vx], [value, *pt.grad(value, [va, vb, vx])])
    expected = pytensor_grad(a, b, x)
    assert expected[0] == pytest.approx(special.betainc(a, b, x), rel=1e-12)

    function = jax_funcify(value.owner.op.scalar_op)
    got_value = function(a, b, x)
    got_grad = jax.grad(function, argnums=(0, 1, 2))(a, b, x)
    assert float(got_value) == pytest.approx(expected[0], rel=1e-12)
    np.testing.assert_allclose([float(g) for g in got_grad], expected[1:], rtol=1e-6, atol=1e-9)
