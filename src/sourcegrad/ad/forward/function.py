"""The tangent function of a normal-form function: its parameters, then the tangents of the
``wrt`` inputs; its body, each active line followed by its tangent; it returns the output and the
output's tangent (``jax.jvp``'s contract). A callee's ``jvp_`` function returns them flat."""

from __future__ import annotations

import ast

from ...normal import ir
from ...normal.astutil import name
from ...normal.pyexpr import to_ast
from ...normal.structs import leaves, paths
from .context import tuple_of

__all__ = ["tangent_function"]


def tangent_function(ctx, fn_name: str, flat: bool = False) -> ir.Function:
    """``jvp_f(*params, *d_wrt)`` -> ``(output, d_output)`` (``flat``: ``(*outputs,
    *d_outputs)``, what a caller unpacks)."""
    fn = ctx.fn
    body, ret = fn.body[:-1], fn.body[-1]
    inputs = fn.meta.get("inputs", {})
    head: list = []
    tangent_params = []
    for w in ctx.wrt:
        layout = inputs.get(w, ir.Name(w))
        d_w = ctx.tangent(w) if isinstance(layout, ir.Name) and layout.id == w else ctx.namer.fresh(f"d_{w}")
        tangent_params.append(d_w)
        if isinstance(layout, ir.Name) and layout.id == w:
            continue
        for leaf, path in zip(leaves(layout), paths(layout)):  # a container's tangent: same layout
            head.append(ir.Assign(ctx.tangent(leaf.id), ir.Raw(_subscripts(d_w, path))))
    main = ctx.block(body)
    items = ret.value.items if isinstance(ret.value, ir.Tup) else (ret.value,)
    tail: list = []
    d_items = [to_ast(ctx.tangent_or_zeros(item, tail, ret.origin)) for item in items]
    if flat:
        result = tuple_of(*[to_ast(i) for i in items], *d_items)
    else:
        d_out = tuple_of(*d_items) if isinstance(ret.value, ir.Tup) else d_items[0]
        result = tuple_of(to_ast(ret.value), d_out)
    sections = []
    if head:
        sections.append(ir.Section("zero", "the inputs' tangents, leaf by leaf", tuple(head)))
    sections.append(
        ir.Section(
            "forward",
            "forward: the primal computation, each line followed by its tangent "
            "(d_y: how y moves when the inputs move along their tangents)",
            tuple(main) + tuple(tail),
        )
    )
    what = "the outputs, then their tangents" if flat else "the output and its tangent"
    sections.append(ir.Section("return", what, (ir.Return(ir.Raw(result)),)))
    wrt = ", ".join(ctx.wrt)
    doc = (
        f"`{fn.name}` and its tangent (forward mode) along tangents of {wrt}.\n\n"
        f"Returns ({fn.name}(...), its tangent): the derivative of the output in the direction "
        f"{', '.join(tangent_params)}."
    )
    meta = dict(fn.meta)
    meta.update(output_is_tuple=isinstance(ret.value, ir.Tup), tangent_params=tuple(tangent_params))
    return ir.Function(
        fn_name,
        fn.params + tuple(tangent_params),
        tuple(sections),
        doc=doc,
        globals_used=fn.globals_used,
        temporaries=fn.temporaries,
        meta=meta,
    )


def _subscripts(base: str, keys) -> ast.expr:
    expr: ast.expr = name(base)
    for k in keys:
        expr = ast.Subscript(value=expr, slice=ast.Constant(k), ctx=ast.Load())
    return expr
