"""Reversing a block: each statement, last first, by the handler of its construct.

``HANDLERS`` is the one table from statement type to the function that reverses it; every
handler takes the context and the statement and returns (the statement as the forward runs
it, its backward statements). A handler reverses the blocks it holds through ``ctx.block``,
which is ``block`` below, so the construct modules need not import one another.
"""

from __future__ import annotations

from itertools import groupby

from ... import rules
from ...normal import ir
from . import branches, calls, loops, statements
from .statements import residual_read

__all__ = ["block", "HANDLERS"]

HANDLERS = {
    ir.For: loops.for_loop,
    ir.While: loops.while_loop,
    ir.If: branches.branch,
    ir.CallFn: calls.call,
}


def block(ctx, stmts):
    """(forward, backward) of a block: the forward with tapes added, the backward reversed.
    Statements from one user line reverse together; a line with no adjoint gets a comment that
    says why."""
    forward = list(stmts)
    backward: list = []
    groups = [(origin, list(g)) for origin, g in groupby(enumerate(stmts), key=lambda p: p[1].origin)]
    for origin, group in reversed(groups):
        if any(isinstance(s, ir.NoGrad) for _, s in group):
            if residual_read(ctx, [s for _, s in group], ctx.names_read):  # they would run unchecked
                raise ctx.error(origin, *ctx.residual_refusal("inside a no_grad block"))
            for _, s in group:
                backward.append(
                    ir.Comment(
                        f"line {s.origin.line}: `{s.origin.text}` block: constants (no_grad), no adjoint"
                    )
                )
            continue
        part: list = []
        for i, s in reversed(group):
            outer_hoisted, ctx.hoisted = ctx.hoisted, []
            forward[i], produced = HANDLERS.get(type(s), statements.statement)(ctx, s)
            mine, ctx.hoisted = ctx.hoisted, outer_hoisted
            if mine:  # local partials, computed right after the statement they belong to
                forward[i] = [forward[i], *mine]
            part.extend(produced)
        if part:
            backward.extend(part)
        elif origin is not None and not origin.entry:
            backward.append(ir.Comment(pruned(ctx, origin, [s for _, s in group])))
    flat = []
    for f in forward:
        flat.extend(f if isinstance(f, list) else [f])
    return flat, backward


def pruned(ctx, origin, group) -> str:
    """Why a user line gets no adjoint."""
    user = [t for s in group for t in ir.defined_names([s]) if t not in ctx.fn.temporaries]
    target = user[-1] if user else (ir.defined_names(group) or ["it"])[-1]
    why = ctx.act.why_inactive(target, ctx.wrt)
    target = ctx.fn.meta.get("user_names", {}).get(target, target)
    last = group[-1]
    if (
        isinstance(last, ir.Assign)
        and isinstance(last.value, ir.Prim)
        and not rules.lookup_key(last.value.op).differentiable
    ):
        why = f"comes from {last.value.op}(), which passes no gradient"
    return f"line {origin.line}: {origin.text}  -- no adjoint: `{target}` {why}"
