"""Lower: structured control flow -> the JAX calls that compile it as rolled XLA loops.

Runs last, on the primal and on the gradient function, so every earlier pass
works on ``For``/``While``/``If`` nodes and every printed program shows the
``lax`` call that runs:

* ``For``   -> ``def for_5(carry, xs): ...; return carry, saved`` and
  ``lax.scan(for_5, init, xs)``; the saved values (the tape) come back stacked,
  one row per iteration;
* ``While`` -> ``def while_7_test(state)`` and ``def while_7_step(state)``, run by
  ``lax.while_loop`` (the primal) or by ``taped_while`` (the gradient's
  forward, which also fills a tape of ``max_iter`` rows and counts the steps), or without
  ``max_iter`` by ``checkpointed_while`` (which keeps a fixed number of checkpoints);
* ``If``    -> a Python ``if`` when the test is known while tracing, else
  ``def branch_9_then()`` / ``def branch_9_else()`` and ``lax.cond``.

``across_devices`` adds the one collective a data-parallel gradient needs: with
``grad(..., axis_name="batch")`` the gradient runs inside ``jax.shard_map``, each device on its
shard of the batch, so its accumulators are partial sums; ``lax.psum`` (or ``lax.pmean``) over the
mesh axis makes them the whole batch's gradient, and the value the whole batch's value.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from typing import cast

from ..ad.templates import Template
from ..normal import ir, walk
from ..normal.astutil import call, name
from ..normal.naming import Namer
from ..normal.pyexpr import iterable, to_ast, trip_count
from ..runtime.revolve import binomial_slots

__all__ = ["lower_function", "across_devices"]

#: A ``for`` loop's body as the step ``lax.scan`` runs: the carry in, one row of what the loop
#: iterates, and the next carry out with the row of the tape (``None`` when nothing is saved).
_SCAN_STEP = """
def LOOP(CARRY, XS):
    PARAMS = CARRY
    TARGETS = XS
    BODY
    return UPDATES, SAVED
"""

SCAN = Template(
    _SCAN_STEP
    + """
OUTS, STACKED = lax.scan(LOOP, INIT, SCANNED)
STATUS
"""
)

#: A loop whose slices' shapes depend on its index runs as a Python loop while JAX traces; each
#: iteration's tape row is kept in a list (``runtime.unrolled_scan``).
UNROLLED_SCAN = Template(
    _SCAN_STEP
    + """
OUTS, STACKED = unrolled_scan(LOOP, INIT, SCANNED, rows=ROWS)
STATUS
"""
)

#: A checkpointed loop keeps the carry at the start of each segment instead of the tape.
CHECKPOINTED_SCAN = Template(
    _SCAN_STEP
    + """
SEGMENT = segment_length(TRIP_COUNT, CHECKPOINT)
OUTS, CHECKPOINTS = checkpointed_scan(LOOP, INIT, SCANNED, SEGMENT)
"""
)

#: ``checkpoint="binomial"``: the loop keeps ``SLOTS`` copies of its carry, at revolve's positions.
BINOMIAL_SCAN = Template(
    _SCAN_STEP
    + """
SCHEDULE
OUTS, CHECKPOINTS = binomial_scan(LOOP, INIT, SCANNED, SLOTS)
"""
)

#: Whether a while loop's tape row held a while loop that outran its own tape.
ANY_FLAG = Template("""
FLAG = jnp.any(STACKED_FLAG)
""")

_WHILE_FUNCTIONS = """
def TEST_FN(STATE):
    PARAMS = STATE
    TEST_BODY
    return TEST
def STEP_FN(STATE):
    PARAMS = STATE
    BODY
    return NEXT
"""

WHILE = Template(
    _WHILE_FUNCTIONS
    + """
OUTS = lax.while_loop(TEST_FN, STEP_FN, INIT)
"""
)

#: The gradient's forward also fills a tape of ``MAX_ITER`` rows and counts the iterations.
TAPED_WHILE = Template(
    _WHILE_FUNCTIONS
    + """
OUTS, STACKED, COUNT, OVERFLOW = taped_while(TEST_FN, STEP_FN, INIT, MAX_ITER)
"""
)

#: Without ``max_iter`` the gradient's forward keeps ``SLOTS`` checkpoints of the loop state.
CHECKPOINTED_WHILE = Template(
    _WHILE_FUNCTIONS
    + """
SCHEDULE
OUTS, CHECKPOINTS = checkpointed_while(TEST_FN, STEP_FN, INIT, SLOTS)
"""
)

COND = Template("""
def THEN_FN():
    THEN_BODY
    return THEN_VALUES
def ELSE_FN():
    ELSE_BODY
    return ELSE_VALUES
