"""The shapes of generated control-flow code, written once as Python with placeholders.

A derivative rule is a small expression template (``g * cos(x)``); the adjoint of a loop or a
branch is a small *statement* template, below, which the reverse pass fills in. A template is
plain Python; its placeholders are the names written in CAPITALS (``ADJOINT``, ``CARRY``), every
other name is kept as written (``lax.scan``, ``cast_like``). What a placeholder may stand for:

* a bare statement line (``BODY``): a list of IR statements, spliced in place;
* a ``def`` name: a name (``str``); a ``def`` parameter: a name, or a tuple of names (several
  parameters);
* an assignment target: a name (``x = ...``) or a tuple of names, nested tuples allowed
  (``a, b = ...``); a tuple of length one still unpacks (``a, = carry``);
* an expression: an ``ast`` expression, a name (``str``), or a tuple of those (a tuple display);
  ``*OPERANDS`` spreads a tuple into call arguments.

The optional pieces of generated code follow two rules:

* a statement whose whole target maps to the empty tuple is dropped (nothing to unpack); a part
  of a target that binds nothing the code reads is given as ``"_"`` (``carry, _ = ...``), and a
  part that maps to the empty tuple is written ``()``;
* a keyword argument whose value maps to ``None`` is dropped (``length=`` when there are xs).

A placeholder the mapping does not give, or a mapping key the template does not have, is an
error: a template never produces code with a placeholder left in it. An assigned or returned
value that is a lone name becomes ``ir.Name``; every other expression becomes ``ir.Raw``.
"""

from __future__ import annotations

import ast
import textwrap
from typing import cast

from ..errors import InternalError
from ..normal import ir
from ..normal.astutil import clone, name
from ..normal.pyexpr import instantiate

__all__ = [
    "Template",
    "SCAN_ADJOINT",
    "UNROLLED_ADJOINT",
    "CHECKPOINTED_ADJOINT",
    "WHILE_ADJOINT",
    "TAPE_READ",
    "TAPE_ROW_READ",
    "CHECKPOINTED_WHILE_ADJOINT",
    "COND_ADJOINT",
    "BRANCH_ADJOINT",
]


def is_placeholder(ident: str) -> bool:
    return ident.isupper() and ident.strip("_")[:1].isalpha()


class Template:
    """A statement template, parsed once; ``instantiate`` makes IR statements from it."""

    def __init__(self, source: str):
        self.source = textwrap.dedent(source).strip("\n")
        self.body = ast.parse(self.source).body
        found: list = []
        for node in ast.walk(ast.Module(body=self.body, type_ignores=[])):
            ident = (
                node.id
                if isinstance(node, ast.Name)
                else node.name
                if isinstance(node, ast.FunctionDef)
                else node.arg
                if isinstance(node, ast.arg)
                else None
            )
            if ident is not None and is_placeholder(ident) and ident not in found:
                found.append(ident)
        self.placeholders = tuple(found)

    def instantiate(self, origin=None, **mapping) -> list:
        """The template's statements with every placeholder replaced; ``origin`` goes on the
        top-level statements (not on those inside a ``def``, nor on spliced ones)."""
        missing = [p for p in self.placeholders if p not in mapping]
        unknown = [k for k in mapping if k not in self.placeholders]
        if missing or unknown:
            raise InternalError(
                f"template {self.source.splitlines()[0]!r}: "
                f"unreplaced placeholders {missing}, unknown ones {unknown}"
            )
        exprs = {k: _expr(v) for k, v in mapping.items() if v is not None and not isinstance(v, list)}
        return _Filler(mapping, exprs).block(self.body, origin)


def _expr(value):
    if isinstance(value, str):
        return name(value)
    if isinstance(value, tuple):
        return ast.Tuple(elts=[_expr(v) for v in value], ctx=ast.Load())
    return value


def _value(expr: ast.expr):
    return ir.Name(expr.id) if isinstance(expr, ast.Name) else ir.Raw(expr)


class _Filler:
    def __init__(self, mapping: dict, exprs: dict):
        self.mapping = mapping
        self.exprs = exprs

    def block(self, stmts, origin) -> list:
        out: list = []
        for s in stmts:
            out.extend(self.statement(s, origin))
        return out

    def statement(self, s, origin) -> list:
        if isinstance(s, ast.Expr) and isinstance(s.value, ast.Name) and is_placeholder(s.value.id):
            return list(self.mapping[s.value.id])
        if isinstance(s, ast.FunctionDef):
            idents = [self.ident(a.arg) for a in s.args.args]
            params = tuple(n for p in idents for n in ((p,) if isinstance(p, str) else p))
            fn = ir.Function(self.ident(s.name), params, tuple(self.block(s.body, None)))
            return [ir.Def(fn, origin)]
        if isinstance(s, ast.Return):
            # cast is safe: every rule template returns a value (no bare `return`)
            return [ir.Return(_value(self.expr(cast(ast.expr, s.value))))]
        if isinstance(s, ast.Assign) and len(s.targets) == 1:
            target = self.target(s.targets[0])
            if target == ():
                return []
            if isinstance(target, str):
                return [ir.Assign(target, _value(self.expr(s.value)), origin)]
            return [ir.Unpack(target, _value(self.expr(s.value)), origin)]
        raise InternalError(f"a statement template cannot hold {ast.unparse(s)!r}")

    def ident(self, ident: str) -> str:
        return self.mapping[ident] if is_placeholder(ident) else ident

    def target(self, node):
        if isinstance(node, ast.Name):
            return self.mapping[node.id] if is_placeholder(node.id) else node.id
        return tuple(self.target(e) for e in node.elts)

    def expr(self, node: ast.expr) -> ast.expr:
        node = clone(node)
        for n in ast.walk(node):  # keywords whose value maps to None: dropped
            if isinstance(n, ast.Call):
                n.keywords = [
                    k
                    for k in n.keywords
                    if not (isinstance(k.value, ast.Name) and self.mapping.get(k.value.id, 0) is None)
                ]
        left = [
            n.id
            for n in ast.walk(node)
            if isinstance(n, ast.Name) and is_placeholder(n.id) and self.mapping[n.id] is None
        ]
        if left:
            raise InternalError(f"placeholders {left} map to None outside a keyword argument")
        return instantiate(node, self.exprs)


