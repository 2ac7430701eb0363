"""Straight-line statements: assignments, augmented assignments, subscript writes, ``return``,
``with no_grad():``.

Every name is assigned once: a re-assigned variable gets a new version (``y``, ``y_1``, ...), so
an old value stays readable by the backward pass. ``y[i] = v`` is ``y_1 = y.at[i].set(v)``, a new
version too, and ``y += v`` is ``y_1 = y + v``. NumPy would change such an array in place, and
with it every name that shares its memory (a view); JAX would not, so writing into a view is a
located error instead of a silent difference.
"""

from __future__ import annotations

import ast
from typing import cast

from ... import runtime
from ...frontend.resolve import describe
from .. import ir
from ..structs import Struct
from . import rule_calls
from .aliasing import shared_with_others, write_in_place
from .expressions import AUGOPS, BINOPS, index, resolve_free

__all__ = [
    "assign_statement",
    "annotated_assign",
    "augmented_assign",
    "return_statement",
    "with_statement",
    "nothing",
]


# ----- handlers (see the table in __init__.py) -----
def assign_statement(cx, node: ast.Assign):
    first, *others = node.targets
    _assign(cx, first, node.value)
    for other in others:  # a = b = value
        _assign(cx, other, first)


def annotated_assign(cx, node: ast.AnnAssign):
    _assign(cx, node.target, node.value)


def augmented_assign(cx, node: ast.AugAssign):
    op = AUGOPS.get(type(node.op), "+")
    if isinstance(node.target, ast.Subscript):
        _write_subscript(cx, node.target, node.value, node.op)
        return
    # cast is safe: the fence admits only names and subscripts as augmented-assignment targets
    user = cast(ast.Name, node.target).id
    _check_not_a_view(cx, node, user, op)
    old = cx.atom(node.target)
    rhs = cx.atom(node.value)
    target = cx.new_version(user)
    cx.emit(ir.Assign(target, ir.Prim(BINOPS[type(node.op)], (("x", old), ("y", rhs))), cx.origin))
    if isinstance(old, ir.Name) and not cx.is_static(old):  # an array's aliases see the write
        write_in_place(
            cx,
            node,
            user,
            old.id,
            None,
            False,
            _text(node),
            f"write `{user} = {user} {op} ...` to make a new array",
        )
    cx.bind_name(user, target)


def return_statement(cx, node: ast.Return):
    value = cx.struct_or_atom(node.value)
    if isinstance(value, Struct):
        if value.kind == "dict" or any(isinstance(v, Struct) for _, v in value.items):
            raise cx.error(
                node.value,
                "a function differentiated by sourcegrad returns an array or a flat tuple of arrays",
                "return the arrays as a tuple: return a, b",
            )
        value = ir.Tup(tuple(v for _, v in value.items))
    cx.emit(ir.Return(value, cx.origin))


def with_statement(cx, node: ast.With):
    """``with no_grad():`` (the only ``with`` the fence admits): an ``ir.NoGrad`` block."""
    _check_no_grad(cx, node)
    origin = cx.origin
    inner = cx.sub_block(node.body)
    cx.emit(ir.NoGrad(tuple(inner), origin))


def nothing(cx, node):
    """``pass`` and docstrings; the fence rejects other expression statements."""


# ----- assignments -----
def _assign(cx, target, value_node):
    if isinstance(target, ast.Name):
        name = cx.new_version(target.id)
        cx.expr(value_node, name)
        cx.bind_name(target.id, name)
        return
    if isinstance(target, ast.Subscript):
        _write_subscript(cx, target, value_node, None)
        return
    # tuple / list target
    names = [t.id for t in target.elts] if all(isinstance(t, ast.Name) for t in target.elts) else None
    if names is None:
        raise cx.error(target, "nested unpacking targets are not supported", "unpack one level at a time")
    new = [cx.new_version(n) for n in names]
    if isinstance(value_node, (ast.Tuple, ast.List)):
        if len(value_node.elts) != len(names):
            raise cx.error(value_node, f"{len(names)} names but {len(value_node.elts)} values")
        # evaluate every value before binding any name: a, b = b, a swaps
        for elt, name in zip(value_node.elts, new):
            cx.expr(elt, name)
    elif rule_calls.multi_output(cx, value_node, targets=new) is not None:
        pass  # w, V = np.linalg.eigh(A): each part assigned to its name
    else:
        source = cx.struct_or_atom(value_node)
        if isinstance(source, Struct):
            if len(source.items) != len(names):
                raise cx.error(
                    value_node, f"{len(names)} names but the {source.kind} has {len(source.items)} items"
                )
            for (_, element), name in zip(source.items, new):
                if isinstance(element, Struct):
                    cx.structs[name] = element
                else:
                    cx.emit(ir.Assign(name, element, cx.origin))
        elif cx.is_static(source):
            cx.emit(ir.Unpack(tuple(new), source, cx.origin))
        else:  # unpacking an array walks its leading axis, as NumPy does
            for i, name in enumerate(new):
                cx.emit(
                    ir.Assign(
                        name,
                        ir.Prim("getitem_static", (("x", source), ("idx", ir.Index((ir.Const(i),))))),
                        cx.origin,
                    )
                )
    for user, name in zip(names, new):
        cx.bind_name(user, name)


