"""Deterministic, meaningful names for everything sourcegrad generates.

* The user's variables keep their names; a re-assigned variable gets versions
  ``y``, ``y_1``, ``y_2`` (single assignment makes every old value still
  readable by the backward pass).
* Temporaries are named after the operation that produced them (``matmul``,
  ``tanh``, ``mean``), numbered on collision.
* The gradient accumulator of ``x`` is ``b_x`` ("bar x", the adjoint notation
  of the AD literature), or ``b_x_`` if the user already has a ``b_x``.
* The tangent of ``x`` (forward mode) is ``d_x`` ("dot x"), or ``d_x_`` if the
  user already has a ``d_x``.

The same function always gets the same names: no counters shared between
functions, no hashes, no ids, so generated source can be golden-tested.
"""

from __future__ import annotations

import ast
import builtins
import keyword

from ..frontend.peel import walk_tree

#: Names the generated module itself binds; nothing generated may shadow them.
GENERATED_MODULE_NAMES = frozenset({"jax", "jnp", "lax", "np"})

_RESERVED = frozenset(dir(builtins)) | frozenset(keyword.kwlist) | GENERATED_MODULE_NAMES


def identifiers_in(node: ast.AST) -> set[str]:
    """Every variable and parameter name the user's function mentions: a Namer must avoid them."""
    out = set()
    for n in walk_tree(node):
        if isinstance(n, ast.Name):
            out.add(n.id)
        elif isinstance(n, ast.arg):
            out.add(n.arg)
    return out


class Namer:
    """Hands out fresh names; one instance per generated function family."""

    def __init__(self, taken=()):
        self._used: set[str] = set(_RESERVED) | set(taken)  # never handed out by fresh()
        self._claimed: set[str] = set()  # names the generated code already binds
        self._adjoints: dict[str, str] = {}
        self._shared: dict[str, str] = {}  # role -> the one name generated functions share
        self._next: dict[str, int] = {}  # stem -> the next number fresh() tries
        self._tangents: dict[str, str] = {}

    def reserve(self, *names: str) -> None:
        """Keep ``fresh`` from handing out these names (the user's identifiers, module globals)."""
        self._used.update(names)

    def taken(self, name: str) -> bool:
        return name in self._used

    def claim(self, name: str) -> str:
        """The generated code binds exactly ``name`` (a user's variable keeping its name)."""
        self._used.add(name)
        self._claimed.add(name)
        return name

    def taken_by_ir(self, name: str) -> bool:
        return name in self._claimed

    def fresh(self, base: str) -> str:
        base = _sanitize(base)
        if base not in self._used:
            return self.claim(base)
        stem = base.rstrip("_") or base
        i = self._next.get(stem, 1)  # remembered, so a thousand `mul`s stay linear
        while f"{stem}_{i}" in self._used:
            i += 1
        self._next[stem] = i + 1
        return self.claim(f"{stem}_{i}")

    def shared(self, base: str) -> str:
        """One name for a role that many generated functions share (their ``carry`` parameter)."""
        if base not in self._shared:
            self._shared[base] = self.fresh(base)
        return self._shared[base]

    def adjoint_names(self):
        """The accumulator names handed out so far."""
        return list(self._adjoints.values())

    def adjoint(self, primal: str) -> str:
        """The accumulator name of a primal variable: ``b_<name>``, always the same for one name."""
        if primal not in self._adjoints:
            name = f"b_{primal}"
            while name in self._used:
                name += "_"
            self.claim(name)
            self._adjoints[primal] = name
        return self._adjoints[primal]

    def tangent(self, primal: str) -> str:
        """The tangent name of a primal variable: ``d_<name>``, always the same for one name."""
        if primal not in self._tangents:
            name = f"d_{primal}"
            while name in self._used:
                name += "_"
            self.claim(name)
            self._tangents[primal] = name
        return self._tangents[primal]

    def tangent_names(self):
        """The tangent names handed out so far."""
        return list(self._tangents.values())


def _sanitize(base: str) -> str:
    out = "".join(c if (c.isalnum() or c == "_") else "_" for c in base).strip("_") or "t"
    if out[0].isdigit():
        out = "t_" + out
    return out
