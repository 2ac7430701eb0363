"""Reverse: the normal-form primal -> the gradient function, with explicit accumulators.

The gradient function has five sections, in this order:

1. ``forward``  the primal statements (single assignment keeps every value the
   backward pass reads alive); loops additionally save, per iteration, the
   values their backward reads, on a tape (a stacked array);
2. ``zero``     the accumulators of the ``wrt`` inputs: zeros, or the caller's
   accumulators when it passes ``acc`` (accumulation across calls);
3. ``seed``     the output's accumulator starts as the seed;
4. ``backward`` for each primal statement, last first, one ``b_x = b_x + ...``
   per active argument (fan-out shows as several contributions), from the
   rule's template; the accumulator of a non-input is zeroed just before its
   first contribution;
5. ``return``   the primal value and the input gradients.

Control flow reverses structurally:

* a ``for`` loop's backward is a ``lax.scan(..., reverse=True)`` over the same
  iterations: its carry holds the loop-carried variables' accumulators and the
  accumulators of outer values the body reads (``b_W = b_W + ...`` inside); it
  reads the forward's tape back, last iteration first;
* a data-dependent ``while`` loop saves at most ``max_iter`` iterations and
  its backward is a ``lax.fori_loop`` over the iterations that ran;
* an ``if`` on traced data is a ``lax.cond`` both ways: the adjoint of the
  branch that was taken runs, after recomputing that branch's forward values;
  a static ``if`` stays a Python ``if``.

``block`` returns the forward (with tapes added) and the backward of a block,
so a loop nested in a loop saves its tape on the outer loop's tape. Activity
(``activity.py``) decides which statements get backward code; user lines that
get none are listed as comments saying why.

The modules of this package, one per construct, each a set of functions taking
the shared ``Context`` (``context.py``):

* ``block.py``       the table from statement type to handler, and a block's reversal;
* ``statements.py``  straight-line assignments: rule contributions, hoisted partials;
* ``loops.py``       ``for``, checkpointed ``for`` and ``while``, from ``ad/templates.py``;
* ``branches.py``    static ``if`` and ``lax.cond``;
* ``calls.py``       calls of the user's functions (``fwd_``/``bwd_`` pairs);
* ``analysis.py``    read-only facts: loop invariants, shape-only reads, free accumulators;
* this module        the gradient function's five sections.
"""

from __future__ import annotations

import ast

from ...normal import ir
from ...normal.astutil import call, name, parse_expr
from ...normal.naming import Namer
from ...normal.pyexpr import to_ast
from ...normal.structs import leaves, paths
from ...normal.walk import names_read_deep
from ..activity import Activity
from .analysis import SHAPE_ARGUMENTS, callee_active_params, loop_invariants, read_for_shape_only
from .block import block
from .context import Context, tuple_of

__all__ = [
    "reverse",
    "gradient_function",
    "names_read_deep",
    "callee_active_params",
    "loop_invariants",
    "read_for_shape_only",
    "SHAPE_ARGUMENTS",
]


def reverse(
    fn: ir.Function, wrt, activity: Activity, namer: Namer, filename: str = "", callees=None
) -> ir.Function:
    """The gradient function of a normal-form function (see the module docstring)."""
    return gradient_function(Context(fn, wrt, activity, namer, filename, callees, block))


