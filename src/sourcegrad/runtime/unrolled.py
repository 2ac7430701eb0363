"""What runs while JAX traces, unrolled: loops whose shapes change with the index, and recursion.

* ``unrolled_scan`` is ``lax.scan`` run as a Python loop: a loop whose slices' bounds depend on
  its index (``M[1:, :j]``) makes arrays of another shape in each iteration, which one compiled
  loop body cannot; the index is a Python int in every iteration, and what each iteration saves
  is kept in a list (a row per iteration) instead of a stacked array.
* ``static_recursion`` guards a generated function that calls itself: the recursion is decided by
  shapes and static arguments, so it ends while JAX traces, or it is stopped at ``limit`` calls
  deep.

Both raise ``TraceLimitError`` when their limit is reached; the API reports it on the user's line.
``Residual`` is the residual of such a function (or of any callee whose residual holds Python
values): a loop that saves it keeps those values Python values.
"""

from __future__ import annotations

import jax


class TraceLimitError(ValueError):
    """A loop unrolled while tracing, or a recursion resolved while tracing, went past its limit
    (``args``: what happened, how to fix it)."""


def unrolled_scan(step, init, xs, length=None, reverse=False, rows=0, limit=100):
    """``lax.scan(step, init, xs, length, reverse)`` as a Python loop, at most ``limit``
    iterations. ``xs``: a tuple of sequences (a ``range``, whose items stay Python ints; a list;
    an array, by rows), or None with ``length``. Each iteration's output (``rows`` values, or
    None) is returned as one list per value, in iteration order (``ys[k]`` belongs to ``xs[k]``,
    reversed or not), so values of different shapes can be kept."""
    n = length if xs is None else len(xs[0])
    if n > limit:
        raise TraceLimitError(
            f"this loop runs {n} times and is unrolled while JAX traces (the bounds of its "
            f"slices depend on its index, so their shapes change from one iteration to the "
            f"next, or NumPy shortens a window `x[i:i + k]` near the end, which a compiled loop "
            f"cannot do); at most {limit} iterations are unrolled",
            "slice with bounds that do not depend on the index, index with integers (`x[i]`) "
            "and stack the rows, or use np.convolve / np.correlate for a window sum",
        )
    out: list = [None] * n
    carry = init
    for k in reversed(range(n)) if reverse else range(n):
        carry, out[k] = step(carry, None if xs is None else tuple(x[k] for x in xs))
    if not rows:
        return carry, None
    return carry, tuple([y[i] for y in out] for i in range(rows))


def static_recursion(limit=100):
    """The decorator of a generated function that calls itself: at most ``limit`` calls deep
    (in each thread) while JAX traces."""
    import threading  # imported here: `emit` copies this function into a standalone module

    def decorate(fn):
        depth = threading.local()

        def guarded(*args):
            level = getattr(depth, "level", 0)
            if level >= limit:
                raise TraceLimitError(
                    f"this call recurses more than {limit} calls deep while "
                    f"JAX traces (the shapes and static arguments that decide the recursion do "
                    f"not reach its end)",
                    "make each call get closer to a case that returns without calling itself "
                    "(a smaller shape, a smaller int), or write the recursion as a loop",
                )
            depth.level = level + 1
            try:
                return fn(*args)
            finally:
                depth.level = level

        guarded.__name__, guarded.__doc__ = fn.__name__, fn.__doc__
        return guarded

    return decorate


@jax.tree_util.register_pytree_node_class
class Residual:
    """A called function's residual, the values its backward reads. Its arrays are the pytree's
    leaves; the Python values among them (shapes, static arguments, the tests of static ifs, what
    a loop unrolled while tracing saved) are part of its structure, so a rolled loop that saves
    the residual (``lax.scan`` stacks its leaves) keeps them Python values, as the backward needs
    them (``if eq:``, ``x[:h]``)."""

    def __init__(self, *values):
        self.values = values

    def __iter__(self):
        return iter(self.values)

    def tree_flatten(self):
        leaves, tree = jax.tree_util.tree_flatten(self.values)
        arrays = tuple(hasattr(v, "shape") for v in leaves)
        kept = tuple(v for v, a in zip(leaves, arrays) if a)
        return kept, (tree, arrays, tuple(v for v, a in zip(leaves, arrays) if not a))

    @classmethod
    def tree_unflatten(cls, aux, kept):
        tree, arrays, python = aux
        kept, python = iter(kept), iter(python)
        leaves = [next(kept) if a else next(python) for a in arrays]
        return cls(*jax.tree_util.tree_unflatten(tree, leaves))