OUTS = lax.cond(TEST, THEN_FN, ELSE_FN)
""")


def _atoms(atoms) -> tuple:
    return tuple(to_ast(a) for a in atoms)


class Lowerer:
    def __init__(self, namer: Namer):
        self.namer = namer

    def block(self, stmts) -> list:
        out: list = []
        for s in stmts:
            if isinstance(s, ir.For):
                out.extend(self.for_loop(s))
            elif isinstance(s, ir.While):
                out.extend(self.while_loop(s))
            elif isinstance(s, ir.If):
                out.extend(self.branch(s))
            elif isinstance(s, ir.CallFn):
                out.append(self.call(s))
            else:  # NoGrad, Section, IfElse, Def: lower what they hold
                out.append(walk.map_blocks(s, self.block))
        return out

    def function(self, fn: ir.Function) -> ir.Function:
        return replace(fn, body=tuple(self.block(fn.body)))

    def for_loop(self, s: ir.For) -> list:
        saved = tuple(inner for inner, _ in s.tape)
        mapping = dict(
            LOOP=s.name,
            CARRY=self.namer.shared("carry"),
            XS=self.namer.shared("xs"),
            PARAMS=tuple(c.param for c in s.carry),
            TARGETS=tuple(s.targets),
            BODY=self.block(s.body) + _shape_only_note(s.shape_only),
            UPDATES=tuple(c.update for c in s.carry),
            SAVED=saved or ast.Constant(None),
            OUTS=tuple(c.out for c in s.carry),
            INIT=_atoms(c.init for c in s.carry),
            SCANNED=tuple(iterable(it, s.unrolled) for it in s.iters),
        )
        status = [
            a
            for stacked, flag in s.status
            for a in ANY_FLAG.instantiate(s.origin, FLAG=flag, STACKED_FLAG=stacked)
        ]
        if s.unrolled:
            return UNROLLED_SCAN.instantiate(
                s.origin,
                **mapping,
                STACKED=tuple(st for _, st in s.tape) or "_",
                ROWS=ast.Constant(len(s.tape)),
                STATUS=status,
            )
        if len(s.checkpointed) == 1:  # binomial: a fixed number of carries, at revolve's positions
            return BINOMIAL_SCAN.instantiate(
                s.origin,
                **mapping,
                SCHEDULE=[_binomial_note(s)],
                CHECKPOINTS=s.checkpointed[0],
                SLOTS=ast.Constant(binomial_slots(s.checkpoint)),
            )
        if s.checkpointed:  # keep each segment's starting carry; the backward recomputes its tape
            segment, kept = s.checkpointed
            return CHECKPOINTED_SCAN.instantiate(
                s.origin,
                **mapping,
                SEGMENT=segment,
                CHECKPOINTS=kept,
                TRIP_COUNT=trip_count(s.iters[0]),
                CHECKPOINT=ast.Constant(s.checkpoint),
            )
        return SCAN.instantiate(
            s.origin, **mapping, STACKED=tuple(st for _, st in s.tape) or "_", STATUS=status
        )

    def while_loop(self, s: ir.While) -> list:
        nxt = tuple(c.update for c in s.carry)
        mapping = dict(
            TEST_FN=f"{s.name}_test",
            STEP_FN=f"{s.name}_step",
            STATE=self.namer.shared("state"),
            PARAMS=tuple(c.param for c in s.carry),
            TEST_BODY=self.block(s.test_body),
            TEST=to_ast(s.test),
            BODY=self.block(s.body) + _shape_only_note(s.shape_only),
            INIT=_atoms(c.init for c in s.carry),
            OUTS=tuple(c.out for c in s.carry),
        )
        if s.kept:
            schedule = ir.Comment(
                f"online checkpointing: {s.checkpoints} slots of the loop state, whatever the trip "
                f"count; a checkpoint is taken every `spacing` iterations, and when half the slots "
                f"are full every other one is dropped and the spacing doubles"
            )
            return CHECKPOINTED_WHILE.instantiate(
                s.origin,
                **mapping,
                NEXT=(nxt, tuple(n for n, _ in s.tape)),
                SCHEDULE=[schedule],
                CHECKPOINTS=s.kept,
                SLOTS=ast.Constant(s.checkpoints),
            )
        if not s.count:
            return WHILE.instantiate(s.origin, **mapping, NEXT=nxt)
        return TAPED_WHILE.instantiate(
            s.origin,
            **mapping,
            NEXT=(nxt, tuple(n for n, _ in s.tape)),
            STACKED=tuple(st for _, st in s.tape),
            COUNT=s.count,
            OVERFLOW=s.overflow,
            MAX_ITER=ast.Constant(s.max_iter),
        )

    def call(self, s: ir.CallFn):
        """``h = layer(x, W)``, or in a gradient's forward ``h, layer_res = fwd_layer(x, W)``."""
        if s.residual:
            return ir.Unpack(
                tuple(s.targets) + (s.residual,),
                ir.Raw(call(s.forward, *[to_ast(a) for a in s.args])),
                s.origin,
            )
        value = ir.Raw(call(s.callee, *[to_ast(a) for a in s.args]))
        if len(s.targets) == 1:
            return ir.Assign(s.targets[0], value, s.origin)
        return ir.Unpack(tuple(s.targets), value, s.origin)

    def branch(self, s: ir.If) -> list:
        if s.static:
            # an output a side assigns under its own name (a branch's residual) needs no copy
            then = self.block(s.body) + [
                ir.Assign(o, a, s.origin) for o, a, _ in s.outputs if a != ir.Name(o)
            ]
            other = self.block(s.orelse) + [
                ir.Assign(o, b, s.origin) for o, _, b in s.outputs if b != ir.Name(o)
            ]
            return [ir.IfElse(s.test, tuple(then) or (ir.Comment("nothing to do"),), tuple(other))]
        if not s.outputs:
            # cast is safe: normalize gives every `if` the origin of its line
            line = cast(ir.Origin, s.origin).line
            return [ir.Comment(f"line {line}: the `if` computes nothing used later")]
        return COND.instantiate(
            s.origin,
            THEN_FN=f"{s.name}_then",
            ELSE_FN=f"{s.name}_else",
            TEST=to_ast(s.test),
            THEN_BODY=self.block(s.body),
            THEN_VALUES=_atoms(a for _, a, _ in s.outputs),
            ELSE_BODY=self.block(s.orelse),
            ELSE_VALUES=_atoms(b for _, _, b in s.outputs),
            OUTS=tuple(o for o, _, _ in s.outputs),
        )


