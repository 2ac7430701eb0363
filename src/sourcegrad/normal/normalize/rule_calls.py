"""Calls: resolved to a derivative rule, their arguments bound to the rule's parameters.

``np.sum(x)``, ``jnp.sum(x)`` and ``x.sum()`` all mean the rule ``sum`` (``rules.py``); the call
becomes one ``ir.Prim("sum", (("x", x), ...))`` whose arguments are atoms, tuples of atoms
(a list argument such as ``np.stack([a, b])``) or an index. A call of the user's own function
(a module-level one, or a nested def) goes to ``user_calls.py``; ``len`` of a container and a
dict's ``.items()``/``.keys()``/``.values()`` are resolved here, while normalizing.
"""

from __future__ import annotations

import ast
import types
from typing import Any

import numpy as np

from ... import rules
from ...errors import UnsupportedSyntaxError
from ...transforms.methods import METHODS
from .. import ir
from ..calls import DERIVATIVE_CALLEES
from ..structs import Struct
from . import comprehensions, user_calls
from .expressions import index, is_local, missing_rule, resolve_free

__all__ = ["call", "bind", "multi_output"]


def call(cx, node: ast.Call):
    """The handler of ``ast.Call`` (see the table in __init__.py)."""
    func = node.func
    local = user_calls.local_function(cx, func)
    if local is not None:
        return user_calls.user_call(cx, node, local)
    if isinstance(func, ast.Attribute) and is_local(cx, func.value):
        base = cx.struct_or_atom(func.value)
        if isinstance(base, Struct):
            return _container_method(cx, node, base, func.attr)
        entry = METHODS.get(func.attr)
        if entry is None:
            err = cx.error(
                func,
                f"the array method `.{func.attr}()` is not supported",
                f"supported methods: {', '.join('.' + m + '()' for m in METHODS)}; or call "
                f"the NumPy function",
            )
            # a dict argument's .items() looks like this until the call shows it is a dict
            err.kind_dependent = func.attr in ("items", "keys", "values")
            raise err
        key, packing = entry
        method_rule = rules.lookup_key(key)
        posargs = list(node.args)
        if packing == "pack" and len(posargs) > 1:
            posargs = [ast.copy_location(ast.Tuple(elts=posargs, ctx=ast.Load()), posargs[0])]
        receiver = cx.atom(func.value)
        return bind(cx, method_rule, [receiver, *posargs], node.keywords, node)
    obj = resolve_free(cx, func)
    if obj is len and len(node.args) == 1:
        arg = cx.struct_or_atom(node.args[0])
        if isinstance(arg, Struct):
            return ir.Const(len(arg.items))
        return ir.Prim("len", (("a", arg),))
    if type(obj) in DERIVATIVE_CALLEES:  # grad(f) or jvp(f), called in the body
        return user_calls.derivative_call(cx, node, obj)
    if obj in comprehensions.BUILTINS:
        return comprehensions.builtin_call(cx, node, obj)
    rule = rules.lookup(obj, node.keywords)
    if rule is not None and node.args and isinstance(node.args[0], (ast.ListComp, ast.GeneratorExp)):
        rolled = comprehensions.rolled_call(cx, node, rule.key)
        if rolled is not None:
            return rolled
    if rule is None:
        if isinstance(obj, types.FunctionType) and not _is_library(obj):
            return user_calls.user_call(cx, node, obj)
        raise missing_rule(cx, func, obj)
    prim = bind(cx, rule, list(node.args), node.keywords, node)
    if rule.parts:
        return _parts(cx, rules.lookup_key(prim.op), prim, node)
    return prim


def multi_output(cx, node, targets=None, only=None):
    """For a call of a function that returns several arrays (``np.linalg.eigh``, ``np.split``):
    its parts, each one ``ir.Prim`` of the part's rule. With ``targets`` (``w, V = eigh(A)``)
    each part is assigned to its name; with ``only`` (``slogdet(A)[1]``) the one part is returned
    unassigned and the others are not computed. None for any other expression."""
    if not isinstance(node, ast.Call) or user_calls.local_function(cx, node.func) is not None:
        return None
    if isinstance(node.func, ast.Attribute) and is_local(cx, node.func.value):
        return None
    try:
        rule = rules.lookup(resolve_free(cx, node.func))
    except (UnsupportedSyntaxError, TypeError):
        return None
    if rule is None or not rule.parts:
        return None
    prim = bind(cx, rule, list(node.args), node.keywords, node)
    return _parts(cx, rule, prim, node, targets, only)


