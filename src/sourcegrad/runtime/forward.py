"""The helpers that generated tangent code (forward mode, ``sourcegrad.jvp``) calls."""

from __future__ import annotations

import jax.numpy as jnp


def broadcast_like(t, ans):
    """The tangent ``t`` of a broadcast argument, spread to the result's shape (the transpose of
    ``unbroadcast``): ``d_y = broadcast_like(d_b, y)`` for ``y = x + b`` with ``x`` constant."""
    return jnp.broadcast_to(t, jnp.shape(ans))


def einsum_tangent(subscripts, k, t, *operands):
    """The contribution of operand ``k``'s tangent ``t`` to the tangent of
    ``einsum(subscripts, *operands)``: the same contraction with operand k replaced by ``t``."""
    ops = list(operands)
    ops[k] = t
    return jnp.einsum(subscripts, *ops)
