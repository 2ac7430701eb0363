"""Branches: ``if`` statements and conditional expressions become ``ir.If`` nodes.

Each side is lowered into its own block from the same versions; a variable the two sides leave
with different versions becomes an output of the ``If`` (leaf by leaf for a container), and the
merged value is bound after it. A variable assigned on only one side of a static ``if`` is an
output that is None on the other side, and reading it checks while tracing that its side ran
(Python's NameError otherwise); a later ``if`` that merges such a value keeps that check (its
output is defined only where the merged side was); after an ``if`` on data it is not visible.
An ``if`` whose test is a constant while transforming (a module's bool, ``not FLAG``) is folded:
only the side Python runs is lowered, so the generated code has no ``if True:`` and no dead
side. An ``if`` on a value known while JAX traces (a shape, a static argument) is marked
static: it stays a Python ``if``; any other becomes a ``lax.cond``.
"""

from __future__ import annotations

import ast

from .. import ir
from ..structs import leaves, paths, rebuild, same_layout
from .context import assigned_names, leaf_name

__all__ = ["if_statement", "if_expression"]


def if_statement(cx, node: ast.If):
    """The handler of ``ast.If`` (see the table in __init__.py)."""
    test = cx.atom(node.test)
    if _known(test):  # Python runs one side only: lower that side in place
        cx.statements(node.body if test.value else node.orelse)
        for user in assigned_names(node.orelse if test.value else node.body):
            if user not in cx.versions:  # Python's NameError, said where the name is read
                cx.out_of_scope[user] = (
                    f"only the side of the if at line {cx.parsed.file_line(node)} that does not run assigns it (its "
                    f"test is always {bool(test.value)}; Python raises NameError)",
                    f"assign `{user}` on every path, or before the if",
                )
        return
    origin = cx.origin
    saved = dict(cx.versions)
    # only one side runs: a write on one side changes neither what the other side reads nor the
    # values the other side makes (they share a buffer with the same array, but never coexist)
    stale, known = dict(cx.memory.stale), set(cx.memory.root)
    on_data = _enter(cx, test, origin)
    body = cx.sub_block(node.body)
    after_body = dict(cx.versions)
    cx.versions = dict(saved)
    made_by_body = set(cx.memory.root) - known
    stale_after_body, cx.memory.stale = cx.memory.stale, dict(stale)
    orelse = cx.sub_block(node.orelse)
    _leave(cx, on_data)
    after_else = dict(cx.versions)
    cx.versions = dict(saved)
    stale_after_else = {k: v for k, v in cx.memory.stale.items() if k not in made_by_body}
    cx.memory.stale = stale_after_body | stale_after_else
    cx.origin = origin
    outputs, merged = [], []
    one_sided, unbound = [], []
    for user in assigned_names(node.body + node.orelse):
        a, b = after_body.get(user), after_else.get(user)
        if a is None and b is None:  # made and scoped away inside (a loop's): its reason stays
            cx.versions.pop(user, None)
            continue
        if a is None or b is None:
            if cx.is_static(test) and (a or b) not in cx.structs:  # Python's: defined if that side ran
                out = cx.namer.fresh(user)
                side = a is not None
                defined = ir.Name(a if a is not None else str(b))
                outputs.append((out, defined, ir.Const(None)) if side else (out, ir.Const(None), defined))
                one_sided.append((user, out, side))
                continue
            cx.out_of_scope[user] = (
                f"the if at line {origin.line} assigns it on one branch only, and its test is "
                f"computed by JAX (Python would raise NameError when the other branch runs)"
            )
            cx.binding_time.add(user)  # on a static argument the if would be Python's
            cx.versions.pop(user, None)
            continue
        if a == b:
            continue
        va, vb = cx.structs.get(a, ir.Name(a)), cx.structs.get(b, ir.Name(b))
        if not same_layout(va, vb):
            raise cx.error(
                node,
                f"the two branches give `{user}` different kinds of value (an array "
                f"or a container, and its keys)",
                "make both branches assign the same kind",
            )
        outs = []
        for path, la, lb in zip(paths(va), leaves(va), leaves(vb)):
            if la == lb:
                outs.append(la)
                continue
            out = cx.namer.fresh(leaf_name(user, path))
            # the merge is stale if the value it takes on a side is stale on that side
            _merge_stale(cx, out, (la, stale_after_body), (lb, stale_after_else))
            outputs.append((out, la, lb))
            outs.append(ir.Name(out))
            unbound.extend(_merge_unbound(cx, node, test, user, out, la, lb, outputs))
        merged.append((user, rebuild(va, outs)))
    _emit_if(cx, test, body, orelse, outputs, origin)
    for out, entry in unbound:
        cx.maybe_unbound[out] = (*entry[:3], id(cx.block), *entry[3:])
    for user, value in merged:
        cx.bind_value(user, value)
    for user, out, side in one_sided:
        cx.bind_name(user, out)
        cx.maybe_unbound[out] = (test, side, origin.line, id(cx.block))