def lower_function(fn: ir.Function, namer: Namer) -> ir.Function:
    """``fn`` with every For/While/If replaced by the JAX calls that run it."""
    return Lowerer(namer).function(fn)


def _binomial_note(s: ir.For) -> ir.Comment:
    slots = binomial_slots(s.checkpoint)
    return ir.Comment(
        f"binomial checkpointing (revolve): {slots} slots of the carry; the backward recomputes its tape"
    )


def _shape_only_note(names) -> list:
    """Which tape entries the backward reads for their shape only: XLA stores none of them."""
    if not names:
        return []
    return [
        ir.Comment(
            f"the backward reads these tape entries for their shapes only, so XLA "
            f"stores no values for them: {', '.join(names)}"
        )
    ]


def across_devices(fn: ir.Function, axis_name, reduce: str = "psum") -> ir.Function:
    """The gradient function ``fn`` for ``jax.shard_map`` over the mesh axis (or axes)
    ``axis_name``: its accumulators, and the value it returns, reduced over the devices by
    ``lax.psum`` (or ``lax.pmean``) just before the return.

    The accumulators start at zero: the caller's ``acc`` is not taken, since the sum would count
    it once per device (the API refuses ``accumulate=`` with ``axis_name``)."""
    axis: ast.expr = ast.Constant(axis_name)
    if not isinstance(axis_name, str):  # several mesh axes: a tuple of their names
        axis = ast.Tuple(elts=[ast.Constant(a) for a in axis_name], ctx=ast.Load())
    names = (axis_name,) if isinstance(axis_name, str) else tuple(axis_name)
    where = ("the mesh axis " if len(names) == 1 else "the mesh axes ") + ", ".join(f'"{a}"' for a in names)
    sections: list = []
    for section in fn.body:
        if isinstance(section, ir.Section) and section.kind == "zero":
            fresh = section.body[0].body  # the `acc is None` side of the IfElse
            accumulators = [s.target for s in fresh]
            title = (
                "the inputs' gradient accumulators: zero (with axis_name the caller's "
                "`acc` is not taken: the sum across devices would count it once per device)"
            )
            sections.append(replace(section, title=title, body=fresh))
        elif isinstance(section, ir.Section) and section.kind == "return":
            how = "sum" if reduce == "psum" else "mean"
            title = (
                f"across devices: under jax.shard_map each device ran on its own shard of the batch, "
                f"so each accumulator holds that shard's part of the gradient; lax.{reduce} "
                f"{'sums' if reduce == 'psum' else 'averages'} the parts over {where} (the same "
                f"result on every device)"
            )
            lines = tuple(ir.Assign(a, ir.Raw(call(f"lax.{reduce}", name(a), axis))) for a in accumulators)
            sections.append(ir.Section("collective", title, lines))
            ret = section.body[0]
            results = list(ret.value.expr.elts)  # (value, cast_like(gradients), [overflow flag])
            results[0] = call(f"lax.{reduce}", results[0], axis)
            value = ir.Return(ir.Raw(ast.Tuple(elts=results, ctx=ast.Load())), ret.origin)
            title = section.title.replace("the primal value", f"the primal value ({how} over devices)")
            sections.append(replace(section, title=title, body=(value,)))
        else:
            sections.append(section)
    acc = fn.meta.get("acc", "acc")
    doc = (fn.doc or "").replace(f"`{acc}`: gradients to add to.", f"`{acc}`: not taken (axis_name).")
    return replace(fn, body=tuple(sections), doc=doc)
