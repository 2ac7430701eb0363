"""The helpers that generated tangent code (forward mode, ``sourcegrad.jvp``) calls."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .core import _floats_of, along


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
    ``vjp_of`` for the primitives whose derivative is an algorithm rather than a formula. ``k`` may
    name a keyword argument instead; ``args[k]`` may be a tuple (its tangent a list or a tuple),
    whose integer members are held."""
    one, primal = along(fn, args, k, kwargs)
    if isinstance(primal, tuple) and isinstance(t, list):
        t = tuple(t)
    of_moving, moving, _ = _floats_of(one, primal)
    leaves, tree = jax.tree_util.tree_flatten(primal)
    t_leaves = tree.flatten_up_to(t)
    floats = [i for i, leaf in enumerate(leaves) if jnp.issubdtype(jnp.result_type(leaf), jnp.inexact)]
    tangents = [jnp.asarray(t_leaves[i], dtype=p.dtype) for i, p in zip(floats, moving)]
    return jax.jvp(of_moving, tuple(moving), tuple(tangents))[1]


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
