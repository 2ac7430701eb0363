"""The adjoints of branches: a static ``if`` (known while JAX traces) stays a Python ``if``; an
``if`` on traced data is a ``lax.cond`` both ways, whose backward runs the adjoint of the branch
that was taken after recomputing that branch's forward values (``templates.COND_ADJOINT``)."""

from __future__ import annotations

from dataclasses import replace

from ...normal import ir
from ...normal.astutil import name
from ...normal.pyexpr import to_ast
from ...normal.walk import bound_deep, names_read_deep
from .. import templates
from .context import Scope, tuple_of
from .loops import taped_loop_error
from .statements import residual_read

__all__ = ["branch"]


def branch(ctx, s: ir.If):
    outs = [(o, a, b) for o, a, b in s.outputs if ctx.act.is_active(o)]
    outer_accs = ctx.free_active([s])
    if not outs and not outer_accs and not residual_read(ctx, [s], ctx.names_read):
        return s, []
    out: list = []
    for x in [o for o, _, _ in outs] + outer_accs:
        ctx.ensure(out, x, s.origin)
    if s.static:
        return static_branch(ctx, s, outs, outer_accs, out)
    return dynamic_branch(ctx, s, outs, outer_accs, out)


def branch_side(ctx, stmts, outs, side, outer_accs, s):
    """(forward with tapes, backward) of one branch: its outputs' adjoints flow in first. On a
    static ``if``, the side's lstsq residual checks become outputs of the ``if`` (``checked``);
    a while loop's, or any on data, are refused."""
    with ctx.scoped(Scope(ctx.scope.initialized | {o for o, _, _ in outs} | set(outer_accs))) as scope:
        head: list = []
        local = bound_deep(stmts, set())
        for o, a, b in outs:
            atom = a if side == 0 else b
            if isinstance(atom, ir.Name) and ctx.act.is_active(atom.id):
                if atom.id in local:
                    head.append(ir.Assign(ctx.adj(atom.id), ir.Raw(name(ctx.adj(o)))))
                    scope.initialized.add(atom.id)
                else:
                    ctx.accumulate(head, atom.id, name(ctx.adj(o)), None)
        fwd, bwd = ctx.block(stmts)
        if s.static and all(f in ctx.residual_flags for f in scope.status):
            checked(ctx, side, scope.status)
        elif scope.status and ctx.reads_residuals(scope.status):
            raise ctx.error(s.origin, *ctx.residual_refusal("inside an `if`"))
        elif scope.status:  # a while loop with max_iter: located at the loop
            raise taped_loop_error(ctx, fwd, "inside an `if`")
    return fwd, head + bwd


def checked(ctx, side, flags) -> None:
    """A static ``if``'s side sets status flags (``statements.rank_check``): each is an output of
    the ``if``, False on the other side, and a flag of the scope around it."""
    for flag in flags:
        out = ctx.namer.fresh(flag)
        pair = (ir.Name(flag), ir.Const(False)) if side == 0 else (ir.Const(False), ir.Name(flag))
        ctx.branch_flags.append((out, *pair))
        ctx.residual_flags.add(out)


def static_branch(ctx, s, outs, outer_accs, out):
    outer_flags, ctx.branch_flags = ctx.branch_flags, []
    then_fwd, then = branch_side(ctx, s.body, outs, 0, outer_accs, s)
    else_fwd, other = branch_side(ctx, s.orelse, outs, 1, outer_accs, s)
    flags, ctx.branch_flags = ctx.branch_flags, outer_flags
    if flags:
        ctx.scope.status.extend(f for f, _, _ in flags)
        s = replace(s, outputs=(*s.outputs, *flags))
    if ctx.split_backward and not ctx.loop_depth and not ctx.cond_depth:
        return branch_residual(ctx, s, out, (then_fwd, then), (else_fwd, other))
    if ctx.loop_depth or ctx.split_backward:
        # the backward runs in another function (an adjoint loop body, a callee's bwd_) where
        # the branch's own values are not in scope: the taken branch's forward runs again
        then, other = list(then_fwd) + then, list(else_fwd) + other
    if not outs and not outer_accs:  # reversed only for its residual checks: no backward
        return replace(s, body=tuple(then_fwd), orelse=tuple(else_fwd)), out
    out.append(ir.IfElse(s.test, tuple(then) or (ir.Comment("no adjoint on this branch"),), tuple(other)))
    return replace(s, body=tuple(then_fwd), orelse=tuple(else_fwd)), out


def branch_residual(ctx, s, out, *sides):
    """A static ``if`` in a callee's forward: each side ends by collecting the values its
    backward reads (``branch_5_res``, an output of the ``if``, so it joins the callee's
    residual), and the backward unpacks them on the side taken. Running the side's forward
    again in ``bwd_`` instead would run again every call it makes: for a function that calls
    itself, once more at every depth."""
    res = ctx.namer.fresh(f"{s.name}_res")
    ctx.python_values.add(res)
    made = []
    for fwd, bwd in sides:
        read = names_read_deep(bwd)
        kept = [n for n in dict.fromkeys(ir.defined_names(fwd)) if n in read]
        head = [ir.Unpack(tuple(kept), ir.Name(res), s.origin)] if kept else []
        made.append((list(fwd) + [ir.Assign(res, ir.Raw(tuple_of(*kept)), s.origin)], head + list(bwd)))
    (then_fwd, then), (else_fwd, other) = made
    out.append(ir.IfElse(s.test, tuple(then) or (ir.Comment("no adjoint on this branch"),), tuple(other)))
    # assigned on both sides, under its own name (an output whose value is itself)
    outputs = (*s.outputs, (res, ir.Name(res), ir.Name(res)))
    return replace(s, body=tuple(then_fwd), orelse=tuple(else_fwd), outputs=outputs), out


def dynamic_branch(ctx, s, outs, outer_accs, out):
    incoming = tuple(ctx.adj(o) for o, _, _ in outs)
    returned = tuple(ctx.adj(x) for x in outer_accs)
    sides = {}
    for side, stmts, label in ((0, s.body, "then"), (1, s.orelse, "else")):
        ctx.cond_depth += 1
        recomputed, adjoint = branch_side(ctx, stmts, outs, side, outer_accs, s)
        ctx.cond_depth -= 1
        fn_name = ctx.namer.fresh(f"{s.name}_{label}_adjoint")
        sides[label] = (
            fn_name,
            templates.BRANCH_ADJOINT.instantiate(
                s.origin,
                ADJOINT=fn_name,
                ACCUMULATORS=incoming + returned,
                BODY=recomputed + adjoint,  # the branch's forward runs again, then its adjoint
                RETURNED=returned,
            ),
        )
    out.extend(
        templates.COND_ADJOINT.instantiate(
            s.origin,
            THEN_ADJOINT=sides["then"][1],
            ELSE_ADJOINT=sides["else"][1],
            RETURNED=returned,
            TEST=to_ast(s.test),
            THEN=sides["then"][0],
            ELSE=sides["else"][0],
            OPERANDS=incoming + returned,
        )
    )
    return s, out
