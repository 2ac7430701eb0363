"""The helpers that generated adjoint code calls.

Plain JAX functions with no dependency on the rest of sourcegrad, so that a
module written by ``sourcegrad emit`` can carry copies of the ones it uses and
run where sourcegrad is not installed. Every helper here is documented by what
it undoes; all shape logic runs while JAX traces (shapes are static), so a
helper whose work is a no-op for the shapes at hand costs nothing.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

__all__ = [
    "SeedError",
    "seed_like",
    "cast_like",
    "unbroadcast",
    "unreduce",
    "reduced_size",
    "tie_split",
    "extremum_adjoint",
    "prod_adjoint",
    "var_adjoint",
    "std_adjoint",
    "norm_adjoint",
    "cumsum_adjoint",
    "matmul_adjoint_lhs",
    "matmul_adjoint_rhs",
    "dot_adjoint_lhs",
    "dot_adjoint_rhs",
    "inner_adjoint_lhs",
    "inner_adjoint_rhs",
    "einsum_adjoint",
    "transpose_adjoint",
    "unconcatenate",
    "roll_adjoint",
    "diag_adjoint",
    "trace_adjoint",
    "clip_mask",
    "log_or_zero",
    "mT",
    "solve_outer",
    "stop_gradient",
    "no_grad",
    "range_end",
    "taped_while",
    "traced_bool",
    "segment_length",
    "checkpointed_scan",
    "checkpointed_scan_adjoint",
    "unslice",
]


class SeedError(ValueError):
    """Raised while tracing when the seed is missing or has the wrong shape."""


# ----- seeds and dtypes -----


def seed_like(y, seed):
    """The seed of the backward pass: d(out)/d(out) = 1 for a scalar output, else the caller's seed."""
    if seed is None:
        if jnp.size(y) != 1:
            raise SeedError(
                f"the function returns an array of shape {tuple(jnp.shape(y))}, not a scalar; "
                f"reverse mode computes seed @ Jacobian, so pass seed= an array of shape "
                f"{tuple(jnp.shape(y))} (PyTorch's y.backward(gradient) argument), e.g. "
                f"seed=np.ones({tuple(jnp.shape(y))}) to differentiate the sum of the outputs")
        return jnp.ones_like(y)
    seed = jnp.asarray(seed, dtype=jnp.result_type(y))
    if seed.shape != jnp.shape(y):
        raise SeedError(f"the seed has shape {seed.shape} but the output has shape "
                        f"{tuple(jnp.shape(y))}; they must match")
    return seed


def cast_like(grads, inputs):
    """Give each gradient the dtype of its input (float32 inputs get float32 gradients)."""
    return jax.tree_util.tree_map(lambda g, x: jnp.asarray(g).astype(jnp.result_type(x)), grads, inputs)


# ----- broadcasting and reductions -----


def unbroadcast(g, x):
    """Sum ``g`` over the axes along which ``x`` was broadcast, giving ``x``'s shape."""
    shape = jnp.shape(x)
    if jnp.shape(g) == shape:
        return g
    lead = jnp.ndim(g) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(shape) if d == 1 and jnp.shape(g)[lead + i] != 1)
    if axes:
        g = jnp.sum(g, axis=axes)
    return jnp.reshape(g, shape)


def _axes(x, axis):
    nd = jnp.ndim(x)
    if axis is None:
        return tuple(range(nd))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(sorted(a % nd for a in axis))


def unreduce(g, x, axis=None, keepdims=False):
    """Broadcast ``g``, the adjoint of a reduction of ``x`` over ``axis``, back to ``x``'s shape."""
    if not keepdims:
        g = jnp.expand_dims(g, _axes(x, axis))
    return jnp.broadcast_to(g, jnp.shape(x))


def reduced_size(x, axis=None):
    """How many elements of ``x`` each output of a reduction over ``axis`` combines."""
    shape = jnp.shape(x)
    return math.prod(shape[a] for a in _axes(x, axis))


def tie_split(x, y):
    """d maximum(x, y) / dx: 1 where x wins, 1/2 at ties, 0 where y wins (as jax.grad)."""
    return jnp.where(x > y, 1.0, jnp.where(x == y, 0.5, 0.0)).astype(jnp.result_type(x, y))


def extremum_adjoint(g, x, ans, axis=None, keepdims=False):
    """Adjoint of max/min: ``g`` goes to the winning elements, split equally among ties."""
    hit = (x == unreduce(ans, x, axis, keepdims)).astype(jnp.result_type(g))
    count = jnp.sum(hit, axis=_axes(x, axis), keepdims=True)
    return unreduce(g, x, axis, keepdims) * hit / count


