"""Comprehensions, generator expressions, and the builtins ``sum``, ``min``, ``max`` and ``dict``.

A comprehension whose length is known when compiling (``range`` of constants, a tuple, list or
dict of arrays, ``zip``/``enumerate`` of those) is written out element by element, like a ``for``
loop over a container (``loops._unrolled_for``): ``[x[i] * w[i] for i in range(3)]`` is the
``Struct`` list ``[x[0] * w[0], x[1] * w[1], x[2] * w[2]]``, resolved while normalizing, which
``np.stack``/``np.array`` take as a list display and ``sum``/``min``/``max`` fold. Its targets are
local to it, as in Python 3. Its ``if`` clauses decide which elements exist, so they must be
known when compiling: they are evaluated now, from the targets' constant values and the module's
constants. Nested comprehensions and several ``for`` clauses nest the same way.

A comprehension over a range whose bounds are known only while JAX traces (``range(n)``,
``range(x.shape[0])``) is compiled rolled by ``rolled.py`` when it is the argument of ``sum`` or
``np.stack``; elsewhere it is a located error.
"""

from __future__ import annotations

import ast
import builtins

from ...frontend.resolve import NOT_FOUND, is_constant_value
from .. import ir
from ..structs import Struct
from . import rolled
from .iterables import loop_iterables
from .rolled import UNROLL_LIMIT

__all__ = [
    "list_comprehension",
    "dict_comprehension",
    "static_length",
    "known_value",
    "builtin_call",
    "rolled_call",
    "BUILTINS",
    "UNROLL_LIMIT",
]

#: Builtins an ``if`` clause evaluated while compiling may call.
_SAFE_BUILTINS = {
    n: getattr(builtins, n) for n in ("abs", "len", "min", "max", "range", "int", "float", "bool", "str")
}


class NotKnown(Exception):
    """An ``if`` clause or key that depends on a value not known when compiling."""


# ----- handlers (see the table in __init__.py) -----
def list_comprehension(cx, node):
    """``[elt for ...]`` and ``(elt for ...)``: a Struct list of the elements, written out."""
    items: list = []
    _expand(cx, node, 0, lambda: items.append(cx.struct_or_atom(node.elt)))
    return Struct("list", tuple(enumerate(items)))


def dict_comprehension(cx, node: ast.DictComp):
    """``{k: v for ...}`` with keys known when compiling: a Struct dict."""
    items: dict = {}

    def add():
        key = _known_or_error(cx, node.key, "the key of a dict comprehension")
        if not isinstance(key, str):
            raise cx.error(
                node.key,
                f"dict keys must be strings here (this one is {key!r})",
                "key it by strings: {k: v for k, v in zip(('W', 'b'), (W, b))}; or use a list",
            )
        items[key] = cx.struct_or_atom(node.value)

    _expand(cx, node, 0, add)
    return Struct("dict", tuple(items.items()))


# ----- writing a comprehension out -----
def _expand(cx, node, k: int, emit_element):
    """Bind the targets of ``node.generators[k]`` to each element in turn, filter by its ``if``
    clauses, and recurse into the next ``for`` clause (or emit one element after the last)."""
    if k == len(node.generators):
        emit_element()
        return
    gen = node.generators[k]
    if gen.is_async:
        raise cx.error(gen.iter, "`async for` in a comprehension is not supported")
    targets, iters = loop_iterables(cx, gen.target, gen.iter)
    length = static_length(iters)
    if length is None:
        raise cx.error(
            gen.iter,
            f"the length of `{ast.unparse(gen.iter)}` is known only while JAX traces (or an array's "
            f"length), so this comprehension cannot be written out when compiling",
            "use it directly as the argument of sum(...) or np.stack([...]), which compile it "
            "rolled; or write a for loop; or iterate over range() of a constant",
        )
    saved = {t: cx.versions.get(t) for t in targets}
    saved_out = {t: cx.out_of_scope.get(t) for t in targets}
    try:
        for i in range(length):
            mark = len(cx.block)
            for t, it in zip(targets, iters):
                _bind_element(cx, t, _element(cx, it, i))
            if all(_known_or_error(cx, test, "the `if` of a comprehension") for test in gen.ifs):
                _expand(cx, node, k + 1, emit_element)
            else:  # a filtered-out element leaves no line behind
                del cx.block[mark:]
    finally:
        for t in targets:  # the targets are local to the comprehension
            if saved[t] is None:
                cx.versions.pop(t, None)
            else:
                cx.versions[t] = saved[t]
            if saved_out[t] is not None:
                cx.out_of_scope[t] = saved_out[t]


def static_length(iters) -> int | None:
    """The number of elements ``zip`` of these iterators gives, if known when compiling."""
    lengths = []
    for it in iters:
        if isinstance(it, Struct):
            lengths.append(len(it.items))
        elif isinstance(it, ir.RangeIter):
            parts = [p.value for p in (it.start, it.stop, it.step) if isinstance(p, ir.Const)]
            ints = [v for v in parts if type(v) is int]
            if len(ints) == 3:
                lengths.append(len(range(ints[0], ints[1], ints[2])))
    if len(lengths) < len(iters):
        return None
    return min(lengths)


def _element(cx, it, i: int):
    if isinstance(it, Struct):
        return it.items[i][1]
    return ir.Const(it.start.value + i * it.step.value)


def _bind_element(cx, user: str, element):
    name = cx.new_version(user)
    if isinstance(element, Struct):
        cx.structs[name] = element
    else:
        cx.emit(ir.Assign(name, element, cx.origin))
    cx.bind_name(user, name)


