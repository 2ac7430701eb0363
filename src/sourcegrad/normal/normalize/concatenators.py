"""``np.r_[a, b, ...]``, ``np.c_[a, b, ...]`` and ``np.s_[...]``: NumPy's index tricks, as what they
mean.

``np.s_[1:, None]`` (and ``jnp.s_``, which generated gradients pass to ``unslice``) with constant
parts is the index itself, a constant: a gradient normalized again for second order reads it so.

``np.r_`` makes each item at least 1-D and concatenates along the first axis; ``np.c_`` makes a
number a 1x1 array and a 1-D array a column, and concatenates along the last axis. Both become a
rule call (``r_concatenate([a, b])``, ``c_concatenate([a, b])``, helpers in ``runtime.assembly``)
so that each item gets its own gradient. Their other uses (slices that make ranges,
``np.r_[0:1:5j]``, and string directives, ``np.r_['0,2', a, b]``) are refused with a fix.
Any other subscript is ``expressions.subscript``.
"""

from __future__ import annotations

import ast

import numpy as np

from ... import rules
from ...errors import UnsupportedSyntaxError
from .. import ir
from . import expressions, rule_calls

__all__ = ["subscript"]

#: the concatenator object -> its rule's key
CONCATENATORS = {id(np.r_): "r_concatenate", id(np.c_): "c_concatenate"}
INDEX_MAKERS = (type(np.s_),)  # np.s_, np.index_exp, jnp.s_, jnp.index_exp


def subscript(cx, node: ast.Subscript):
    """The handler of ``ast.Subscript`` (see the table in __init__.py)."""
    obj = _free_object(cx, node.value)
    if isinstance(obj, INDEX_MAKERS):
        return _constant_index(cx, node, obj)
    key = CONCATENATORS.get(id(obj)) if obj is not None else None
    if key is None:
        k, sign = node.slice, 1
        if isinstance(k, ast.UnaryOp) and isinstance(k.op, ast.USub):
            k, sign = k.operand, -1
        if isinstance(k, ast.Constant) and type(k.value) is int:  # slogdet(A)[1]: that part only
            part = rule_calls.multi_output(cx, node.value, only=sign * k.value)
            if part is not None:
                return part
        return expressions.subscript(cx, node)
    items = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
    for item in items:
        if isinstance(item, ast.Slice) or (isinstance(item, ast.Constant) and isinstance(item.value, str)):
            written = ast.unparse(node.value)
            raise cx.error(
                item,
                f"`{written}[...]` with a slice or a string directive is not supported "
                f"(only arrays and numbers to concatenate)",
                "make ranges with np.arange / np.linspace, and join with np.concatenate or np.stack",
            )
    joined = ast.copy_location(ast.List(elts=items, ctx=ast.Load()), node)
    return rule_calls.bind(cx, rules.lookup_key(key), [joined], [], node)


def _free_object(cx, value):
    """The object a subscripted dotted free name refers to (None for a local value)."""
    if expressions.is_local(cx, value):
        return None
    try:
        return expressions.resolve_free(cx, value)
    except UnsupportedSyntaxError:
        return None


def _constant_index(cx, node: ast.Subscript, maker):
    """``np.s_[...]`` of constants: the index, as a constant written as the user wrote it."""

    def part(n):
        if isinstance(n, ast.Constant) and (n.value is None or n.value is Ellipsis or type(n.value) is int):
            return n.value
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            inner = part(n.operand)
            if type(inner) is int:
                return -inner
        if isinstance(n, ast.Slice):
            return slice(*(None if p is None else part(p) for p in (n.lower, n.upper, n.step)))
        if isinstance(n, ast.Tuple):
            return tuple(part(e) for e in n.elts)
        raise cx.error(
            n,
            f"`{ast.unparse(node.value)}[...]` takes constant ints, slices, None and ... here",
            "write the index with constants, or index the array directly",
        )

    return ir.Const(maker[part(node.slice)], text=ast.unparse(node))
