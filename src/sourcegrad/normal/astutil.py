"""Small helpers over Python's ``ast`` that know nothing of the IR: names, calls, a fast copy, a
fast walk and a fast ``unparse`` of the few expression node types generated code uses."""

from __future__ import annotations

import ast
import sys

__all__ = ["name", "parse_expr", "call", "clone", "walk", "unparse"]


#: One ``Load`` context for every generated name, as ``ast.parse`` shares one (contexts and
#: operators have no fields, and a long function makes tens of thousands of them)
LOAD = ast.Load()


def name(id_: str) -> ast.Name:
    return ast.Name(id=id_, ctx=LOAD)


def parse_expr(text: str) -> ast.expr:
    """An expression from text; dotted names (``jnp.zeros_like``) are built without parsing."""
    parts = _DOTTED.get(text)
    if parts is None and text.replace(".", "").replace("_", "").isalnum() and not text[0].isdigit():
        if len(_DOTTED) > 4096:  # a bound, for a long-lived process
            _DOTTED.clear()
        parts = _DOTTED[text] = text.split(".")
    if parts:
        node: ast.expr = ast.Name(id=parts[0], ctx=LOAD)
        for attr in parts[1:]:
            node = ast.Attribute(value=node, attr=attr, ctx=LOAD)
        return node
    return ast.parse(text, mode="eval").body


_DOTTED: dict[str, list[str]] = {}  # dotted name -> its parts


def call(func: str, *args: ast.expr, **kwargs: ast.expr) -> ast.Call:
    return ast.Call(
        func=parse_expr(func),
        args=list(args),
        keywords=[ast.keyword(arg=k, value=v) for k, v in kwargs.items()],
    )


# shared, not copied: no fields to change (ast.parse shares them too)
_FIELDLESS = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)


def clone(node):
    """A deep copy of an expression tree: ``copy.deepcopy`` without its memo and protocol
    machinery, which dominate the transform time of long functions."""
    if isinstance(node, list):
        return [clone(n) for n in node]
    if not isinstance(node, ast.AST) or isinstance(node, _FIELDLESS):
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
        elif isinstance(n, ast.Compare):  # `left` and every comparator (a list field)
            stack.append(n.left)
            stack.extend(n.comparators)
        elif not isinstance(n, (ast.Name, ast.Constant)):
            stack.extend(ast.iter_child_nodes(n))


# ----- unparse: ast.unparse's text, several times faster on the node types generated code uses -----

# ast._Precedence's order (private there): a child is parenthesized when the precedence its
# parent gives it is higher than its own operator's
_TUPLE, _TEST, _OR, _AND, _NOT, _CMP, _EXPR = 2, 4, 5, 6, 7, 8, 9
_BOR, _BXOR, _BAND, _SHIFT, _ARITH, _TERM, _FACTOR, _POWER, _ATOM = 9, 10, 11, 12, 13, 14, 15, 16, 18

_BINOPS = {
    ast.Add: (" + ", _ARITH),
    ast.Sub: (" - ", _ARITH),
    ast.Mult: (" * ", _TERM),
    ast.MatMult: (" @ ", _TERM),
    ast.Div: (" / ", _TERM),
    ast.Mod: (" % ", _TERM),
    ast.LShift: (" << ", _SHIFT),
    ast.RShift: (" >> ", _SHIFT),
    ast.BitOr: (" | ", _BOR),
    ast.BitXor: (" ^ ", _BXOR),
    ast.BitAnd: (" & ", _BAND),
    ast.FloorDiv: (" // ", _TERM),
    ast.Pow: (" ** ", _POWER),
}
_UNOPS = {
    ast.Invert: ("~", _FACTOR),
    ast.Not: ("not ", _NOT),
    ast.UAdd: ("+", _FACTOR),
    ast.USub: ("-", _FACTOR),
}
_CMPOPS = {
    ast.Eq: " == ",
    ast.NotEq: " != ",
    ast.Lt: " < ",
    ast.LtE: " <= ",
    ast.Gt: " > ",
    ast.GtE: " >= ",
    ast.Is: " is ",
    ast.IsNot: " is not ",
    ast.In: " in ",
    ast.NotIn: " not in ",
}
_INFSTR = "1e" + repr(sys.float_info.max_10_exp + 1)


def unparse(node: ast.AST) -> str:
    """``ast.unparse(node)``, the same text, built without its visitor and context-manager
    machinery (which dominates emitting a long function). Node types other than the expression
    nodes below fall back to ``ast.unparse``; ``tests/test_unparse.py`` compares the two.

    Precedences live in a dict keyed by node, as in ``ast``: a node object that occurs twice in
    a tree is printed with the precedence its latest parent gave it, exactly as ``ast`` does."""
    out: list[str] = []
    try:
        _write(node, out, {})
    except (KeyError, _Unsupported):
        return ast.unparse(node)
    return "".join(out)


class _Unsupported(Exception):
    """A node type the fast unparser does not write (``ast.unparse`` does)."""


