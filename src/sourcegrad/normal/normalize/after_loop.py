"""A ``for`` loop's own variable after the loop, as Python leaves it.

After ``for i in range(a, b, s)`` (or ``for row in X``) that ran to its end, ``i`` holds the
last value it took; after a loop that ran no iteration, the value it had before (a NameError on
reading it, if it had none). ``loops.py`` calls :func:`bind_targets_after` once the ``For`` is
emitted:

* a ``range`` with constant bounds: the last index as a static int (or, when the range is
  empty, the value before the loop, or a located error for a name the loop alone binds);
* any other ``range`` (its bounds known while JAX traces: a shape, a static argument) or an
  array's rows: a static ``If`` on "the loop ran", computed while tracing, whose body takes the
  last element (``range_end(a, b, s) - s``, ``X[-1]``) and whose other side keeps the value
  before the loop (None for a name the loop alone binds: reading it is then checked while
  tracing, Python's NameError).

The compiled loop runs every iteration and skips the rest after a ``break`` (or a ``return`` in
the loop, which becomes one), so after a loop that stops early the variable is not the one at
the break: reading it is a located error. The iterables of ``enumerate``/``zip`` have one length
(the compiled loop refuses others: a shape error), so each variable is its own iterable's last.
"""

from __future__ import annotations

from .. import ir
from .aliasing import note_view

__all__ = ["bind_targets_after"]


def bind_targets_after(cx, node, user_targets, iters, saved, origin):
    """Bind each of the loop's variables to its value after the loop (see the module docstring).
    ``node``: the loop's ``ast.For``; ``cx.read_after`` says which of its variables the code after
    it reads (unknown for a loop the normalizer makes: then only the old value is kept)."""
    read = cx.read_after.get(id(node))
    for t, it in zip(user_targets, iters):
        before = saved.get(t)
        constant = isinstance(it, ir.RangeIter) and all(_is_int(b) for b in (it.start, it.stop, it.step))
        if getattr(node, "sg_stops_early", False):
            _refuse(
                cx,
                t,
                f"after the loop at line {origin.line} it holds its value at the `break` or "
                f"`return`, which the compiled loop (it runs every iteration and skips the rest) "
                f"does not keep",
                f"start another variable before the loop (`found = 0`), set it where the loop "
                f"stops (`found = {t}`) and read that after the loop instead",
            )
        elif constant and (before is not None or (read is not None and t in read)):
            values = range(*(b.value for b in (it.start, it.stop, it.step)))
            if values:
                cx.bind_value(t, ir.Const(values[-1]))  # a static int
            elif before is not None:
                cx.bind_name(t, before)
            else:
                cx.out_of_scope[t] = (
                    f"the loop at line {origin.line} runs no iteration (its range is empty), so "
                    f"it never assigns it (Python raises NameError)",
                    f"assign `{t}` before the loop",
                )
        elif read is not None and t in read:
            _last_if_ran(cx, t, it, before, origin)
        elif before is not None:
            _refuse(
                cx,
                t,
                f"after the loop at line {origin.line} it holds the loop's last value, which is "
                f"kept only where the code after the loop reads it",
                f"keep the value you need in another variable inside the loop, or name the "
                f"loop's variable differently from `{t}`",
            )
        # else: first bound by the loop and not read after it: out of scope, as scope_exit recorded


def _is_int(value) -> bool:
    return isinstance(value, ir.Const) and type(value.value) is int


def _refuse(cx, t, why, fix):
    cx.versions.pop(t, None)
    cx.out_of_scope[t] = (why, fix)


def _last_if_ran(cx, t, it, before, origin):
    """``t = <last element> if the loop ran else <before>``: a static ``If`` (see the docstring)."""
    if isinstance(it, ir.RangeIter):
        end = _temp(
            cx, "end", ir.Prim("range_end", (("start", it.start), ("stop", it.stop), ("step", it.step)))
        )
        ran = _temp(cx, "ran", ir.Prim("not_equal", (("x", end), ("y", it.start))))
        take = ir.Prim("subtract", (("x", end), ("y", it.step)))
    else:  # an array's rows
        length = _temp(cx, "rows", ir.Prim("len", (("a", it.array),)))
        ran = _temp(cx, "ran", ir.Prim("greater", (("x", length), ("y", ir.Const(0)))))
        take = ir.Prim("getitem_static", (("x", it.array), ("idx", ir.Index((ir.Const(-1),)))))
    outer, cx.block = cx.block, []
    last = _temp(cx, f"{t}_last", take)
    if isinstance(it, ir.ArrayIter):
        note_view(cx, last.id, it.array)  # a row of X, as the loop's rows are
    body, cx.block = cx.block, outer
    out = cx.namer.fresh(t)
    other = ir.Const(None) if before is None else ir.Name(before)
    name = cx.namer.fresh(f"after_{origin.line}")
    cx.emit(ir.If(ran, tuple(body), (), ((out, last, other),), True, origin, name))
    if cx.is_static(last) and cx.is_static(other):
        cx.static.add(out)
    if isinstance(it, ir.ArrayIter):
        note_view(cx, out, it.array)
    cx.bind_name(t, out)
    if before is None:  # Python's NameError when no iteration ran, checked where it is read
        cx.maybe_unbound[out] = (
            ran,
            True,
            origin.line,
            id(cx.block),
            f"the loop at line {origin.line} ran no iteration, so it never assigned it (Python "
            f"raises NameError)",
        )
    elif before in cx.maybe_unbound:  # the value before may be unbound: so is this, if none ran
        test, side, line, _, *why = cx.maybe_unbound[before]
        if not side:
            test = _temp(cx, "other_side", ir.Prim("equal", (("x", test), ("y", ir.Const(False)))))
        defined = cx.namer.fresh("defined")
        cx.temporaries.add(defined)
        name = cx.namer.fresh(f"after_{origin.line}")
        cx.emit(ir.If(ran, (), (), ((defined, ir.Const(True), test),), True, origin, name))
        cx.static.add(defined)
        why = why or [f"the if at line {line} assigns it only when its test is {side}"]
        cx.maybe_unbound[out] = (ir.Name(defined), True, origin.line, id(cx.block), why[0])


def _temp(cx, base: str, value) -> ir.Name:
    name = cx.namer.fresh(base)
    cx.temporaries.add(name)
    cx.emit(ir.Assign(name, value, cx.origin))
    return ir.Name(name)