#: The adjoint step of a ``for`` loop: the carry holds the accumulators, ``xs`` one row of what
#: the loop iterates and of its tape; it returns the next carry and the row's gradients.
_SCAN_STEP = """
def ADJOINT(CARRY, XS):
    CARRY_IN = CARRY
    ROW = XS
    RECOMPUTE
    BODY
    return cast_like(CARRY_OUT, CARRY), STACK_ROW
"""

#: The backward of a ``for`` loop: a reversed ``lax.scan`` of the step over the same iterations,
#: reading the forward's tape (and the iterated values) last row first.
SCAN_ADJOINT = Template(
    _SCAN_STEP
    + """
CARRY_OUT, STACKS = lax.scan(ADJOINT, INIT, SCANNED, length=LENGTH, reverse=True)
"""
)

#: The backward of a ``for`` loop unrolled while tracing (its slices' shapes depend on the index):
#: the same step, run as a Python loop from the last iteration back, over its tape's lists.
UNROLLED_ADJOINT = Template(
    _SCAN_STEP
    + """
CARRY_OUT, STACKS = unrolled_scan(ADJOINT, INIT, SCANNED, length=LENGTH, reverse=True, rows=ROWS)
"""
)

#: The backward of a checkpointed ``for`` loop: ``SCAN_ADJOINT_FN`` is
#: ``checkpointed_scan_adjoint``, which reruns each segment's forward from its checkpoint, then scans
#: the same step over that segment (``SEGMENT``: the segment length), or ``binomial_scan_adjoint``,
#: revolve's recompute sweep over ``SEGMENT`` slots of the carry.
CHECKPOINTED_ADJOINT = Template(
    _SCAN_STEP
    + """
CARRY_OUT, STACKS = SCAN_ADJOINT_FN(LOOP, ADJOINT, INIT, SCANNED, CHECKPOINTS, SEGMENT)
"""
)

#: The backward of a taped ``while`` loop: a ``lax.fori_loop`` over the iterations that ran,
#: reading the tape from the last of them back.
WHILE_ADJOINT = Template("""
def ADJOINT(K, CARRY):
    CARRY_IN = CARRY
    STEP = COUNT - 1 - K
    TAPE_READS
    RECOMPUTE
    BODY
    return cast_like(CARRY_OUT, CARRY)
CARRY_OUT = lax.fori_loop(0, COUNT, ADJOINT, INIT)
""")

#: The backward of a checkpointed ``while`` loop (no ``max_iter``): the adjoint step takes one
#: iteration's tape row, which the recompute sweep of ``checkpointed_while_adjoint`` reruns from
#: the nearest of the forward's checkpoints (``SCHEDULE`` says what it costs), last iteration first.
CHECKPOINTED_WHILE_ADJOINT = Template("""
def ADJOINT(CARRY, ROW):
    CARRY_IN = CARRY
    SAVED = ROW
    RECOMPUTE
    BODY
    return cast_like(CARRY_OUT, CARRY)
SCHEDULE
CARRY_OUT = checkpointed_while_adjoint(STEP_FN, ADJOINT, INIT, CHECKPOINTS)
""")

#: One tape entry of a while loop's iteration ``STEP``.
TAPE_READ = Template("""
VALUE = TAPE[STEP]
""")

#: One tape entry of a while loop's iteration ``STEP`` that holds a record (a called function's
#: residual): that row of each of its arrays.
TAPE_ROW_READ = Template("""
VALUE = tape_row(TAPE, STEP)
""")

#: One side of a branch on traced data: the branch's forward runs again, then its adjoint; the
#: accumulators of the values outside the branch come back.
BRANCH_ADJOINT = Template("""
def ADJOINT(ACCUMULATORS):
    BODY
    return RETURNED
""")

#: The backward of a branch on traced data: ``lax.cond`` runs the adjoint of the branch taken.
COND_ADJOINT = Template("""
THEN_ADJOINT
ELSE_ADJOINT
RETURNED = lax.cond(TEST, THEN, ELSE, *OPERANDS)
""")
