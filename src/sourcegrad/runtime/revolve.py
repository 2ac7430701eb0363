"""Binomial checkpointing (revolve) for ``for`` loops: ``checkpoint="binomial"``.

A loop of n iterations (n is known while tracing) keeps ``slots`` copies of its carry instead of
n tape rows. The forward (``binomial_scan``) runs the loop once and keeps the carry before the
iterations of revolve's first sweep; the backward (``binomial_scan_adjoint``) is the recompute
sweep of ``runtime.loops.recompute_sweep`` with revolve's split: with every gap of l iterations
and f free slots it advances ``revolve_split(l, f)`` iterations before keeping the next
checkpoint, which minimises the number of steps recomputed (Griewank and Walther, "Algorithm 799:
revolve", ACM TOMS 2000). Memory: the slots and the stacked outputs, whatever the trip count.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .loops import _get, _put, recompute_sweep

__all__ = [
    "BINOMIAL_SLOTS",
    "binomial_slots",
    "revolve_split",
    "revolve_split_traced",
    "revolve_positions",
    "binomial_scan",
    "binomial_scan_adjoint",
]

#: How many copies of the loop carry ``checkpoint="binomial"`` keeps (as a while loop's slots).
BINOMIAL_SLOTS = 32


def binomial_slots(spec) -> int | None:
    """The slots of a ``"binomial"`` / ``"binomial:N"`` checkpoint value; None for other values.
    Raises ValueError for ``"binomial:"`` followed by anything but an int of at least 2."""
    if not isinstance(spec, str) or spec.partition(":")[0] != "binomial":
        return None
    _, colon, count = spec.partition(":")
    if not colon:
        return BINOMIAL_SLOTS
    if not count.strip().isdigit() or int(count) < 2:
        raise ValueError(f"{spec!r} needs at least 2 slots (one for the loop's start, one free)")
    return int(count)


def revolve_split(gap: int, free: int) -> int:
    """How many iterations to advance from a checkpoint before keeping the next one, with ``gap``
    iterations to reverse from that checkpoint and ``free`` slots (revolve's rule)."""
    if gap - 1 <= free:
        return 1
    snaps = free + 1
    reps, rng = 0, 1
    while rng < gap:  # rng = C(snaps + reps, reps): the longest gap `reps` recomputations reverse
        reps += 1
        rng = rng * (reps + snaps) // reps
    b1 = rng * reps // (snaps + reps)
    b2 = b1 * snaps // (snaps + reps - 1) if snaps > 1 else 1
    b3 = 0 if snaps == 1 else (b2 * (snaps - 1) // (snaps + reps - 2) if snaps > 2 else 1)
    b4 = b2 * (reps - 1) // snaps
    b5 = 0 if snaps < 3 else (b3 * (snaps - 2) // reps if reps > 1 else 1)
    if gap <= b1 + b3:
        m = b4
    elif gap >= rng - b5:
        m = b1
    else:
        m = gap - b2 - b3
    return max(m, 1)


def revolve_split_traced(gap, free):
    """``revolve_split`` on traced int32 values. Written so that no product exceeds
    gap * (free + 2): C(s + r, r) = C(s + r - 1, r - 1) + C(s + r - 1, r), the last term being
    C(s + r - 1, r - 1) * s / r exactly, and b1 = C(s + r - 1, r - 1) is the previous rng."""
    gap = jnp.asarray(gap, jnp.int32)
    snaps = jnp.asarray(free, jnp.int32) + 1

    def grow(c):
        reps, rng, _ = c
        reps = reps + 1
        return reps, rng + rng * snaps // reps, rng

    zero, one = jnp.int32(0), jnp.int32(1)
    reps, rng, b1 = lax.while_loop(lambda c: c[1] < gap, grow, (zero, one, zero))
    b2 = jnp.where(snaps > 1, b1 * snaps // jnp.maximum(snaps + reps - 1, 1), 1)
    b3 = jnp.where(
        snaps == 1, 0, jnp.where(snaps > 2, b2 * (snaps - 1) // jnp.maximum(snaps + reps - 2, 1), 1)
    )
    b4 = b2 * (reps - 1) // snaps
    b5 = jnp.where(snaps < 3, 0, jnp.where(reps > 1, b3 * (snaps - 2) // jnp.maximum(reps, 1), 1))
    m = jnp.where(gap <= b1 + b3, b4, jnp.where(gap >= rng - b5, b1, gap - b2 - b3))
    return jnp.where(gap - 1 <= snaps - 1, 1, jnp.maximum(m, 1))


def revolve_positions(n: int, slots: int) -> list:
    """The iterations before which revolve's first sweep keeps the carry: 0, then each
    ``revolve_split`` further on while slots are free and more than one iteration is left."""
    positions = [0] if n > 0 else []
    while positions and len(positions) < slots and n - positions[-1] > 1:
        positions.append(positions[-1] + revolve_split(n - positions[-1], slots - len(positions)))
    return positions


def _length(xs) -> int:
    return jax.tree_util.tree_leaves(xs)[0].shape[0]


def _check(n: int, slots: int) -> None:
    if slots < 2:
        raise ValueError(f"binomial checkpointing needs at least 2 slots, not {slots}")
    if n * (slots + 2) >= 2**31:
        raise ValueError(f"binomial checkpointing of {n} iterations with {slots} slots overflows int32")


def binomial_scan(step, init, xs, slots):
    """``lax.scan(step, init, xs)`` that keeps the carry before the iterations of
    ``revolve_positions(n, slots)`` in a buffer of ``slots`` rows instead of the tape. Returns
    (the final carry, (the iteration of each slot, the carries, slots used))."""
    n = _length(xs)
    _check(n, slots)
    positions = revolve_positions(n, slots)
    slot_of = np.full((n,), -1, np.int32)  # the slot iteration k's carry goes to, or -1
    slot_of[positions] = np.arange(len(positions), dtype=np.int32)
    where = np.zeros((slots,), np.int32)
    where[: len(positions)] = positions
    states = jax.tree_util.tree_map(lambda s: jnp.zeros((slots,) + jnp.shape(s), jnp.result_type(s)), init)

    def body(loop, row):
        carry, states = loop
        x, slot = row
        keep, at = slot >= 0, jnp.maximum(slot, 0)  # branch-free: row `at` is rewritten as it is
        states = jax.tree_util.tree_map(lambda b, v: b.at[at].set(jnp.where(keep, v, b[at])), states, carry)
        carry, _ = step(carry, x)  # the tape row is not kept
        return (carry, states), None

    (carry, states), _ = lax.scan(body, (init, states), (xs, jnp.asarray(slot_of)))
    return carry, (jnp.asarray(where), states, jnp.int32(len(positions)))


def binomial_scan_adjoint(step, step_adjoint, init, xs, saved, slots):
    """The reversed ``lax.scan(step_adjoint, init, (xs, tape))`` over a ``binomial_scan``'s
    iterations: the recompute sweep with revolve's split. The adjoint step receives ``(its
    iteration's xs, its tape row)``. Returns (carry, stacked outputs), as ``lax.scan`` does."""
    where, states, used = saved
    n = _length(xs)
    _check(n, slots)
    x0, state0 = (
        jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(a.shape[1:], a.dtype), t) for t in (xs, states)
    )
    row = jax.eval_shape(step, state0, x0)[1]
    y = jax.eval_shape(step_adjoint, init, (x0, row))[1]
    ys = jax.tree_util.tree_map(lambda s: jnp.zeros((n,) + s.shape, s.dtype), y)
    if n == 0:  # no iteration to reverse
        return init, ys

    def forward(k, state):
        return step(state, _get(xs, k))

    def adjoint(k, loop, row):
        carry, ys = loop
        carry, y = step_adjoint(carry, (_get(xs, k), row))
        return carry, _put(ys, k, y)

    return recompute_sweep(forward, adjoint, (init, ys), (where, states, used, n), revolve_split_traced)
