"""Triangular loops: ``for c in range(d): for r in range(c + 1, d): ...``.

The inner loop's trip count changes with the outer index, and a compiled loop has one trip
count. When the inner loop is the whole body of the outer one, the two loops are one loop over
the ``(c, r)`` pairs they visit, in the same order: the pairs are computed while tracing
(``runtime.nested_range``, from the static bounds) and the body runs once per pair, rolled
(one ``lax.scan``). Its length is the number of pairs, whatever ``d`` is; unrolling the outer
loop instead would write the body ``d`` times and needs ``d`` when compiling, which a static
argument is not. The inner bounds may be ``c``, ``c + k``, ``c - k``, ``k - c`` or ``k``, for a
static ``k``; the inner step is static.

An inner loop whose bounds follow the outer index while the outer body does more than that loop
is a located error that says how to rewrite it.
"""

from __future__ import annotations

import ast

from .. import ir
from . import loops
from .expressions import is_local, resolve_free
from .loops import lower_for

__all__ = ["for_statement", "pair_loop"]


def for_statement(cx, node: ast.For):
    """The handler of ``ast.For`` (see the table in __init__.py): a triangular pair of loops here,
    any other loop in ``loops.py``."""
    if not pair_loop(cx, node):
        loops.for_statement(cx, node)


def pair_loop(cx, node: ast.For) -> bool:
    """Lower ``node`` as one loop over its pairs if it is a triangular pair of loops; else False."""
    if not (isinstance(node.target, ast.Name) and _is_range(cx, node.iter)):
        return False
    outer_name = node.target.id
    inner = node.body[0] if len(node.body) == 1 else None
    if not (
        isinstance(inner, ast.For)
        and not inner.orelse
        and isinstance(inner.target, ast.Name)
        and inner.target.id != outer_name
        and _is_range(cx, inner.iter)
        and _reads(inner.iter, outer_name)
    ):
        return False
    origin = cx.origin
    outer = _range_parts(cx, node.iter)
    assert isinstance(inner.iter, ast.Call)  # _is_range checked it
    args = list(inner.iter.args)
    if len(args) == 3 and _reads(args[2], outer_name):
        raise cx.error(
            args[2],
            f"the step of this range depends on `{outer_name}`, the index of the loop at line {origin.line}",
            "make the step a Python int or a static value",
        )
    start = _affine(cx, args[0], outer_name) if len(args) > 1 else ir.Tup((ir.Const(0), ir.Const(0)))
    stop = _affine(cx, args[1] if len(args) > 1 else args[0], outer_name)
    step = _static(cx, args[2]) if len(args) == 3 else ir.Const(1)
    pairs = cx.emit_temp(
        ir.Prim("nested_range", (("outer", ir.Tup(outer)), ("start", start), ("stop", stop), ("step", step)))
    )
    names = (cx.namer.fresh(f"{outer_name}_pairs"), cx.namer.fresh(f"{inner.target.id}_pairs"))
    cx.emit(ir.Unpack(names, pairs, origin))
    lower_for(
        cx,
        node,
        [outer_name, inner.target.id],
        [ir.ArrayIter(ir.Name(names[0])), ir.ArrayIter(ir.Name(names[1]))],
        inner.body,
        # after the loops, Python's outer index is its range's last, even where the last inner
        # range is empty; the inner index is the last pair's
        after=[(node, ir.RangeIter(*outer)), (inner, ir.ArrayIter(ir.Name(names[1])))],
    )
    return True


# ----- the parts of the ranges -----
def _is_range(cx, iterable) -> bool:
    if not (isinstance(iterable, ast.Call) and not iterable.keywords and 1 <= len(iterable.args) <= 3):
        return False
    if is_local(cx, iterable.func):
        return False
    try:
        return resolve_free(cx, iterable.func) is range
    except Exception:  # not a free name we can resolve: not the builtin range
        return False


def _reads(node, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def _range_parts(cx, iterable) -> tuple:
    args = [_static(cx, a) for a in iterable.args]
    if len(args) == 1:
        return (ir.Const(0), args[0], ir.Const(1))
    return tuple(args) + ((ir.Const(1),) if len(args) == 2 else ())


def _static(cx, node):
    atom = cx.atom(node)
    if not cx.is_static(atom):
        err = cx.error(
            node,
            f"`{ast.unparse(node)}` is computed by JAX, so this loop's trip count is not known when "
            f"the loop is compiled",
            "use a Python int or an array's shape (x.shape[0])",
        )
        err.binding_time = True  # the API retries with every non-differentiated argument static
        raise err
    return atom


def _affine(cx, node, name: str) -> ir.Tup:
    """A bound of the inner range as ``(a, b)``: ``a * name + b`` with a static ``b``."""
    if not _reads(node, name):
        return ir.Tup((ir.Const(0), _static(cx, node)))
    if isinstance(node, ast.Name):
        return ir.Tup((ir.Const(1), ir.Const(0)))
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        left, right = node.left, node.right
        if isinstance(left, ast.Name) and left.id == name and not _reads(right, name):
            offset = _static(cx, right)
            if isinstance(node.op, ast.Sub):
                offset = cx.emit_temp(ir.Prim("negative", (("x", offset),)))
            return ir.Tup((ir.Const(1), offset))
        if isinstance(right, ast.Name) and right.id == name and not _reads(left, name):
            return ir.Tup((ir.Const(1 if isinstance(node.op, ast.Add) else -1), _static(cx, left)))
    raise cx.error(
        node,
        f"this bound of a loop nested in the loop over `{name}` is not `{name} + k`, `{name} - k` or "
        f"`k - {name}` with a static `k`",
        f"write the bound in one of those forms, or loop over the full range and skip with an `if` "
        f"on `{name}`",
    )