def _parts(cx, rule, prim: ir.Prim, node, targets=None, only=None):
    """The parts of ``prim`` (a call of a rule with ``parts``): a Struct of their atoms, or with
    ``only``, the one part's Prim."""
    n = len(rule.parts)
    values = _StaticValues({p.name: p.default for p in rule.params if not p.required})
    values.update({k: _static_value(cx, a) for k, a in prim.args if rule.param(k).kind == "static"})
    try:
        alone = rule.alone(values) if rule.alone is not None else None
        if rule.count is not None:
            n = rule.count(values)
    except _NotKnown as e:
        raise cx.error(
            _argument_node(rule, node, e.args[0]),
            f"`{e.args[0]}=` of `{rule.key}` must be known when compiling (it decides which arrays "
            f"the call returns), but `{ast.unparse(_argument_node(rule, node, e.args[0]))}` is known "
            f"only when the function is called",
            f"write the value out (`{e.args[0]}=...`), or name a constant of the module",
        ) from None
    except ValueError as e:
        raise cx.error(node, *e.args) from None
    if alone is not None:  # svd(a, compute_uv=False): one array, the call's whole result
        whole = ir.Prim(rule.parts[alone], prim.args + (("part", ir.Const(None)),))
        if targets is not None:
            raise cx.error(node, f"this `{rule.key}` returns one array", "assign it to one name")
        if only is None:
            return whole
        return ir.Prim("getitem_static", (("x", cx.emit_temp(whole)), ("idx", ir.Index((ir.Const(only),)))))
    if n is None:
        raise cx.error(
            node,
            f"the number of arrays `{rule.key}` returns must be known when compiling",
            "pass the number of sections or the split indices as constants",
        )
    keys = rule.parts if rule.count is None else rule.parts * n
    part = lambda i: ir.Prim(keys[i], prim.args + (("part", ir.Const(i)),))  # noqa: E731
    if only is not None:
        if not -n <= only < n:
            raise cx.error(node, f"`{rule.key}` returns {n} arrays; there is no [{only}]")
        return part(only % n)
    if targets is not None and len(targets) != n:
        raise cx.error(node, f"{len(targets)} names but `{rule.key}` returns {n} arrays")
    items = []
    for i in range(n):
        if targets is None:
            items.append(cx.emit_temp(part(i)))
        else:
            cx.emit(ir.Assign(targets[i], part(i), cx.origin))
            items.append(ir.Name(targets[i]))
    return Struct(rule.parts_kind, tuple(enumerate(items)))


class _NotKnown(Exception):
    """A static argument read while compiling whose value is known only when the function runs."""


_UNKNOWN = object()


class _StaticValues(dict):
    """The static arguments by name, as a rule's ``alone``/``count`` reads them: reading one whose
    value is not known while compiling (an argument of the function) raises ``_NotKnown``."""

    def __getitem__(self, key):
        value = super().__getitem__(key)
        if value is _UNKNOWN:
            raise _NotKnown(key)
        return value


def _static_value(cx, arg):
    """The Python value of a static argument: a literal, a name bound to one (a local, a constant of
    the module), a tuple of them; ``_UNKNOWN`` for a value known only when the function runs."""
    if isinstance(arg, ir.Const):
        return arg.value
    if isinstance(arg, ir.Name):
        if arg.id in cx.constants:
            return cx.constants[arg.id]
        return cx.globals_used.get(arg.id, _UNKNOWN)
    if isinstance(arg, ir.Tup):
        items = [_static_value(cx, a) for a in arg.items]
        return _UNKNOWN if any(i is _UNKNOWN for i in items) else tuple(items)
    return _UNKNOWN


def _argument_node(rule, node: ast.Call, name: str):
    """The AST node of the call's argument for parameter ``name`` (the call when it has none)."""
    for kw in node.keywords:
        if kw.arg == name:
            return kw.value
    position = [p.name for p in rule.params].index(name)
    return node.args[position] if position < len(node.args) else node


def _container_method(cx, node, base: Struct, method: str):
    """``params.items()``, ``.keys()``, ``.values()``: resolved now, into a list of its entries."""
    if base.kind == "dict" and method in ("items", "keys", "values") and not node.args:
        entries = {
            "keys": [ir.Const(k) for k, _ in base.items],
            "values": [v for _, v in base.items],
            "items": [Struct("tuple", ((0, ir.Const(k)), (1, v))) for k, v in base.items],
        }
        return Struct("list", tuple(enumerate(entries[method])))
    raise cx.error(
        node,
        f"`.{method}()` of a {base.kind} of arrays is not supported",
        "index the container with constant keys, or use .items() / .keys() / .values() of a dict",
    )


