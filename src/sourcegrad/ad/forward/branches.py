"""The tangents of branches: each side computes its outputs' tangents beside the outputs, so a
branch on traced data is still one ``lax.cond`` (only the taken side runs, tangents included)
and a static one still a Python ``if``. A side whose value is not active gives zeros."""

from __future__ import annotations

from dataclasses import replace

from ...normal import ir

__all__ = ["branch"]


def branch(ctx, s: ir.If) -> list:
    outs = [(o, a, b) for o, a, b in s.outputs if ctx.active(o)]
    if not outs:
        return [s]
    then, other = ctx.block(s.body), ctx.block(s.orelse)
    outputs = list(s.outputs)
    for o, a, b in outs:
        d_a = ctx.tangent_or_zeros(a, then, s.origin)
        d_b = ctx.tangent_or_zeros(b, other, s.origin)
        outputs.append((ctx.tangent(o), d_a, d_b))
    return [replace(s, body=tuple(then), orelse=tuple(other), outputs=tuple(outputs))]
