"""Lower: structured control flow -> the JAX calls that compile it as rolled XLA loops.

Runs last, on the primal and on the gradient function, so every earlier pass
works on ``For``/``While``/``If`` nodes and every printed program shows the
``lax`` call that runs:

* ``For``   -> ``def for_5(carry, xs): ...; return carry, saved`` and
  ``lax.scan(for_5, init, xs)``; the saved values (the tape) come back stacked,
  one row per iteration;
* ``While`` -> ``def while_7_test(state)`` and ``def while_7_step(state)``, run by
  ``lax.while_loop`` (the primal) or by ``taped_while`` (the gradient's
  forward, which also fills a tape of ``max_iter`` rows and counts the steps);
* ``If``    -> a Python ``if`` when the test is known while tracing, else
  ``def branch_9_then()`` / ``def branch_9_else()`` and ``lax.cond``.
"""

from __future__ import annotations

import ast
from dataclasses import replace

from ..normal import ir, walk
from ..normal.naming import Namer
from ..normal.astutil import call, name
from ..normal.pyexpr import iterable, to_ast, trip_count

__all__ = ["lower_function"]


def _tuple(items) -> ast.Tuple:
    return ast.Tuple(elts=[i if isinstance(i, ast.AST) else to_ast(i) for i in items], ctx=ast.Load())


def _names(names) -> ast.Tuple:
    return ast.Tuple(elts=[name(n) for n in names], ctx=ast.Load())


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
        carry_p, xs_p = self.namer.shared("carry"), self.namer.shared("xs")
        head = []
        if s.carry:
            head.append(ir.Unpack(tuple(c.param for c in s.carry), ir.Name(carry_p)))
        head.append(ir.Unpack(tuple(s.targets), ir.Name(xs_p)))
        saved = [inner for inner, _ in s.tape]
        ys = _names(saved) if saved else ast.Constant(None)
        ret = ir.Return(ir.Raw(_tuple([_names(c.update for c in s.carry), ys])))
        body = head + self.block(s.body) + _shape_only_note(s.shape_only) + [ret]
        fn = ir.Function(s.name, (carry_p, xs_p), tuple(body))
        xs = _tuple([iterable(it) for it in s.iters])
        init = _tuple([c.init for c in s.carry])
        outs = tuple(c.out for c in s.carry)
        if s.checkpointed:  # keep each segment's starting carry; the backward recomputes its tape
            segment, kept = s.checkpointed
            length = call("segment_length", trip_count(s.iters[0]), ast.Constant(s.checkpoint))
            run = call("checkpointed_scan", name(s.name), init, xs, name(segment))
            return [ir.Def(fn, s.origin), ir.Assign(segment, ir.Raw(length), s.origin),
                    ir.Unpack((outs, kept), ir.Raw(run), s.origin)]
        scan = call("lax.scan", name(s.name), init, xs)
        stacked = tuple(st for _, st in s.tape) if s.tape else "_"
        out = [ir.Def(fn, s.origin), ir.Unpack((outs, stacked), ir.Raw(scan), s.origin)]
        for stacked_flag, flag in s.status:
            out.append(ir.Assign(flag, ir.Raw(call("jnp.any", name(stacked_flag))), s.origin))
        return out

    def while_loop(self, s: ir.While) -> list:
        params = tuple(c.param for c in s.carry)
        state = self.namer.shared("state")
        test_fn = ir.Function(f"{s.name}_test", (state,), tuple(
            [ir.Unpack(params, ir.Name(state))] + self.block(s.test_body) + [ir.Return(s.test)]))
        nxt = _names(c.update for c in s.carry)
        taped = bool(s.count)
        ret = _tuple([nxt, _names(n for n, _ in s.tape)]) if taped else nxt
        step_fn = ir.Function(f"{s.name}_step", (state,), tuple(
            [ir.Unpack(params, ir.Name(state))] + self.block(s.body) + _shape_only_note(s.shape_only)
            + [ir.Return(ir.Raw(ret))]))
        init = _tuple([c.init for c in s.carry])
        outs = tuple(c.out for c in s.carry)
        out = [ir.Def(test_fn, s.origin), ir.Def(step_fn, s.origin)]
        if taped:
            run = call("taped_while", name(test_fn.name), name(step_fn.name), init,
                       ast.Constant(s.max_iter))
            stacked = tuple(st for _, st in s.tape)
            out.append(ir.Unpack((outs, stacked, s.count, s.overflow), ir.Raw(run), s.origin))
        else:
            run = call("lax.while_loop", name(test_fn.name), name(step_fn.name), init)
            out.append(ir.Unpack(outs, ir.Raw(run), s.origin))
        return out

    def call(self, s: ir.CallFn):
        """``h = layer(x, W)``, or in a gradient's forward ``h, layer_res = fwd_layer(x, W)``."""
        if s.residual:
            return ir.Unpack(tuple(s.targets) + (s.residual,),
                             ir.Raw(call(s.forward, *[to_ast(a) for a in s.args])), s.origin)
        value = ir.Raw(call(s.callee, *[to_ast(a) for a in s.args]))
        if len(s.targets) == 1:
            return ir.Assign(s.targets[0], value, s.origin)
        return ir.Unpack(tuple(s.targets), value, s.origin)

    def branch(self, s: ir.If) -> list:
        if s.static:
            then = self.block(s.body) + [ir.Assign(o, a, s.origin) for o, a, _ in s.outputs]
            other = self.block(s.orelse) + [ir.Assign(o, b, s.origin) for o, _, b in s.outputs]
            return [ir.IfElse(s.test, tuple(then) or (ir.Comment("nothing to do"),), tuple(other))]
        if not s.outputs:
            return [ir.Comment(f"line {s.origin.line}: the `if` computes nothing used later")]
        then_fn = ir.Function(f"{s.name}_then", (), tuple(
            self.block(s.body) + [ir.Return(ir.Raw(_tuple([a for _, a, _ in s.outputs])))]))
        else_fn = ir.Function(f"{s.name}_else", (), tuple(
            self.block(s.orelse) + [ir.Return(ir.Raw(_tuple([b for _, _, b in s.outputs])))]))
        cond = call("lax.cond", to_ast(s.test), name(then_fn.name), name(else_fn.name))
        return [ir.Def(then_fn, s.origin), ir.Def(else_fn, s.origin),
                ir.Unpack(tuple(o for o, _, _ in s.outputs), ir.Raw(cond), s.origin)]


def lower_function(fn: ir.Function, namer: Namer) -> ir.Function:
    """``fn`` with every For/While/If replaced by the JAX calls that run it."""
    return Lowerer(namer).function(fn)


def _shape_only_note(names) -> list:
    """Which tape entries the backward reads for their shape only: XLA stores none of them."""
    if not names:
        return []
    return [ir.Comment(f"the backward reads these tape entries for their shapes only, so XLA "
                       f"stores no values for them: {', '.join(names)}")]