def bind(cx, rule, posargs, keywords, node) -> ir.Prim:
    """``rule`` applied to the call's arguments (AST nodes, or atoms already lowered)."""
    params = rule.params
    by_name = {p.name: p for p in params}
    # an AST node or a lowered atom; a list of them for a *varargs parameter
    bound: dict[str, Any] = {}
    positional = [p for p in params]
    i = 0
    for arg in posargs:
        if i >= len(positional):
            raise cx.error(node, f"`{rule.key}` takes at most {len(positional)} positional arguments here")
        p = positional[i]
        if p.varargs:
            bound.setdefault(p.name, []).append(arg)
            continue
        bound[p.name] = arg
        i += 1
    if rule.max_positional is not None and len(posargs) > rule.max_positional:
        later = ", ".join(p.name for p in params[rule.max_positional :])
        raise cx.error(
            node,
            f"`{rule.key}` takes at most {rule.max_positional} positional arguments",
            f"pass {later} by keyword",
        )
    for kw in keywords:
        if kw.arg not in by_name or by_name[kw.arg].varargs:
            supported = ", ".join(p.name for p in params if p.default is not rules.REQUIRED)
            raise cx.error(
                kw.value,
                f"the keyword `{kw.arg}=` of `{rule.key}` is not supported by sourcegrad",
                f"supported keywords: {supported or 'none'}",
            )
        if kw.arg in bound:
            raise cx.error(kw.value, f"`{kw.arg}` is given twice")
        bound[kw.arg] = kw.value
    missing = [p.name for p in params if p.required and not p.varargs and p.name not in bound]
    if missing:
        raise cx.error(node, f"`{rule.key}` needs the argument(s) {', '.join(missing)}")
    for p in params:  # no argument for *varargs: an empty tuple, which templates may still spread
        if p.varargs:
            bound.setdefault(p.name, [])
    out = []
    for p in params:
        if p.name not in bound:
            continue
        value = bound[p.name]
        struct = None
        if p.name in rule.functions and isinstance(value, ast.AST) and not is_local(cx, value):
            # generated code passes the function a helper differentiates: `vjp_of(jnp.cumprod, ...)`
            out.append((p.name, ir.Const(resolve_free(cx, value), text=ast.unparse(value))))
            continue
        if isinstance(value, ast.AST) and p.kind != "index" and not p.varargs:
            struct = cx.struct_or_atom(value)
            if not isinstance(struct, Struct):
                value, struct = struct, None
        if p.kind == "sequence":
            if p.varargs:
                value = ir.Tup(tuple(cx.atom_of(v) for v in value))
            elif struct is not None:
                value = _sequence_tup(cx, struct, bound[p.name])
            elif rule.alternate:  # np.array(x) of one array: the rule for that
                return bind(cx, rules.lookup_key(rule.alternate), [value] + list(posargs[1:]), keywords, node)
            else:
                raise cx.error(
                    value,
                    f"`{rule.key}` needs its arrays as a list display `[a, b, ...]` "
                    f"so that each one gets its own gradient",
                    "write the list out",
                )
        elif p.kind == "index":
            # generated code (a gradient normalized again) passes an index as jnp.s_[...]
            value = index(cx, _index_expression(cx, value))
        elif struct is not None:
            if p.kind == "array":
                raise cx.error(
                    bound[p.name],
                    f"`{ast.unparse(bound[p.name])}` is a {struct.kind} of "
                    f"arrays; `{rule.key}` takes one array for `{p.name}`",
                    "stack the arrays first (np.stack)",
                )
            value = _flat_tup(cx, struct, value_node=bound[p.name])
        else:
            value = cx.atom_of(value)
        out.append((p.name, value))
    return ir.Prim(rule.key, tuple(out))


def _index_expression(cx, node):
    """The index inside ``np.s_[...]`` / ``jnp.s_[...]``, else the node itself."""
    if isinstance(node, ast.Subscript) and not is_local(cx, node.value):
        try:
            maker = resolve_free(cx, node.value)
        except UnsupportedSyntaxError:
            return node
        if isinstance(maker, type(np.s_)):
            return node.slice
    return node


def _sequence_tup(cx, struct: Struct, value_node) -> ir.Tup:
    """The arrays of a sequence argument; a nested list or tuple in it (``np.array([[a, b], [c, d]])``)
    is the array NumPy makes of it, ``np.array([a, b])``, so each leaf keeps its own gradient."""
    items = []
    for _, v in struct.items:
        if isinstance(v, Struct) and v.kind in ("list", "tuple"):
            inner = _sequence_tup(cx, v, value_node)
            v = cx.emit_temp(ir.Prim("array", (("object", inner),)))
        items.append(v)
    return _flat_tup(cx, Struct(struct.kind, tuple(enumerate(items))), value_node)


def _flat_tup(cx, struct: Struct, value_node) -> ir.Tup:
    items = [v for _, v in struct.items]
    if any(isinstance(v, Struct) for v in items):
        raise cx.error(value_node, "a nested container cannot be passed here", "pass a flat list of arrays")
    return ir.Tup(tuple(items), struct.kind == "list")


def _is_library(fn) -> bool:
    """Functions of installed libraries (numpy, jax, scipy, ...) are not the user's to differentiate;
    ``sourcegrad.gradbench``'s evals are written as a user writes them, and are."""
    module = getattr(fn, "__module__", "") or ""
    if module == "sourcegrad.gradbench" or module.startswith("sourcegrad.gradbench."):
        return False
    return module.split(".")[0] in {"numpy", "jax", "jaxlib", "scipy", "sourcegrad", "builtins"}
