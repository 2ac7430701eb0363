"""The helpers that generated tangent code (forward mode, ``sourcegrad.jvp``) calls."""

from __future__ import annotations

import jax
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


def jvp_of(fn, t, args, k=0, **kwargs):
    """The tangent of ``fn(*args, **kwargs)`` along ``t``, the tangent of ``args[k]`` (the others
    held fixed): JAX's Jacobian-vector product of that one call, the forward counterpart of
    ``vjp_of`` for the primitives whose derivative is an algorithm rather than a formula."""
    args = list(args)

    def one(v):
        return fn(*args[:k], v, *args[k + 1 :], **kwargs)

    primal = jax.tree_util.tree_map(jnp.asarray, args[k])
    t = jax.tree_util.tree_map(lambda p, d: jnp.asarray(d, dtype=p.dtype), primal, t)
    return jax.jvp(one, (primal,), (t,))[1]


_LINEAR_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap", "mean", "empty")


def pad_tangent(t, pad_width, mode="constant"):
    """The tangent of ``pad(array, pad_width, mode)`` along ``t``, for the modes linear in ``array``:
    the same padding of ``t`` (the constant values of mode="constant" are constants: zero tangent)."""
    if mode not in _LINEAR_PAD_MODES:
        raise ValueError(
            f"pad mode {mode!r} has no rule: sourcegrad differentiates np.pad with "
            f"mode in {', '.join(map(repr, _LINEAR_PAD_MODES))}"
        )
    return jnp.pad(t, pad_width, mode="constant" if mode == "empty" else mode)
