"""The tangent of straight-line statements: ``d_y = <sum of the active arguments' contributions>``
from the rule's tangent templates, right after the primal line. An argument that is not active
contributes nothing and is not mentioned; a lone contribution of a broadcasting argument is spread
to the result's shape (``broadcast_like``, the transpose of reverse mode's ``unbroadcast``)."""

from __future__ import annotations

import ast

from ... import rules
from ...errors import MissingRuleError
from ...normal import ir
from ...normal.astutil import call, name, walk
from ...normal.pyexpr import bound_args, instantiate, to_ast

__all__ = ["statement", "tangent_expr"]


def statement(ctx, s) -> list:
    """The statement, then its tangent (when its target is active)."""
    if isinstance(s, ir.Unpack):
        if any(ctx.active(t) for t in ir._flat(s.targets)):
            raise ctx.error(
                s.origin,
                "unpacking a tuple of differentiable arrays from one value",
                "unpack a tuple display (a, b = x, y) or index the arrays",
            )
        return [s]
    if not (isinstance(s, ir.Assign) and ctx.active(s.target)):
        return [s]
    value = s.value
    if isinstance(value, ir.Name):
        expr = name(ctx.tangent(value.id))
    elif isinstance(value, ir.Prim):
        expr = tangent_expr(ctx, value, s.target, s.origin)
        if expr is None:
            return [s]
    else:
        raise ctx.error(
            s.origin,
            "a tuple holding differentiable arrays assigned to a name",
            "keep the arrays in separate variables",
        )
    return [s, ir.Assign(ctx.tangent(s.target), ir.Raw(expr), s.origin)]


def tangent_expr(ctx, prim: ir.Prim, target: str, origin):
    """The tangent of ``target = prim``: the rule's contributions of the active arguments,
    summed; None when no argument is active."""
    rule = rules.lookup_key(prim.op)
    if not rule.differentiable:
        return None
    if not rule.has_tangent:
        raise MissingRuleError(
            f"`{rule.callee or rule.key}` has an adjoint rule but no tangent rule, so forward mode "
            f"cannot differentiate it",
            filename=ctx.filename,
            line=origin.line if origin else 0,
            col=0,
            text=origin.text if origin else "",
            fix='give its rule a tangent template: register_rule(..., tangent="...") (see sourcegrad.rules)',
        )
    mapping = bound_args(prim, rule)
    mapping["ans"] = name(target)
    defaults = {p.name for p in rule.params if p.kind == "static" and p.name not in prim.arg_dict}
    active = [(p, a) for p, a in prim.args if _has_active(ctx, rule.param(p), a)]
    if not active:
        return None
    if rule.joint_tangent is not None:
        for p in rule.params:
            if p.kind in ("array", "sequence") and p.name in prim.arg_dict:
                mapping[f"d_{p.name}"] = _tangent_arg(ctx, prim.arg_dict[p.name])
        parts = [instantiate(rule.joint_tangent, mapping)]
    else:
        parts = []
        for pname, arg in active:
            template = rule.tangents[pname]
            uses_position = any(isinstance(n, ast.Name) and n.id == "position" for n in walk(template))
            if rule.param(pname).kind == "sequence" and uses_position:
                for position, item in enumerate(arg.items):
                    if ctx.active(item):
                        parts.append(
                            instantiate(
                                template,
                                dict(
                                    mapping,
                                    position=ast.Constant(position),
                                    **{f"d_{pname}": name(ctx.tangent(item.id))},
                                ),
                            )
                        )
            else:
                parts.append(instantiate(template, dict(mapping, **{f"d_{pname}": _tangent_arg(ctx, arg)})))
    parts = [_without_defaults(p, defaults) for p in parts]
    total = parts[0]
    for part in parts[1:]:
        negated = _negated(part)  # a + -b * c prints as a - b * c
        total = ast.BinOp(left=total, op=ast.Sub() if negated else ast.Add(), right=negated or part)
    if rule.broadcast and not _full_shape(prim, rule, parts, [a for _, a in active], target):
        total = call("broadcast_like", total, name(target))
    return total


def _negated(expr):
    """``e`` when ``expr`` is ``-e`` or a product or quotient led by ``-e`` (``-d_y * ans / y``
    is ``-(d_y * ans / y)``); else None."""
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub):
        return expr.operand
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Mult, ast.Div)):
        inner = _negated(expr.left)
        if inner is not None:
            return ast.BinOp(left=inner, op=expr.op, right=expr.right)
    return None


def _without_defaults(expr, defaults):
    """Drop keyword arguments ``axis=None`` the user did not write: the defaults of the rule are
    those of the functions its templates call."""
    if not defaults:
        return expr
    for n in walk(expr):
        if isinstance(n, ast.Call):
            n.keywords = [k for k in n.keywords if not (k.arg in defaults and _is_default(k.value))]
    return expr


def _is_default(value) -> bool:
    return (
        isinstance(value, ast.Constant)
        and value.value in (None, False, 0)
        and not isinstance(value.value, float)
    )


def _has_active(ctx, param, arg) -> bool:
    if param is None or param.kind not in ("array", "sequence"):
        return False
    if param.kind == "sequence":
        return isinstance(arg, ir.Tup) and any(ctx.active(a) for a in arg.items)
    return ctx.active(arg)


def _tangent_arg(ctx, arg) -> ast.expr:
    """``d_x`` for an active argument, zeros of its shape for another one (a joint template), a
    list display of those for a sequence."""
    if isinstance(arg, ir.Tup):
        return ast.List(elts=[_tangent_arg(ctx, a) for a in arg.items], ctx=ast.Load())
    if ctx.active(arg):
        return name(ctx.tangent(arg.id))
    return call("jnp.zeros_like", to_ast(arg))


def _full_shape(prim, rule, parts, active, target) -> bool:
    """Whether the summed contributions already have the result's shape: they read the result,
    or every array argument (or its tangent) that is not a scalar constant."""
    read = {n.id for part in parts for n in walk(part) if isinstance(n, ast.Name)}
    read |= {a.id for a in active if isinstance(a, ir.Name)}
    if target in read:
        return True
    for pname, arg in prim.args:
        if rule.param(pname).kind not in ("array", "nondiff"):
            continue
        if isinstance(arg, ir.Const) and isinstance(arg.value, (int, float, complex, bool)):
            continue
        if isinstance(arg, ir.Name) and arg.id not in read:
            return False
    return True
