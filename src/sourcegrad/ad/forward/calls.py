"""The tangents of calls of the user's own functions: a call with active arguments calls the
callee's ``jvp_`` function instead, which takes the active arguments' tangents after the
arguments and returns the outputs, then their tangents (zeros for an output that does not depend
on them). Each callee gets one ``jvp_`` function per combination of active arguments."""

from __future__ import annotations

from dataclasses import replace

from ...normal import ir
from ..activity import analyze
from .function import tangent_function

__all__ = ["call"]


def call(ctx, s: ir.CallFn) -> list:
    active_in = tuple(i for i, a in enumerate(s.args) if ctx.active(a))
    if not active_in or not any(ctx.active(t) for t in s.targets):
        return [s]
    callee = ctx.callees.by_name(s.callee)
    jvp_name = callee_jvp(ctx, callee, active_in)
    return [
        replace(
            s,
            targets=tuple(s.targets) + tuple(ctx.tangent(t) for t in s.targets),
            callee=jvp_name,
            args=tuple(s.args) + tuple(ir.Name(ctx.tangent(s.args[i].id)) for i in active_in),
        )
    ]


def callee_jvp(ctx, callee, active_in) -> str:
    """The name of the callee's ``jvp_`` function for these active arguments, made once."""
    key = ("jvp", active_in)
    if key not in callee.vjps:
        fn = callee.function
        wrt = [fn.params[i] for i in active_in]
        name = ctx.callees.module_namer.fresh(f"jvp_{callee.name}")
        callee.vjps[key] = name
        inner = ctx.for_callee(fn, wrt, analyze(fn, wrt), callee.namer, callee.parsed.filename)
        ctx.callees.functions.append(callee.guarded(tangent_function(inner, name, flat=True)))
    return callee.vjps[key]
