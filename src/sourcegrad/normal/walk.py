"""The one generic traversal of the IR: every pass and analysis that visits nested blocks uses it.

A statement may hold nested blocks: a loop's body (and a while loop's test body), a branch's two
sides, a ``no_grad`` block, a section of the gradient function, a nested ``def``. Which fields
those are is written once, in ``BLOCK_FIELDS``; everything else here is derived from it:

* ``blocks(s)``            the (field, statements) pairs of one statement's nested blocks;
* ``statements(stmts)``    every statement, pre-order, nested blocks included;
* ``expressions(s)``       the expressions one statement evaluates itself;
* ``expressions_deep``     those of every statement, nested blocks included;
* ``binds(s)``             the names one statement binds, including a loop's own parameters;
* ``bound_deep``           the names bound anywhere in a block;
* ``map_blocks(s, f)``     ``s`` with each nested block replaced by ``f(block)``.

A pass that treats a construct specially (a loop's fixed point in the activity analysis, a
loop's adjoint in reverse) handles that construct itself and calls these for the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

from . import ir

__all__ = [
    "BLOCK_FIELDS",
    "blocks",
    "statements",
    "expressions",
    "expressions_deep",
    "binds",
    "bound_deep",
    "map_blocks",
    "names_read_deep",
]

#: The fields of each statement type that hold nested statement blocks, in execution order.
BLOCK_FIELDS: dict[type, tuple[str, ...]] = {
    ir.NoGrad: ("body",),
    ir.Section: ("body",),
    ir.For: ("body",),
    ir.While: ("test_body", "body"),
    ir.If: ("body", "orelse"),
    ir.IfElse: ("body", "orelse"),
}


def blocks(s) -> list[tuple[str, tuple]]:
    """The nested blocks of one statement as (field, statements); a ``Def``'s is its function body."""
    if isinstance(s, ir.Def):
        return [("function.body", s.function.body)]
    return [(f, getattr(s, f)) for f in BLOCK_FIELDS.get(type(s), ())]


def statements(stmts: Iterable, *, into_defs: bool = True) -> Iterator:
    """Every statement of ``stmts``, pre-order, descending into nested blocks (and into nested
    function definitions unless ``into_defs`` is false)."""
    stack = [iter(stmts)]
    while stack:
        for s in stack[-1]:
            yield s
            if into_defs or not isinstance(s, ir.Def):
                nested = blocks(s)
                if nested:
                    stack.extend(iter(b) for _, b in reversed(nested))
                    break
        else:
            stack.pop()


def _iterator_parts(it) -> tuple:
    if isinstance(it, ir.ArrayIter):
        return (it.array,)
    return (it.start, it.stop, it.step)


def expressions(s) -> Iterator:
    """The expressions (IR values) one statement evaluates itself, nested blocks excluded."""
    if isinstance(s, (ir.Assign, ir.Return, ir.Unpack)):
        yield s.value
    elif isinstance(s, (ir.If, ir.IfElse)):
        yield s.test
        for _, a, b in getattr(s, "outputs", ()):
            yield a
            yield b
    elif isinstance(s, ir.For):
        for it in s.iters:
            yield from _iterator_parts(it)
        yield from (c.init for c in s.carry)
    elif isinstance(s, ir.While):
        yield from (c.init for c in s.carry)
    elif isinstance(s, ir.CallFn):
        yield from s.args


def expressions_deep(stmts: Iterable) -> Iterator:
    """Every expression the statements evaluate, nested blocks and function bodies included."""
    for s in statements(stmts):
        yield from expressions(s)


def names_read_deep(stmts: Iterable) -> set:
    """Every name the statements read, nested blocks and function bodies included."""
    return {n for e in expressions_deep(stmts) for n in ir.names_read(e)}


def binds(s) -> list:
    """The names one statement binds: what ``ir.defined_names`` lists for it, plus the names a
    loop binds for its own body (carry parameters, loop targets)."""
    out = list(ir.defined_names([s]))
    if isinstance(s, (ir.For, ir.While)):
        out.extend(c.param for c in s.carry)
    if isinstance(s, ir.For):
        out.extend(s.targets)
    return out


def bound_deep(stmts: Iterable, out: set | None = None) -> set:
    """Every name bound anywhere in the statements (loop params, targets, branch names too)."""
    out = set() if out is None else out
    for s in statements(stmts, into_defs=False):
        out.update(binds(s))
    return out


def map_blocks(s, f: Callable[[tuple], Iterable]):
    """``s`` with each nested block replaced by ``f(block)`` (``s`` itself when it has none)."""
    if isinstance(s, ir.Def):
        return replace(s, function=replace(s.function, body=tuple(f(s.function.body))))
    fields = BLOCK_FIELDS.get(type(s))
    if not fields:
        return s
    return replace(s, **{field: tuple(f(getattr(s, field))) for field in fields})
