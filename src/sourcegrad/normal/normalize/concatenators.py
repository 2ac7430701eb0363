"""``np.r_[a, b, ...]`` and ``np.c_[a, b, ...]``: NumPy's index-trick concatenators, as the calls
they mean.

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
from . import expressions, rule_calls

__all__ = ["subscript"]

#: the concatenator object -> its rule's key
CONCATENATORS = {id(np.r_): "r_concatenate", id(np.c_): "c_concatenate"}


def subscript(cx, node: ast.Subscript):
    """The handler of ``ast.Subscript`` (see the table in __init__.py)."""
    key = _concatenator(cx, node.value)
    if key is None:
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


def _concatenator(cx, value) -> str | None:
    if expressions.is_local(cx, value):
        return None
    try:
        obj = expressions.resolve_free(cx, value)
    except UnsupportedSyntaxError:
        return None
    return CONCATENATORS.get(id(obj))
