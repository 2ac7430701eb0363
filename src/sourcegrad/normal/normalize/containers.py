"""Containers at the boundaries: container parameters unpacked into leaves, kinds of values.

Inside a function every container (tuple, list, dict with constant keys) is a ``Struct`` of atoms
resolved while normalizing (``structs.py``). It exists at run time only where a value crosses a
function boundary: a container argument of the differentiated function is unpacked into its
leaves on entry; a callee receives one parameter per leaf. A *kind* describes what a value is
for specialization: "static", "array", or ``(container kind, ((key, kind), ...))``.
"""

from __future__ import annotations

from .. import ir
from ..structs import Struct
from .context import leaf_name

__all__ = [
    "unpack_container",
    "flat_parameters",
    "kind_paths",
    "leaf_kinds",
    "struct_of_kind",
    "kind_of_value",
]


def unpack_container(cx, base: ir.Name, kind, prefix: str) -> Struct:
    """Emit ``prefix_key = base[key]`` for each leaf of a container argument; its Struct of leaves."""
    items = []
    for key, sub in kind[1]:
        leaf = cx.namer.fresh(f"{prefix}_{key}")
        cx.emit(
            ir.Assign(leaf, ir.Prim("getitem", (("x", base), ("idx", ir.Index((ir.Const(key),))))), cx.origin)
        )
        items.append(
            (key, unpack_container(cx, ir.Name(leaf), sub, leaf) if isinstance(sub, tuple) else ir.Name(leaf))
        )
    return Struct(kind[0], tuple(items))


def flat_parameters(cx, user: str, kind) -> list[str]:
    """A callee's container parameter, passed as one parameter per leaf: their (static) names,
    with the user name bound to the Struct of them."""
    names = [cx.namer.fresh(leaf_name(user, path)) for path in kind_paths(kind)]
    cx.static.update(n for n, k in zip(names, leaf_kinds(kind)) if k == "static")
    cx.bind_value(user, struct_of_kind(kind, iter(names)))
    return names


def kind_paths(kind, prefix=()) -> list:
    """The key path of each leaf of a kind."""
    if isinstance(kind, tuple):
        return [p for k, sub in kind[1] for p in kind_paths(sub, prefix + (k,))]
    return [prefix]


def leaf_kinds(kind) -> list:
    """The kind ("static" or "array") of each leaf, in the order of ``kind_paths``."""
    if isinstance(kind, tuple):
        return [k for _, sub in kind[1] for k in leaf_kinds(sub)]
    return [kind]


def struct_of_kind(kind, names) -> Struct:
    """A Struct of the kind's layout whose leaves are Names taken from the iterator ``names``."""
    return Struct(
        kind[0],
        tuple(
            (k, struct_of_kind(sub, names) if isinstance(sub, tuple) else ir.Name(next(names)))
            for k, sub in kind[1]
        ),
    )


def kind_of_value(cx, value):
    """The kind of a value at a call site: its container layout, static or array leaf by leaf."""
    if isinstance(value, Struct):
        return (value.kind, tuple((k, kind_of_value(cx, v)) for k, v in value.items))
    return "static" if cx.is_static(value) else "array"
