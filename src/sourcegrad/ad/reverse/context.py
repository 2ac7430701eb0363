"""The state the reverse pass shares while it walks one function: what the function is, which
accumulators exist in the generated body being written, and where in the control flow it is."""

from __future__ import annotations

import ast
from contextlib import contextmanager
from functools import cached_property

from ...errors import UnsupportedSyntaxError
from ...normal import ir
from ...normal.astutil import call, name
from ...normal.naming import Namer
from ...normal.walk import names_read_deep, statements
from ..activity import Activity
from .analysis import free_active

__all__ = ["Scope", "Context", "add", "tuple_of"]


def add(acc: str, expr: ast.expr) -> ast.expr:
    """``acc + expr``."""
    return ast.BinOp(left=name(acc), op=ast.Add(), right=expr)


def tuple_of(*elts: ast.expr | str) -> ast.Tuple:
    """A tuple display of expressions and names."""
    return ast.Tuple(elts=[e if isinstance(e, ast.AST) else name(e) for e in elts], ctx=ast.Load())


class Scope:
    """The accumulators that exist in one generated function body."""

    def __init__(self, initialized=(), same_shape=None):
        self.initialized = set(initialized)
        self.status: list = []  # overflow flags of the while loops run in this scope
        # primal -> an accumulator of the same shape: a loop-carried value's zeros are taken from
        # its incoming adjoint, so the value itself need not be saved on the tape for its shape
        self.same_shape = dict(same_shape or {})


class Context:
    """One function's reverse pass: the primal, its activity, the namer, and where it is.

    ``block`` is the pass itself, ``block(ctx, stmts) -> (forward, backward)``: the construct
    handlers reverse the blocks they hold through it, and a callee's context gets the same one.
    """

    def __init__(self, fn: ir.Function, wrt, activity: Activity, namer: Namer, filename: str, callees, block):
        self.fn = fn
        self.wrt = tuple(wrt)
        self.act = activity
        self.static = frozenset(fn.meta.get("static", ()))  # names known while JAX traces
        self.namer = namer
        self.filename = filename
        self.callees = callees
        self.reverse_block = block
        self.scope = Scope()
        self.loops: list = []  # (line, max_iter) of while loops, for overflow messages
        self.residual_origins: list = []  # the lstsq lines whose residuals are checked
        self.residual_flags: set = set()  # the status flags of those checks (statements.py)
        self.branch_flags: list = []  # (flag, then, else): those a static if's sides set
        self.loop_depth = 0  # inside a loop body, local partials move to the forward sweep
        self.loop_locals: list = []  # per enclosing loop: the names its tape would hold if read
        self.split_backward = False  # a callee's backward is a function of its own (bwd_)
        self.cond_depth = 0  # inside the adjoint of a branch on data (a function of its own)
        self.hoisted: list = []  # forward statements the current statement's backward asked for
        self.python_values: set = set()  # names that may hold Python values (see calls.py)
        # outputs of a static if that assigns them on one side only (None on the other)
        self.maybe_none = frozenset(
            o
            for st in statements(fn.body)
            if isinstance(st, ir.If) and st.static
            for o, a, b in st.outputs
            if ir.Const(None) in (a, b)
        )

    @cached_property
    def names_read(self) -> set:
        """The names the function reads anywhere."""
        return names_read_deep(self.fn.body)

    def reads_residuals(self, flags) -> bool:
        """Whether status ``flags`` hold an lstsq residual check (the others: while-loop tape
        overflows, refused by ``loops.taped_loop_error``)."""
        return any(f in self.residual_flags for f in flags)

    @staticmethod
    def residual_refusal(where: str) -> tuple[str, str]:
        """(what, fix) of a located refusal of reading lstsq's residuals ``where`` their run-time
        check cannot reach the caller (``statements.residual_read``)."""
        return (
            f"reading the residuals of np.linalg.lstsq {where} (they are checked after the "
            f"call: NumPy's are an empty array when a's rank is lower than its columns)",
            "compute them from the solution, np.sum((b - a @ x) ** 2, axis=0), which NumPy "
            "defines at every rank, or move the lstsq call out",
        )

    def for_callee(self, fn: ir.Function, wrt, activity: Activity, namer: Namer, filename: str):
        """A fresh context for a called function, sharing this one's callees and pass."""
        return Context(fn, wrt, activity, namer, filename, self.callees, self.reverse_block)

    def block(self, stmts):
        """(forward with tapes, backward) of a block."""
        return self.reverse_block(self, stmts)

    @contextmanager
    def scoped(self, scope: Scope):
        """Write into the accumulators of another generated body (a loop's or a branch's)."""
        outer, self.scope = self.scope, scope
        try:
            yield scope
        finally:
            self.scope = outer

    # ----- accumulators -----
    def adj(self, primal: str) -> str:
        return self.namer.adjoint(primal)

    def ensure(self, out: list, x: str, origin=None):
        """Zero ``b_x`` in the current scope unless it exists already."""
        if x not in self.scope.initialized:
            like = self.scope.same_shape.get(x, x)
            zero: ast.expr = call("jnp.zeros_like", name(like))
            if x in self.maybe_none:  # None where the if's other side ran: no gradient then
                zero = ast.IfExp(
                    test=ast.Compare(left=name(x), ops=[ast.IsNot()], comparators=[ast.Constant(None)]),
                    body=zero,
                    orelse=ast.Constant(None),
                )
            out.append(ir.Assign(self.adj(x), ir.Raw(zero), origin))
            self.scope.initialized.add(x)

    def accumulate(self, out: list, x: str, expr: ast.expr, origin, replaces: bool = False):
        """``b_x = b_x + expr`` (or ``b_x = expr`` when the template updates ``acc`` itself)."""
        self.ensure(out, x, origin)
        b = self.adj(x)
        out.append(ir.Assign(b, ir.Raw(expr if replaces else add(b, expr)), origin))

    def seed(self, x: str, expr: ast.expr, origin=None) -> ir.Assign:
        """``b_x = expr``, or ``b_x = b_x + expr`` when ``b_x`` exists already (an output)."""
        if x in self.scope.initialized:
            return ir.Assign(self.adj(x), ir.Raw(add(self.adj(x), expr)), origin)
        self.scope.initialized.add(x)
        return ir.Assign(self.adj(x), ir.Raw(expr), origin)

    def free_active(self, stmts, bound=()) -> list:
        """Active names defined outside ``stmts`` whose accumulators their backward updates."""
        return free_active(self.act, self.callees, stmts, bound)

    def error(self, origin, what, fix):
        return UnsupportedSyntaxError(
            f"{what} is not supported yet",
            filename=self.filename,
            line=origin.line if origin else 0,
            col=0,
            text=origin.text if origin else "",
            fix=fix,
        )
