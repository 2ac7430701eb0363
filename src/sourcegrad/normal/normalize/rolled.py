"""Comprehensions compiled rolled: ``sum(e(i) for i in range(n))`` and
``np.stack([e(i) for i in range(n)])`` where the length is known only while JAX traces (or is
longer than ``comprehensions.UNROLL_LIMIT``).

They become the loop a NumPy user would write, on the user's line::

    total = e(start)                      # the first element: its shape fixes the loop's carry
    for i in range(start + step, stop, step):
        total = total + e(i)              # (np.stack: stacked[(i - start) // step] = e(i))

``sum`` runs under an ``if`` known while tracing that the range is not empty (an empty ``sum`` is
``0``, as in Python). An empty ``np.stack`` gives an array of zero rows (NumPy raises instead). Only a comprehension
with one ``for`` clause over ``range`` and no ``if`` clause is compiled rolled.
"""

from __future__ import annotations

import ast

from .. import ir
from .iterables import loop_iterables
from .loops import lower_for

__all__ = ["is_rolled", "rolled_sum", "rolled_stack", "UNROLL_LIMIT"]

#: Comprehensions longer than this, over a range, are compiled rolled where they can be.
UNROLL_LIMIT = 64


def is_rolled(cx, comp) -> bool:
    """Does this comprehension need the rolled form (a range of unknown or large length)?"""
    if len(comp.generators) != 1:
        return False
    it = comp.generators[0].iter
    if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range"):
        return False
    if cx.env.lookup("range") is not range or it.func.id in cx.versions or it.keywords:
        return False
    bounds = [a.value for a in it.args if isinstance(a, ast.Constant) and type(a.value) is int]
    if len(bounds) == len(it.args):
        return len(range(*bounds)) > UNROLL_LIMIT
    return True


def rolled_sum(cx, call: ast.Call, comp):
    """``sum(e(i) for i in range(...))`` (and ``start=``): a loop accumulating the elements."""
    return _rolled(cx, call, comp, "sum")


def rolled_stack(cx, call: ast.Call, comp):
    """``np.stack([e(i) for i in range(...)])`` along axis 0: a loop writing row by row."""
    return _rolled(cx, call, comp, "stack")


def _rolled(cx, call, comp, kind):
    gen = comp.generators[0]
    if gen.ifs or not isinstance(gen.target, ast.Name):
        raise cx.error(
            gen.ifs[0] if gen.ifs else gen.target,
            "a comprehension over a range whose length is known only while JAX traces is compiled "
            "as a loop, which allows one name as its target and no `if` clause",
            "write the for loop, or use np.where(cond, value, 0) for the condition",
        )
    (target,), (it,) = loop_iterables(cx, gen.target, gen.iter)
    if not (isinstance(it.step, ir.Const) and isinstance(it.step.value, int) and it.step.value != 0):
        raise cx.error(gen.iter, "a rolled comprehension needs a constant, non-zero range step")
    origin = cx.origin
    saved_versions, saved_out = dict(cx.versions), dict(cx.out_of_scope)
    acc = cx.namer.fresh("summed" if kind == "sum" else "stacked")
    outer, cx.block = cx.block, []
    # the first element, outside the loop
    first = cx.new_version(target)
    cx.emit(ir.Assign(first, it.start, origin))
    cx.bind_name(target, first)
    element = cx.atom(comp.elt)
    if kind == "sum":
        if call.keywords:  # sum(..., start=s)
            element = cx.emit_temp(ir.Prim("add", (("x", cx.atom(call.keywords[0].value)), ("y", element))))
    else:
        length = _length(cx, it)
        row = cx.emit_temp(ir.Prim("expand_dims", (("x", element), ("axis", ir.Const(0)))))
        element = cx.emit_temp(ir.Prim("repeat", (("a", row), ("repeats", length), ("axis", ir.Const(0)))))
    cx.emit(ir.Assign(acc, element, origin))
    cx.bind_name(acc, acc)
    # the other elements, in a loop
    if isinstance(it.start, ir.Const):
        rest_start = ir.Const(it.start.value + it.step.value)
    else:
        rest_start = cx.emit_temp(ir.Prim("add", (("x", it.start), ("y", it.step))))
    body = _body(cx, comp, acc, target, it, kind)
    lower_for(cx, comp, [target], [ir.RangeIter(rest_start, it.stop, it.step)], body)
    result = ir.Name(cx.versions[acc])
    then_block, cx.block = cx.block, outer
    cx.versions, cx.out_of_scope = saved_versions, saved_out
    cx.origin = origin
    nonempty = _nonempty(cx, it) if kind == "sum" else ir.Const(True)
    if isinstance(nonempty, ir.Const) and nonempty.value:
        cx.block.extend(then_block)
        return result
    out = cx.namer.fresh("summed")
    cx.temporaries.add(out)
    name = cx.namer.fresh(f"branch_{origin.line}")
    cx.emit(ir.If(nonempty, tuple(then_block), (), ((out, result, ir.Const(0)),), True, origin, name))
    return ir.Name(out)


