"""Adjoints of indexing and shapes, and in-place writes with NumPy's rule for a repeated index."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
from jax import lax


def unslice(g, x, index):
    """The adjoint of ``x[index]`` for a static basic index (ints, slices, None, ...): ``g`` put
    back where it came from, zeros elsewhere. A ``lax.pad``, which XLA fuses with what adds it,
    where ``.at[index].add`` would be a scatter; other indices fall back to the scatter."""
    shape = jnp.shape(x)
    items = index if isinstance(index, tuple) else (index,)
    if any(i is Ellipsis for i in items):
        at = items.index(Ellipsis)
        n_real = sum(1 for i in items if i is not None and i is not Ellipsis)
        items = items[:at] + (slice(None),) * (len(shape) - n_real) + items[at + 1 :]
    items = items + (slice(None),) * (len(shape) - sum(1 for i in items if i is not None))
    config, squeezed, dim, out = [], [], 0, 0  # out: the axis of g this item made
    g = jnp.asarray(g)
    for item in items:
        if item is None:
            squeezed.append(out)
            out += 1
            continue
        if not (isinstance(item, (int, np.integer)) and not isinstance(item, bool)):
            out += 1
        size = shape[dim]
        if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            i = int(item) % size
            config.append((i, size - 1 - i, 0))
        elif isinstance(item, slice) and (item.step is None or item.step > 0):
            start, stop, step = item.indices(size)
            count = max(0, -(-(stop - start) // step))
            if count == 0:
                return jnp.zeros(shape, jnp.result_type(g))
            config.append((start, size - (start + (count - 1) * step + 1), step - 1))
        else:
            return jnp.zeros(shape, jnp.result_type(g)).at[index].add(g)
        dim += 1
    # put back the axes that integer indices removed, take out the ones that None added
    out_axes = [
        p
        for p, item in enumerate(i for i in items if i is not None)
        if isinstance(item, (int, np.integer)) and not isinstance(item, bool)
    ]
    if squeezed:
        g = jnp.reshape(g, [d for p, d in enumerate(jnp.shape(g)) if p not in squeezed])
    if out_axes:
        g = jnp.expand_dims(g, out_axes)
    return lax.pad(g, jnp.zeros((), jnp.result_type(g)), config)


def _may_repeat(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(
        not isinstance(i, slice)
        and i is not None
        and i is not Ellipsis
        and jnp.ndim(i) >= 1
        and not jnp.issubdtype(jnp.result_type(i), jnp.bool_)
        for i in items
    )


def _last_writer(shape, index):
    """For each element ``x[index]`` selects (in the shape of ``x[index]``): the flat position, in
    C order, of the last selection of the same element of ``x``."""
    n = math.prod(shape)
    targets = jnp.reshape(jnp.arange(n).reshape(shape)[index], -1)
    order = jnp.arange(targets.shape[0])
    last = jnp.full((n,), -1, order.dtype).at[targets].max(order)[targets]
    return jnp.reshape(last, jnp.shape(jnp.zeros(shape, bool)[index])), order


def _last_mask(shape, index):
    last, order = _last_writer(shape, index)
    return last == jnp.reshape(order, jnp.shape(last))


def _fit_slot(x, index, v):
    """NumPy's ``x[index] = v`` drops ``v``'s leading size-1 axes beyond the slot's (``y[0] = w``
    with ``w`` of shape (1,) writes ``w[0]``); JAX's ``.at[].set`` refuses them."""
    extra = jnp.ndim(v) - jnp.ndim(jnp.zeros(jnp.shape(x), bool)[index]) if jnp.ndim(v) else 0
    if extra > 0 and all(d == 1 for d in jnp.shape(v)[:extra]):
        return jnp.reshape(v, jnp.shape(v)[extra:])
    return v


def inplace_set(x, index, v):
    """``x[index] = v`` as NumPy does it: where ``index`` repeats an element, the last write wins."""
    v = _fit_slot(x, index, v)
    if not _may_repeat(index):
        return x.at[index].set(v)
    last, _ = _last_writer(jnp.shape(x), index)
    v = jnp.broadcast_to(v, jnp.shape(last))
    return x.at[index].set(jnp.reshape(jnp.reshape(v, -1)[jnp.reshape(last, -1)], jnp.shape(last)))