def _write_subscript(cx, target: ast.Subscript, value_node, op):
    """``y[idx] = v`` / ``y[idx] += v``: a new version of ``y`` (``y.at[idx].set(v)``)."""
    if not isinstance(target.value, ast.Name) or target.value.id not in cx.versions:
        raise cx.error(
            target,
            "only a local array variable can be written into (`y[i] = v`)",
            "assign the array to a name first",
        )
    name = target.value.id
    if cx.versions[name] in cx.memory.partial:  # a whole-array alias (y = x) is re-bound instead
        _check_not_a_view(cx, target, name, "+")
    x = cx.atom(target.value)
    idx = index(cx, target.slice)
    v = cx.atom(value_node)
    if op is None:
        key = "at_set"
    elif isinstance(op, ast.Add):
        key = "at_add"
    elif isinstance(op, ast.Sub):
        key = "at_add"
        v = cx.emit_temp(ir.Prim("negative", (("x", v),)))
    elif isinstance(op, ast.Mult):
        key = "at_multiply"
    else:
        raise cx.error(
            target, f"`y[i] {AUGOPS.get(type(op), '?')}= v` is not supported", "write y[i] = y[i] <op> v"
        )
    new = cx.new_version(name)
    cx.emit(ir.Assign(new, ir.Prim(key, (("x", x), ("idx", idx), ("v", v))), cx.origin))
    if isinstance(x, ir.Name):
        write_in_place(
            cx,
            target,
            name,
            x.id,
            new,
            True,
            _text(target, value_node, op),
            f"write into a copy: `{name} = {name}.copy()` before that line",
        )
    cx.bind_name(name, new)


def _text(node, value=None, op=None) -> str:
    """The write as the user wrote it, on one line."""
    if value is None:
        return ast.unparse(node).split("\n")[0]
    return f"{ast.unparse(node)} {AUGOPS.get(type(op), '') if op else ''}= {ast.unparse(value)}"


# ----- checks -----
def _check_not_a_view(cx, node, name: str, op: str):
    """``y = x; y += 1`` changes ``x`` too under NumPy but not under JAX: refuse to guess."""
    current = cx.versions.get(name)
    if current not in cx.views:
        return
    base, line = cx.views[current]
    root = cx.memory.root_of(current)
    others = shared_with_others(cx, name, root)
    if root in cx.temporaries:  # a fresh result (`v = helper(x)`): only user variables can see it
        if not others:
            return
        user_base = others[0]
    else:
        user_base = (
            cx.user_names.get(root)
            or (root if root in cx.inputs else None)
            or next((u for u, v in cx.versions.items() if v == base), base)
        )
    if user_base == name:
        return
    if current in cx.memory.rows:
        array = cx.memory.rows[current]
        raise cx.error(
            node,
            f"`{_text(node)}` writes into a row of `{array}` (`{name}` walks its rows "
            f"since line {line}): under NumPy that changes `{array}`",
            f"write into `{array}` by index (`for i in range({array}.shape[0]): "
            f"{array}[i, ...] = ...`), or copy the row first: `{name} = {name}.copy()`",
        )
    raise cx.error(
        node,
        f"`{ast.unparse(node).split(chr(10))[0]}` would also change `{user_base}` "
        f"under NumPy (`{name}` shares its memory since line {line}), but not under "
        f"JAX, whose semantics sourcegrad follows",
        f"write `{name} = {name} {op} ...` for a new array, or copy it where it is made "
        f"(`{name} = ....copy()`) so that `{user_base}` keeps its values",
    )


def _check_no_grad(cx, node: ast.With):
    for item in node.items:
        # cast is safe: the fence admits only `with <...>.no_grad():` calls
        call = cast(ast.Call, item.context_expr)
        obj = resolve_free(cx, call.func)
        if obj is not runtime.no_grad:
            raise cx.error(
                item.context_expr,
                f"`{ast.unparse(call.func)}` is {describe(obj)}, not sourcegrad.no_grad",
                "import it: from sourcegrad import no_grad",
            )
