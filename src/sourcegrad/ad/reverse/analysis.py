"""Read-only facts the reverse pass asks of the primal: which names a loop computes the same in
every iteration, which tape entries the backward reads for their shapes only, which accumulators
the backward of a block updates, and through which arguments gradient flows into a callee."""

from __future__ import annotations

import ast
from collections import Counter

from ...normal import ir
from ...normal.astutil import walk
from ...normal.walk import bound_deep, expressions_deep, statements
from ..activity import analyze, differentiable_args

__all__ = [
    "loop_invariants",
    "read_for_shape_only",
    "shape_only",
    "free_active",
    "callee_active_params",
    "callee_outputs",
    "without_no_grad",
    "SHAPE_ARGUMENTS",
]


def loop_invariants(loop, body) -> set:
    """The names a loop body assigns from values that are the same in every iteration: read
    nothing the loop carries, iterates over or computes from those (``neg = -k``)."""
    variant = {c.param for c in loop.carry} | set(getattr(loop, "targets", ()))
    invariant = set()
    for s in body:
        if isinstance(s, ir.Assign) and not set(ir.names_read(s.value)) & variant:
            invariant.add(s.target)
        elif isinstance(s, ir.Unpack) and not set(ir.names_read(s.value)) & variant:
            invariant.update(s.targets)
        else:
            variant |= set(ir.defined_names([s]))
    return invariant


#: Runtime helpers whose argument at this position is read for its shape only.
SHAPE_ARGUMENTS = {"unbroadcast": 1, "unreduce": 1}


def read_for_shape_only(stmts) -> set:
    """The names the statements read only as the shape argument of ``unbroadcast``/``unreduce``:
    a loop lists them on its tape, but XLA stores none of their values."""
    total: Counter[str] = Counter()
    for_shape: Counter[str] = Counter()
    for e in expressions_deep(stmts):
        total.update(ir.names_read(e))
        if isinstance(e, ir.Raw):
            for node in walk(e.expr):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in SHAPE_ARGUMENTS
                ):
                    k = SHAPE_ARGUMENTS[node.func.id]
                    shape = node.args[k] if len(node.args) > k else None
                    if isinstance(shape, ast.Name):
                        for_shape[shape.id] += 1
    return {n for n, k in for_shape.items() if total[n] == k}


def shape_only(saved, body_bwd) -> tuple:
    """The saved names the backward body reads for their shapes only, in tape order."""
    only = read_for_shape_only(body_bwd)
    return tuple(n for n in saved if n in only)


def without_no_grad(stmts) -> list:
    """The statements with ``with no_grad():`` blocks spliced in (their values are plain values)."""
    out = []
    for s in stmts:
        out.extend(without_no_grad(s.body) if isinstance(s, ir.NoGrad) else [s])
    return out


def callee_outputs(fn) -> list:
    ret = fn.body[-1].value
    return list(ret.items) if isinstance(ret, ir.Tup) else [ret]


def callee_active_params(callee, active_in, active_out) -> tuple:
    """The argument positions through which gradient flows inside the callee too."""
    fn = callee.function
    outs = callee_outputs(fn)
    act = analyze(fn, [fn.params[i] for i in active_in], [outs[i] for i in active_out])
    return tuple(i for i in active_in if act.is_active(fn.params[i]))


def call_active(act, s: ir.CallFn) -> tuple:
    """(active argument positions, active output positions) of a call of a user's function."""
    active_in = tuple(i for i, a in enumerate(s.args) if isinstance(a, ir.Name) and act.is_active(a.id))
    active_out = tuple(i for i, t in enumerate(s.targets) if act.is_active(t))
    return active_in, active_out


def _updated(act, callees, s) -> list:
    """The atoms whose accumulators the backward of one statement (not its nested blocks) updates."""
    if isinstance(s, ir.Assign) and act.is_active(s.target):
        return [a for _, a, _ in differentiable_args(s.value)]
    if isinstance(s, (ir.For, ir.While)):
        out = [c.init for c in s.carry if act.is_active(c.param) or act.is_active(c.out)]
        if isinstance(s, ir.For):
            out += [
                it.array
                for t, it in zip(s.targets, s.iters)
                if isinstance(it, ir.ArrayIter) and act.is_active(t)
            ]
        return out
    if isinstance(s, ir.If):
        return [x for o, a, b in s.outputs if act.is_active(o) for x in (a, b)]
    if isinstance(s, ir.CallFn):
        active_in, active_out = call_active(act, s)
        if active_out and active_in and callees is not None:
            callee = callees.by_name(s.callee)
            return [s.args[i] for i in callee_active_params(callee, active_in, active_out)]
    return []


def free_active(act, callees, stmts, bound=()) -> list:
    """Active names defined outside ``stmts`` (and not in ``bound``, the names a loop binds for
    its body) whose accumulators the backward of ``stmts`` updates, in first-update order."""
    defined = bound_deep(stmts, set(bound))
    reads: list = []
    for s in statements(stmts, into_defs=False):
        for atom in _updated(act, callees, s):
            if isinstance(atom, ir.Name) and atom.id not in reads:
                reads.append(atom.id)
    return [n for n in reads if n not in defined and act.is_active(n)]
