"""Adjoints of reductions: max/min with ties, prod, var/std, norms, cumsum; NumPy's gradient."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from .core import NoDerivativeError, _axes, reduced_size, unreduce
from .elementwise import div_or_zero


def tie_split(x, y):
    """d maximum(x, y) / dx: 1 where x wins, 1/2 at ties, 0 where y wins (as jax.grad)."""
    return jnp.where(x > y, 1.0, jnp.where(x == y, 0.5, 0.0)).astype(jnp.result_type(x, y))


def extremum_adjoint(g, x, ans, axis=None, keepdims=False):
    """Adjoint of max/min: ``g`` goes to the winning elements, split equally among ties."""
    hit = x == unreduce(ans, x, axis, keepdims)
    count = jnp.sum(hit, axis=_axes(x, axis), keepdims=keepdims, dtype=jnp.result_type(g))
    # each tie's share, divided once per reduced element (not per element of x), where x won
    share = unreduce(g / count, x, axis, keepdims)
    return jnp.where(hit, share, 0 * share)  # 0 * share: NaN where nothing won (a NaN max), as before


def prod_adjoint(g, x, axis=None, keepdims=False):
    """Adjoint of prod: the product of all the other elements (exact with zeros)."""
    axes = _axes(x, axis)
    perm = tuple(a for a in range(jnp.ndim(x)) if a not in axes) + axes
    xt = jnp.transpose(x, perm)
    flat = jnp.reshape(xt, xt.shape[: jnp.ndim(x) - len(axes)] + (-1,))
    ones = jnp.ones_like(flat[..., :1])
    left = jnp.cumprod(jnp.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = jnp.flip(jnp.cumprod(jnp.concatenate([ones, jnp.flip(flat, -1)[..., :-1]], axis=-1), axis=-1), -1)
    others = jnp.reshape(left * right, xt.shape)
    others = jnp.transpose(others, tuple(perm.index(i) for i in range(jnp.ndim(x))))
    return unreduce(g, x, axis, keepdims) * others


def _centered(x, axis):
    """``x - mean(x)``, centred twice: the first difference sums to a rounding error (n ulps of x,
    not 0), which an adjoint dividing by a tiny std turns into an O(1) gradient that is no
    subgradient (its components must sum to 0: shifting x changes neither var nor std). The
    second pass leaves ulps of the deviations themselves."""
    centered = x - jnp.mean(x, axis=axis, keepdims=True)
    return centered - jnp.mean(centered, axis=axis, keepdims=True)


def var_adjoint(g, x, axis=None, ddof=0, keepdims=False):
    """Adjoint of var: 2 (x - mean) / (N - ddof), times the broadcast ``g``."""
    centered = _centered(x, axis)
    return unreduce(g, x, axis, keepdims) * 2 * centered / (reduced_size(x, axis) - ddof)


def std_adjoint(g, x, ans, axis=None, ddof=0, keepdims=False):
    """Adjoint of std: (x - mean) / ((N - ddof) std), times the broadcast ``g``."""
    centered = _centered(x, axis)
    return unreduce(div_or_zero(g, ans), x, axis, keepdims) * centered / (reduced_size(x, axis) - ddof)


def norm_adjoint(g, x, ans, ord=None, axis=None, keepdims=False):
    """Adjoint of linalg.norm for every ``ord`` NumPy accepts: vector norms (one axis, or a 1-D
    array) and matrix norms (two axes, or a 2-D array); None and "fro" over any axes."""
    nd = jnp.ndim(x)
    axes = tuple(range(nd)) if axis is None else ((axis,) if isinstance(axis, int) else tuple(axis))
    axes = tuple(a % nd for a in axes)
    if ord is None or (ord == "fro" and len(axes) == 2) or (ord == 2 and len(axes) == 1):
        return unreduce(div_or_zero(g, ans), x, axes, keepdims) * x
    if len(axes) == 1:
        return _vector_norm_adjoint(
            unreduce(g, x, axes, keepdims), x, unreduce(ans, x, axes, keepdims), ord, axes
        )
    if len(axes) == 2:
        return _matrix_norm_adjoint(g, x, ord, axes, keepdims)
    raise ValueError(f"linalg.norm: improper number of axes {axes} for ord={ord!r}")


def _norm_adjoint_along(args, argnum, ord, axis, keepdims):
    """norm_adjoint as a function of one of its arrays ``(g, x, ans)``, the others held."""

    def along(a):
        held = list(args)
        held[argnum] = a
        return norm_adjoint(*held, ord=ord, axis=axis, keepdims=keepdims)

    return along


def norm_adjoint_jvp(g, x, ans, tangent, argnum, ord=None, axis=None, keepdims=False):
    """The tangent of ``norm_adjoint(g, x, ans)`` along array ``argnum`` (0, 1, 2) moving by
    ``tangent``: second order through a norm, every ``ord`` at once (by jax.jvp of the helper)."""
    args = (g, x, ans)
    return jax.jvp(_norm_adjoint_along(args, argnum, ord, axis, keepdims), (args[argnum],), (tangent,))[1]


def norm_adjoint_vjp(cotangent, g, x, ans, argnum, ord=None, axis=None, keepdims=False):
    """The adjoint of ``norm_adjoint(g, x, ans)`` in array ``argnum`` (0, 1, 2) for ``cotangent``
    (reverse over reverse through a norm; by jax.vjp of the helper)."""
    args = (g, x, ans)
    _, pullback = jax.vjp(_norm_adjoint_along(args, argnum, ord, axis, keepdims), args[argnum])
    return pullback(cotangent)[0]


def _vector_norm_adjoint(g, x, ans, ord, axes):
    if ord == 0:  # the number of nonzero elements: piecewise constant
        return jnp.zeros_like(g * x)
    if ord == 1:
        return g * jnp.sign(x)
    if ord in (math.inf, -math.inf):  # the largest (smallest) |x|, ties split
        hit = (jnp.abs(x) == ans).astype(jnp.result_type(g))
        return g * jnp.sign(x) * hit / jnp.sum(hit, axis=axes, keepdims=True)
    # (sum |x|^p)^(1/p): d/dx = sign(x) (|x| / norm)^(p - 1), 0 where x = 0 (docs/conventions.md)
    ratio = div_or_zero(jnp.abs(x), ans)
    safe = jnp.where(x == 0, 1, ratio)
    return jnp.where(x == 0, 0, g * jnp.sign(x) * safe ** (ord - 1))


def _matrix_norm_adjoint(g, x, ord, axes, keepdims):
    """Matrix norms over ``axes``: moved to the last two, differentiated there, moved back."""
    xm = jnp.moveaxis(x, axes, (-2, -1))
    if keepdims:
        g = jnp.squeeze(g, axes)
    g = g[..., None, None]
    if ord in ("nuc", 2, -2):
        u, _, vh = jnp.linalg.svd(xm, full_matrices=False)
        if ord == "nuc":
            part = g * jnp.matmul(u, vh)
        else:
            i = 0 if ord == 2 else -1  # the largest (smallest) singular value: u_i v_i^T
            part = g * (u[..., :, i][..., :, None] * vh[..., i, :][..., None, :])
    elif ord in (1, -1, math.inf, -math.inf):
        over = -2 if ord in (1, -1) else -1  # 1: the largest column sum of |x|; inf: row sum
        sums = jnp.sum(jnp.abs(xm), axis=over, keepdims=True)
        best = (
            jnp.max(sums, axis=-1 if over == -2 else -2, keepdims=True)
            if ord > 0
            else jnp.min(sums, axis=-1 if over == -2 else -2, keepdims=True)
        )
        hit = (sums == best).astype(jnp.result_type(g))
        part = g * jnp.sign(xm) * hit / jnp.sum(hit, axis=-1 if over == -2 else -2, keepdims=True)
    else:
        raise ValueError(f"linalg.norm: invalid ord {ord!r} for a matrix norm")
    return jnp.moveaxis(part, (-2, -1), axes)


def cumsum_adjoint(g, x, axis=None):
    """Adjoint of cumsum: a cumulative sum from the end."""
    if axis is None:
        return jnp.reshape(jnp.flip(jnp.cumsum(jnp.flip(jnp.ravel(g)))), jnp.shape(x))
    return jnp.flip(jnp.cumsum(jnp.flip(g, axis), axis=axis), axis)


def sort_adjoint(g, x, axis=-1):
    """Adjoint of sort: each element of ``g`` goes back to where its value came from (the inverse of
    the sorting permutation; ties are ordered as a stable argsort orders them)."""
    if axis is None:
        order = jnp.argsort(jnp.ravel(x), stable=True)
        return jnp.reshape(jnp.zeros_like(g).at[order].set(g), jnp.shape(x))
    order = jnp.argsort(x, axis=axis, stable=True)
    return jnp.put_along_axis(jnp.zeros_like(g), order, g, axis=axis, inplace=False)


def numpy_gradient(f, *varargs, axis=None, edge_order=1):
    """NumPy's ``gradient`` where it returns one array: of a 1-D array, or along one axis.
    Central differences inside, one-sided first-order ones at the edges (NumPy's default
    ``edge_order=1``, which ``jnp.gradient`` computes); spacing a scalar or the coordinates.
    Along several axes NumPy returns a list, whose length is the array's rank: refused."""
    if edge_order != 1:
        raise NoDerivativeError(
            f"np.gradient(..., edge_order={edge_order!r}) has no rule (JAX computes edge_order=1)",
            "use the default edge_order=1, or write the second-order edge formulas with slices",
        )
    ndim = jnp.ndim(f)
    count = ndim if axis is None else len(axis) if isinstance(axis, tuple) else 1
    if count != 1:
        raise NoDerivativeError(
            f"np.gradient of a {ndim}-D array along {count} axes returns a list of {count} arrays, "
            f"one per axis, which sourcegrad does not differentiate",
            "call np.gradient(f, axis=k) once per axis k: each returns one array",
        )
    return jnp.gradient(f, *varargs, axis=axis)
