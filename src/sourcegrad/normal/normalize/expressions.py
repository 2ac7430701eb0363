"""Expressions: atoms, names, operators, attributes, subscripts, displays and indices.

Every sub-expression becomes an atom (a name or a constant): each handler lowers its operands
with ``cx.atom`` and returns one operation (an ``ir.Prim``), which ``Context.expr`` assigns to a
temporary named after it. Tuple, list and dict displays are not built at run time: they become a
``Struct`` of atoms, resolved while normalizing (``structs.py``).

Names resolve to the user's current version of a variable, or to a constant global of the
function's module. Calls are in ``rule_calls.py`` (library functions, array methods) and
``user_calls.py`` (the user's own functions); conditional expressions in ``branches.py``.
"""

from __future__ import annotations

import ast
import types

import jax.numpy as jnp
import numpy as np

from ... import rules, runtime
from ...errors import MissingRuleError, UnsupportedSyntaxError
from ...frontend.resolve import NOT_FOUND, describe, is_constant_value
from ...transforms.methods import ATTRIBUTES
from .. import ir
from ..structs import Struct
from .aliasing import check_read

__all__ = [
    "BINOPS",
    "CMPOPS",
    "UNARYOPS",
    "AUGOPS",
    "constant",
    "name",
    "unary",
    "binary",
    "compare",
    "attribute",
    "subscript",
    "sequence",
    "dict_display",
    "index",
    "is_local",
    "resolve_free",
    "missing_rule",
]

BINOPS = {
    ast.Add: "add",
    ast.Sub: "subtract",
    ast.Mult: "multiply",
    ast.Div: "divide",
    ast.Pow: "power",
    ast.MatMult: "matmul",
    ast.Mod: "mod",
    ast.FloorDiv: "floor_divide",
    ast.BitAnd: "bitwise_and",
    ast.BitOr: "bitwise_or",
}
CMPOPS = {
    ast.Lt: "less",
    ast.LtE: "less_equal",
    ast.Gt: "greater",
    ast.GtE: "greater_equal",
    ast.Eq: "equal",
    ast.NotEq: "not_equal",
}
UNARYOPS = {ast.USub: "negative", ast.UAdd: "positive", ast.Invert: "invert"}
AUGOPS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
    ast.MatMult: "@",
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.BitAnd: "&",
    ast.BitOr: "|",
}


# ----- handlers (see the table in __init__.py) -----
def constant(cx, node: ast.Constant):
    return ir.Const(node.value)


def unary(cx, node: ast.UnaryOp):
    if (
        isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, (int, float, complex))
    ):
        return ir.Const(-node.operand.value)
    return ir.Prim(UNARYOPS[type(node.op)], (("x", cx.atom(node.operand)),))


def binary(cx, node: ast.BinOp):
    x = cx.atom(node.left)
    y = cx.atom(node.right)
    return ir.Prim(BINOPS[type(node.op)], (("x", x), ("y", y)))


def compare(cx, node: ast.Compare):
    x = cx.atom(node.left)
    y = cx.atom(node.comparators[0])
    return ir.Prim(CMPOPS[type(node.ops[0])], (("x", x), ("y", y)))


def subscript(cx, node: ast.Subscript):
    x = cx.struct_or_atom(node.value)
    if isinstance(x, Struct):
        return element(cx, x, node.slice)
    idx = index(cx, node.slice)
    # a subscript known while tracing has a cheaper adjoint (a pad instead of a scatter)
    op = "getitem_static" if cx.is_static(idx) else "getitem"
    if op == "getitem" and isinstance(x, ir.Name) and isinstance(cx.globals_used.get(x.id), np.ndarray):
        # a NumPy array of the module cannot be indexed by a traced index (a rolled loop's):
        # it enters as a JAX array, in the precision of the call
        x = cx.emit_temp(ir.Prim("asarray", (("a", x),)))
    return ir.Prim(op, (("x", x), ("idx", idx)))


