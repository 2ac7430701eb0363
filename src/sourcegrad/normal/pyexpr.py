"""Turning IR values and rule templates into Python expressions (``ast``).

Substitution works on trees, not text, so ``ast.unparse`` adds exactly the
parentheses precedence needs: ``g * y`` with ``y := a + b`` prints as
``g * (a + b)``.
"""

from __future__ import annotations

import ast
from typing import Any

from .. import rules
from . import ir
from .astutil import call, clone, name, parse_expr

__all__ = ["to_ast", "instantiate", "forward_ast", "bound_args", "iterable", "trip_count"]


def to_ast(arg) -> ast.expr:
    """An IR atom / tuple / index / slice as a Python expression."""
    if isinstance(arg, ir.Name):
        return name(arg.id)
    if isinstance(arg, ir.Const):
        if arg.text is not None:
            return parse_expr(arg.text)
        return _const(arg.value)
    if isinstance(arg, ir.Tup):
        elts = [to_ast(a) for a in arg.items]
        return ast.List(elts=elts, ctx=ast.Load()) if arg.is_list else ast.Tuple(elts=elts, ctx=ast.Load())
    if isinstance(arg, ir.Slice):
        return ast.Slice(*(None if p is None else to_ast(p) for p in (arg.lower, arg.upper, arg.step)))
    if isinstance(arg, ir.Index):
        items = [to_ast(i) for i in arg.items]
        return ast.Tuple(elts=items, ctx=ast.Load()) if arg.is_tuple else items[0]
    if isinstance(arg, ir.Raw):
        return arg.expr
    if isinstance(arg, ir.Prim):
        return forward_ast(arg)
    raise TypeError(f"not an IR value: {arg!r}")


def _const(value) -> ast.expr:
    if isinstance(value, tuple):
        return ast.Tuple(elts=[_const(v) for v in value], ctx=ast.Load())
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
        return ast.UnaryOp(op=ast.USub(), operand=ast.Constant(-value))
    if hasattr(value, "dtype") and not isinstance(value, (int, float, complex, bool)):
        return parse_expr(f"jnp.{getattr(value, '__name__', str(value))}")
    return ast.Constant(value)


def _spliced(items: list) -> list:
    """``items`` with each starred tuple or list literal replaced by its elements."""
    out: list = []
    for a in items:
        if isinstance(a, ast.Starred) and isinstance(a.value, (ast.Tuple, ast.List)):
            out.extend(a.value.elts)
        else:
            out.append(a)
    return out


def instantiate(template: ast.expr, mapping: dict) -> ast.expr:
    """A copy of ``template`` with names replaced by (copies of) the expressions in ``mapping``;
    a starred tuple or list literal in a call's arguments or in a tuple is spliced into it
    (``*operands`` with ``operands := (A, B)`` is ``A, B``; ``(f, *varargs)`` with ``varargs :=
    ()`` is ``(f,)``). Copying and substituting are one walk (the template is never changed)."""
    return _substituted(template, mapping)


def _substituted(node, mapping: dict):
    if isinstance(node, list):
        return [_substituted(n, mapping) for n in node]
    if not isinstance(node, ast.AST) or isinstance(node, _FIELDLESS):
        return node
    cls = node.__class__
    if type(node) is ast.Name and node.id in mapping:
        return clone(mapping[node.id])  # not entered: names inside the replacement stay
    new: Any = cls()
    for field in node._fields:
        setattr(new, field, _substituted(getattr(node, field, None), mapping))
    if cls is ast.Call:
        new.args = _spliced(new.args)
    elif cls is ast.Tuple:
        new.elts = _spliced(new.elts)
    return new


_FIELDLESS = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)


def bound_args(prim: ir.Prim, rule) -> dict:
    """Every parameter of the rule mapped to an expression: the argument, or its default."""
    given = prim.arg_dict
    out = {}
    for p in rule.params:
        if p.name in given:
            out[p.name] = to_ast(given[p.name])
        elif not p.required:
            out[p.name] = _const(p.default)
    return out


def forward_ast(prim: ir.Prim) -> ast.expr:
    """How a primitive application prints in the forward code."""
    rule = rules.lookup_key(prim.op)
    if rule.operator is not None:
        return instantiate(rule.operator, bound_args(prim, rule))
    given = prim.arg_dict
    args: list[ast.expr] = []
    keywords: list[ast.keyword] = []
    for i, p in enumerate(rule.params):
        if rule.part and p.name == "part":
            continue
        if p.varargs:
            if p.name in given:
                args.extend(to_ast(a) for a in given[p.name].items)
            continue
        if i < rule.positional:
            if p.name in given:
                args.append(to_ast(given[p.name]))
            elif any(q.name in given for q in rule.params[i + 1 : rule.positional]):
                args.append(_const(p.default))
        elif p.name in given:
            keywords.append(ast.keyword(arg=p.name, value=to_ast(given[p.name])))
    assert rule.callee is not None, f"rule {rule.key} has neither an operator nor a callee"
    out: ast.expr = ast.Call(func=parse_expr(rule.callee), args=args, keywords=keywords)
    part = given.get("part")
    # one part of a function that returns several arrays: ``jnp.linalg.eigh(a)[1]`` (a part that is
    # the call's one result, ``svd(a, compute_uv=False)``, has part None)
    if rule.part and isinstance(part, ir.Const) and part.value is not None:
        out = ast.Subscript(value=out, slice=to_ast(part), ctx=ast.Load())
    return out


def iterable(it, unrolled: bool = False) -> ast.expr:
    """What a loop iterator scans over: ``jnp.arange(start, stop, step)`` (``range(...)``, of
    Python ints, for a loop unrolled while tracing) or the array itself."""
    if isinstance(it, ir.RangeIter) and unrolled:
        bounds: tuple = (it.start, it.stop, it.step)
        if it.step == ir.Const(1):
            bounds = bounds[1:2] if it.start == ir.Const(0) else bounds[:2]
        return call("range", *(to_ast(b) for b in bounds))
    if isinstance(it, ir.RangeIter):
        return call("jnp.arange", to_ast(it.start), to_ast(it.stop), to_ast(it.step))
    return to_ast(it.array)


def trip_count(it) -> ast.expr:
    """The number of iterations of a loop iterator, as a static expression."""
    if isinstance(it, ir.RangeIter):
        return call("len", call("range", to_ast(it.start), to_ast(it.stop), to_ast(it.step)))
    return parse_expr(f"jnp.shape({ast.unparse(to_ast(it.array))})[0]")
