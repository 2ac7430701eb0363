"""Simplify: small, named rewrites of the gradient function, for the reader.

XLA already removes additions of zeros and unused values, so none of these is
about speed; each makes the generated code shorter to read without changing
what it computes. They run in order until none applies (a fixed point).

* ``fold_single_contribution``: a temporary's accumulator that is zeroed and
  then receives exactly one contribution is assigned that contribution
  (``b_t = zeros_like(t); b_t = b_t + e``  ->  ``b_t = e``). The user's own
  variables keep the explicit zeroing, so the accumulator story stays visible.
  (Inside a loop's adjoint every accumulator is folded this way, see
  ``fold_first_contributions``: there ``zeros_like(x)`` would cost tape memory.)
* ``drop_default_arguments``: ``unreduce(g, x, axis=None, keepdims=False)``
  -> ``unreduce(g, x)``.
* ``fold_constants``: ``2 - 1`` -> ``1``; ``e ** 1`` -> ``e``; ``e * 1`` -> ``e``;
  ``-(-e)`` -> ``e``.
"""

from __future__ import annotations

import ast
import inspect
import operator
from dataclasses import replace

from .. import runtime
from ..normal import ir
from ..normal.astutil import clone, unparse, walk
from ..normal.walk import map_blocks, names_read_deep

__all__ = ["simplify", "REWRITES", "fold_first_contributions"]


# ----- expression rewrites -----


class _Rewriter(ast.NodeTransformer):
    """An expression rewrite that counts how often it fired. ``applies`` says, without copying,
    whether it could fire anywhere in an expression (most expressions are left alone, uncopied)."""

    def __init__(self):
        self.changes = 0

    def fired(self, node):
        self.changes += 1
        return node

    def applies(self, node) -> bool:
        raise NotImplementedError


class _FoldConstants(_Rewriter):
    OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}

    def visit_BinOp(self, node):
        self.generic_visit(node)
        left, right = node.left, node.right
        if _number(left) and _number(right) and type(node.op) in self.OPS:
            return self.fired(ast.Constant(self.OPS[type(node.op)](left.value, right.value)))
        if isinstance(node.op, (ast.Pow, ast.Mult)) and _is_one(right):
            return self.fired(left)
        if isinstance(node.op, ast.Mult) and _is_one(left):
            return self.fired(right)
        if (
            isinstance(node.op, ast.Mult)
            and isinstance(right, ast.BinOp)
            and isinstance(right.op, ast.Mult)
            and _number(right.left)
        ):
            # g * (3 * e), left by a folded jnp.where, reads as the template would: g * 3 * e
            return self.fired(
                ast.BinOp(
                    left=ast.BinOp(left=left, op=ast.Mult(), right=right.left),
                    op=ast.Mult(),
                    right=right.right,
                )
            )
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if (
            isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.UnaryOp)
            and isinstance(node.operand.op, ast.USub)
        ):
            return self.fired(node.operand.operand)
        return node

    def visit_Compare(self, node):
        """``3 == 0`` -> ``False`` (a rule's guard against a special case, on a constant)."""
        self.generic_visit(node)
        if (
            _number(node.left)
            and len(node.ops) == 1
            and isinstance(node.ops[0], ast.Eq)
            and _number(node.comparators[0])
        ):
            return self.fired(ast.Constant(node.left.value == node.comparators[0].value))
        return node

    def visit_Call(self, node):
        """``jnp.where(False, a, b)`` -> ``b``; then ``g * (3 * e)`` -> ``g * 3 * e``."""
        self.generic_visit(node)
        if (
            _is_where(node)
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, bool)
        ):
            return self.fired(node.args[1] if node.args[0].value else node.args[2])
        return node

    def applies(self, node) -> bool:
        for n in walk(node):
            if isinstance(n, ast.BinOp) and (
                (_number(n.left) and _number(n.right))
                or (isinstance(n.op, (ast.Pow, ast.Mult)) and (_is_one(n.right) or _is_one(n.left)))
            ):
                return True
            if isinstance(n, ast.UnaryOp) and isinstance(n.operand, ast.UnaryOp):
                return True
            if isinstance(n, ast.Compare) and _number(n.left) and all(map(_number, n.comparators)):
                return True
            if _is_where(n) and isinstance(n.args[0], ast.Constant):
                return True
        return False


def _number(node) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
    )


def _is_where(node) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "where"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "jnp"
        and len(node.args) == 3
        and not node.keywords
    )


def _is_one(node) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int and node.value == 1


_HELPER_DEFAULTS: dict[str, dict] = {}


def _defaults(helper: str) -> dict:
    if helper not in _HELPER_DEFAULTS:
        sig = inspect.signature(getattr(runtime, helper))
        _HELPER_DEFAULTS[helper] = {
            p.name: p.default for p in sig.parameters.values() if p.default is not p.empty
        }
    return _HELPER_DEFAULTS[helper]


class _DropDefaults(_Rewriter):
    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in runtime.__all__:
            defaults = _defaults(node.func.id)
            kept = [
                kw
                for kw in node.keywords
                if not (
                    kw.arg in defaults
                    and isinstance(kw.value, ast.Constant)
                    and kw.value.value == defaults[kw.arg]
                    and type(kw.value.value) is type(defaults[kw.arg])
                )
            ]
            if len(kept) != len(node.keywords):
                node.keywords = kept
                self.fired(node)
        return node

    def applies(self, node) -> bool:
        helpers = _HELPERS
        for n in walk(node):
            if (
                isinstance(n, ast.Call)
                and n.keywords
                and isinstance(n.func, ast.Name)
                and n.func.id in helpers
            ):
                return True
        return False


