"""Seeds, dtypes, broadcasting and the small helpers every adjoint uses."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp


class SeedError(ValueError):
    """Raised while tracing when the seed is missing or has the wrong shape."""


class NoDerivativeError(ValueError):
    """Raised while tracing by a derivative that is not defined for the shapes at hand
    (``svd(a, full_matrices=True)`` of a non-square matrix): ``(what, how to fix)``."""


def seed_like(y, seed):
    """The seed of the backward pass: d(out)/d(out) = 1 for a scalar output, else the caller's seed."""
    if seed is None:
        if jnp.size(y) != 1:
            raise SeedError(
                f"the function returns an array of shape {tuple(jnp.shape(y))}, not a scalar; "
                f"reverse mode computes seed @ Jacobian, so pass seed= an array of shape "
                f"{tuple(jnp.shape(y))} (PyTorch's y.backward(gradient) argument), e.g. "
                f"seed=np.ones({tuple(jnp.shape(y))}) to differentiate the sum of the outputs"
            )
        return jnp.ones_like(y)
    seed = jnp.asarray(seed, dtype=jnp.result_type(y))
    if seed.shape != jnp.shape(y):
        raise SeedError(
            f"the seed has shape {seed.shape} but the output has shape {tuple(jnp.shape(y))}; they must match"
        )
    return seed


def cast_like(grads, inputs):
    """Give each gradient the dtype of its input (float32 inputs get float32 gradients; a real input
    gets the real part of a gradient that went through complex values)."""
    return jax.tree_util.tree_map(in_dtype_of, grads, inputs)


def in_dtype_of(g, x):
    """The gradient ``g`` in the dtype of its input ``x``: the real part for a real ``x`` (a gradient
    regenerated for second order returns each gradient so, as ``cast_like`` does for first order)."""
    g = jnp.asarray(g)
    if jnp.iscomplexobj(g) and not jnp.iscomplexobj(x):
        g = jnp.real(g)
    return g.astype(jnp.result_type(x))


def unbroadcast(g, x):
    """Sum ``g`` over the axes along which ``x`` was broadcast, giving ``x``'s shape."""
    shape = jnp.shape(x)
    if jnp.iscomplexobj(g) and not jnp.iscomplexobj(x):  # a real x met a complex value: JAX's
        g = jnp.real(g)  # convention (the transpose of making x complex keeps the real part)
    if jnp.shape(g) == shape:
        return g
    lead = jnp.ndim(g) - len(shape)
    if lead < 0:  # x had size-1 leading axes that NumPy dropped (``y[0] = x`` with x of shape (1,))
        g, lead = jnp.reshape(g, (1,) * -lead + jnp.shape(g)), 0
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(shape) if d == 1 and jnp.shape(g)[lead + i] != 1
    )
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


def traced_bool(value):
    """A boolean array (not a Python bool): the flag that ``break`` sets is carried by the loop."""
    return jnp.asarray(value, dtype=bool)


def range_end(start, stop, step):
    """The value of ``i`` after ``i = start; while i < stop: ...; i += step``."""
    trips = max(0, -(-(stop - start) // step))
    return start + trips * step


def nested_range(outer, start, stop, step):
    """The index pairs of ``for i in range(*outer): for j in range(start, stop, step)``, where the inner
    bounds ``start`` and ``stop`` are ``(a, b)``: ``a * i + b`` (``a`` is -1, 0 or 1). Two int arrays
    (the ``i`` and the ``j`` of each pair, in the order the two loops visit them), known while tracing:
    a triangular loop compiled as one loop over its pairs."""
    pairs = [
        (i, j) for i in range(*outer) for j in range(start[0] * i + start[1], stop[0] * i + stop[1], step)
    ]
    return (
        jnp.asarray([i for i, _ in pairs], dtype=int),
        jnp.asarray([j for _, j in pairs], dtype=int),
    )


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


def vjp_of(fn, g, args, k=0, **kwargs):
    """Adjoint of ``fn(*args, **kwargs)`` with respect to ``args[k]``: JAX's vector-Jacobian product of
    that one call, for the few primitives whose adjoint is an algorithm rather than a formula
    (cumprod with zeros, quantiles, matrix functions). Only this call is differentiated by JAX.
    ``k`` may name a keyword argument instead (``kwargs[k]``); second order differentiates the
    runtime helpers that are pure JAX functions this way (``transforms/jax_helpers.py``). When
    ``args[k]`` is a tuple, its integer members (a count, an axis) are held: their adjoint is None."""
    one, primal = along(fn, args, k, kwargs)
    of_moving, moving, rebuild = _floats_of(one, primal)
    out, pullback = jax.vjp(of_moving, *moving)
    # a real cotangent of a complex result (sourcegrad's adjoints of real parts): as complex
    g = jax.tree_util.tree_map(
        lambda o, c: jnp.asarray(c, o.dtype) if jnp.iscomplexobj(o) and not jnp.iscomplexobj(c) else c, out, g
    )
    return rebuild(pullback(g))


def along(fn, args, k, kwargs):
    """``fn`` as a function of its argument ``k`` (a position, or a keyword's name), the others held;
    and that argument's value."""
    args = list(args)
    if isinstance(k, str):
        return (lambda v: fn(*args, **{**kwargs, k: v})), kwargs[k]
    return (lambda v: fn(*args[:k], v, *args[k + 1 :], **kwargs)), args[k]


def _floats_of(one, primal):
    """``one`` as a function of the floating-point leaves of ``primal`` (an array or a tuple of
    them and Python numbers), those leaves, and how to put their adjoints back in its structure
    (None for the others: integers such as a repeat count are held as they are, untraced)."""
    leaves, tree = jax.tree_util.tree_flatten(primal)
    moving = [i for i, leaf in enumerate(leaves) if jnp.issubdtype(jnp.result_type(leaf), jnp.inexact)]

    def of_moving(*values):
        full = list(leaves)
        for i, v in zip(moving, values):
            full[i] = v
        return one(jax.tree_util.tree_unflatten(tree, full))

    def rebuild(parts):
        full = [None] * len(leaves)
        for i, part in zip(moving, parts):
            full[i] = part
        return jax.tree_util.tree_unflatten(tree, full)

    return of_moving, [jnp.asarray(leaves[i]) for i in moving], rebuild


def debug_print(fmt, *values):
    """``print(...)`` in a differentiated function: prints the values each time the compiled
    program runs (``jax.debug.print``), not once while JAX traces."""
    jax.debug.print(fmt, *values)
    return None


class StaticCheckError(AssertionError):
    """Raised while tracing by ``static_check``: an ``assert`` on a value known while tracing
    failed (``args``: the message, ``file:line: assert ...``); the API locates it."""


class UnboundNameError(NameError):
    """Raised while tracing by ``defined_check``: a name is read where Python would not have
    assigned it (``args``: the message, ``file:line: `y` is not defined: ...``)."""


def static_check(ok, message):
    """``assert`` on a value known while tracing (a shape, a static argument): checked while
    JAX traces, as Python checks it."""
    if not ok:
        raise StaticCheckError(message)
    return None


def defined_check(ok, message):
    """Reading a name that one side of an ``if`` (or a loop that may run no iteration) assigns,
    where the test is known while tracing: Python's NameError when it was not assigned."""
    if not ok:
        raise UnboundNameError(message)
    return None
