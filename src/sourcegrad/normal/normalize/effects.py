"""Lines that act instead of computing: ``print(...)`` and ``assert``.

* ``print(a, "text", f"loss {loss:.3f}")`` prints each time the compiled program runs, through
  ``jax.debug.print`` (``runtime.debug_print``): a Python ``print`` would run once, while JAX
  traces, and print tracers. The arguments become one format string and its values; f-strings
  are taken apart the same way. A line the backward pass recomputes (inside a branch on data or
  a checkpointed loop) prints again there.
* ``assert cond, "message"`` on a value known while tracing (a shape, a static argument) is
  checked while JAX traces (``runtime.static_check``), with the user's file and line in the
  message; on a constant it is checked now (a located error when false). An ``assert`` on an
  array's values is refused: a compiled program cannot stop on data, and dropping the check
  silently would hide what the user asked for.
"""

from __future__ import annotations

import ast

from .. import ir
from ..structs import Struct
from .comprehensions import NotKnown, known_value

__all__ = ["expression_statement", "assert_statement"]

_CONVERSIONS = {-1: "", 115: "!s", 114: "!r", 97: "!a"}


# ----- handlers (see the table in __init__.py) -----
def expression_statement(cx, node: ast.Expr):
    """``print(...)``; docstrings do nothing (the fence rejects every other expression line)."""
    call = node.value
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "print"):
        return
    if call.func.id in cx.versions or cx.env.lookup("print") is not print:
        raise cx.error(call.func, "`print` here is not the builtin print", "call it by another name")
    sep = " "
    for kw in call.keywords:
        if kw.arg == "sep" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
            sep = kw.value.value
            continue
        raise cx.error(
            kw.value,
            f"print()'s `{kw.arg}=` is not supported in a differentiated function",
            "print with its default end and file, or with a constant sep=",
        )
    parts, values = [], []
    for arg in call.args:
        text, more = _format_part(cx, arg)
        parts.append(text)
        values.extend(more)
    fmt = sep.replace("{", "{{").replace("}", "}}").join(parts)
    name = cx.namer.fresh("printed")
    cx.temporaries.add(name)
    prim = ir.Prim("debug_print", (("fmt", ir.Const(fmt)), ("values", ir.Tup(tuple(values)))))
    cx.emit(ir.Assign(name, prim, cx.origin))


def assert_statement(cx, node: ast.Assert):
    message = _assert_message(cx, node)
    try:  # a condition on constants is checked now
        known = known_value(cx, node.test)
    except NotKnown:
        test = cx.atom(node.test)
    else:
        test = ir.Const(known)
    if isinstance(test, ir.Const):
        if not test.value:
            raise cx.error(node.test, message, "this condition is false for every input")
        return
    if not cx.is_static(test):
        err = cx.error(
            node.test,
            f"`assert {ast.unparse(node.test)}` tests an array's values: a compiled program "
            f"cannot stop on data, and dropping the check would hide it",
            "check the inputs before calling the function, or assert on shapes and static "
            "arguments only (those are checked while tracing)",
        )
        err.binding_time = True  # the API retries with every non-differentiated argument static
        raise err
    name = cx.namer.fresh("checked")
    cx.temporaries.add(name)
    prim = ir.Prim("static_check", (("ok", test), ("message", ir.Const(message))))
    cx.emit(ir.Assign(name, prim, cx.origin))


# ----- helpers -----
def _assert_message(cx, node: ast.Assert) -> str:
    where = f"{cx.parsed.filename}:{cx.parsed.file_line(node)}: assert {ast.unparse(node.test)}"
    if node.msg is None:
        return where
    if isinstance(node.msg, ast.Constant) and isinstance(node.msg.value, str):
        return f"{where}: {node.msg.value}"
    raise cx.error(node.msg, "an assert's message must be a constant string here", "write it as 'text'")


def _format_part(cx, arg) -> tuple[str, list]:
    """One argument of print: its piece of the format string, and the values it formats."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return _escape(arg.value), []
    if isinstance(arg, ast.JoinedStr):
        text, values = "", []
        for piece in arg.values:
            if not isinstance(piece, ast.FormattedValue):
                text += _escape(str(getattr(piece, "value", "")))
                continue
            spec = ""
            if isinstance(piece.format_spec, ast.JoinedStr):
                spec_parts = piece.format_spec.values
                if not all(isinstance(p, ast.Constant) for p in spec_parts):
                    raise cx.error(piece, "a computed format spec is not supported", "write the spec out")
                spec = ":" + "".join(str(getattr(p, "value", "")) for p in spec_parts)
            text += "{" + _CONVERSIONS.get(piece.conversion, "") + spec + "}"
            values.append(_value(cx, piece.value))
        return text, values
    return "{}", [_value(cx, arg)]


def _value(cx, node):
    value = cx.struct_or_atom(node)
    if isinstance(value, Struct):
        raise cx.error(node, f"print() of a {value.kind} of arrays", "print its arrays one by one")
    return value


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")
