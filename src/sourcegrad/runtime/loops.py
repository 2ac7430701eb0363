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