def _known(test) -> bool:
    """Whether an ``if``'s test is a constant while transforming (True, False, None, a number)."""
    return isinstance(test, ir.Const) and isinstance(test.value, (bool, int, float, str, type(None)))


def _merge_unbound(cx, node, test, user, out, la, lb, outputs):
    """``out`` merges a value that may be unbound (a one-sided output of an earlier static
    ``if``): on a static ``if`` it is defined where the side it takes was (one more output,
    ``defined``, that reading ``out`` checks); on data, Python's NameError on the path that
    keeps the unbound value is checked here, while tracing."""
    entries = [cx.maybe_unbound.get(v.id) if isinstance(v, ir.Name) else None for v in (la, lb)]
    if entries == [None, None]:
        return []
    oks = [ir.Const(True) if e is None else _defined(cx, e) for e in entries]
    entry = next(e for e in entries if e is not None)
    why = (
        entry[4]
        if len(entry) > 4
        else f"the if at line {entry[2]} assigns it only when its test is {entry[1]}"
    )
    if not cx.is_static(test):
        line = cx.parsed.file_line(node)
        for ok, e in zip(oks, entries):
            if e is not None:
                message = (
                    f"{cx.parsed.filename}:{line}: `{user}` is not defined on every path through the if "
                    f"at line {line}, whose test is computed by JAX: {why} (Python raises NameError "
                    f"where it is read); assign `{user}` before line {e[2]}"
                )
                cx.emit_temp(ir.Prim("defined_check", (("ok", ok), ("message", ir.Const(message)))))
        return []
    defined = cx.namer.fresh("defined")
    cx.temporaries.add(defined)
    outputs.append((defined, *oks))
    return [(out, (ir.Name(defined), True, entry[2], why))]


def _defined(cx, entry) -> ir.Name | ir.Const:
    """Whether the value of a ``maybe_unbound`` entry is defined: its test, or its negation."""
    test, side = entry[0], entry[1]
    return test if side else cx.emit_temp(ir.Prim("equal", (("x", test), ("y", ir.Const(False)))))


def _merge_stale(cx, out, *sides) -> None:
    for value, stale in sides:
        if isinstance(value, ir.Name) and value.id in stale:
            cx.memory.stale.setdefault(out, stale[value.id])
            return


def if_expression(cx, node: ast.IfExp):
    """The handler of ``ast.IfExp``: ``a if test else b`` is an ``If`` with one output."""
    test = cx.atom(node.test)
    if _known(test):  # Python evaluates one side only
        return cx.value(node.body if test.value else node.orelse)
    origin = cx.origin
    outer, cx.block = cx.block, []
    on_data = _enter(cx, test, origin)
    a = cx.atom(node.body)
    body, cx.block = cx.block, []
    b = cx.atom(node.orelse)
    _leave(cx, on_data)
    orelse, cx.block = cx.block, outer
    out = cx.namer.fresh("chosen")
    cx.temporaries.add(out)
    _emit_if(cx, test, body, orelse, [(out, a, b)], origin)
    return ir.Name(out)


def _enter(cx, test, origin) -> bool:
    """Entering the sides of an ``if`` on array values: a call of a function being normalized
    there would recurse forever while tracing (``user_calls.py`` refuses it)."""
    if cx.is_static(test):
        return False
    cx.data_branches.append(origin.line)
    return True


def _leave(cx, on_data: bool) -> None:
    if on_data:
        cx.data_branches.pop()


def _emit_if(cx, test, body, orelse, outputs, origin):
    static = cx.is_static(test)
    name = cx.namer.fresh(f"branch_{origin.line}")
    cx.emit(ir.If(test, tuple(body), tuple(orelse), tuple(outputs), static, origin, name))
    if static:
        for out, a, b in outputs:
            if cx.is_static(a) and cx.is_static(b):
                cx.static.add(out)
