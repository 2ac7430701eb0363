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
from ..calls import DERIVATIVE_CALLEES, UnsettledRecursion, outputs_of, signature_of
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
    key = cx.callees.key(key_target, kinds, free)
    dynamic = _data_dependent(cx)
    try:
        pending = cx.callees.recursion(key, dynamic)
    except ValueError as exc:
        raise cx.error(
            node,
            f"`{label}` calls itself (directly or through other functions) {exc}: JAX traces "
            f"both sides of such a branch, so the recursion would never end while tracing",
            "decide the recursion on a static value (a shape, x.shape[0] == 1, or a Python int "
            "argument), or write it as a loop",
        ) from None
    args = tuple(leaf for p in [*sig.parameters, *free] for leaf in leaves(values[p]))
    if pending is not None:  # a call of itself: resolved while JAX traces (see normal/calls.py)
        params = tuple(f"argument {i + 1}" for i in range(len(args)))
        return _emit_call(cx, node, label, pending.name, pending.outputs, (pending.aliasing, params), args)

    def unbounded(why):
        return cx.error(
            node,
            f"`{label}` calls itself, and {why}",
            "pass arguments of the same kinds at every level, or write the recursion as a loop",
        )

    cx.callees.enter(identity, unbounded, dynamic)
    try:
        callee = cx.callees.get(
            key_target, kinds, free, functools.partial(_normalize_callee, cx, nested), cx.env
        )
    except UnsettledRecursion:
        raise cx.error(
            node,
            f"`{label}` calls itself, and what it returns (how many values, and which of them "
            f"share memory with its arguments) changes with the depth",
            "return the same number of values at every level, and copies (`....copy()`) rather "
            "than views of the arguments",
        ) from None
    finally:
        cx.callees.leave()
    aliasing = (callee.function.meta["aliasing"], callee.function.params)
    return _emit_call(cx, node, label, callee.name, outputs_of(callee.function), aliasing, args)


def _emit_call(cx, node, label, callee_name, outputs, aliasing, args):
    """``outs = callee(args)``: the call's targets, and what the call does to memory
    (``aliasing``: the callee's summary and its parameters). ``outputs``: None for one value, k
    for a tuple of k."""
    cx.namer.reserve(callee_name)
    base = f"{callee_name}_out"
    targets = tuple(cx.namer.fresh(base) for _ in range(1 if outputs is None else outputs))
    cx.temporaries.update(targets)
    cx.emit(ir.CallFn(targets, callee_name, args, cx.origin))
    after_call(cx, node, label, aliasing[0], aliasing[1], args, targets)
    if outputs is not None:
        return Struct("tuple", tuple((i, ir.Name(t)) for i, t in enumerate(targets)))
    return ir.Name(targets[0])


def _data_dependent(cx) -> str:
    """Why a call here is made in a place decided by array values (or "")."""
    return f"inside an `if` on array values (line {cx.data_branches[-1]})" if cx.data_branches else ""


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
