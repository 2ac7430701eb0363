"""The function-level driver: parameters, the body, the final ``return``, the ``ir.Function``."""

from __future__ import annotations

import ast
from dataclasses import replace

from ...frontend.peel import targets_read_after
from .. import ir, walk
from .aliasing import note_bind
from .containers import flat_parameters, unpack_container

__all__ = ["lower_function"]


def lower_function(cx) -> ir.Function:
    """The normal form of ``cx.parsed``'s function (not yet checked: see ``checker.check_normal_form``)."""
    fdef = cx.parsed.node
    args = fdef.args
    cx.origin = ir.Origin(cx.parsed.file_line(fdef), cx.parsed.line_text(fdef), entry=True)
    names = [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]] + list(cx.free)
    for p in names:
        kind = cx.param_kinds.get(p, "array")
        if isinstance(kind, tuple) and cx.flat_params:  # a callee: one parameter per leaf
            cx.params.extend(flat_parameters(cx, p, kind))
            continue
        cx.params.append(p)
        cx.versions[p] = cx.namer.claim(p)
        cx.inputs[p] = ir.Name(p)
        if kind == "static":
            cx.static.add(p)
        if isinstance(kind, tuple):  # a container argument is unpacked into its leaves on entry
            struct = unpack_container(cx, ir.Name(p), kind, p)
            cx.bind_value(p, struct)
            cx.inputs[p] = struct
    for name in [*cx.versions.values(), *cx.params]:  # the parameters belong to the top block
        note_bind(cx, name)
    body = list(fdef.body)
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]  # the docstring
    cx.read_after = targets_read_after(fdef)
    cx.statements(body)
    if not cx.block or not isinstance(cx.block[-1], ir.Return):
        raise cx.error(
            fdef,
            f"`{fdef.name}` does not end with a `return`; there is nothing to differentiate",
            "return the value whose gradient you want",
        )
    doc = "The primal, in normal form: one operation per line, each name assigned once."
    return ir.Function(
        fdef.name,
        tuple(cx.params),
        _without_unread_one_sided(tuple(cx.block)),
        doc=doc,
        globals_used=tuple(cx.globals_used),
        temporaries=frozenset(cx.temporaries),
        meta={
            "globals": dict(cx.globals_used),
            "static": frozenset(cx.static),
            "inputs": dict(cx.inputs),
            "user_names": dict(cx.user_names),
        },
    )


def _without_unread_one_sided(body: tuple) -> tuple:
    """``body`` without the outputs of static ``if``s that one side only assigns (None on the
    other, so that a later read can check the side ran) when nothing reads them: every line of
    the generated code is one the function needs."""
    read = walk.names_read_deep(body)

    def block(stmts) -> tuple:
        out = []
        for s in stmts:
            s = walk.map_blocks(s, block)
            if isinstance(s, ir.If) and s.static:
                kept = tuple(o for o in s.outputs if o[0] in read or ir.Const(None) not in (o[1], o[2]))
                if kept != s.outputs:
                    s = replace(s, outputs=kept)
            out.append(s)
        return tuple(out)

    return block(body)