_HELPERS = frozenset(runtime.__all__)


def _map_exprs(stmts, rewriter: _Rewriter, settled: dict):
    """Apply an expression rewriter to every generated (Raw) expression; copies what it changes.
    ``settled``: id -> expression, those the rewriter left alone in an earlier round (it leaves
    them alone again: rewriters are deterministic and never change the tree they are given)."""
    out = []
    for s in stmts:
        if isinstance(s, (ir.Assign, ir.Return)) and isinstance(s.value, ir.Raw):
            e = s.value.expr
            if settled.get(id(e)) is e:
                out.append(s)
                continue
            before = rewriter.changes
            if rewriter.applies(e):
                expr = rewriter.visit(clone(e))  # earlier stages keep theirs
                if rewriter.changes != before:
                    out.append(replace(s, value=ir.Raw(expr)))
                    continue
            settled[id(e)] = e
        else:
            s = map_blocks(s, lambda block: _map_exprs(block, rewriter, settled))
        out.append(s)
    return out


def _expression_rewrite(cls):
    def rewrite(fn: ir.Function, settled: dict | None = None):
        r = cls()
        body = tuple(_map_exprs(fn.body, r, {} if settled is None else settled))
        return replace(fn, body=body), r.changes

    rewrite.__name__ = cls.__name__
    return rewrite


fold_constants = _expression_rewrite(_FoldConstants)
drop_default_arguments = _expression_rewrite(_DropDefaults)


# ----- statement rewrites -----


def _is_zeros_of(value) -> bool:
    e = value.expr if isinstance(value, ir.Raw) else None
    return isinstance(e, ast.Call) and unparse(e.func) == "jnp.zeros_like"


def _fold_block(stmts, foldable) -> tuple[list, int]:
    assigns: dict[str, list[int]] = {}
    for i, s in enumerate(stmts):
        if isinstance(s, ir.Assign) and s.target in foldable:
            assigns.setdefault(s.target, []).append(i)
    drop, rewrite = set(), {}
    for target, where in assigns.items():
        if len(where) != 2:
            continue
        first, second = stmts[where[0]], stmts[where[1]]
        e = second.value.expr if isinstance(second.value, ir.Raw) else None
        if not (
            _is_zeros_of(first.value)
            and isinstance(e, ast.BinOp)
            and isinstance(e.op, ast.Add)
            and isinstance(e.left, ast.Name)
            and e.left.id == target
        ):
            continue
        if any(isinstance(n, ast.Name) and n.id == target for n in walk(e.right)):
            continue
        # a contribution in a nested block between the two (a static if's side) reads the zeros
        if target in names_read_deep(
            s for s in stmts[where[0] + 1 : where[1]] if not isinstance(s, ir.Assign)
        ):
            continue
        drop.add(where[0])
        rewrite[where[1]] = replace(second, value=ir.Raw(e.right))
    return [rewrite.get(i, s) for i, s in enumerate(stmts) if i not in drop], len(drop)


def fold_first_contributions(stmts) -> list:
    """``b_x = zeros_like(x); b_x = b_x + e`` -> ``b_x = e``, for every accumulator, in one loop
    body's backward. The reverse pass runs it before choosing the loop's tape: inside a loop,
    ``zeros_like(x)`` would keep ``x`` on the tape just for its shape."""
    out: list = []
    for s in stmts:
        prev = out[-1] if out else None
        e = s.value.expr if isinstance(s, ir.Assign) and isinstance(s.value, ir.Raw) else None
        if (
            prev is not None
            and isinstance(prev, ir.Assign)
            and prev.target == getattr(s, "target", None)
            and _is_zeros_of(prev.value)
            and isinstance(e, ast.BinOp)
            and isinstance(e.op, ast.Add)
            and isinstance(e.left, ast.Name)
            and e.left.id == s.target
            and not any(isinstance(n, ast.Name) and n.id == s.target for n in walk(e.right))
        ):
            out[-1] = replace(s, value=ir.Raw(e.right))
        else:
            out.append(s)
    return out


def fold_single_contribution(fn: ir.Function, settled: dict | None = None):
    """The backward's accumulators that are zeroed and then receive one contribution, folded
    (``settled`` is for the expression rewrites' signature: statements are looked at anew)."""
    foldable = fn.meta.get("foldable", frozenset())
    body, changes = [], 0
    for s in fn.body:
        if isinstance(s, ir.Section) and s.kind == "backward":
            folded, n = _fold_block(list(s.body), foldable)
            s, changes = replace(s, body=tuple(folded)), changes + n
        body.append(s)
    return replace(fn, body=tuple(body)), changes


#: The rewrites, in the order they are tried.
REWRITES = (fold_single_contribution, drop_default_arguments, fold_constants)


def simplify(fn: ir.Function, max_rounds: int = 10) -> ir.Function:
    """Apply each rewrite until it changes nothing (the statement rewrite first: the expression
    rewrites cannot create new opportunities for it, so one pass of theirs per fixed point of it
    is enough, and long functions are walked as few times as possible)."""
    for rewrite in REWRITES:
        settled: dict = {}  # expressions an expression rewrite left alone: not walked again
        for _ in range(max_rounds):
            fn, changes = rewrite(fn, settled)
            if not changes:
                break
    return fn
