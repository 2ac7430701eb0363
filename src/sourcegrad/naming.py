"""Deterministic, meaningful names for everything sourcegrad generates.

* The user's variables keep their names; a re-assigned variable gets versions
  ``y``, ``y_1``, ``y_2`` (single assignment makes every old value still
  readable by the backward pass).
* Temporaries are named after the operation that produced them (``matmul``,
  ``tanh``, ``mean``), numbered on collision.
* The gradient accumulator of ``x`` is ``b_x`` ("bar x", the adjoint notation
  of the AD literature), or ``b_x_`` if the user already has a ``b_x``.

The same function always gets the same names: no counters shared between
functions, no hashes, no ids, so generated source can be golden-tested.
"""

from __future__ import annotations

import builtins
import keyword

#: Names the generated module itself binds; nothing generated may shadow them.
GENERATED_MODULE_NAMES = frozenset({"jax", "jnp", "lax", "np"})

_RESERVED = frozenset(dir(builtins)) | frozenset(keyword.kwlist) | GENERATED_MODULE_NAMES


class Namer:
    """Hands out fresh names; one instance per generated function family."""

    def __init__(self, taken=()):
        self._used: set[str] = set(_RESERVED) | set(taken)
        self._adjoints: dict[str, str] = {}

    def reserve(self, *names: str) -> None:
        self._used.update(names)

    def taken(self, name: str) -> bool:
        return name in self._used

    def fresh(self, base: str) -> str:
        base = _sanitize(base)
        if base not in self._used:
            self._used.add(base)
            return base
        stem = base.rstrip("_") or base
        i = 1
        while f"{stem}_{i}" in self._used:
            i += 1
        name = f"{stem}_{i}"
        self._used.add(name)
        return name

    def adjoint(self, primal: str) -> str:
        """The accumulator name of a primal variable: ``b_<name>``, always the same for one name."""
        if primal not in self._adjoints:
            name = f"b_{primal}"
            while name in self._used:
                name += "_"
            self._used.add(name)
            self._adjoints[primal] = name
        return self._adjoints[primal]


def _sanitize(base: str) -> str:
    out = "".join(c if (c.isalnum() or c == "_") else "_" for c in base).strip("_") or "t"
    if out[0].isdigit():
        out = "t_" + out
    return out
