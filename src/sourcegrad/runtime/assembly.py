"""Adjoints of the functions that assemble, cut and rearrange arrays (tile, pad, hstack, take...).

Each of these is linear in its array arguments, so its adjoint is the transpose of that linear map:
``transpose_of`` asks JAX for exactly that transpose (``jax.linear_transpose``), which XLA compiles to
the matching slice, sum or scatter.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

_LINEAR_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap", "mean", "empty")


def transpose_of(fn, g, args, k=0, **kwargs):
    """Adjoint of ``fn(*args, **kwargs)`` with respect to ``args[k]``, a function linear in it
    (the other arguments held fixed): the transpose of that linear map applied to ``g``. When
    ``args[k]`` is a list of arrays, the list of their adjoints."""
    args = list(args)

    def linear(v):
        return fn(*args[:k], v, *args[k + 1 :], **kwargs)

    primal = jax.tree_util.tree_map(jnp.asarray, args[k])
    out_dtype = jax.eval_shape(linear, primal)
    g = jnp.asarray(g, dtype=out_dtype.dtype) if hasattr(out_dtype, "dtype") else g
    (adjoint,) = jax.linear_transpose(linear, primal)(g)
    return adjoint


def pad_adjoint(g, array, pad_width, mode="constant"):
    """Adjoint of ``pad(array, pad_width, mode)`` for the modes linear in ``array`` (the padding
    values of mode="constant" are constants): the interior for "constant", the transpose otherwise."""
    if mode not in _LINEAR_PAD_MODES:
        raise ValueError(
            f"pad mode {mode!r} has no rule: sourcegrad differentiates np.pad with "
            f"mode in {', '.join(map(repr, _LINEAR_PAD_MODES))}"
        )
    if mode == "empty":
        mode = "constant"
    return transpose_of(jnp.pad, g, (array, pad_width), 0, mode=mode)


def r_concatenate(arrays):
    """``np.r_[a, b, ...]``: each item made at least 1-D, concatenated along the first axis."""
    return jnp.concatenate([jnp.atleast_1d(a) for a in arrays], axis=0)


def c_concatenate(arrays):
    """``np.c_[a, b, ...]``: a number becomes a 1x1 array, a 1-D array a column; the items are
    concatenated along their last axis."""
    columns = []
    for a in arrays:
        a = jnp.asarray(a)
        if a.ndim < 2:
            a = jnp.reshape(a, (-1, 1))
        columns.append(a)
    return jnp.concatenate(columns, axis=-1)