def inplace_add(x, index, v):
    """``x[index] += v`` as NumPy does it: once per distinct element, with its last ``v``."""
    if not _may_repeat(index):
        return x.at[index].add(v)
    mask = _last_mask(jnp.shape(x), index)
    return x.at[index].add(jnp.where(mask, v, jnp.zeros((), jnp.result_type(v))))


def inplace_multiply(x, index, v):
    """``x[index] *= v`` as NumPy does it: once per distinct element, with its last ``v``."""
    if not _may_repeat(index):
        return x.at[index].multiply(v)
    mask = _last_mask(jnp.shape(x), index)
    return x.at[index].multiply(jnp.where(mask, v, jnp.ones((), jnp.result_type(v))))


def take_written(g, index):
    """``g[index]`` with zeros where a repeated index's write was overwritten by a later one: the
    adjoint that reaches the values written by ``x[index] = v`` (or ``+=``, ``*=``)."""
    if not _may_repeat(index):
        return g[index]
    return jnp.where(_last_mask(jnp.shape(g), index), g[index], jnp.zeros((), jnp.result_type(g)))


def transpose_adjoint(g, axes=None):
    """Adjoint of transpose: transpose back with the inverse permutation."""
    if axes is None:
        return jnp.transpose(g)
    inverse = [0] * len(axes)
    for i, a in enumerate(axes):
        inverse[a % len(axes)] = i
    return jnp.transpose(g, inverse)


def unconcatenate(g, arrays, k, axis=0):
    """The piece of ``g`` that came from ``arrays[k]`` in ``concatenate(arrays, axis)``."""
    if axis is None:
        sizes = [jnp.size(a) for a in arrays]
        start = sum(sizes[:k])
        return jnp.reshape(g[start : start + sizes[k]], jnp.shape(arrays[k]))
    ax = axis % jnp.ndim(g)
    start = sum(jnp.shape(a)[ax] for a in arrays[:k])
    return lax.slice_in_dim(g, start, start + jnp.shape(arrays[k])[ax], axis=ax)


def roll_adjoint(g, shift, axis=None):
    """Adjoint of roll: roll back by the negated shift."""
    if isinstance(shift, tuple):
        shift = tuple(-s for s in shift)
    else:
        shift = -shift
    return jnp.roll(g, shift, axis)


def diag_adjoint(g, x, k=0):
    """Adjoint of diag: extract the diagonal (for a vector input) or embed it (for a matrix)."""
    if jnp.ndim(x) == 1:
        return jnp.diagonal(g, offset=k)
    length = jnp.shape(g)[0]
    rows = jnp.arange(length) + max(-k, 0)
    cols = jnp.arange(length) + max(k, 0)
    return jnp.zeros(jnp.shape(x), jnp.result_type(g)).at[rows, cols].set(g)


def linspace_adjoint(g, num, which):
    """Adjoint of ``linspace(start, stop, num)`` (``start + (stop - start) * k / (num - 1)`` along a
    new first axis) with respect to ``start`` or ``stop``: ``g`` weighted by ``1 - t`` or ``t``."""
    t = (
        jnp.linspace(0.0, 1.0, num, dtype=jnp.result_type(g))
        if num > 1
        else jnp.zeros((num,), jnp.result_type(g))
    )
    weight = t if which == "stop" else 1 - t
    return jnp.tensordot(weight, g, axes=(0, 0))


def trace_adjoint(g, x, offset=0, axis1=0, axis2=1):
    """Adjoint of trace over ``axis1`` and ``axis2`` (NumPy's default: the first two axes): ``g`` on
    the (offset) diagonal of those axes, broadcast along the others."""
    nd = jnp.ndim(x)
    a1, a2 = axis1 % nd, axis2 % nd
    eye = jnp.eye(jnp.shape(x)[a1], jnp.shape(x)[a2], k=offset, dtype=jnp.result_type(g))
    if a1 > a2:
        eye = eye.T
    shape = [1] * nd
    shape[min(a1, a2)], shape[max(a1, a2)] = eye.shape
    return jnp.expand_dims(g, (min(a1, a2), max(a1, a2))) * jnp.reshape(eye, shape)
