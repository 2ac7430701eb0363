"""Containers of arrays (tuples, lists, dicts with constant keys), flattened into their leaves.

sourcegrad never builds a container at run time inside a differentiated
function: ``params["W1"]``, ``layers[0]`` and ``h, c = state`` are resolved
while normalizing, so every value the passes see is an array, and every
container's gradient is one accumulator per leaf. Containers exist at run time
only at the function's boundary (a dict argument is unpacked on entry; its
gradient is rebuilt with the same structure on exit), as JAX's pytrees do.

A :class:`Struct` holds IR atoms (or nested structs) under constant keys.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Struct", "leaves", "paths", "rebuild", "kind_of", "same_layout"]


@dataclass(frozen=True)
class Struct:
    kind: str  # "tuple", "list" or "dict"
    items: tuple  # ((key, atom or Struct), ...); keys are ints for tuple/list, strings for dict

    def get(self, key):
        for k, v in self.items:
            if k == key:
                return v
        raise KeyError(key)

    @property
    def keys(self):
        return [k for k, _ in self.items]

    def replace_values(self, values) -> Struct:
        return Struct(self.kind, tuple((k, v) for (k, _), v in zip(self.items, values)))


def leaves(value) -> list:
    """The atoms of a (possibly nested) struct, in order; an atom is its own only leaf."""
    if isinstance(value, Struct):
        out = []
        for _, v in value.items:
            out.extend(leaves(v))
        return out
    return [value]


def paths(value, prefix=()) -> list:
    """The key path of each leaf, in the order of ``leaves``."""
    if isinstance(value, Struct):
        out = []
        for k, v in value.items:
            out.extend(paths(v, prefix + (k,)))
        return out
    return [prefix]


def rebuild(layout, flat: list):
    """A struct of the same layout whose leaves are taken from ``flat`` in order."""
    it = iter(flat)

    def build(v):
        if isinstance(v, Struct):
            return Struct(v.kind, tuple((k, build(x)) for k, x in v.items))
        return next(it)

    return build(layout)


def same_layout(a, b) -> bool:
    if isinstance(a, Struct) != isinstance(b, Struct):
        return False
    if not isinstance(a, Struct):
        return True
    return (
        a.kind == b.kind
        and a.keys == b.keys
        and all(same_layout(x, y) for (_, x), (_, y) in zip(a.items, b.items))
    )


def kind_of(value, top: bool = True):
    """The call-time kind of an argument: "static", "array", or a container layout of kinds.

    Only a top-level argument can be static (a Python int, str, bool, None, or a
    tuple of those): inside a container, JAX traces every leaf.
    """
    import numpy as np

    def static(v):
        return (
            v is None
            or (isinstance(v, (bool, int, str)) and not isinstance(v, np.generic))
            or (isinstance(v, tuple) and all(static(x) for x in v))
        )

    if top and static(value):
        return "static"
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return ("dict", tuple((k, kind_of(v, False)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return (
            "list" if isinstance(value, list) else "tuple",
            tuple((i, kind_of(v, False)) for i, v in enumerate(value)),
        )
    return "array"
