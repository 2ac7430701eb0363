"""The adjoints of calls of the user's own functions: a call's forward is the callee's ``fwd_``
function, which also returns a residual (what the backward reads); its backward calls the
callee's ``bwd_`` function with that residual and the outputs' accumulators. Each callee gets one
such pair per combination of active arguments and outputs, added to the generated module."""

from __future__ import annotations

from dataclasses import replace

from ...normal import ir
from ...normal.astutil import call as call_expr
from ...normal.astutil import name
from ...normal.pyexpr import to_ast
from ...normal.walk import names_read_deep
from ..activity import analyze
from .analysis import call_active, callee_active_params, callee_outputs
from .context import tuple_of
from .loops import taped_loop_error
from .statements import residual_read

__all__ = ["call", "callee_vjp", "vjp_functions"]


def call(ctx, s: ir.CallFn):
    active_in, active_out = call_active(ctx.act, s)
    callee = ctx.callees.by_name(s.callee)
    if active_in and active_out:
        active_in = callee_active_params(callee, active_in, active_out)
    if not active_in or not active_out:
        if residual_read(ctx, [s]):  # its primal runs unchecked
            raise ctx.error(s.origin, *ctx.residual_refusal("inside a called function"))
        return s, []
    fwd_name, bwd_name = callee_vjp(ctx, callee, active_in, active_out)
    residual = ctx.namer.fresh(f"{s.callee}_res")
    out: list = []
    for i in active_out:
        ctx.ensure(out, s.targets[i], s.origin)
    results = [ctx.namer.fresh(f"d_{s.args[i].id}") for i in active_in]
    backward = call_expr(bwd_name, name(residual), *[name(ctx.adj(s.targets[i])) for i in active_out])
    out.append(ir.Unpack(tuple(results), ir.Raw(backward), s.origin))
    for i, r in zip(active_in, results):
        ctx.accumulate(out, s.args[i].id, name(r), s.origin)
    return replace(s, residual=residual, forward=fwd_name), out


def callee_vjp(ctx, callee, active_in, active_out):
    """The (fwd, bwd) function names of a callee for these active arguments and outputs; made
    once per combination and added to the generated module."""
    key = (active_in, active_out)
    if key not in callee.vjps:
        callees = ctx.callees
        fn = callee.function
        wrt = [fn.params[i] for i in active_in]
        activity = analyze(fn, wrt, [callee_outputs(fn)[i] for i in active_out])
        fwd_name = callees.module_namer.fresh(f"fwd_{callee.name}")
        bwd_name = callees.module_namer.fresh(f"bwd_{callee.name}")
        callee.vjps[key] = (fwd_name, bwd_name)
        inner = ctx.for_callee(fn, wrt, activity, callee.namer, callee.parsed.filename)
        fwd, bwd = vjp_functions(inner, fwd_name, bwd_name, active_out)
        callees.functions.extend([callee.guarded(fwd), bwd])
    return callee.vjps[key]


def _residual(ctx, fn, names):
    """The residual's display: a tuple, or ``Residual(...)`` when it may hold Python values (a
    static argument, a shape, a static if's test or its side's values, an unrolled loop's tape):
    a rolled loop saving a tuple would turn those into arrays, which its backward cannot use."""
    python = ctx.static | ctx.python_values | {p for p in fn.params if p in fn.meta.get("static", ())}
    if any(n in python for n in names):
        return call_expr("Residual", *[name(n) for n in names])
    return tuple_of(*names)


def vjp_functions(ctx, fwd_name: str, bwd_name: str, active_out):
    """A callee's forward (outputs and residual) and backward (argument gradients)."""
    fn = ctx.fn
    body = fn.body[:-1]
    outs = callee_outputs(fn)
    incoming = []
    seeds: list = []
    for i in active_out:
        atom = outs[i]
        param = ctx.namer.fresh(f"b_out{i}" if len(outs) > 1 else "b_out")
        incoming.append(param)
        if isinstance(atom, ir.Name) and atom.id in ctx.act.varied:
            seeds.append(ctx.seed(atom.id, name(param)))
    ctx.split_backward = True
    forward, backward = ctx.block(body)
    for w in ctx.wrt:
        ctx.ensure(backward, w)
    if ctx.scope.status:
        if ctx.reads_residuals(ctx.scope.status):
            residual = [o for o in ctx.residual_origins if o is not None]
            raise ctx.error(
                residual[0] if residual else None,
                *ctx.residual_refusal("inside a called function"),
            )
        raise taped_loop_error(ctx, forward, "inside a called function")
    read = names_read_deep(seeds + backward)
    candidates = list(fn.params) + ir.defined_names(forward)
    residual = [n for n in dict.fromkeys(candidates) if n in read]
    res_p = ctx.namer.fresh("res")
    fwd = ir.Function(
        fwd_name,
        fn.params,
        (
            ir.Section("forward", "forward: the primal computation", tuple(forward)),
            ir.Section(
                "return",
                "the outputs, and the residual: the values the backward reads",
                (ir.Return(ir.Raw(tuple_of(*[to_ast(o) for o in outs], _residual(ctx, fn, residual)))),),
            ),
        ),
        doc=f"The forward of `{fn.name}`, for its gradient.",
    )
    head = (ir.Unpack(tuple(residual), ir.Name(res_p)),) if residual else ()
    bwd = ir.Function(
        bwd_name,
        (res_p, *incoming),
        (
            ir.Section(
                "seed", "the residual, and the gradients of the outputs, from the caller", head + tuple(seeds)
            ),
            ir.Section("backward", "backward: the adjoint of each line, last line first", tuple(backward)),
            ir.Section(
                "return",
                f"the gradients of {', '.join(ctx.wrt)}",
                (ir.Return(ir.Raw(tuple_of(*[ctx.adj(w) for w in ctx.wrt]))),),
            ),
        ),
        doc=f"The backward of `{fn.name}`: the gradients of {', '.join(ctx.wrt)}.",
        temporaries=fn.temporaries,
        meta={"foldable": frozenset(ctx.adj(t) for t in fn.temporaries)},
    )
    return fwd, bwd