def gradient_function(ctx: Context) -> ir.Function:
    """``grad_f(*params, seed=None, acc=None)``: forward, zero, seed, backward, return."""
    fn = ctx.fn
    seed = ctx.namer.fresh("seed")
    acc = ctx.namer.fresh("acc")
    body, ret = fn.body[:-1], fn.body[-1]

    inputs = fn.meta.get("inputs", {})
    layouts = [inputs.get(w, ir.Name(w)) for w in ctx.wrt]
    input_leaves = [leaf.id for layout in layouts for leaf in leaves(layout)]
    from_acc: tuple[ir.Unpack | ir.Assign, ...]
    if all(isinstance(layout, ir.Name) for layout in layouts):
        from_acc = (ir.Unpack(tuple(ctx.adj(w) for w in ctx.wrt), ir.Name(acc)),)
    else:  # containers: each leaf's accumulator comes from the same place in `acc`
        from_acc = tuple(
            ir.Assign(ctx.adj(leaf.id), ir.Raw(_subscripts(acc, (i,) + path)))
            for i, layout in enumerate(layouts)
            for leaf, path in zip(leaves(layout), paths(layout))
        )
    zero = ir.IfElse(
        ir.Raw(parse_expr(f"{acc} is None")),
        tuple(ir.Assign(ctx.adj(x), ir.Raw(call("jnp.zeros_like", name(x)))) for x in input_leaves),
        from_acc,
    )
    ctx.scope.initialized.update(input_leaves)
    seed_stmts = _seed(ctx, ret, seed)
    forward, backward = ctx.block(body)

    sections = [
        ir.Section("forward", "forward: the primal computation, one operation per line", tuple(forward)),
        ir.Section(
            "zero",
            f"the inputs' gradient accumulators: zero for a fresh gradient, or "
            f"the caller's `{acc}` to add to (as PyTorch's .grad across "
            f"backward() calls)",
            (zero,),
        ),
        ir.Section(
            "seed",
            "seed: d(output)/d(output), 1 for a scalar output, else the "
            "caller's seed (PyTorch's backward(gradient))",
            tuple(seed_stmts),
        ),
        ir.Section("backward", "backward: the adjoint of each line, last line first", tuple(backward)),
    ]
    grads = call("cast_like", tuple_of(*[_display(ctx, layout) for layout in layouts]), tuple_of(*ctx.wrt))
    results = [to_ast(ret.value), grads]
    status = ctx.scope.status
    if status:
        flag: ast.expr = name(status[0])
        for other in status[1:]:
            flag = ast.BinOp(left=flag, op=ast.BitOr(), right=name(other))
        results.append(flag)
    title = "the primal value and the gradients, in the inputs' dtypes"
    if status:
        kinds = ["a while loop outran its tape"] if ctx.loops else []
        kinds += (
            ["lstsq's residuals are NumPy's empty array (a of lower rank)"] if ctx.residual_origins else []
        )
        title += "; and whether " + " or ".join(kinds)
    sections.append(ir.Section("return", title, (ir.Return(ir.Raw(tuple_of(*results))),)))
    meta = dict(fn.meta)
    meta.update(
        foldable=frozenset(ctx.adj(t) for t in fn.temporaries),
        seed=seed,
        acc=acc,
        output_is_tuple=isinstance(ret.value, ir.Tup),
        has_status=bool(status),
        while_loops=tuple(ctx.loops),
        lstsq_residuals=tuple(o.line if o else 0 for o in ctx.residual_origins),
    )
    return ir.Function(
        f"grad_{fn.name}",
        fn.params + (seed, acc),
        tuple(sections),
        doc=_docstring(ctx, seed, acc),
        defaults=((seed, "None"), (acc, "None")),
        globals_used=fn.globals_used,
        temporaries=fn.temporaries,
        meta=meta,
    )


def _subscripts(base: str, keys) -> ast.expr:
    expr: ast.expr = name(base)
    for k in keys:
        expr = ast.Subscript(value=expr, slice=ast.Constant(k), ctx=ast.Load())
    return expr


def _display(ctx, layout) -> ast.expr:
    """The gradient of one input: its accumulator, or a container display of its leaves'."""
    if isinstance(layout, ir.Name):
        return name(ctx.adj(layout.id))
    values = [_display(ctx, v) for _, v in layout.items]
    if layout.kind == "dict":
        return ast.Dict(keys=[ast.Constant(k) for k, _ in layout.items], values=values)
    if layout.kind == "list":
        return ast.List(elts=values, ctx=ast.Load())
    return ast.Tuple(elts=values, ctx=ast.Load())


def _docstring(ctx, seed, acc) -> str:
    ins = ", ".join(ctx.wrt)
    return (
        f"The gradient of `{ctx.fn.name}` with respect to {ins}.\n\n"
        f"Returns ({ctx.fn.name}(...), (gradients of {ins})). `{seed}`: the output's "
        f"gradient (required unless the output is a scalar). `{acc}`: gradients to add to."
    )


def _seed(ctx, ret, seed) -> list:
    out = []
    tuple_out = isinstance(ret.value, ir.Tup)
    items = ret.value.items if tuple_out else (ret.value,)
    for i, item in enumerate(items):
        if not (isinstance(item, ir.Name) and item.id in ctx.act.varied):
            continue
        s = (
            ast.Subscript(value=name(seed), slice=ast.Constant(i), ctx=ast.Load())
            if tuple_out
            else name(seed)
        )
        out.append(ctx.seed(item.id, call("seed_like", name(item.id), s), ret.origin))
    if not out:
        out.append(ir.Comment(f"the output does not depend on {', '.join(ctx.wrt)}: its gradient is zero"))
    return out
