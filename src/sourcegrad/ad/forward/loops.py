"""The tangents of loops: a loop carries its active values' tangents beside them, in the same
carry (no tape: forward mode needs nothing of an iteration once the next one starts).

* a ``for`` loop is still one ``lax.scan``: its carry gains ``d_<carried>`` for each active
  carried value, and it scans the tangent of each active array it iterates over;
* a data-dependent ``while`` loop is still one ``lax.while_loop``, with no bound: its state
  gains the tangents, and its test reads the primal only.

Both stay ``ir.For`` / ``ir.While`` nodes with a longer carry, so ``backend/lower.py`` writes
them from the same templates as the primal's loops.
"""

from __future__ import annotations

from dataclasses import replace
from typing import cast

from ...normal import ir

__all__ = ["for_loop", "while_loop"]


def _carries(ctx, loop, before: list, tail: list) -> tuple:
    """The loop's carry with a tangent entry after each active one; zeros where a tangent
    starts (an inactive initial value) or restarts (an inactive update)."""
    out = list(loop.carry)
    for c in loop.carry:
        if not any(ctx.active(n) for n in (c.param, c.update, c.out)):
            continue
        d_param = ctx.tangent(c.param)
        init = ctx.tangent_or_zeros(c.init, before, loop.origin, f"{d_param}_init")
        update = ctx.tangent_or_zeros(ir.Name(c.update), tail, loop.origin)
        out.append(ir.Carry(d_param, init, update.id, ctx.tangent(c.out)))
    return tuple(out)


def for_loop(ctx, s: ir.For) -> list:
    before: list = []
    tail: list = []
    carry = _carries(ctx, s, before, tail)
    elems = [(t, it) for t, it in zip(s.targets, s.iters) if isinstance(it, ir.ArrayIter) and ctx.active(t)]
    if len(carry) == len(s.carry) and not elems:
        return [s]
    body = ctx.block(s.body) + tail
    targets = tuple(s.targets) + tuple(ctx.tangent(t) for t, _ in elems)
    # cast is safe: an active target iterates over an active array, and only Names are active
    iters = tuple(s.iters) + tuple(
        ir.ArrayIter(ir.Name(ctx.tangent(cast(ir.Name, it.array).id))) for _, it in elems
    )
    return before + [replace(s, targets=targets, iters=iters, carry=carry, body=tuple(body))]


def while_loop(ctx, s: ir.While) -> list:
    before: list = []
    tail: list = []
    carry = _carries(ctx, s, before, tail)
    if len(carry) == len(s.carry):
        return [s]
    body = ctx.block(s.body) + tail
    return before + [replace(s, carry=carry, body=tuple(body))]