def _write(n, out: list, prec: dict) -> None:
    cls = n.__class__
    if cls is ast.Name:
        out.append(n.id)
    elif cls is ast.Constant:
        _constant(n, out)
    elif cls is ast.BinOp:
        op, p = _BINOPS[n.op.__class__]
        parens = prec.get(n, _TEST) > p
        if parens:
            out.append("(")
        prec[n.left] = p + 1 if p == _POWER else p
        _write(n.left, out, prec)
        out.append(op)
        prec[n.right] = p if p == _POWER else p + 1
        _write(n.right, out, prec)
        if parens:
            out.append(")")
    elif cls is ast.Call:
        prec[n.func] = _ATOM
        _write(n.func, out, prec)
        out.append("(")
        comma = False
        for e in n.args:
            if comma:
                out.append(", ")
            comma = True
            _write(e, out, prec)
        for e in n.keywords:
            if comma:
                out.append(", ")
            comma = True
            _write(e, out, prec)
        out.append(")")
    elif cls is ast.Attribute:
        prec[n.value] = _ATOM
        _write(n.value, out, prec)
        if isinstance(n.value, ast.Constant) and isinstance(n.value.value, int):
            out.append(" ")
        out.append(".")
        out.append(n.attr)
    else:
        _OTHERS[cls](n, out, prec)


def _constant(n, out: list) -> None:
    value = n.value
    if isinstance(value, tuple):
        items = [_constant_text(v) for v in value]
        out.append("(" + (items[0] + "," if len(items) == 1 else ", ".join(items)) + ")")
    elif value is ...:
        out.append("...")
    else:
        if n.kind == "u":
            out.append("u")
        out.append(_constant_text(value))


def _constant_text(value) -> str:
    if isinstance(value, (float, complex)):
        return repr(value).replace("inf", _INFSTR).replace("nan", f"({_INFSTR}-{_INFSTR})")
    return repr(value)


def _items(elts, out: list, prec: dict) -> None:
    """``a, b`` or ``a,`` (one item)."""
    if len(elts) == 1:
        _write(elts[0], out, prec)
        out.append(",")
        return
    _interleave(elts, out, prec)


def _interleave(elts, out: list, prec: dict) -> None:
    for i, e in enumerate(elts):
        if i:
            out.append(", ")
        _write(e, out, prec)


def _unaryop(n, out: list, prec: dict) -> None:
    op, p = _UNOPS[n.op.__class__]
    parens = prec.get(n, _TEST) > p
    if parens:
        out.append("(")
    out.append(op)
    prec[n.operand] = p
    _write(n.operand, out, prec)
    if parens:
        out.append(")")


def _subscript(n, out: list, prec: dict) -> None:
    prec[n.value] = _ATOM
    _write(n.value, out, prec)
    out.append("[")
    if isinstance(n.slice, ast.Tuple) and n.slice.elts:
        _items(n.slice.elts, out, prec)
    else:
        _write(n.slice, out, prec)
    out.append("]")


def _slice(n, out: list, prec: dict) -> None:
    if n.lower:
        _write(n.lower, out, prec)
    out.append(":")
    if n.upper:
        _write(n.upper, out, prec)
    if n.step:
        out.append(":")
        _write(n.step, out, prec)


def _tuple(n, out: list, prec: dict) -> None:
    parens = len(n.elts) == 0 or prec.get(n, _TEST) > _TUPLE
    if parens:
        out.append("(")
    _items(n.elts, out, prec)
    if parens:
        out.append(")")


def _list(n, out: list, prec: dict) -> None:
    out.append("[")
    _interleave(n.elts, out, prec)
    out.append("]")


def _keyword(n, out: list, prec: dict) -> None:
    out.append("**" if n.arg is None else n.arg + "=")
    _write(n.value, out, prec)


def _starred(n, out: list, prec: dict) -> None:
    out.append("*")
    prec[n.value] = _EXPR
    _write(n.value, out, prec)


def _compare(n, out: list, prec: dict) -> None:
    parens = prec.get(n, _TEST) > _CMP
    if parens:
        out.append("(")
    prec[n.left] = _CMP + 1
    for e in n.comparators:
        prec[e] = _CMP + 1
    _write(n.left, out, prec)
    for o, e in zip(n.ops, n.comparators):
        out.append(_CMPOPS[o.__class__])
        _write(e, out, prec)
    if parens:
        out.append(")")


def _boolop(n, out: list, prec: dict) -> None:
    op, p = (" and ", _AND) if n.op.__class__ is ast.And else (" or ", _OR)
    if n.op.__class__ not in (ast.And, ast.Or):
        raise _Unsupported
    parens = prec.get(n, _TEST) > p
    if parens:
        out.append("(")
    for i, v in enumerate(n.values):
        if i:
            out.append(op)
        p = min(p + 1, _ATOM)  # each operand one level higher than the one before, as in ast
        prec[v] = p
        _write(v, out, prec)
    if parens:
        out.append(")")


def _ifexp(n, out: list, prec: dict) -> None:
    parens = prec.get(n, _TEST) > _TEST
    if parens:
        out.append("(")
    prec[n.body] = prec[n.test] = _TEST + 1
    _write(n.body, out, prec)
    out.append(" if ")
    _write(n.test, out, prec)
    out.append(" else ")
    prec[n.orelse] = _TEST
    _write(n.orelse, out, prec)
    if parens:
        out.append(")")


_OTHERS = {
    ast.UnaryOp: _unaryop,
    ast.Subscript: _subscript,
    ast.Slice: _slice,
    ast.Tuple: _tuple,
    ast.List: _list,
    ast.keyword: _keyword,
    ast.Starred: _starred,
    ast.Compare: _compare,
    ast.BoolOp: _boolop,
    ast.IfExp: _ifexp,
}