def prod_adjoint(g, x, axis=None, keepdims=False):
    """Adjoint of prod: the product of all the other elements (exact with zeros)."""
    axes = _axes(x, axis)
    perm = tuple(a for a in range(jnp.ndim(x)) if a not in axes) + axes
    xt = jnp.transpose(x, perm)
    flat = jnp.reshape(xt, xt.shape[: jnp.ndim(x) - len(axes)] + (-1,))
    ones = jnp.ones_like(flat[..., :1])
    left = jnp.cumprod(jnp.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = jnp.flip(jnp.cumprod(jnp.concatenate([ones, jnp.flip(flat, -1)[..., :-1]], axis=-1),
                                 axis=-1), -1)
    others = jnp.reshape(left * right, xt.shape)
    others = jnp.transpose(others, tuple(perm.index(i) for i in range(jnp.ndim(x))))
    return unreduce(g, x, axis, keepdims) * others


def var_adjoint(g, x, axis=None, ddof=0, keepdims=False):
    """Adjoint of var: 2 (x - mean) / (N - ddof), times the broadcast ``g``."""
    centered = x - jnp.mean(x, axis=axis, keepdims=True)
    return unreduce(g, x, axis, keepdims) * 2 * centered / (reduced_size(x, axis) - ddof)


def std_adjoint(g, x, ans, axis=None, ddof=0, keepdims=False):
    """Adjoint of std: (x - mean) / ((N - ddof) std), times the broadcast ``g``."""
    centered = x - jnp.mean(x, axis=axis, keepdims=True)
    return unreduce(g / ans, x, axis, keepdims) * centered / (reduced_size(x, axis) - ddof)


def norm_adjoint(g, x, ans, ord=None, axis=None, keepdims=False):
    """Adjoint of linalg.norm for the 2-norm / Frobenius norm, the 1-norm and the max-norm of vectors."""
    vector = (axis is None and jnp.ndim(x) == 1) or isinstance(axis, int) or (
        isinstance(axis, tuple) and len(axis) == 1)
    if axis is None:
        axis = tuple(range(jnp.ndim(x)))
    if ord is None or ord == "fro" or (ord == 2 and vector):
        return unreduce(g / ans, x, axis, keepdims) * x
    if ord == 1 and vector:
        return unreduce(g, x, axis, keepdims) * jnp.sign(x)
    if ord in (math.inf, float("inf")) and vector:
        return extremum_adjoint(g, jnp.abs(x), ans, axis, keepdims) * jnp.sign(x)
    raise NotImplementedError(
        f"sourcegrad: the adjoint of linalg.norm with ord={ord!r} on this shape is not "
        f"implemented; use ord=None (2-norm/Frobenius), 1 or inf on vectors")


def cumsum_adjoint(g, x, axis=None):
    """Adjoint of cumsum: a cumulative sum from the end."""
    if axis is None:
        return jnp.reshape(jnp.flip(jnp.cumsum(jnp.flip(jnp.ravel(g)))), jnp.shape(x))
    return jnp.flip(jnp.cumsum(jnp.flip(g, axis), axis=axis), axis)


# ----- products -----


def mT(a):
    """Swap the last two axes (the matrix transpose of a stack of matrices)."""
    return jnp.swapaxes(a, -1, -2)


def solve_outer(gb, ans):
    """The adjoint of ``a`` in ``ans = solve(a, b)`` is ``-solve_outer(solve(a.T, g), ans)``."""
    if jnp.ndim(ans) == jnp.ndim(gb) and jnp.ndim(ans) >= 2:
        return jnp.matmul(gb, mT(ans))
    return jnp.expand_dims(gb, -1) * jnp.expand_dims(ans, -2)


def _contract(a, b, a_axis, b_axis):
    """``a`` and ``b`` contracted over one axis each, without materializing a transpose (inside a
    loop XLA would copy a transposed operand on every iteration)."""
    return lax.dot_general(a, b, (((a_axis,), (b_axis,)), ((), ())))


def matmul_adjoint_lhs(g, x, y):
    """Adjoint of ``x @ y`` with respect to x: ``g @ y.T``, for vectors and stacks of matrices."""
    if jnp.ndim(x) == 1 and jnp.ndim(y) == 1:
        return g * y
    if jnp.ndim(y) == 1:
        return unbroadcast(jnp.expand_dims(g, -1) * y, x)
    if jnp.ndim(x) == 1 and jnp.ndim(y) == 2:
        return _contract(y, g, 1, 0)
    if jnp.ndim(x) == 2 and jnp.ndim(y) == 2:
        return _contract(g, y, 1, 1)
    if jnp.ndim(x) == 1:
        return unbroadcast(jnp.matmul(jnp.expand_dims(g, -2), mT(y))[..., 0, :], x)
    return unbroadcast(jnp.matmul(g, mT(y)), x)


def matmul_adjoint_rhs(g, x, y):
    """Adjoint of ``x @ y`` with respect to y: ``x.T @ g``, for vectors and stacks of matrices."""
    if jnp.ndim(x) == 1 and jnp.ndim(y) == 1:
        return g * x
    if jnp.ndim(x) == 1:
        return unbroadcast(jnp.expand_dims(x, -1) * jnp.expand_dims(g, -2), y)
    if jnp.ndim(x) == 2 and jnp.ndim(y) == 1:
        return _contract(g, x, 0, 0)
    if jnp.ndim(x) == 2 and jnp.ndim(y) == 2:
        return _contract(x, g, 0, 0)
    if jnp.ndim(y) == 1:
        return unbroadcast(jnp.matmul(mT(x), jnp.expand_dims(g, -1))[..., 0], y)
    return unbroadcast(jnp.matmul(mT(x), g), y)


def dot_adjoint_lhs(g, a, b):
    """Adjoint of ``np.dot(a, b)`` with respect to a (np.dot's contraction rules)."""
    if jnp.ndim(a) == 0 or jnp.ndim(b) == 0:
        return unbroadcast(g * b, a)
    if jnp.ndim(b) == 1:
        return jnp.expand_dims(g, -1) * b
    # g: a.shape[:-1] + b.shape[:-2] + b.shape[-1:]; contract over b's batch and last axes
    nb = jnp.ndim(b)
    g_axes = tuple(range(jnp.ndim(a) - 1, jnp.ndim(g)))
    b_axes = tuple(range(nb - 2)) + (nb - 1,)
    return jnp.tensordot(g, b, axes=(g_axes, b_axes))


def dot_adjoint_rhs(g, a, b):
    """Adjoint of ``np.dot(a, b)`` with respect to b."""
    if jnp.ndim(a) == 0 or jnp.ndim(b) == 0:
        return unbroadcast(g * a, b)
    lead = tuple(range(jnp.ndim(a) - 1))
    out = jnp.tensordot(a, g, axes=(lead, lead))  # (n,) + b.shape[:-2] + (m,)  or (n,)
    if jnp.ndim(b) == 1:
        return out
    return jnp.moveaxis(out, 0, -2)


def inner_adjoint_lhs(g, a, b):
    """Adjoint of ``np.inner(a, b)`` (contraction over both last axes) with respect to a."""
    if jnp.ndim(a) == 0 or jnp.ndim(b) == 0:
        return unbroadcast(g * b, a)
    nb = jnp.ndim(b) - 1
    g_axes = tuple(range(jnp.ndim(g) - nb, jnp.ndim(g)))
    return jnp.tensordot(g, b, axes=(g_axes, tuple(range(nb))))


def inner_adjoint_rhs(g, a, b):
    """Adjoint of ``np.inner(a, b)`` with respect to b."""
    if jnp.ndim(a) == 0 or jnp.ndim(b) == 0:
        return unbroadcast(g * a, b)
    na = jnp.ndim(a) - 1
    return jnp.tensordot(g, a, axes=(tuple(range(na)), tuple(range(na))))


def _einsum_parts(subscripts: str, n_operands: int):
    spec = subscripts.replace(" ", "")
    if "." in spec:
        raise NotImplementedError("sourcegrad: einsum with '...' has no adjoint yet; "
                                  "write the axes out explicitly")
    if "->" in spec:
        ins, out = spec.split("->")
    else:
        ins = spec
        letters = ins.replace(",", "")
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    ins = ins.split(",")
    if len(ins) != n_operands:
        raise ValueError(f"einsum subscripts {subscripts!r} name {len(ins)} operands, "
                         f"got {n_operands}")
    return ins, out


def einsum_adjoint(subscripts, k, g, *operands):
    """Adjoint of ``einsum(subscripts, *operands)`` with respect to operand ``k``.

    Contract ``g`` with the other operands onto operand k's indices; indices that
    only operand k has are broadcast back; a repeated index (a diagonal) is
    rebuilt with an identity mask.
    """
    ins, out = _einsum_parts(subscripts, len(operands))
    target = ins[k]
    others = [(s, op) for i, (s, op) in enumerate(zip(ins, operands)) if i != k]
    available = set(out).union(*[set(s) for s, _ in others]) if others else set(out)
    unique = "".join(dict.fromkeys(target))
    kept = "".join(c for c in unique if c in available)
    expr = ",".join([out] + [s for s, _ in others]) + "->" + kept
    part = jnp.einsum(expr, g, *[op for _, op in others])
    sizes = {c: d for c, d in zip(target, jnp.shape(operands[k]))}
    # indices of operand k that nothing else has: the adjoint is constant along them
    if kept != unique:
        shape = tuple(sizes[c] if c in kept else 1 for c in unique)
        part = jnp.broadcast_to(jnp.reshape(part, shape), tuple(sizes[c] for c in unique))
    if unique != target:  # repeated index: place values on the diagonal
        eyes = [jnp.eye(sizes[c], dtype=part.dtype) for c in unique if target.count(c) > 1]
        letters = [c for c in unique if target.count(c) > 1]
        spec = unique + "".join("," + c + c.upper() for c in letters)
        rebuilt = "".join(c if target.index(c) == i else c.upper() for i, c in enumerate(target))
        part = jnp.einsum(spec + "->" + rebuilt, part, *eyes)
    return part


# ----- shapes -----


def unslice(g, x, index):
    """The adjoint of ``x[index]`` for a static basic index (ints, slices, None, ...): ``g`` put
    back where it came from, zeros elsewhere. A ``lax.pad``, which XLA fuses with what adds it,
    where ``.at[index].add`` would be a scatter; other indices fall back to the scatter."""
    shape = jnp.shape(x)
    items = index if isinstance(index, tuple) else (index,)
    if any(i is Ellipsis for i in items):
        at = items.index(Ellipsis)
        n_real = sum(1 for i in items if i is not None and i is not Ellipsis)
        items = items[:at] + (slice(None),) * (len(shape) - n_real) + items[at + 1:]
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
    out_axes = [p for p, item in enumerate(i for i in items if i is not None)
                if isinstance(item, (int, np.integer)) and not isinstance(item, bool)]
    if squeezed:
        g = jnp.reshape(g, [d for p, d in enumerate(jnp.shape(g)) if p not in squeezed])
    if out_axes:
        g = jnp.expand_dims(g, out_axes)
    return lax.pad(g, jnp.zeros((), jnp.result_type(g)), config)


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
        return jnp.reshape(g[start:start + sizes[k]], jnp.shape(arrays[k]))
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


def trace_adjoint(g, x, offset=0):
    """Adjoint of trace: ``g`` on the (offset) diagonal."""
    n, m = jnp.shape(x)[-2:]
    return jnp.expand_dims(g, (-2, -1)) * jnp.eye(n, m, k=offset, dtype=jnp.result_type(g))


# ----- elementwise -----


def clip_mask(a, a_min=None, a_max=None, which="a"):
    """Where the result of clip(a, a_min, a_max) = minimum(maximum(a, a_min), a_max) comes from:
    1 where it is ``which`` ("a", "a_min" or "a_max"), else 0."""
    low = a if a_min is None else jnp.maximum(a, a_min)
    if which == "a_max":
        hit = jnp.zeros(jnp.shape(low), bool) if a_max is None else low > a_max
    else:
        hit = (a >= a_min) if which == "a" and a_min is not None else (
            jnp.ones(jnp.shape(a), bool) if which == "a" else a < a_min)
        if a_max is not None:
            hit = hit & (low <= a_max)
    return hit.astype(jnp.result_type(a))


def log_or_zero(x):
    """log(x), with 0 where x == 0 (d x**y / dy at x = 0 is 0, as jax.grad gives)."""
    safe = jnp.where(x == 0, 1, x)
    return jnp.log(safe)


def taped_while(test, step, init, max_iter):
    """``while test(state): state, saved = step(state)``, for at most ``max_iter`` steps.

    What each step returns in ``saved`` is written to row k of a tape with
    ``max_iter`` rows, for the backward pass to read in reverse. Returns the final
    state, the tape, the number of steps run, and whether the loop was still
    running when the tape was full (then the gradient would be wrong: the caller
    reports it).
    """
    _, saved = jax.eval_shape(step, init)
    tape = jax.tree_util.tree_map(lambda s: jnp.zeros((max_iter,) + s.shape, s.dtype), saved)

    def cond(loop):
        k, state, _ = loop
        return (k < max_iter) & test(state)

    def body(loop):
        k, state, tape = loop
        state, saved = step(state)
        tape = jax.tree_util.tree_map(lambda t, v: t.at[k].set(v), tape, saved)
        return k + 1, state, tape

    k, state, tape = lax.while_loop(cond, body, (0, init, tape))
    return state, tape, k, test(state)


def segment_length(n, segment="sqrt"):
    """How many iterations a checkpointed loop recomputes at a time: about sqrt(n) by default."""
    if segment == "sqrt":
        return max(1, math.isqrt(n))
    return max(1, min(int(segment), n))


def _split(xs, n_main):
    main = jax.tree_util.tree_map(lambda a: a[:n_main], xs)
    rest = jax.tree_util.tree_map(lambda a: a[n_main:], xs)
    return main, rest


def _segments(xs, k, segment):
    return jax.tree_util.tree_map(lambda a: a.reshape((k, segment) + a.shape[1:]), xs)


def checkpointed_scan(step, init, xs, segment):
    """``lax.scan(step, init, xs)`` that keeps only the carry at the start of each segment of
    ``segment`` iterations (its checkpoints) instead of every iteration's tape; the iterations
    after the last whole segment keep their tape. ``checkpointed_scan_adjoint`` recomputes
    each segment's tape from its checkpoint. Memory: n / segment carries plus one segment's
    tape, instead of n tapes; time: the forward runs twice."""
    n = jax.tree_util.tree_leaves(xs)[0].shape[0]
    k = n // segment
    main, rest = _split(xs, k * segment)

    def run_segment(carry, seg_xs):
        out, _ = lax.scan(step, carry, seg_xs)  # this segment's tape is not kept
        return out, carry

    carry, checkpoints = lax.scan(run_segment, init, _segments(main, k, segment))
    carry, rest_tape = lax.scan(step, carry, rest)
    return carry, (checkpoints, rest_tape)


def checkpointed_scan_adjoint(step, step_adjoint, init, xs, saved, segment):
    """The reversed ``lax.scan(step_adjoint, ...)`` over the iterations of ``checkpointed_scan``:
    each segment's tape is recomputed from its checkpoint, then walked backwards. The adjoint
    step receives ``(its iteration's xs, its tape)``. Returns (carry, stacked outputs)."""
    checkpoints, rest_tape = saved
    n = jax.tree_util.tree_leaves(xs)[0].shape[0]
    k = n // segment
    main, rest = _split(xs, k * segment)
    carry, ys_rest = lax.scan(step_adjoint, init, (rest, rest_tape), reverse=True)

    def segment_adjoint(carry, seg):
        start, seg_xs = seg
        _, tape = lax.scan(step, start, seg_xs)  # recompute this segment's tape
        return lax.scan(step_adjoint, carry, (seg_xs, tape), reverse=True)

    carry, ys_main = lax.scan(segment_adjoint, carry, (checkpoints, _segments(main, k, segment)),
                              reverse=True)
    ys = jax.tree_util.tree_map(
        lambda m, r: jnp.concatenate([m.reshape((-1,) + m.shape[2:]), r]), ys_main, ys_rest)
    return carry, ys


def traced_bool(value):
    """A boolean array (not a Python bool): the flag that ``break`` sets is carried by the loop."""
    return jnp.asarray(value, dtype=bool)


def range_end(start, stop, step):
    """The value of ``i`` after ``i = start; while i < stop: ...; i += step``."""
    trips = max(0, -(-(stop - start) // step))
    return start + trips * step


def stop_gradient(x):
    """The identity, except that no gradient flows through it: write ``stop_gradient(x)`` in a
    differentiated function to treat ``x`` as a constant (PyTorch's ``x.detach()``)."""
    return jax.lax.stop_gradient(x)


class no_grad:
    """``with no_grad():`` marks a block whose values are constants for the backward pass.

    Inside a function differentiated by sourcegrad the block's statements run
    forward as written and get no adjoint code (PyTorch's ``torch.no_grad()``).
    Called outside, it is a context manager that does nothing.
    """

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# ----- forward mode (the tangent code of sourcegrad.jvp) -----


def broadcast_like(t, ans):
    """The tangent ``t`` of a broadcast argument, spread to the result's shape (the transpose of
    ``unbroadcast``): ``d_y = broadcast_like(d_b, y)`` for ``y = x + b`` with ``b`` constant."""
    return jnp.broadcast_to(t, jnp.shape(ans))


def einsum_tangent(subscripts, k, t, *operands):
    """The contribution of operand ``k``'s tangent ``t`` to the tangent of
    ``einsum(subscripts, *operands)``: the same contraction with operand k replaced by ``t``."""
    ops = list(operands)
    ops[k] = t
    return jnp.einsum(subscripts, *ops)


__all__ += ["broadcast_like", "einsum_tangent"]