def sequence(cx, node):
    """A tuple or list display: a Struct of its elements' atoms."""
    return Struct(
        "list" if isinstance(node, ast.List) else "tuple",
        tuple((i, cx.struct_or_atom(e)) for i, e in enumerate(node.elts)),
    )


def dict_display(cx, node: ast.Dict):
    items = []
    for k, v in zip(node.keys, node.values):
        if not (isinstance(k, ast.Constant) and isinstance(k.value, str)):
            raise cx.error(
                k if k is not None else v, "dict displays need constant string keys", "write {'W': W, ...}"
            )
        items.append((k.value, cx.struct_or_atom(v)))
    return Struct("dict", tuple(items))


def name(cx, node: ast.Name):
    """The current version of a user variable, or a constant global of the function's module."""
    if node.id not in cx.versions and node.id in cx.out_of_scope:
        why = cx.out_of_scope[node.id]
        why, fix = why if isinstance(why, tuple) else (why, None)
        err = cx.error(
            node,
            f"`{node.id}` is not defined here: {why}",
            fix or f"assign `{node.id}` before the loop or the `if`, so that it has a value on every path",
        )
        err.binding_time = node.id in cx.binding_time  # the API retries with static arguments
        raise err
    if node.id in cx.versions:
        if cx.versions[node.id] in cx.maybe_unbound:
            cx.check_bound(node, cx.versions[node.id])
        value = cx.current_value(node.id)
        check_read(cx, node, value)
        return value
    value = cx.env.lookup(node.id)
    if value is NOT_FOUND:
        raise cx.error(
            node,
            f"the name `{node.id}` is not defined (not a parameter, not assigned "
            f"before this line, not a global)",
            "define it before use",
        )
    if value is None or isinstance(value, bool):
        return ir.Const(value)
    if is_constant_value(value):
        cx.globals_used[node.id] = value
        cx.namer.reserve(node.id)
        if isinstance(value, (int, float, complex, str)):
            cx.static.add(node.id)
        return ir.Name(node.id)
    raise cx.error(
        node,
        f"`{node.id}` is {describe(value)}, which cannot be used as a value here",
        "call it, or pass the value in as an argument",
    )


def attribute(cx, node: ast.Attribute):
    if is_local(cx, node.value):
        key = ATTRIBUTES.get(node.attr)
        if key is None:
            raise cx.error(
                node,
                f"the attribute `.{node.attr}` of an array is not supported",
                f"supported attributes: {', '.join('.' + a for a in ATTRIBUTES)}",
            )
        return ir.Prim(key, ((rules.lookup_key(key).params[0].name, cx.atom(node.value)),))
    value = resolve_free(cx, node)
    if isinstance(value, bool) or value is None:
        return ir.Const(value)
    if is_constant_value(value):
        return ir.Const(value, text=_constant_text(cx, node, value))
    raise cx.error(
        node,
        f"`{ast.unparse(node)}` is {describe(value)}, which cannot be used as a value here",
        "call it, or pass the value in as an argument",
    )


# ----- helpers -----
def is_local(cx, node) -> bool:
    """Is the expression a value (not a dotted name of a module or function)?"""
    while isinstance(node, ast.Attribute):
        node = node.value
    if isinstance(node, ast.Name):
        if node.id in cx.versions:
            return True
        return is_constant_value(cx.env.lookup(node.id))
    return True


def resolve_free(cx, node):
    """The object a dotted free name (``np.linalg.norm``) refers to."""
    if isinstance(node, ast.Name):
        value = cx.env.lookup(node.id)
        if value is NOT_FOUND:
            raise cx.error(node, f"the name `{node.id}` is not defined")
        return value
    if isinstance(node, ast.Attribute):
        base = resolve_free(cx, node.value)
        if not hasattr(base, node.attr):
            raise cx.error(
                node, f"`{ast.unparse(node.value)}` ({describe(base)}) has no attribute `{node.attr}`"
            )
        return getattr(base, node.attr)
    raise cx.error(node, f"`{ast.unparse(node)}` cannot be resolved")


