"""Aliasing: which names share memory under NumPy, and what an in-place write changes there.

NumPy writes in place: after ``y = x``, ``x[0] = 1.0`` changes ``y`` too, and a helper
``def clamp(a): a[0] = 0.0; return a`` changes its caller's array. The normal form is functional
(every write makes a new version), so this module keeps NumPy's answer by tracking *buffers*:
each IR name belongs to the buffer of the array it was made from, either as the whole buffer
(``y = x``, ``np.asarray(x)``, a helper that returns its argument) or as a view of part of it
(``x[1:]``, ``x.T``, ``x.reshape(...)``, the rows of ``for row in X``). When a buffer is written
in place:

* a user name bound to the whole buffer in the same block is re-bound to the new version: that
  is exactly what NumPy computes (``y = x; x[0] = 1.0`` -> ``y`` reads the new version);
* every other name of the buffer (a view, a name bound in an enclosing block or branch, a
  container element) becomes *stale*: reading it later is a located error that says which write
  changed it and what to write instead;
* inside a loop, a write that reaches a name bound before the loop is refused at the write: a
  later iteration would read the changed value before the line that changes it.

``x += v`` on a name writes in place only if ``x`` is a NumPy array; on a Python or NumPy scalar
it makes a new value. Which one it is is not known here, so its aliases become stale (never
re-bound), and only if it has any.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .. import ir
from ..structs import Struct, leaves

__all__ = [
    "Memory",
    "note_assign",
    "note_bind",
    "note_view",
    "write_in_place",
    "check_read",
    "callee_summary",
    "after_call",
    "shared_with_others",
    "inherit_stale",
]

#: View operations whose result is the whole array (``np.asarray(x)`` returns ``x`` itself).
_WHOLE = frozenset({"asarray"})


@dataclass
class Memory:
    """The aliasing state of one function being normalized (``Context.memory``)."""

    root: dict = field(default_factory=dict)  # IR name -> the IR name of its buffer
    partial: set = field(default_factory=set)  # IR names that are a view of part of a buffer
    rows: dict = field(default_factory=dict)  # IR name -> the array of `for row in X` it walks
    stale: dict = field(default_factory=dict)  # IR name -> (why, fix) of the write that changed it
    block_of: dict = field(default_factory=dict)  # IR name -> id of the block that bound it
    depth_of: dict = field(default_factory=dict)  # IR name -> how many loops enclose its binding
    loop_depth: int = 0
    written: dict = field(default_factory=dict)  # buffer -> (line, text, certain): for callers
    stale_carries: set = field(default_factory=set)  # loop carries whose value before the loop is stale

    def root_of(self, name: str) -> str:
        return self.root.get(name, name)


def note_assign(cx, target: str, value, view_ops):
    """``target = value``: the same buffer as a name, or a view of one (``view_ops``)."""
    mem = cx.memory
    if isinstance(value, ir.Name):
        _join(mem, target, value.id, whole=True)
    elif isinstance(value, ir.Prim) and value.op in view_ops and isinstance(value.args[0][1], ir.Name):
        _join(mem, target, value.args[0][1].id, whole=value.op in _WHOLE)


def note_view(cx, target: str, source):
    """``target`` is a view of part of ``source`` (a row of ``for row in X``)."""
    if isinstance(source, ir.Name):
        _join(cx.memory, target, source.id, whole=False)
        cx.memory.rows[target] = cx.user_names.get(source.id, source.id)
        line = cx.origin.line if cx.origin else 0
        cx.views[target] = (cx.views.get(source.id, (source.id, 0))[0], line)


def _join(mem, target, source, whole):
    mem.root[target] = mem.root_of(source)
    if not whole or source in mem.partial:
        mem.partial.add(target)


def note_bind(cx, ir_name: str):
    cx.memory.block_of.setdefault(ir_name, id(cx.block))
    cx.memory.depth_of.setdefault(ir_name, cx.memory.loop_depth)


def _live(cx) -> list[tuple[str, str]]:
    """(IR name, user name) for every name a user variable reads now (container leaves too).
    Several user names can read one IR name (``v = h(x)`` for a helper returning its argument,
    then a write through ``x`` re-binds both): each pair counts."""
    out: dict[tuple[str, str], None] = {}
    for user, current in cx.versions.items():
        value = cx.structs.get(current)
        for leaf in leaves(value) if isinstance(value, Struct) else [ir.Name(current)]:
            if isinstance(leaf, ir.Name):
                out[(leaf.id, user)] = None
    return list(out)


def inherit_stale(cx, target: str, *sources) -> None:
    """``target`` may hold the value of one of ``sources`` (a loop's carry, a branch's merge): if
    one of them reads memory an in-place write changed, so does ``target``."""
    for source in sources:
        if isinstance(source, ir.Name) and source.id in cx.memory.stale:
            cx.memory.stale.setdefault(target, cx.memory.stale[source.id])


def shared_with_others(cx, user: str, buffer: str) -> list:
    """The user variables other than ``user`` (or containers, by their leaves) that read memory of
    ``buffer`` now, in the order they were bound."""
    mem = cx.memory
    return list(dict.fromkeys(u for m, u in _live(cx) if u != user and mem.root_of(m) == buffer))


def write_in_place(cx, node, user, old: str, new: str | None, certain: bool, what: str, fix: str):
    """``old`` (the version of ``user``, or a caller's argument) was written in place; ``new`` is the
    version after the write when it is exactly the written buffer (else None)."""
    mem = cx.memory
    buffer = mem.root_of(old)
    members = {buffer} | {m for m, r in mem.root.items() if r == buffer}
    live = _live(cx)
    line = cx.origin.line if cx.origin else 0
    mem.written.setdefault(buffer, (line, what, certain))
    if mem.loop_depth:
        for m, u in live:
            if m in members and u != user and mem.depth_of.get(m, 0) < mem.loop_depth:
                raise cx.error(
                    node,
                    f"`{what}` writes in place into the memory of `{u}`, which is "
                    f"bound before this loop: under NumPy a later iteration reads "
                    f"the changed `{u}` before this line changes it",
                    f"{fix}, or copy it before the loop: `{u} = {u}.copy()`",
                )
    if new is not None:
        mem.root[new] = buffer
        if old in mem.partial:
            mem.partial.add(new)
    subject = f"`{user}`" if user else "the argument"
    how = (
        ""
        if certain
        else f" if {subject} is a NumPy array (an augmented assignment writes into an "
        f"array but makes a new value from a Python or NumPy scalar)"
    )
    readers = [(m, u) for m, u in live if m in members and m != new]
    for m in members - {new} - {m for m, _ in readers}:
        mem.stale.setdefault(m, (f"`{what}` (line {line}) changed in place under NumPy{how}", fix))
    for m, u in readers:
        if (
            u != user
            and certain
            and new is not None
            and cx.versions.get(u) == m
            and m not in mem.partial
            and old not in mem.partial
            and mem.block_of.get(m) == id(cx.block)
        ):
            _rebind(cx, u, new)
            continue
        mem.stale.setdefault(m, (f"`{what}` (line {line}) changed in place under NumPy{how}", fix))


def _rebind(cx, user, new):
    if new in cx.temporaries:  # a call's output: the user's variable gets a version of its own
        name = cx.new_version(user)
        cx.emit(ir.Assign(name, ir.Name(new), cx.origin))
        new = name
    cx.bind_name(user, new)


def check_read(cx, node: ast.Name, value):
    """Reading a user name whose memory an earlier in-place write changed: a located error."""
    for leaf in leaves(value) if isinstance(value, Struct) else [value]:
        if isinstance(leaf, ir.Name) and leaf.id in cx.memory.stale:
            why, fix = cx.memory.stale[leaf.id]
            raise cx.error(
                node,
                f"`{node.id}` reads memory that {why}; sourcegrad makes a new version "
                f"at each write instead of sharing memory, and refuses to guess which "
                f"value this read means",
                f"{fix}; or, if `{node.id}` should keep its old values, copy it where it is "
                f"bound (`{node.id} = ....copy()`)",
            )


def callee_summary(cx, fn: ir.Function) -> dict:
    """What a callee does to its arguments: which it writes in place, which outputs alias which."""
    index = {p: i for i, p in enumerate(fn.params)}
    mem = cx.memory
    writes = {index[b]: w for b, w in mem.written.items() if b in index}
    value = fn.body[-1].value
    outs = {}
    for k, item in enumerate(value.items if isinstance(value, ir.Tup) else (value,)):
        if isinstance(item, ir.Name) and mem.root_of(item.id) in index:
            outs[k] = (index[mem.root_of(item.id)], item.id not in mem.partial)
    return {"writes": writes, "outputs": outs}


def after_call(cx, node, label, summary, params, args, targets):
    """The caller's side of a call: outputs that alias arguments, arguments written in place."""
    mem = cx.memory
    for k, (i, whole) in summary["outputs"].items():
        if isinstance(args[i], ir.Name):
            _join(mem, targets[k], args[i].id, whole=whole)
    for i, (line, text, certain) in summary["writes"].items():
        arg = args[i]
        if not isinstance(arg, ir.Name):
            continue
        shown = ast.unparse(node)
        for j, other in enumerate(args):
            if j != i and isinstance(other, ir.Name) and mem.root_of(other.id) == mem.root_of(arg.id):
                raise cx.error(
                    node,
                    f"`{shown}` passes the same memory as `{params[i]}` and "
                    f"`{params[j]}`, and `{label}` writes into `{params[i]}` in place "
                    f"(`{text}`, line {line}): under NumPy `{params[j]}` sees that write",
                    f"pass a copy as one of them (`....copy()`), or in `{label}` write "
                    f"`{params[i]} = {params[i]}.copy()` first",
                )
        new = next((targets[k] for k, (p, whole) in summary["outputs"].items() if p == i and whole), None)
        write_in_place(
            cx,
            node,
            None,
            arg.id,
            new if certain and arg.id not in mem.partial else None,
            certain,
            shown,
            f"`{label}` writes into its argument `{params[i]}` (`{text}`, line "
            f"{line}): assign its result, pass a copy (`....copy()`), or write "
            f"`{params[i]} = {params[i]}.copy()` first in `{label}`",
        )
