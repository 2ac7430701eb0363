"""Python's logic on values known while tracing: ``and``, ``or``, ``not``, chained comparisons,
``is None`` / ``is not None``.

On values known while JAX traces (constants, shapes, static arguments) they mean what Python
means, resolved while tracing: ``a and b`` is an ``if`` known while tracing (a Python ``if`` in
the generated code, so ``b`` is evaluated only when ``a`` is true, as in Python); on constants
they are folded now. ``0 < n <= 3`` is ``0 < n and n <= 3`` with ``n`` evaluated once.

On arrays NumPy itself raises for ``and``/``or``/``not`` and chained comparisons of arrays of
more than one element ("the truth value of an array ... is ambiguous"), and for a one-element
array the answer depends on the data, which a compiled program cannot branch on in Python: a
located error, with the elementwise operator to write (``&``, ``|``, ``~``,
``(a < b) & (b < c)``). ``x is None`` is known when compiling for an array (never None) or a
container (never None), and is a Python ``is`` on a static argument.
"""

from __future__ import annotations

import ast

from .. import ir
from ..structs import Struct
from .expressions import CMPOPS
from .expressions import compare as single_compare
from .expressions import unary as arithmetic_unary

__all__ = ["bool_op", "unary", "compare"]


# ----- handlers (see the table in __init__.py) -----
def bool_op(cx, node: ast.BoolOp):
    """``a and b and c`` / ``a or b``: short-circuit on values known while tracing."""
    is_and = isinstance(node.op, ast.And)
    word = "and" if is_and else "or"

    def chain(k):
        value = cx.atom(node.values[k])
        if k == len(node.values) - 1:
            return value
        _require_static(cx, node.values[k], value, word)
        return _short_circuit(cx, value, lambda: chain(k + 1), is_and)

    return chain(0)


def unary(cx, node: ast.UnaryOp):
    if not isinstance(node.op, ast.Not):
        return arithmetic_unary(cx, node)
    value = cx.atom(node.operand)
    _require_static(cx, node.operand, value, "not")
    if isinstance(value, ir.Const):
        return ir.Const(not value.value)
    return ir.Prim("static_not", (("x", value),))


def compare(cx, node: ast.Compare):
    """``a < b``, ``a < b < c`` (static), ``x is None``, ``x is not None``."""
    if len(node.ops) == 1 and type(node.ops[0]) in CMPOPS:
        return single_compare(cx, node)

    def chain(k, left):
        op, right_node = node.ops[k], node.comparators[k]
        right = cx.struct_or_atom(right_node)
        if isinstance(op, (ast.Is, ast.IsNot)):
            result = _identity(cx, node, left, right, isinstance(op, ast.Is))
        else:
            for operand, where in (
                (left, node.left if k == 0 else node.comparators[k - 1]),
                (right, right_node),
            ):
                _require_static(cx, where, operand, "chained comparisons", node)
            result = cx.emit_temp(ir.Prim(CMPOPS[type(op)], (("x", left), ("y", right))))
        if k == len(node.ops) - 1:
            return result
        _require_static(cx, node, result, "chained comparisons")
        return _short_circuit(cx, result, lambda: chain(k + 1, right), True)

    return chain(0, cx.struct_or_atom(node.left))


# ----- helpers -----
def _short_circuit(cx, first, rest, is_and: bool):
    """``first and rest()`` / ``first or rest()``, ``first`` known while tracing: folded when it is
    a constant, else an ``if`` known while tracing with ``rest()`` lowered in its branch."""
    if isinstance(first, ir.Const):
        return rest() if bool(first.value) == is_and else first
    origin = cx.origin
    outer, cx.block = cx.block, []
    saved = dict(cx.versions)
    second = cx.atom_of(rest())
    inner, cx.block = cx.block, outer
    cx.versions = saved
    cx.origin = origin
    out = cx.namer.fresh("both" if is_and else "either")
    cx.temporaries.add(out)
    then, orelse = (tuple(inner), ()) if is_and else ((), tuple(inner))
    outputs = ((out, second, first),) if is_and else ((out, first, second),)
    cx.emit(ir.If(first, then, orelse, outputs, True, origin, cx.namer.fresh(f"branch_{origin.line}")))
    if cx.is_static(second):
        cx.static.add(out)
    return ir.Name(out)


def _identity(cx, node, left, right, is_: bool):
    """``left is right`` where one side is None: known now unless the other side is static."""
    none = [v for v in (left, right) if isinstance(v, ir.Const) and v.value is None]
    if not none:
        raise cx.error(
            node,
            "`is` compares identities, which JAX's arrays do not keep as NumPy's do",
            "compare with None only (`x is None`), or compare values with ==",
        )
    other = right if left is none[0] and len(none) == 1 else left
    if isinstance(other, Struct) or not cx.is_static(other):  # an array or a container is not None
        return ir.Const(not is_)
    if isinstance(other, ir.Const):
        return ir.Const((other.value is None) == is_)
    return cx.emit_temp(ir.Prim("is_" if is_ else "is_not", (("x", other), ("y", ir.Const(None)))))


def _require_static(cx, where, value, word: str, node=None):
    if isinstance(value, Struct):
        raise cx.error(where, f"`{word}` of a {value.kind} of arrays is not supported")
    if cx.is_static(value):
        return
    fixes = {
        "and": "for arrays use `&` or np.logical_and (elementwise)",
        "or": "for arrays use `|` or np.logical_or (elementwise)",
        "not": "for arrays use `~` or np.logical_not (elementwise)",
    }
    text = ast.unparse(node if node is not None else where)
    err = cx.error(
        node if node is not None else where,
        f"`{word}` of an array (`{text}`): NumPy raises for arrays of more than one element "
        f"(the truth value is ambiguous), and a compiled program cannot branch in Python on an "
        f"array's values",
        fixes.get(word, "for arrays write (a < b) & (b < c) (elementwise)"),
    )
    err.binding_time = True  # the API retries with every non-differentiated argument static
    raise err
