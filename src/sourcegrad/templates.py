"""Turning IR values and rule templates into Python expressions (``ast``).

Substitution works on trees, not text, so ``ast.unparse`` adds exactly the
parentheses precedence needs: ``g * y`` with ``y := a + b`` prints as
``g * (a + b)``.
"""

from __future__ import annotations

import ast

from . import ir, rules

__all__ = ["to_ast", "instantiate", "forward_ast", "name", "call", "parse_expr", "iterable", "trip_count",
           "clone", "walk"]


def name(id_: str) -> ast.Name:
    return ast.Name(id=id_, ctx=ast.Load())


def parse_expr(text: str) -> ast.expr:
    """An expression from text; dotted names (``jnp.zeros_like``) are built without parsing."""
    if text.replace(".", "").replace("_", "").isalnum() and not text[0].isdigit():
        parts = text.split(".")
        node: ast.expr = ast.Name(id=parts[0], ctx=ast.Load())
        for attr in parts[1:]:
            node = ast.Attribute(value=node, attr=attr, ctx=ast.Load())
        return node
    return ast.parse(text, mode="eval").body


def call(func: str, *args: ast.expr, **kwargs: ast.expr) -> ast.Call:
    return ast.Call(func=parse_expr(func), args=list(args),
                    keywords=[ast.keyword(arg=k, value=v) for k, v in kwargs.items()])


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


class _Substitute(ast.NodeTransformer):
    def __init__(self, mapping: dict):
        self.mapping = mapping

    def visit_Name(self, node):
        if node.id in self.mapping:
            return _copy(self.mapping[node.id])
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        args = []
        for a in node.args:  # *operands with operands := (A, B) splices to A, B
            if isinstance(a, ast.Starred) and isinstance(a.value, (ast.Tuple, ast.List)):
                args.extend(a.value.elts)
            else:
                args.append(a)
        node.args = args
        return node


def _copy(node):
    """A deep copy of an expression tree: ``copy.deepcopy`` without its memo and protocol
    machinery, which dominate the transform time of long functions."""
    if isinstance(node, list):
        return [_copy(n) for n in node]
    if not isinstance(node, ast.AST):
        return node
    new = node.__class__()
    for field in node._fields:
        setattr(new, field, _copy(getattr(node, field, None)))
    return new


clone = _copy

_CHILDREN = {ast.BinOp: ("left", "right"), ast.UnaryOp: ("operand",), ast.Attribute: ("value",),
             ast.Subscript: ("value", "slice"), ast.Starred: ("value",), ast.keyword: ("value",),
             ast.Slice: ("lower", "upper", "step"), ast.Compare: ("left",)}


def walk(node):
    """Every node of an expression tree, like ``ast.walk`` but several times faster on the few
    node types generated expressions use (it knows their fields; others fall back to ast)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        fields = _CHILDREN.get(n.__class__)
        if fields is not None:
            for f in fields:
                child = getattr(n, f)
                if child is not None:
                    stack.append(child)
        elif isinstance(n, ast.Call):
            stack.append(n.func)
            stack.extend(n.args)
            stack.extend(n.keywords)
        elif isinstance(n, (ast.Tuple, ast.List)):
            stack.extend(n.elts)
        elif isinstance(n, ast.Compare):
            stack.extend(n.comparators)
        elif not isinstance(n, (ast.Name, ast.Constant)):
            stack.extend(ast.iter_child_nodes(n))


def instantiate(template: ast.expr, mapping: dict) -> ast.expr:
    """A copy of ``template`` with names replaced by the expressions in ``mapping``."""
    return _Substitute(mapping).visit(_copy(template))


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
    args, keywords = [], []
    for i, p in enumerate(rule.params):
        if p.varargs:
            if p.name in given:
                args.extend(to_ast(a) for a in given[p.name].items)
            continue
        if i < rule.positional:
            if p.name in given:
                args.append(to_ast(given[p.name]))
            elif any(q.name in given for q in rule.params[i + 1:rule.positional]):
                args.append(_const(p.default))
        elif p.name in given:
            keywords.append(ast.keyword(arg=p.name, value=to_ast(given[p.name])))
    return ast.Call(func=parse_expr(rule.callee), args=args, keywords=keywords)


def iterable(it) -> ast.expr:
    """What a loop iterator scans over: ``jnp.arange(start, stop, step)`` or the array itself."""
    if isinstance(it, ir.RangeIter):
        return call("jnp.arange", to_ast(it.start), to_ast(it.stop), to_ast(it.step))
    return to_ast(it.array)


def trip_count(it) -> ast.expr:
    """The number of iterations of a loop iterator, as a static expression."""
    if isinstance(it, ir.RangeIter):
        return call("len", call("range", to_ast(it.start), to_ast(it.stop), to_ast(it.step)))
    return parse_expr(f"jnp.shape({ast.unparse(to_ast(it.array))})[0]")