def _length(cx, it):
    """The number of rows: ``range_end(start, stop, step) - start`` over ``step`` (0 when empty)."""
    end = _static(
        cx, "end", ir.Prim("range_end", (("start", it.start), ("stop", it.stop), ("step", it.step)))
    )
    if isinstance(it.start, ir.Const) and it.start.value == 0 and it.step.value == 1:
        return end
    span = _static(cx, "rows", ir.Prim("subtract", (("x", end), ("y", it.start))))
    if it.step.value == 1:
        return span
    return _static(cx, "rows", ir.Prim("floor_divide", (("x", span), ("y", it.step))))


def _static(cx, base: str, value) -> ir.Name:
    name = cx.namer.fresh(base)
    cx.temporaries.add(name)
    cx.emit(ir.Assign(name, value, cx.origin))
    return ir.Name(name)


def _body(cx, comp, acc, target, it, kind) -> list:
    """The loop's one statement, as Python AST on the user's line."""
    where = comp

    def located(node):
        return ast.fix_missing_locations(ast.copy_location(node, where))

    if kind == "sum":
        value = ast.BinOp(left=ast.Name(id=acc, ctx=ast.Load()), op=ast.Add(), right=comp.elt)
        return [located(ast.Assign(targets=[ast.Name(id=acc, ctx=ast.Store())], value=value))]
    row: ast.expr = ast.Name(id=target, ctx=ast.Load())
    if isinstance(it.start, ir.Const):
        if it.start.value != 0:
            row = ast.BinOp(left=row, op=ast.Sub(), right=ast.Constant(it.start.value))  # type: ignore[arg-type]
    else:
        start = cx.namer.fresh("first")
        cx.emit(ir.Assign(start, it.start, cx.origin))
        cx.bind_name(start, start)
        row = ast.BinOp(left=row, op=ast.Sub(), right=ast.Name(id=start, ctx=ast.Load()))
    if it.step.value != 1:
        row = ast.BinOp(left=row, op=ast.FloorDiv(), right=ast.Constant(int(it.step.value)))
    subscript = ast.Subscript(value=ast.Name(id=acc, ctx=ast.Store()), slice=row, ctx=ast.Store())
    return [located(ast.Assign(targets=[subscript], value=comp.elt))]


def _nonempty(cx, it):
    """Is the range non-empty? A constant when its bounds are constants."""
    parts = (it.start, it.stop)
    if all(isinstance(p, ir.Const) for p in parts):
        return ir.Const(len(range(it.start.value, it.stop.value, it.step.value)) > 0)
    op = "less" if it.step.value > 0 else "greater"
    return cx.emit_temp(ir.Prim(op, (("x", it.start), ("y", it.stop))))
