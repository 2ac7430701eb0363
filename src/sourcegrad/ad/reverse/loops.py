"""The adjoints of loops, written from the templates in ``ad/templates.py``.

Every loop kind reverses the same way, and shares the code that does it:

* ``reverse_body``: the body's backward, in a scope of its own whose accumulators are the
  loop-carried values' and those of the outer values the body reads (``b_W = b_W + ...``
  inside), and the tape: what that backward reads that the body computes;
* ``adjoint_names``: the adjoint step's name, its carry (incoming accumulators ``CARRY_IN``,
  outgoing ``CARRY_OUT``, initial ``INIT``), the stacks of the iterated arrays' gradients, and the
  statements the step runs (``RECOMPUTE``, then ``BODY``);
* ``emit``: the accumulators the loop reads exist before it; after it, the first iteration's
  carry adjoints flow to the values before the loop, and the stacked gradients to the arrays.

What differs is the template: a ``for`` loop's adjoint is a reversed ``lax.scan`` over its tape
(``SCAN_ADJOINT``), a checkpointed one's recomputes each segment's tape first
(``CHECKPOINTED_ADJOINT``), and a ``while`` loop's is a ``lax.fori_loop`` over the iterations
that ran (``WHILE_ADJOINT``), or without ``max_iter`` a recompute sweep from a fixed number of
checkpoints (``CHECKPOINTED_WHILE_ADJOINT``); when that sweep runs in another loop's adjoint step
or in a callee's ``bwd_``, the checkpointed loop runs there first (``run_again``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace

from ...normal import ir
from ...normal.astutil import call, name
from ...normal.pyexpr import iterable, trip_count
from ...normal.walk import names_read_deep, statements
from ...runtime.loops import WHILE_CHECKPOINTS
from ...runtime.revolve import binomial_slots
from .. import templates
from ..simplify import fold_first_contributions
from .analysis import loop_invariants, shape_only, without_no_grad
from .context import Scope, tuple_of

__all__ = ["for_loop", "while_loop", "taped_loop_error"]


@dataclass
class LoopParts:
    """A loop body reversed: what its adjoint carries, runs and reads from the tape."""

    carries: list  # the active ir.Carry entries
    outer_accs: list  # outer values whose accumulators the body's backward updates
    elems: list  # (target, ArrayIter) of the iterated arrays that get a gradient
    body_fwd: list
    body_bwd: list
    inner: Scope  # the adjoint body's accumulators (and its while loops' flags)
    saved: list  # the tape: what the backward reads that the body computes

    @property
    def needs_adjoint(self) -> bool:
        return bool(self.carries or self.outer_accs or self.elems)


def reverse_body(ctx, loop, bound, skip=(), elems=()) -> LoopParts:
    """Reverse a loop body in a scope of its own and choose its tape."""
    carries = [c for c in loop.carry if any(ctx.act.is_active(n) for n in (c.param, c.update, c.out))]
    outer_accs = ctx.free_active(loop.body, bound)
    inner = Scope(
        {c.update for c in carries} | set(outer_accs),
        {c.param: ctx.adj(c.update) for c in carries if c.param != c.update},
    )
    with ctx.scoped(inner):
        ctx.loop_depth += 1
        # what the body computes anew each iteration: the backward reading it puts it on the tape
        ctx.loop_locals.append(
            ({c.param for c in loop.carry} | set(ir.defined_names(loop.body)))
            - loop_invariants(loop, loop.body)
        )
        body_fwd, body_bwd = ctx.block(loop.body)
        ctx.loop_locals.pop()
        ctx.loop_depth -= 1
        # fold now, before the tape is chosen: zeros_like(t) would put t on the tape for its shape
        body_bwd = fold_first_contributions(body_bwd)
        for x in [c.param for c in carries] + [t for t, _ in elems]:
            ctx.ensure(body_bwd, x, loop.origin)  # the accumulators handed to the previous iteration
    # values known while tracing (2 * hidden) and values the same in every iteration (-k) are not
    # saved: `recompute` puts their statements in the adjoint body instead
    read = names_read_deep(body_bwd)
    kept = ctx.static | loop_invariants(loop, body_fwd)
    # a static value computed from a per-iteration array (jnp.shape(x[i:i + 3])) is recomputed,
    # so the array it reads is saved
    for s in _recomputed(body_fwd, read & kept, kept):
        read |= set(ir.names_read(s.value)) - kept
    saved = [
        n
        for n in [c.param for c in loop.carry] + ir.defined_names(body_fwd)
        if n in read and n not in skip and n not in kept
    ]
    return LoopParts(carries, outer_accs, list(elems), body_fwd, body_bwd, inner, saved)


def recompute(ctx, loop, body_fwd, body_bwd) -> list:
    """The forward statements computing the static and loop-invariant values the backward
    reads (and those they read), in forward order. A tape would turn a static value into a
    traced array, and store an invariant one once per iteration (XLA hoists its recomputation
    out of the adjoint loop)."""
    cheap = ctx.static | loop_invariants(loop, body_fwd)
    return _recomputed(body_fwd, names_read_deep(body_bwd) & cheap, cheap)


def _recomputed(body_fwd, needed: set, cheap: set) -> list:
    """The statements of ``body_fwd`` computing the ``needed`` cheap values, and the cheap values
    they read, in forward order."""
    needed = set(needed)
    chosen: list = []
    for s in reversed(without_no_grad(body_fwd)):
        if isinstance(s, ir.Assign) and s.target in needed:
            chosen.append(s)
            needed |= set(ir.names_read(s.value)) & cheap
        elif isinstance(s, ir.Unpack) and set(s.targets) & needed:  # a, b = static tuple
            chosen.append(s)
            needed |= set(ir.names_read(s.value)) & cheap
    return list(reversed(chosen))


def tape_names(ctx, names) -> tuple:
    """(value, stacked value) for each name the forward saves every iteration."""
    return tuple((n, ctx.namer.fresh(f"{n}_tape")) for n in names)


def enter(ctx, loop, parts: LoopParts) -> list:
    """Backward statements before the adjoint loop: its incoming accumulators must exist."""
    out: list = []
    for x in [c.out for c in parts.carries] + parts.outer_accs:
        ctx.ensure(out, x, loop.origin)
    return out


def adjoint_names(ctx, loop, parts: LoopParts, *roles, stacks=True) -> dict:
    """The placeholders every loop adjoint template shares: the step function (``ADJOINT``, its
    parameters named by ``roles``), its carry, its body, and the stacked gradients of the arrays
    it iterates (``stacks``)."""
    mapping = {"ADJOINT": ctx.namer.fresh(f"{loop.name}_adjoint")}
    mapping.update((role.upper(), ctx.namer.shared(role)) for role in roles)
    accs = [(c.update, c.param, c.out) for c in parts.carries] + [(x, x, x) for x in parts.outer_accs]
    mapping.update(
        CARRY_IN=tuple(ctx.adj(a) for a, _, _ in accs), CARRY_OUT=tuple(ctx.adj(p) for _, p, _ in accs)
    )
    if stacks:
        mapping.update(
            STACK_ROW=tuple_of(*[ctx.adj(t) for t, _ in parts.elems]) if parts.elems else ast.Constant(None),
            STACKS=tuple(ctx.namer.fresh(f"{ctx.adj(t)}_stack") for t, _ in parts.elems) or "_",
        )
    mapping.update(
        INIT=tuple(ctx.adj(o) for _, _, o in accs),
        RECOMPUTE=recompute(ctx, loop, parts.body_fwd, parts.body_bwd),
        BODY=parts.body_bwd,
    )
    return mapping


def emit(ctx, loop, parts: LoopParts, out: list, template, mapping: dict) -> list:
    """The adjoint loop, then the first iteration's carry adjoints flow to the values before the
    loop, and each iterated array gets its stacked gradient."""
    out.extend(template.instantiate(loop.origin, **mapping))
    for c in parts.carries:
        if isinstance(c.init, ir.Name) and ctx.act.is_active(c.init.id):
            ctx.accumulate(out, c.init.id, name(ctx.adj(c.param)), loop.origin)
    unrolled = getattr(loop, "unrolled", False)  # its gradient's rows come back as a list
    for (_, it), stack in zip(parts.elems, mapping.get("STACKS", ())):
        ctx.accumulate(out, it.array.id, call("jnp.stack", stack) if unrolled else name(stack), loop.origin)
    return out


def for_loop(ctx, s: ir.For):
    """A ``for`` loop: the forward saves its tape; the backward is ``templates.SCAN_ADJOINT``
    (``checkpointed_loop`` for a checkpointed top-level loop)."""
    elems = [
        (t, it) for t, it in zip(s.targets, s.iters) if isinstance(it, ir.ArrayIter) and ctx.act.is_active(t)
    ]
    parts = reverse_body(ctx, s, [c.param for c in s.carry] + list(s.targets), s.targets, elems)
    statuses = list(parts.inner.status)
    tape = tape_names(ctx, parts.saved + statuses)
    status = tuple((dict(tape)[f], ctx.namer.fresh(f"{f}_any")) for f in statuses)
    ctx.scope.status.extend(flag for _, flag in status)
    ctx.residual_flags.update(flag for f, (_, flag) in zip(statuses, status) if f in ctx.residual_flags)
    fwd = replace(
        s,
        body=tuple(parts.body_fwd),
        tape=tape,
        status=status,
        shape_only=shape_only(parts.saved, parts.body_bwd),
    )
    if not parts.needs_adjoint:
        return replace(fwd, checkpoint=None), []
    out = enter(ctx, s, parts)
    if s.checkpoint is not None and s.checkpoint_asked:
        checkpoint_refusal(ctx, s, statuses)
    if (
        s.checkpoint is not None
        and ctx.loop_depth == 0
        and ctx.cond_depth == 0
        and not ctx.split_backward
        and not statuses
    ):
        return checkpointed_loop(ctx, fwd, parts, out)
    read = names_read_deep(parts.body_bwd)
    targets = [(t, it) for t, it in zip(s.targets, s.iters) if t in read]
    scanned = [iterable(it, s.unrolled) for _, it in targets] + [name(dict(tape)[n]) for n in parts.saved]
    mapping = adjoint_names(ctx, s, parts, "carry", "xs")
    # a row: the loop targets the backward reads, then the tape (no row when both are empty)
    mapping.update(
        ROW=tuple([t for t, _ in targets] + parts.saved),
        SCANNED=tuple_of(*scanned),
        LENGTH=None if scanned else trip_count(s.iters[0]),
    )
    if s.unrolled:  # its tape is lists; the rows of an iterated array's gradient are stacked after
        ctx.python_values.update(stacked for _, stacked in tape)
        mapping.update(ROWS=ast.Constant(len(parts.elems)))
        return fwd, emit(ctx, s, parts, out, templates.UNROLLED_ADJOINT, mapping)
    return replace(fwd, checkpoint=None), emit(ctx, s, parts, out, templates.SCAN_ADJOINT, mapping)


def checkpoint_refusal(ctx, s: ir.For, statuses) -> None:
    """A loop whose own comment asks for checkpointing where it cannot be checkpointed: an error,
    never a full tape kept silently (grad()'s option applies to the loops where it can)."""
    where = (
        "a loop nested in another loop"
        if ctx.loop_depth
        else "a loop inside an if on array data"
        if ctx.cond_depth
        else "a loop in a called function (its backward is a function of its own)"
        if ctx.split_backward
        else "a loop with a data-dependent while loop with max_iter in its body"
        if statuses
        else None
    )
    if where is not None:
        raise ctx.error(
            s.origin,
            f"checkpointing {where}",
            "checkpoint the top-level loop around it (its segments recompute this loop's tape), "
            "or remove the comment to keep this loop's full tape",
        )


def checkpointed_loop(ctx, s: ir.For, parts: LoopParts, out: list):
    """The backward of a checkpointed top-level loop: ``checkpointed_scan_adjoint`` recomputes
    each segment's tape from the carry saved at its start, then runs the adjoint step; with
    ``checkpoint="binomial"``, ``binomial_scan_adjoint`` recomputes each iteration's tape row from
    the nearest of a fixed number of slots (revolve). Both take the same arguments, the last one
    the segment length's name or the number of slots, so one template writes either."""
    slots = binomial_slots(s.checkpoint)
    segment = ast.Constant(slots) if slots else ctx.namer.fresh(f"{s.name}_segment")
    kept = ctx.namer.fresh(f"{s.name}_checkpoints")
    mapping = adjoint_names(ctx, s, parts, "carry", "xs")
    # a row: (every loop target, the tape), as checkpointed_scan_adjoint recomputes them
    mapping.update(
        ROW=(tuple(s.targets), tuple(parts.saved) or "_"),
        LOOP=s.name,
        SCANNED=tuple_of(*[iterable(it) for it in s.iters]),
        CHECKPOINTS=kept,
        SEGMENT=segment,
        SCAN_ADJOINT_FN="binomial_scan_adjoint" if slots else "checkpointed_scan_adjoint",
    )
    return (
        replace(s, checkpointed=(kept,) if slots else (segment, kept)),
        emit(ctx, s, parts, out, templates.CHECKPOINTED_ADJOINT, mapping),
    )


def while_loop(ctx, s: ir.While):
    """A data-dependent ``while`` loop: the forward saves at most ``max_iter`` rows and counts
    the iterations; the backward is ``templates.WHILE_ADJOINT`` over those that ran. Without
    ``max_iter`` it is checkpointed instead (``checkpointed_while``)."""
    parts = reverse_body(ctx, s, [c.param for c in s.carry])
    if ctx.reads_residuals(parts.inner.status):
        raise ctx.error(s.origin, *ctx.residual_refusal("inside a data-dependent while loop"))
    if parts.inner.status:  # a taped loop inside: its overflow flag would need a tape of its own
        raise taped_loop_error(ctx, parts.body_fwd, "inside another while loop")
    tape = tape_names(ctx, parts.saved)
    if s.max_iter is None:
        return checkpointed_while(ctx, s, parts, tape)
    count = ctx.namer.fresh(f"{s.name}_count")
    overflow = ctx.namer.fresh(f"{s.name}_overflow")
    ctx.scope.status.append(overflow)
    ctx.loops.append((s.origin.line if s.origin else 0, s.max_iter))
    fwd = replace(
        s,
        body=tuple(parts.body_fwd),
        tape=tape,
        count=count,
        overflow=overflow,
        shape_only=shape_only(parts.saved, parts.body_bwd),
    )
    if not parts.needs_adjoint:
        return fwd, []
    out = enter(ctx, s, parts)
    mapping = adjoint_names(ctx, s, parts, "k", "carry", "step", stacks=False)
    records = records_saved(parts.body_fwd)
    reads = [
        (templates.TAPE_ROW_READ if n in records else templates.TAPE_READ).instantiate(
            VALUE=n, TAPE=stacked, STEP=mapping["STEP"]
        )
        for n, stacked in tape
    ]
    mapping.update(COUNT=count, TAPE_READS=[r for read in reads for r in read])
    return fwd, emit(ctx, s, parts, out, templates.WHILE_ADJOINT, mapping)


def taped_loop_error(ctx, stmts, where: str):
    """The located error for a while loop with ``max_iter`` in ``stmts`` whose flag "outran its
    tape" cannot reach the caller from ``where`` it is."""
    loop = next((w for w in statements(stmts) if isinstance(w, ir.While) and w.overflow), None)
    return ctx.error(
        loop.origin if loop else None,
        f"a data-dependent while loop with max_iter {where}",
        "drop its max_iter (the `# sourcegrad: max_iter` comment, or grad's max_iter=): without it "
        "the loop is checkpointed, which works there; or bound it with a for loop over range(max_iter)",
    )


def records_saved(body) -> set:
    """The values a loop body computes that are records of arrays, not one array: the residuals
    of the called functions."""
    return {s.residual for s in body if isinstance(s, ir.CallFn) and s.residual}


def checkpointed_while(ctx, s: ir.While, parts: LoopParts, tape):
    """A while loop without ``max_iter``: the forward keeps a fixed number of checkpoints of
    the loop state (``checkpointed_while``), the backward is ``templates.
    CHECKPOINTED_WHILE_ADJOINT``, which recomputes each iteration's tape row from them.

    Where the backward runs apart from the forward (an enclosing loop's adjoint step, a called
    function's ``bwd_``), the forward is a plain ``lax.while_loop`` and the backward runs the
    checkpointed loop itself (``run_again``), just before its recompute sweep."""
    slots = s.checkpoints or WHILE_CHECKPOINTS
    kept = ctx.namer.fresh(f"{s.name}_checkpoints")
    fwd = replace(s, body=tuple(parts.body_fwd), tape=tape, checkpoints=slots, kept=kept)
    if not parts.needs_adjoint:
        return replace(fwd, kept=""), []
    out = enter(ctx, s, parts)
    if ctx.loop_depth or ctx.split_backward:
        out.extend(run_again(ctx, fwd))
        fwd = replace(fwd, kept="")
    mapping = adjoint_names(ctx, s, parts, "carry", "row", stacks=False)
    schedule = ir.Comment(
        f"recompute sweep: each iteration's tape row is recomputed from the nearest of the "
        f"{slots} checkpoint slots, last iteration first; free slots take checkpoints halfway: "
        f"about n/2 * log2(4n/{slots}) steps recomputed for n iterations"
    )
    mapping.update(
        SAVED=tuple(n for n, _ in tape), STEP_FN=f"{s.name}_step", CHECKPOINTS=kept, SCHEDULE=[schedule]
    )
    return fwd, emit(ctx, s, parts, out, templates.CHECKPOINTED_WHILE_ADJOINT, mapping)


def run_again(ctx, s: ir.While) -> list:
    """The checkpointed loop, run again in a backward that does not see the forward's step
    function and checkpoints: an enclosing loop's adjoint step, or a callee's ``bwd_``. What it
    reads (its initial state, the values its body reads from around it) comes on that loop's tape
    or in the callee's residual, as every value a backward reads does. Saving the checkpoints
    there instead would keep ``slots`` copies of the loop's state per enclosing iteration; this
    keeps one, and the loop runs twice (the forward's is a plain ``lax.while_loop``)."""
    where = "on the enclosing loop's tape (one copy per iteration, not one per slot)"
    if not ctx.loop_depth:
        where = "in the residual"
    note = ir.Comment(
        f"the while loop on line {s.origin.line if s.origin else 0} runs again here, keeping its "
        f"checkpoints, from its initial state {where}; the forward's run keeps none"
    )
    # its outputs are the forward's: the backward reads them from there
    return [note, replace(s, carry=tuple(replace(c, out="_") for c in s.carry))]
