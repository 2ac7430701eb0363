"""The forward pass over a block: each statement, in order, by the handler of its construct.

``HANDLERS`` is the one table from statement type to the function that writes its tangent;
every handler takes the context and the statement and returns the statements that replace it
(the primal statement, then its tangent; a loop or branch with a longer carry or more outputs).
"""

from __future__ import annotations

from ...normal import ir
from . import branches, calls, loops, statements

__all__ = ["block", "HANDLERS"]

HANDLERS = {
    ir.For: loops.for_loop,
    ir.While: loops.while_loop,
    ir.If: branches.branch,
    ir.CallFn: calls.call,
}


def block(ctx, stmts) -> list:
    """The block with each active statement followed by its tangent. ``no_grad`` blocks are
    constants: they run as written and get no tangent."""
    out: list = []
    for s in stmts:
        if isinstance(s, ir.NoGrad):
            out.append(s)
            continue
        out.extend(HANDLERS.get(type(s), statements.statement)(ctx, s))
    return out
