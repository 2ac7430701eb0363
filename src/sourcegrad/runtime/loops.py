"""Loops that keep a tape: the taped while loop and checkpointed scans."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax import lax


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


def tape_row(tape, k):
    """Row ``k`` of a tape entry that holds a record rather than one array (a called function's
    residual): that row of each of its arrays."""
    return jax.tree_util.tree_map(lambda t: t[k], tape)


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

    carry, ys_main = lax.scan(
        segment_adjoint, carry, (checkpoints, _segments(main, k, segment)), reverse=True
    )
    ys = jax.tree_util.tree_map(
        lambda m, r: jnp.concatenate([m.reshape((-1,) + m.shape[2:]), r]), ys_main, ys_rest
    )
    return carry, ys


#: How many copies of the loop state a data-dependent while loop without ``max_iter`` keeps.
WHILE_CHECKPOINTS = 32


def _put(buf, i, value):
    return jax.tree_util.tree_map(lambda b, v: b.at[i].set(v), buf, value)


def _get(buf, i):
    return jax.tree_util.tree_map(lambda b: b[i], buf)


def checkpointed_while(test, step, init, slots):
    """``while test(state): state, _ = step(state)`` keeping ``slots`` copies of the state.

    Online checkpointing for a loop of unknown length: the state before iteration k is kept
    when k is a multiple of the spacing (1 at first); when half the slots are full, every
    other checkpoint is dropped and the spacing doubles, so at most ``slots // 2`` are kept
    by the forward pass, spaced at most 2n / (slots // 2) apart, whatever the trip count n.
    The other half is for the backward pass (``checkpointed_while_adjoint``). Returns the final
    state and the checkpoints: (iteration of each slot, the states, slots used, n).
    """
    if slots < 4:
        raise ValueError(f"a checkpointed while loop needs at least 4 slots, not {slots}")
    half = slots // 2
    keep = (half + 1) // 2
    states = jax.tree_util.tree_map(lambda s: jnp.zeros((slots,) + jnp.shape(s), jnp.result_type(s)), init)
    where = jnp.zeros((slots,), jnp.int32)

    def thin(kept):  # keep the even checkpoints (iterations 0, 2s, 4s, ...): half the slots free
        where, states, used, spacing = kept
        states = jax.tree_util.tree_map(lambda b: b.at[:keep].set(b[0:half:2]), states)
        return where.at[:keep].set(where[0:half:2]), states, jnp.int32(keep), spacing * 2

    def take(kept, k, state):  # a checkpoint of the state before iteration k, if k is due
        where, states, used, spacing = kept
        due = k % spacing == 0  # written without a branch: row `used` (< slots) is free anyway
        states = jax.tree_util.tree_map(
            lambda b, v: b.at[used].set(jnp.where(due, v, b[used])), states, state
        )
        return where.at[used].set(jnp.where(due, k, where[used])), states, used + due, spacing

    def body(loop):
        k, state, kept = loop
        kept = lax.cond((k % kept[3] == 0) & (kept[2] == half), thin, lambda c: c, kept)
        return k + 1, step(state)[0], take(kept, k, state)

    kept = (where, states, jnp.int32(0), jnp.int32(1))
    n, state, (where, states, used, _) = lax.while_loop(
        lambda loop: test(loop[1]), body, (jnp.int32(0), init, kept)
    )
    return state, (where, states, used, n)


def checkpointed_while_adjoint(step, step_adjoint, init, checkpoints):
    """The adjoint steps of a ``checkpointed_while`` loop, last iteration first.

    ``step_adjoint(carry, row)`` needs iteration k's tape row, which is recomputed from the
    nearest checkpoint at or before k (the recompute sweep, ``recompute_sweep``). While slots are
    free, the sweep bisects: it advances to the middle of the gap and keeps a checkpoint there, so
    reversing a gap of g iterations costs about g log2(g) / 2 steps; with every slot used it
    advances straight to k (cost: the gap). Memory: the slots, whatever the trip count.
    """
    return recompute_sweep(
        lambda k, state: step(state),
        lambda k, carry, row: step_adjoint(carry, row),
        init,
        checkpoints,
        bisection_split,
    )


def bisection_split(gap, free):
    """How far past the nearest checkpoint the while loop's sweep keeps the next one: halfway."""
    return gap // 2


def recompute_sweep(step, adjoint, carry, checkpoints, split):
    """Run ``adjoint(k, carry, row_k)`` for k = n - 1 down to 0, recomputing each tape row ``row_k``
    (``step(k, state) -> (next state, row_k)``) from the nearest checkpoint at or before k.

    ``checkpoints``: (the iteration of each slot, the states before them, slots used, n). While
    slots are free and the nearest checkpoint j is before k, the sweep advances ``split(gap, free)``
    iterations (gap = k + 1 - j: the iterations left to reverse from j) and keeps a checkpoint there;
    otherwise it advances to k and runs the adjoint, dropping j once k reaches it. ``split`` is the
    schedule: bisection for while loops, revolve's for ``for`` loops (``runtime.revolve``)."""
    where, states, used, n = checkpoints
    slots = where.shape[0]

    def advance(j, state, steps):  # ``steps`` iterations from j; their tape rows are not kept
        return lax.fori_loop(j, j + steps, lambda i, s: step(i, s)[0], state)

    def keep(loop):  # keep a checkpoint ``split`` iterations past the nearest one
        k, top, where, states, carry = loop
        j = where[top - 1]
        m = split(k + 1 - j, slots - top)
        state = advance(j, _get(states, top - 1), m)
        return k, top + 1, where.at[top].set(j + m), _put(states, top, state), carry

    def reverse_one(loop):  # recompute iteration k's tape row, run its adjoint
        k, top, where, states, carry = loop
        j = where[top - 1]
        state = advance(j, _get(states, top - 1), k - j)
        carry = adjoint(k, carry, step(k, state)[1])
        return k - 1, jnp.where(j == k, top - 1, top), where, states, carry

    def body(loop):
        k, top, where, _, _ = loop
        return lax.cond((where[top - 1] < k) & (top < slots), keep, reverse_one, loop)

    loop = (jnp.asarray(n, jnp.int32) - 1, jnp.asarray(used, jnp.int32), where, states, carry)
    return lax.while_loop(lambda loop: loop[0] >= 0, body, loop)[4]
