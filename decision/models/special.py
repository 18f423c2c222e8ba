"""Special functions the models need that every NUTS backend can differentiate.

:func:`beta_cdf` is the regularized incomplete beta function ``I_x(a, b)`` (the Beta
distribution's CDF). PyTensor evaluates and differentiates it itself (C or Python), but JAX's
``betainc`` has no gradient with respect to ``a`` and ``b``, so the numpyro backend could not
sample a model that uses it. Here the JAX form carries its own derivative: exact in ``x``, and
in ``a`` and ``b`` a central difference of JAX's ``betainc`` (relative step 1e-6, error about
1e-10 in float64). NUTS stays exact whatever the gradient's last digits: the leapfrog map is
reversible and volume-preserving for any position-only force, and the acceptance step uses
the exact log density; the gradient only steers the proposals.
"""

from __future__ import annotations

import functools

from pytensor.scalar.math import BetaInc, upgrade_to_float_no_complex
from pytensor.tensor.elemwise import Elemwise

__all__ = ["beta_cdf", "register_jax"]

#: Relative step of the central differences in ``a`` and ``b``.
_STEP = 1e-6


class BetaIncJAXDifferentiable(BetaInc):
    """PyTensor's ``betainc`` whose JAX form is differentiable in ``a`` and ``b`` too."""


#: Elementwise ``I_x(a, b)``: PyTensor's own implementation and gradient outside JAX.
beta_cdf = Elemwise(BetaIncJAXDifferentiable(upgrade_to_float_no_complex, name="beta_cdf"))


def _jax_beta_cdf():
    """Return ``I_x(a, b)`` for JAX with the derivative described in the module docstring."""
    import jax
    import jax.numpy as jnp
    from jax.scipy.special import betainc, betaln

    @jax.custom_jvp
    def regularized_incomplete_beta(a, b, x):
        return betainc(a, b, x)

    @regularized_incomplete_beta.defjvp
    def _derivative(primals, tangents):
        a, b, x = primals
        da, db, dx = tangents
        value = betainc(a, b, x)
        step_a = _STEP * jnp.maximum(1.0, jnp.abs(a))
        step_b = _STEP * jnp.maximum(1.0, jnp.abs(b))
        d_a = (betainc(a + step_a, b, x) - betainc(a - step_a, b, x)) / (2.0 * step_a)
        d_b = (betainc(a, b + step_b, x) - betainc(a, b - step_b, x)) / (2.0 * step_b)
        inside = (x > 0.0) & (x < 1.0)
        safe_x = jnp.where(inside, x, 0.5)
        density = jnp.exp(
            (a - 1.0) * jnp.log(safe_x) + (b - 1.0) * jnp.log1p(-safe_x) - betaln(a, b)
        )
        d_x = jnp.where(inside, density, 0.0)
        return value, d_a * da + d_b * db + d_x * dx

    return regularized_incomplete_beta


@functools.cache
def register_jax() -> None:
    """Teach PyTensor's JAX backend :data:`beta_cdf` (imports JAX: call before sampling)."""
    from pytensor.link.jax.dispatch import jax_funcify

    function = _jax_beta_cdf()

    @jax_funcify.register(BetaIncJAXDifferentiable)
    def _funcify(op, **kwargs):
        return function
