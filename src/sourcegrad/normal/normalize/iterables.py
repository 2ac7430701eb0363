"""What a ``for`` loop iterates over: its targets and one iterator per target.

``range(start, stop, step)`` with static parts is an ``ir.RangeIter``; an array is an
``ir.ArrayIter`` over its leading axis; ``enumerate`` and ``zip`` give one iterator per target,
walked in lockstep; a Python list or tuple of arrays (or a dict, its keys, or its ``.items()``)
is a ``Struct``, which ``loops.py`` writes out element by element. Any other Python iterable
has a length unknown when the loop is compiled: a located error.
"""

from __future__ import annotations

import ast

from ...frontend.resolve import is_constant_value
from .. import ir
from ..structs import Struct
from .expressions import is_local, resolve_free

__all__ = ["loop_iterables"]

#: Builtins whose result's length is not known when the loop is compiled.
_OPAQUE = (map, filter, iter, reversed, sorted, list, tuple, set, dict)


def loop_iterables(cx, target, iterable):
    """(user target names, iterators) of ``for target in iterable``."""
    func = iterable.func if isinstance(iterable, ast.Call) else None
    obj = resolve_free(cx, func) if func is not None and not is_local(cx, func) else None
    if obj in _OPAQUE or (
        isinstance(iterable, ast.Name)
        and iterable.id not in cx.versions
        and not is_constant_value(cx.env.lookup(iterable.id))
    ):
        raise cx.error(
            iterable,
            f"a loop over `{ast.unparse(iterable)}`: a Python iterable whose "
            f"length is not known when the loop is compiled",
            "loop over range(n), an array, or a list or tuple of arrays passed as an argument",
        )
    if obj is range:
        return _range(cx, target, iterable)
    if obj is enumerate:
        if not (isinstance(target, ast.Tuple) and len(target.elts) == 2) or len(iterable.args) != 1:
            raise cx.error(target, "write `for i, item in enumerate(xs):`")
        inner_targets, inner_iters = loop_iterables(cx, target.elts[1], iterable.args[0])
        first = inner_iters[0]
        length = (
            ir.Const(len(first.items))
            if isinstance(first, Struct)
            else cx.emit_temp(ir.Prim("len", (("a", _array_of(cx, first)),)))
        )
        return (
            [_target_name(cx, target.elts[0])] + inner_targets,
            [ir.RangeIter(ir.Const(0), length, ir.Const(1))] + inner_iters,
        )
    if obj is zip:
        if not isinstance(target, ast.Tuple) or len(target.elts) != len(iterable.args):
            raise cx.error(target, "unpack one name per zipped sequence: `for a, b in zip(xs, ys):`")
        names, iters = [], []
        for t, arg in zip(target.elts, iterable.args):
            n, i = loop_iterables(cx, t, arg)
            names += n
            iters += i
        return names, iters
    value = cx.struct_or_atom(iterable)
    if isinstance(value, Struct):  # a Python list of arrays: written out, element by element
        if value.kind == "dict":  # iterating a dict gives its keys
            value = Struct("list", tuple(enumerate(ir.Const(k) for k, _ in value.items)))
        if isinstance(target, ast.Tuple):  # for k, v in params.items()
            return _unpacked_targets(cx, target, value)
        return [_target_name(cx, target)], [value]
    return [_target_name(cx, target)], [ir.ArrayIter(value)]


def _range(cx, target, iterable):
    args = [cx.atom(a) for a in iterable.args]
    if iterable.keywords or not 1 <= len(args) <= 3:
        raise cx.error(iterable, "range() takes 1 to 3 positional arguments")
    start, stop, step = (
        ([ir.Const(0)] + args + [ir.Const(1)])[:3] if len(args) == 1 else (args + [ir.Const(1)])[:3]
    )
    for part, text in zip((start, stop, step), ("start", "stop", "step")):
        index = next(
            (n.id for n in ast.walk(iterable) if isinstance(n, ast.Name) and n.id in cx.loop_indices), None
        )
        if not cx.is_static(part) and index is not None:
            raise cx.error(
                iterable,
                f"the {text} of this range depends on `{index}`, the index of an enclosing loop, so "
                f"its trip count changes from one iteration to the next; a compiled loop has one trip "
                f"count",
                f"make this loop the only statement in the loop over `{index}` (the two loops then run "
                f"as one loop over their index pairs), or loop over the full range and skip the "
                f"iterations you do not want with an `if`",
            )
        if not cx.is_static(part):
            err = cx.error(
                iterable,
                f"the {text} of this range depends on a value computed by JAX "
                f"(`{part.id}`), so the loop's trip count is not known when the "
                f"loop is compiled",
                "use a Python int or an array's shape (x.shape[0]); for a data-dependent "
                "trip count write a while loop with a max_iter bound",
            )
            err.binding_time = True  # the API retries with every non-differentiated argument static
            raise err
    return [_target_name(cx, target)], [ir.RangeIter(start, stop, step)]


def _unpacked_targets(cx, target: ast.Tuple, value: Struct):
    """``for k, v in pairs`` over a container of pairs: one container per position."""
    n = len(target.elts)
    columns = []
    for j in range(n):
        column = []
        for _, item in value.items:
            if not isinstance(item, Struct) or len(item.items) != n:
                raise cx.error(target, f"each element must unpack into {n} names")
            column.append(item.items[j][1])
        columns.append(Struct("list", tuple(enumerate(column))))
    return [_target_name(cx, t) for t in target.elts], columns


def _array_of(cx, it):
    if isinstance(it, ir.ArrayIter):
        return it.array
    raise cx.error(cx.parsed.node, "enumerate() needs an array")


def _target_name(cx, target) -> str:
    if not isinstance(target, ast.Name):
        raise cx.error(
            target,
            "this loop target is not supported",
            "use a single name, or enumerate()/zip() with one name per sequence",
        )
    return target.id