def _constant_text(cx, node: ast.Attribute, value) -> str | None:
    """``np.pi`` prints as ``jnp.pi``; other module constants print as their value."""
    root = resolve_free(cx, node.value)
    if (
        isinstance(root, types.ModuleType)
        and root.__name__ in ("numpy", "jax.numpy")
        and hasattr(jnp, node.attr)
    ):
        return f"jnp.{node.attr}"
    if isinstance(value, (int, float, complex)):
        return repr(value)
    raise cx.error(
        node,
        f"`{ast.unparse(node)}` is {describe(value)}; only numbers and numpy "
        f"constants can be read from modules",
        "pass the value in as an argument",
    )


def constant_key(cx, node):
    """The constant key of ``container[key]`` (a literal, or a name holding one: the target
    of a loop over a container, which is written out element by element)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, str)):
        return node.value
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, int)
    ):
        return -node.operand.value
    if isinstance(node, ast.Name) and cx.versions.get(node.id) in cx.constants:
        return cx.constants[cx.versions[node.id]]
    raise cx.error(
        node,
        "a tuple, list or dict of arrays can only be indexed with a constant key here",
        "write the key out (layers[0], params['W1']), or stack the arrays into one array",
    )


def element(cx, struct: Struct, key_node):
    if isinstance(key_node, ast.Slice) and struct.kind != "dict":  # xs[1:]: a shorter tuple or list
        parts = [
            None if p is None else constant_key(cx, p)
            for p in (key_node.lower, key_node.upper, key_node.step)
        ]
        if all(p is None or isinstance(p, int) for p in parts):
            kept = [v for _, v in struct.items][slice(*parts)]
            return Struct(struct.kind, tuple(enumerate(kept)))
    key = constant_key(cx, key_node)
    if struct.kind != "dict" and isinstance(key, int) and key < 0:
        key += len(struct.items)
    try:
        return struct.get(key)
    except KeyError:
        raise cx.error(key_node, f"the {struct.kind} has no key {key!r} (keys: {struct.keys})") from None


def index(cx, node) -> ir.Index:
    if isinstance(node, ast.Tuple):
        return ir.Index(tuple(_index_item(cx, e) for e in node.elts), True)
    return ir.Index((_index_item(cx, node),), False)


def _index_item(cx, node):
    if isinstance(node, ast.Slice):
        parts = tuple(None if part is None else cx.atom(part) for part in (node.lower, node.upper, node.step))
        for part_node, part in zip((node.lower, node.upper, node.step), parts):
            if part is not None and not cx.is_static(part):
                raise cx.error(
                    part_node,
                    f"the slice bound `{ast.unparse(part_node)}` is computed by JAX (a loop index or "
                    f"an array), so the slice's length is not known when compiling; NumPy would also "
                    f"shorten the slice near the end of the array, which a compiled slice cannot do",
                    "index with integers (`x[i]`, `x[i + 1]`) and stack them, or slice with constant "
                    "bounds outside the loop",
                )
        return ir.Slice(*parts)
    return cx.atom(node)


def missing_rule(cx, func, obj) -> UnsupportedSyntaxError:
    """The error for a call of ``obj`` (written ``func``) that no derivative rule covers."""
    written = ast.unparse(func)
    if obj in (float, int, complex, bool):
        return cx.error(
            func,
            f"`{written}()` converts an array to a Python number, which cannot be traced or differentiated",
            "keep it an array (use x.astype(...) or a 0-d array)",
        )
    if isinstance(obj, type) or not callable(obj):
        return cx.error(func, f"`{written}` is {describe(obj)}, not a function")
    if obj is runtime.no_grad:
        return cx.error(
            func, "no_grad() is a context manager", "write `with no_grad():` and indent the block"
        )
    return cx.error(
        func,
        f"no derivative rule for `{written}` ({describe(obj)})",
        f"use a supported function, or register a rule once, before grad():\n"
        f"      {rules.suggestion(written, obj)}",
        cls=MissingRuleError,
    )
