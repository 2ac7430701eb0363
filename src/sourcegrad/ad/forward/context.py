"""The state the forward pass shares while it walks one function: the primal, its activity, the
namer, and the callees; tangents are named ``d_<name>`` by ``Namer.tangent``."""

from __future__ import annotations

import ast

from ...errors import UnsupportedSyntaxError
from ...normal import ir
from ...normal.astutil import call, name
from ...normal.naming import Namer
from ...normal.pyexpr import to_ast
from ..activity import Activity

__all__ = ["Context", "tuple_of"]


def tuple_of(*elts: ast.expr | str) -> ast.Tuple:
    """A tuple display of expressions and names."""
    return ast.Tuple(elts=[e if isinstance(e, ast.AST) else name(e) for e in elts], ctx=ast.Load())


class Context:
    """One function's forward pass. ``block(ctx, stmts) -> stmts`` is the pass itself: the
    construct handlers transform the blocks they hold through it, and a callee's context gets
    the same one, so the construct modules need not import one another."""

    def __init__(self, fn: ir.Function, wrt, activity: Activity, namer: Namer, filename: str, callees, block):
        self.fn = fn
        self.wrt = tuple(wrt)
        self.act = activity
        self.namer = namer
        self.filename = filename
        self.callees = callees
        self.forward_block = block

    def for_callee(self, fn: ir.Function, wrt, activity: Activity, namer: Namer, filename: str):
        """A fresh context for a called function, sharing this one's callees and pass."""
        return Context(fn, wrt, activity, namer, filename, self.callees, self.forward_block)

    def block(self, stmts) -> list:
        """The statements of a block, each active one followed by its tangent."""
        return self.forward_block(self, stmts)

    def active(self, atom) -> bool:
        """Whether an atom (or a name) carries a tangent: it depends on a ``wrt`` input and the
        output depends on it (the activity analysis of reverse mode, reused)."""
        ident = atom.id if isinstance(atom, ir.Name) else atom
        return isinstance(ident, str) and self.act.is_active(ident)

    def tangent(self, primal: str) -> str:
        return self.namer.tangent(primal)

    def tangent_or_zeros(self, atom, out: list, origin=None, base: str = "") -> ir.Name:
        """The tangent of an atom: ``d_x`` when it is active, else zeros of its shape, bound in
        ``out`` to a fresh name (a loop's carry and a branch's outputs need a value on every
        path)."""
        if self.active(atom):
            return ir.Name(self.tangent(atom.id))
        base = base or (self.tangent(atom.id) if isinstance(atom, ir.Name) else "d_zero")
        zero = self.namer.fresh(base)
        if isinstance(atom, ir.Const) and atom.value is None:  # a name one side of a static if
            # leaves unassigned: no tangent either (reading it is Python's NameError, checked)
            out.append(ir.Assign(zero, ir.Const(None), origin))
            return ir.Name(zero)
        out.append(ir.Assign(zero, ir.Raw(call("jnp.zeros_like", to_ast(atom))), origin))
        return ir.Name(zero)

    def error(self, origin, what, fix):
        return UnsupportedSyntaxError(
            f"{what} is not supported in forward mode yet",
            filename=self.filename,
            line=origin.line if origin else 0,
            col=0,
            text=origin.text if origin else "",
            fix=fix,
        )
