"""Small helpers over Python's ``ast`` that know nothing of the IR: names, calls, a fast copy and
a fast walk of the few expression node types generated code uses."""

from __future__ import annotations

import ast

__all__ = ["name", "parse_expr", "call", "clone", "walk"]


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
    return ast.Call(
        func=parse_expr(func),
        args=list(args),
        keywords=[ast.keyword(arg=k, value=v) for k, v in kwargs.items()],
    )


def clone(node):
    """A deep copy of an expression tree: ``copy.deepcopy`` without its memo and protocol
    machinery, which dominate the transform time of long functions."""
    if isinstance(node, list):
        return [clone(n) for n in node]
    if not isinstance(node, ast.AST):
        return node
    new = node.__class__()
    for field in node._fields:
        setattr(new, field, clone(getattr(node, field, None)))
    return new


_CHILDREN = {
    ast.BinOp: ("left", "right"),
    ast.UnaryOp: ("operand",),
    ast.Attribute: ("value",),
    ast.Subscript: ("value", "slice"),
    ast.Starred: ("value",),
    ast.keyword: ("value",),
    ast.Slice: ("lower", "upper", "step"),
    ast.Compare: ("left",),
}


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