# ----- values known when compiling -----
def known_value(cx, node):
    """The Python value of an expression built from constants: literals, names bound to
    constants (a comprehension's targets over a range or a tuple of constants), the module's
    numbers and strings, operators, and a few builtins. Raises NotKnown otherwise."""
    scope = {}
    for n in ast.walk(node):
        if not isinstance(n, ast.Name) or n.id in scope:
            continue
        if n.id in cx.versions:
            current = cx.versions[n.id]
            if current not in cx.constants:
                raise NotKnown(n.id)
            scope[n.id] = cx.constants[current]
            continue
        value = cx.env.lookup(n.id)
        if value is NOT_FOUND:
            raise NotKnown(n.id)
        if n.id in _SAFE_BUILTINS and value is _SAFE_BUILTINS[n.id]:
            continue
        if value is None or isinstance(value, (bool, int, float, str)):
            scope[n.id] = value
        elif is_constant_value(value) and isinstance(value, tuple):
            scope[n.id] = value
        else:
            raise NotKnown(n.id)
    if any(isinstance(n, (ast.Attribute, ast.Subscript, ast.Lambda)) for n in ast.walk(node)):
        raise NotKnown(ast.unparse(node))
    code = compile(ast.fix_missing_locations(ast.Expression(body=node)), "<sourcegrad>", "eval")
    try:
        return eval(code, {"__builtins__": _SAFE_BUILTINS}, scope)  # noqa: S307 - constants only
    except Exception as exc:  # the user's expression fails: say where
        raise NotKnown(f"{type(exc).__name__}: {exc}") from None


def _known_or_error(cx, node, what: str):
    try:
        return known_value(cx, node)
    except NotKnown as exc:
        raise cx.error(
            node,
            f"{what} must be known when compiling (it decides which elements exist), but "
            f"`{ast.unparse(node)}` depends on `{exc}`",
            "filter on the loop variables and constants only; for a condition on array values "
            "use np.where(cond, value, 0) on the elements",
        ) from None


# ----- sum, min, max, dict -----
BUILTINS = (sum, min, max, dict)


def builtin_call(cx, node: ast.Call, obj):
    """``sum``/``min``/``max`` of a comprehension or a list/tuple of arrays, folded while
    normalizing; ``dict(k=v, ...)``."""
    if obj is dict:
        if node.args:
            raise cx.error(node, "dict() takes keyword arguments here", "write dict(W=W, b=b) or {'W': W}")
        return Struct("dict", tuple((kw.arg, cx.struct_or_atom(kw.value)) for kw in node.keywords))
    label = obj.__name__
    if label in ("min", "max") and len(node.args) > 1 and not node.keywords:  # max(a, b, ...)
        return _fold(cx, "minimum" if label == "min" else "maximum", [cx.atom(a) for a in node.args])
    if len(node.args) != 1 or (node.keywords and not (label == "sum" and _only_start(node))):
        raise cx.error(
            node,
            f"`{label}()` with these arguments or keywords is not supported here",
            f"use np.{'minimum' if label == 'min' else 'maximum' if label == 'max' else 'add'} "
            f"of the arrays, or {label}() of one list",
        )
    if label == "sum" and isinstance(node.args[0], ast.GeneratorExp | ast.ListComp):
        if rolled.is_rolled(cx, node.args[0]):
            return rolled.rolled_sum(cx, node, node.args[0])
    values = cx.struct_or_atom(node.args[0])
    if not isinstance(values, Struct):
        raise cx.error(
            node.args[0],
            f"`{label}()` of an array walks its leading axis, which sourcegrad does not compile",
            f"use np.{'sum' if label == 'sum' else label}(x, axis=0)",
        )
    items = [v for _, v in values.items]
    if any(isinstance(v, Struct) for v in items):
        raise cx.error(
            node.args[0],
            f"`{label}()` of containers of arrays is not supported",
            f"{label}() the arrays of each container separately",
        )
    op = {"sum": "add", "min": "minimum", "max": "maximum"}[label]
    if label == "sum":
        start = cx.atom(node.keywords[0].value) if node.keywords else None
        if start is not None:
            items = [start, *items]
        if not items:
            return ir.Const(0)
    elif not items:
        raise cx.error(
            node.args[0],
            f"`{label}()` of an empty sequence raises ValueError in Python",
            "give it at least one element",
        )
    return _fold(cx, op, items)


def _fold(cx, op: str, items: list):
    """``op`` (add, minimum, maximum) of the items, left to right, as Python's builtin folds them."""
    acc = items[0]
    for item in items[1:]:
        acc = cx.emit_temp(_fold_op(op, acc, item))
    return acc


def rolled_call(cx, node: ast.Call, key: str):
    """``np.stack([e(i) for i in range(n)])`` (or ``np.array``) compiled rolled, or None when the
    comprehension is written out; a generator expression passed to a NumPy function is refused
    (NumPy does not take one as a sequence)."""
    comp = node.args[0]
    if isinstance(comp, ast.GeneratorExp):
        raise cx.error(
            comp,
            "NumPy functions do not take a generator expression as a sequence of arrays",
            "write a list comprehension: [... for ...]",
        )
    if key not in ("stack", "array") or len(node.args) != 1 or node.keywords:
        return None
    if not rolled.is_rolled(cx, comp):
        return None
    return rolled.rolled_stack(cx, node, comp)


def _only_start(node: ast.Call) -> bool:
    return len(node.keywords) == 1 and node.keywords[0].arg == "start"


def _fold_op(op: str, acc, item) -> ir.Prim:
    return ir.Prim(op, (("x", acc), ("y", item)))
