"""Calls of the user's own functions: module-level functions and nested ``def``s.

``h = layer(x, W)`` binds the call's arguments to ``layer``'s signature (defaults included),
normalizes ``layer`` itself, specialized to the kinds of those arguments, as a *callee*
(``normal/calls.py`` keeps the table of callees and explains what is generated for them), and
emits ``ir.CallFn`` with the arguments' leaves. A nested ``def`` is recorded where it stands and
normalized at each call; the enclosing variables it reads (its free variables) become extra
arguments, with their values at the call.
"""

from __future__ import annotations

import ast
import functools
import inspect

from ...frontend import fence
from ...frontend.parse import parse_function
from ...frontend.resolve import describe, is_constant_value
from .. import checker, ir
from ..calls import DERIVATIVE_CALLEES, signature_of
from ..structs import Struct, leaves
from .aliasing import after_call, callee_summary
from .containers import kind_of_value
from .context import Context, assigned_names
from .expressions import missing_rule, name
from .function import lower_function

__all__ = ["nested_def", "local_function", "user_call", "derivative_call", "free_variables"]


def nested_def(cx, node: ast.FunctionDef):
    """The handler of ``ast.FunctionDef`` (a nested def): recorded, lowered where it is called."""
    if node.decorator_list:
        raise cx.error(node, "decorated nested functions are not supported", "define it without decorators")
    cx.local_functions[node.name] = node
    cx.versions.pop(node.name, None)


def local_function(cx, func):
    """The nested def a call's ``func`` names, if it names one that is not shadowed."""
    if isinstance(func, ast.Name) and func.id in cx.local_functions and func.id not in cx.versions:
        return cx.local_functions[func.id]
    return None


def user_call(cx, node, target):
    """``layer(x, W)``: the callee is transformed too (see ``normal/calls.py``)."""
    if cx.callees is None:  # pragma: no cover - the pipeline always passes a table
        raise missing_rule(cx, node.func, target)
    nested = isinstance(target, ast.FunctionDef)
    key_target = (cx.parsed, target) if nested else target
    label = target.name if nested else target.__qualname__
    sig = signature_of(key_target)
    if not nested and any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in sig.parameters.values()):
        fence.check(parse_function(target))  # the located error at the callee's *args / **kwargs
    try:
        bound = sig.bind(*node.args, **{kw.arg: kw.value for kw in node.keywords})
    except TypeError as exc:
        raise cx.error(node, f"this call of `{label}` does not match its signature: {exc}") from None
    values, kinds = {}, {}
    for p in sig.parameters.values():
        if p.name in bound.arguments:
            value = cx.struct_or_atom(bound.arguments[p.name])
        else:
            value = _default_value(cx, p, node, label)
        values[p.name] = value
        kinds[p.name] = kind_of_value(cx, value)
    free = free_variables(cx, target) if nested else ()
    for var in free:
        values[var] = name(cx, ast.Name(id=var, ctx=ast.Load()))
        kinds[var] = kind_of_value(cx, values[var])
    identity = cx.callees.identity(key_target)
    err = cx.error(
        node,
        f"`{label}` calls itself (directly or through other functions): recursion "
        f"cannot be compiled into a rolled loop",
        "write the recursion as a for or while loop",
    )
    cx.callees.enter(identity, err)
    try:
        callee = cx.callees.get(
            key_target, kinds, free, functools.partial(_normalize_callee, cx, nested), cx.env
        )
    finally:
        cx.callees.leave()
    cx.namer.reserve(callee.name)
    args = tuple(leaf for p in [*sig.parameters, *free] for leaf in leaves(values[p]))
    base = f"{callee.name}_out"
    targets = tuple(cx.namer.fresh(base) for _ in range(callee.n_outputs))
    cx.temporaries.update(targets)
    cx.emit(ir.CallFn(targets, callee.name, args, cx.origin))
    after_call(cx, node, label, callee.function.meta["aliasing"], callee.function.params, args, targets)
    if isinstance(callee.function.body[-1].value, ir.Tup):
        return Struct("tuple", tuple((i, ir.Name(t)) for i, t in enumerate(targets)))
    return ir.Name(targets[0])


def derivative_call(cx, node, obj):
    """``dfdy(x, y)`` where ``dfdy = grad(f, wrt="y")`` (or a ``jvp(f)``): a call of ``f``'s
    generated gradient (tangent) function, transformed as a callee (``DERIVATIVE_CALLEES``)."""
    try:
        fn, args, keywords = DERIVATIVE_CALLEES[type(obj)](obj, list(node.args), list(node.keywords))
    except ValueError as exc:
        raise cx.error(node, str(exc)) from None
    return user_call(cx, ast.copy_location(ast.Call(func=node.func, args=args, keywords=keywords), node), fn)


def _default_value(cx, p, node, label):
    d = p.default
    if d is inspect.Parameter.empty:
        raise cx.error(node, f"`{label}` needs the argument `{p.name}`")
    if isinstance(d, ast.AST):  # a nested def's default, evaluated at the call
        return cx.struct_or_atom(d)
    if d is None or isinstance(d, (bool, int, float, complex, str)):
        return ir.Const(d)
    if is_constant_value(d):
        holder = cx.namer.fresh(f"{label}_{p.name}_default")
        cx.globals_used[holder] = d
        return ir.Name(holder)
    raise cx.error(node, f"the default of `{p.name}` in `{label}` is {describe(d)}", "pass it explicitly")


def free_variables(cx, node: ast.FunctionDef) -> tuple:
    """Enclosing variables a nested def reads (not its parameters, not names it assigns)."""
    a = node.args
    own = {x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs]} | set(assigned_names(node.body))
    reads = []
    for n in ast.walk(node):
        if (
            isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Load)
            and n.id not in own
            and n.id in cx.versions
            and n.id not in reads
        ):
            reads.append(n.id)
    return tuple(reads)


def _normalize_callee(cx, nested, parsed, env, namer, kinds, free) -> ir.Function:
    """The callee's normal form, lowered in a context of its own (``CalleeTable.get`` calls it)."""
    callee = Context(
        parsed,
        env,
        namer,
        cx.handlers,
        kinds,
        cx.max_iter,
        cx.callees,
        flat_params=True,
        free=free,
        checkpoint=None,
    )
    if nested:  # a nested def may call its sibling nested defs
        callee.local_functions = dict(cx.local_functions)
    fn = lower_function(callee)
    checker.check_normal_form(fn)
    fn.meta["aliasing"] = callee_summary(callee, fn)
    return fn
