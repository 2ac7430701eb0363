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
"""

from __future__ import annotations

import ast
from collections import Counter
from dataclasses import replace
from itertools import groupby

from ..normal import ir
from ..normal.walk import bound_deep, expressions_deep, names_read_deep

from .. import rules
from .activity import Activity, differentiable_args
from ..errors import UnsupportedSyntaxError
from ..normal.naming import Namer
from .simplify import fold_first_contributions
from ..normal.structs import leaves, paths
from ..normal.astutil import call, name, parse_expr, walk
from ..normal.pyexpr import bound_args, instantiate, iterable, to_ast, trip_count

__all__ = ["reverse", "names_read_deep"]


def _mentions(template: ast.expr, ident: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == ident for n in walk(template))


def _add(acc: str, expr: ast.expr) -> ast.expr:
    return ast.BinOp(left=name(acc), op=ast.Add(), right=expr)


def _tuple(*elts) -> ast.Tuple:
    return ast.Tuple(elts=[e if isinstance(e, ast.AST) else name(e) for e in elts], ctx=ast.Load())


def _subscripts(base: str, keys) -> ast.expr:
    expr = name(base)
    for k in keys:
        expr = ast.Subscript(value=expr, slice=ast.Constant(k), ctx=ast.Load())
    return expr


def loop_invariants(loop, body) -> set:
    """The names a loop body assigns from values that are the same in every iteration: read
    nothing the loop carries, iterates over or computes from those (``neg = -k``)."""
    variant = {c.param for c in loop.carry} | set(getattr(loop, "targets", ()))
    invariant = set()
    for s in body:
        if isinstance(s, ir.Assign) and not set(ir.names_read(s.value)) & variant:
            invariant.add(s.target)
        else:
            variant |= set(ir.defined_names([s]))
    return invariant


#: Runtime helpers whose argument at this position is read for its shape only.
SHAPE_ARGUMENTS = {"unbroadcast": 1, "unreduce": 1}


def read_for_shape_only(stmts) -> set:
    """The names the statements read only as the shape argument of ``unbroadcast``/``unreduce``:
    a loop lists them on its tape, but XLA stores none of their values."""
    total, for_shape = Counter(), Counter()
    for e in expressions_deep(stmts):
        total.update(ir.names_read(e))
        if isinstance(e, ir.Raw):
            for node in walk(e.expr):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                        and node.func.id in SHAPE_ARGUMENTS \
                        and len(node.args) > SHAPE_ARGUMENTS[node.func.id] \
                        and isinstance(node.args[SHAPE_ARGUMENTS[node.func.id]], ast.Name):
                    for_shape[node.args[SHAPE_ARGUMENTS[node.func.id]].id] += 1
    return {n for n, k in for_shape.items() if total[n] == k}


class Scope:
    """The accumulators that exist in one generated function body."""

    def __init__(self, initialized=(), same_shape=None):
        self.initialized = set(initialized)
        self.status: list = []  # overflow flags of the while loops run in this scope
        # primal -> an accumulator of the same shape: a loop-carried value's zeros are taken from
        # its incoming adjoint, so the value itself need not be saved on the tape for its shape
        self.same_shape = dict(same_shape or {})


class Reverser:
    def __init__(self, fn: ir.Function, wrt, activity: Activity, namer: Namer, filename: str,
                 callees=None):
        self.fn = fn
        self.wrt = tuple(wrt)
        self.act = activity
        self.static = frozenset(fn.meta.get("static", ()))  # names known while JAX traces
        self.namer = namer
        self.filename = filename
        self.callees = callees
        self.scope = Scope()
        self.loops: list = []  # (line, max_iter) of while loops, for overflow messages
        self.loop_depth = 0    # inside a loop body, local partials move to the forward sweep
        self.loop_locals: list = []  # per enclosing loop: the names its tape would hold if read
        self.split_backward = False  # a callee's backward is a function of its own (bwd_)
        self.cond_depth = 0    # inside the adjoint of a branch on data (a function of its own)
        self.hoisted: list = []  # forward statements the current statement's backward asked for

    # ----- accumulators -----
    def adj(self, primal: str) -> str:
        return self.namer.adjoint(primal)

    def ensure(self, out: list, x: str, origin=None):
        """Zero ``b_x`` in the current scope unless it exists already."""
        if x not in self.scope.initialized:
            like = self.scope.same_shape.get(x, x)
            out.append(ir.Assign(self.adj(x), ir.Raw(call("jnp.zeros_like", name(like))), origin))
            self.scope.initialized.add(x)

    def accumulate(self, out: list, x: str, expr: ast.expr, origin, replaces: bool = False):
        """``b_x = b_x + expr`` (or ``b_x = expr`` when the template updates ``acc`` itself)."""
        self.ensure(out, x, origin)
        b = self.adj(x)
        out.append(ir.Assign(b, ir.Raw(expr if replaces else _add(b, expr)), origin))

    def free_active(self, stmts, bound=()) -> list:
        """Active names defined outside ``stmts`` (and not in ``bound``, the names a loop binds
        for its body) whose accumulators the backward of ``stmts`` updates."""
        defined = bound_deep(stmts, set(bound))
        reads: list = []

        def add(atom):
            if isinstance(atom, ir.Name) and atom.id not in reads:
                reads.append(atom.id)

        def walk(block):
            for s in block:
                if isinstance(s, ir.Assign) and self.act.is_active(s.target):
                    for _, a, _ in differentiable_args(s.value):
                        add(a)
                elif isinstance(s, (ir.For, ir.While)):
                    for c in s.carry:
                        if self.act.is_active(c.param) or self.act.is_active(c.out):
                            add(c.init)
                    if isinstance(s, ir.For):
                        for t, it in zip(s.targets, s.iters):
                            if isinstance(it, ir.ArrayIter) and self.act.is_active(t):
                                add(it.array)
                    walk(s.body)
                elif isinstance(s, ir.If):
                    for out, a, b in s.outputs:
                        if self.act.is_active(out):
                            add(a)
                            add(b)
                    walk(s.body)
                    walk(s.orelse)
                elif isinstance(s, ir.CallFn):
                    active_out = tuple(i for i, t in enumerate(s.targets) if self.act.is_active(t))
                    active_in = tuple(i for i, a in enumerate(s.args)
                                      if isinstance(a, ir.Name) and self.act.is_active(a.id))
                    if active_out and active_in and self.callees is not None:
                        callee = self.callees.by_name(s.callee)
                        for i in callee_active_params(callee, active_in, active_out):
                            add(s.args[i])

        walk(stmts)
        return [n for n in reads if n not in defined and self.act.is_active(n)]

    # ----- the pass -----
    def run(self) -> ir.Function:
        fn = self.fn
        seed = self.namer.fresh("seed")
        acc = self.namer.fresh("acc")
        body, ret = fn.body[:-1], fn.body[-1]

        inputs = fn.meta.get("inputs", {})
        layouts = [inputs.get(w, ir.Name(w)) for w in self.wrt]
        input_leaves = [leaf.id for layout in layouts for leaf in leaves(layout)]
        if all(isinstance(layout, ir.Name) for layout in layouts):
            from_acc = (ir.Unpack(tuple(self.adj(w) for w in self.wrt), ir.Name(acc)),)
        else:  # containers: each leaf's accumulator comes from the same place in `acc`
            from_acc = tuple(
                ir.Assign(self.adj(leaf.id), ir.Raw(_subscripts(acc, (i,) + path)))
                for i, layout in enumerate(layouts)
                for leaf, path in zip(leaves(layout), paths(layout)))
        zero = ir.IfElse(
            ir.Raw(parse_expr(f"{acc} is None")),
            tuple(ir.Assign(self.adj(x), ir.Raw(call("jnp.zeros_like", name(x)))) for x in input_leaves),
            from_acc)
        self.scope.initialized.update(input_leaves)
        seed_stmts = self.seed(ret, seed)
        forward, backward = self.block(body)

        sections = [
            ir.Section("forward", "forward: the primal computation, one operation per line",
                       tuple(forward)),
            ir.Section("zero", f"the inputs' gradient accumulators: zero for a fresh gradient, or "
                               f"the caller's `{acc}` to add to (as PyTorch's .grad across "
                               f"backward() calls)", (zero,)),
            ir.Section("seed", "seed: d(output)/d(output), 1 for a scalar output, else the "
                               "caller's seed (PyTorch's backward(gradient))", tuple(seed_stmts)),
            ir.Section("backward", "backward: the adjoint of each line, last line first",
                       tuple(backward)),
        ]
        grads = call("cast_like", _tuple(*[self.display(layout) for layout in layouts]),
                     _tuple(*self.wrt))
        results = [to_ast(ret.value), grads]
        status = self.scope.status
        if status:
            flag = name(status[0])
            for other in status[1:]:
                flag = ast.BinOp(left=flag, op=ast.BitOr(), right=name(other))
            results.append(flag)
        title = "the primal value and the gradients, in the inputs' dtypes"
        if status:
            title += "; and whether a while loop outran its tape"
        sections.append(ir.Section("return", title, (ir.Return(ir.Raw(_tuple(*results))),)))
        meta = dict(fn.meta)
        meta.update(foldable=frozenset(self.adj(t) for t in fn.temporaries),
                    seed=seed, acc=acc, output_is_tuple=isinstance(ret.value, ir.Tup),
                    has_status=bool(status), while_loops=tuple(self.loops))
        return ir.Function(f"grad_{fn.name}", fn.params + (seed, acc), tuple(sections),
                           doc=self.docstring(seed, acc), defaults=((seed, "None"), (acc, "None")),
                           globals_used=fn.globals_used, temporaries=fn.temporaries, meta=meta)

    def display(self, layout) -> ast.expr:
        """The gradient of one input: its accumulator, or a container display of its leaves'."""
        if isinstance(layout, ir.Name):
            return name(self.adj(layout.id))
        values = [self.display(v) for _, v in layout.items]
        if layout.kind == "dict":
            return ast.Dict(keys=[ast.Constant(k) for k, _ in layout.items], values=values)
        if layout.kind == "list":
            return ast.List(elts=values, ctx=ast.Load())
        return ast.Tuple(elts=values, ctx=ast.Load())

    def docstring(self, seed, acc) -> str:
        ins = ", ".join(self.wrt)
        return (f"The gradient of `{self.fn.name}` with respect to {ins}.\n\n"
                f"Returns ({self.fn.name}(...), (gradients of {ins})). `{seed}`: the output's "
                f"gradient (required unless the output is a scalar). `{acc}`: gradients to add to.")

    def seed(self, ret, seed):
        out = []
        items = ret.value.items if isinstance(ret.value, ir.Tup) else (ret.value,)
        tuple_out = isinstance(ret.value, ir.Tup)
        for i, item in enumerate(items):
            if not (isinstance(item, ir.Name) and item.id in self.act.varied):
                continue
            s = ast.Subscript(value=name(seed), slice=ast.Constant(i), ctx=ast.Load()) \
                if tuple_out else name(seed)
            expr = call("seed_like", name(item.id), s)
            if item.id in self.scope.initialized:
                out.append(ir.Assign(self.adj(item.id), ir.Raw(_add(self.adj(item.id), expr)), ret.origin))
            else:
                out.append(ir.Assign(self.adj(item.id), ir.Raw(expr), ret.origin))
                self.scope.initialized.add(item.id)
        if not out:
            out.append(ir.Comment(f"the output does not depend on {', '.join(self.wrt)}: "
                                  f"its gradient is zero"))
        return out

    def block(self, stmts):
        """(forward, backward) of a block: the forward with tapes added, the backward reversed."""
        forward = list(stmts)
        backward: list = []
        indexed = list(enumerate(stmts))
        groups = [(origin, list(g)) for origin, g in groupby(indexed, key=lambda p: p[1].origin)]
        for origin, group in reversed(groups):
            if any(isinstance(s, ir.NoGrad) for _, s in group):
                for _, s in group:
                    backward.append(ir.Comment(
                        f"line {s.origin.line}: `{s.origin.text}` block: constants (no_grad), "
                        f"no adjoint"))
                continue
            part: list = []
            for i, s in reversed(group):
                outer_hoisted, self.hoisted = self.hoisted, []
                forward[i], produced = self.statement(s)
                mine, self.hoisted = self.hoisted, outer_hoisted
                if mine:  # local partials, computed right after the statement they belong to
                    forward[i] = [forward[i], *mine]
                part.extend(produced)
            if part:
                backward.extend(part)
            elif origin is not None and not origin.entry:
                backward.append(ir.Comment(self.pruned(origin, [s for _, s in group])))
        flat = []
        for f in forward:
            flat.extend(f if isinstance(f, list) else [f])
        return flat, backward

    def pruned(self, origin, group) -> str:
        user = [t for s in group for t in ir.defined_names([s]) if t not in self.fn.temporaries]
        target = user[-1] if user else (ir.defined_names(group) or ["it"])[-1]
        why = self.act.why_inactive(target, self.wrt)
        target = self.fn.meta.get("user_names", {}).get(target, target)
        last = group[-1]
        if isinstance(last, ir.Assign) and isinstance(last.value, ir.Prim) \
                and not rules.lookup_key(last.value.op).differentiable:
            why = f"comes from {last.value.op}(), which passes no gradient"
        return f"line {origin.line}: {origin.text}  -- no adjoint: `{target}` {why}"

    def statement(self, s):
        """(the statement as the forward runs it, its backward statements)."""
        if isinstance(s, ir.For):
            return self.for_loop(s)
        if isinstance(s, ir.While):
            return self.while_loop(s)
        if isinstance(s, ir.If):
            return self.branch(s)
        if isinstance(s, ir.CallFn):
            return self.call(s)
        out: list = []
        if isinstance(s, ir.Unpack):
            if any(self.act.is_active(t) for t in ir._flat(s.targets)):
                raise self.error(s.origin, "unpacking a tuple of differentiable arrays from one value",
                                 "unpack a tuple display (a, b = x, y) or index the arrays")
        elif isinstance(s, ir.Assign) and self.act.is_active(s.target):
            self.assignment(s, out)
        return s, out

    def assignment(self, s: ir.Assign, out):
        g = name(self.adj(s.target))
        value = s.value
        if isinstance(value, ir.Name):
            if self.act.is_active(value.id):
                self.accumulate(out, value.id, g, s.origin)
            return
        if isinstance(value, ir.Tup):
            raise self.error(s.origin, "a tuple holding differentiable arrays assigned to a name",
                             "keep the arrays in separate variables")
        if not isinstance(value, ir.Prim):
            return
        rule = rules.lookup_key(value.op)
        if not rule.differentiable:
            return
        mapping = bound_args(value, rule)
        mapping.update(g=g, ans=name(s.target))
        for pname, arg in value.args:
            param = rule.param(pname)
            template = rule.adjoints.get(pname)
            if template is None:
                continue
            if param.kind == "sequence":
                for position, item in enumerate(arg.items):
                    if isinstance(item, ir.Name) and self.act.is_active(item.id):
                        self.contribute(out, rule, value, pname, item, template,
                                        dict(mapping, position=ast.Constant(position)), s.origin)
            elif isinstance(arg, ir.Name) and self.act.is_active(arg.id):
                self.contribute(out, rule, value, pname, arg, template, mapping, s.origin)

    def contribute(self, out, rule, prim, pname, arg, template, mapping, origin):
        replaces = _mentions(template, "acc")
        if replaces:
            self.ensure(out, arg.id, origin)
        expr = instantiate(template, dict(mapping, acc=name(self.adj(arg.id))))
        if self.loop_depth and not replaces:
            expr = self.hoist_partial(expr, mapping["g"].id, mapping["ans"].id, arg.id, origin)
        if rule.broadcast and self.may_broadcast(rule, prim, pname):
            expr = call("unbroadcast", expr, name(arg.id))
        self.accumulate(out, arg.id, expr, origin, replaces=replaces)

    def hoist_partial(self, expr, g: str, ans: str, arg: str, origin):
        """``g * P`` with ``P`` free of adjoints: compute ``P`` (the local partial) in the forward
        sweep, where XLA fuses it with the value it differentiates, and save it instead of what
        it reads. Measured (shared/notes/loop-adjoints.md): this closes most of the gap to
        jax.grad, at the price of tape memory when P is larger than its inputs."""
        sign, other = None, None
        factors = _product_factors(expr)
        for k, side in enumerate(factors):
            core = side.operand if isinstance(side, ast.UnaryOp) and isinstance(side.op, ast.USub) else side
            if isinstance(core, ast.Name) and core.id == g:
                sign, rest = side is not core, factors[:k] + factors[k + 1:]
                other = rest[0] if len(rest) == 1 else _product(rest) if rest else None
                break
        if other is None or isinstance(other, (ast.Name, ast.Constant)):
            return expr
        reads = {n.id for n in walk(other) if isinstance(n, ast.Name)}
        if not reads or reads & set(self.namer.adjoint_names()) or g in reads:
            return expr  # a constant factor, or one that reads adjoints: nothing to hoist
        if self.loop_locals and not reads & self.loop_locals[-1]:
            return expr  # reads only the loop index and outer values: free to compute backward,
            #              while a hoisted partial would add a row to the tape every iteration
        partial = self.namer.fresh(f"d{ans}_d{arg}")
        self.hoisted.append(ir.Assign(partial, ir.Raw(other), origin))
        factor = ast.UnaryOp(op=ast.USub(), operand=name(g)) if sign else name(g)
        return ast.BinOp(left=factor, op=ast.Mult(), right=name(partial))

    @staticmethod
    def may_broadcast(rule, prim, pname) -> bool:
        """False when every other array argument is a scalar constant (3 * x has x's shape)."""
        for other, arg in prim.args:
            if other == pname or rule.param(other).kind not in ("array", "nondiff"):
                continue
            if not (isinstance(arg, ir.Const) and isinstance(arg.value, (int, float, complex))):
                return True
        return False

    # ----- loops -----
    def active_carries(self, loop):
        return [c for c in loop.carry
                if any(self.act.is_active(n) for n in (c.param, c.update, c.out))]

    def loop_body(self, loop, carries, outer_accs):
        """Reverse a loop body in a scope of its own; returns (forward body, backward body, scope)."""
        outer_scope = self.scope
        self.scope = Scope({c.update for c in carries} | set(outer_accs),
                           {c.param: self.adj(c.update) for c in carries if c.param != c.update})
        self.loop_depth += 1
        # what the body computes anew each iteration: the backward reading it puts it on the tape
        self.loop_locals.append(({c.param for c in loop.carry} | set(ir.defined_names(loop.body)))
                                - loop_invariants(loop, loop.body))
        body_fwd, body_bwd = self.block(loop.body)
        self.loop_locals.pop()
        self.loop_depth -= 1
        # fold now, before the tape is chosen: zeros_like(t) would put t on the tape for its shape
        body_bwd = fold_first_contributions(body_bwd)
        for c in carries:  # the accumulator handed to the previous iteration
            self.ensure(body_bwd, c.param, loop.origin)
        inner, self.scope = self.scope, outer_scope
        return body_fwd, body_bwd, inner

    def saved(self, loop, carries, body_fwd, body_bwd, skip=()) -> list:
        """What the backward reads that the body computes: the loop's tape (activity x liveness).
        Values known while tracing (``2 * hidden``) and values the same in every iteration
        (``-k``) are not saved: ``recompute`` puts their statements in the adjoint body instead."""
        read = names_read_deep(body_bwd)
        candidates = [c.param for c in loop.carry] + ir.defined_names(body_fwd)
        kept = self.static | loop_invariants(loop, body_fwd)
        return [n for n in candidates if n in read and n not in skip and n not in kept]

    def recompute(self, loop, body_fwd, body_bwd) -> list:
        """The forward statements computing the static and loop-invariant values the backward
        reads (and those they read), in forward order. A tape would turn a static value into a
        traced array, and store an invariant one once per iteration (XLA hoists its recomputation
        out of the adjoint loop)."""
        cheap = self.static | loop_invariants(loop, body_fwd)
        needed = names_read_deep(body_bwd) & cheap
        chosen = []
        for s in reversed(_without_no_grad(body_fwd)):
            if isinstance(s, ir.Assign) and s.target in needed:
                chosen.append(s)
                needed |= set(ir.names_read(s.value)) & cheap
        return list(reversed(chosen))

    def enter_loop(self, out, loop, carries, outer_accs):
        """Backward statements before the adjoint loop: its incoming accumulators must exist."""
        for c in carries:
            self.ensure(out, c.out, loop.origin)
        for x in outer_accs:
            self.ensure(out, x, loop.origin)

    def leave_loop(self, out, loop, carries):
        """After the adjoint loop: the first iteration's carry adjoints flow to the values before it."""
        for c in carries:
            if isinstance(c.init, ir.Name) and self.act.is_active(c.init.id):
                self.accumulate(out, c.init.id, name(self.adj(c.param)), loop.origin)

    def for_loop(self, s: ir.For):
        carries = self.active_carries(s)
        outer_accs = self.free_active(s.body, [c.param for c in s.carry] + list(s.targets))
        elems = [(t, it) for t, it in zip(s.targets, s.iters)
                 if isinstance(it, ir.ArrayIter) and self.act.is_active(t)]
        body_fwd, body_bwd, inner = self.loop_body(s, carries, outer_accs)
        for t, _ in elems:
            self.scope, outer = inner, self.scope
            self.ensure(body_bwd, t, s.origin)
            self.scope = outer
        statuses = list(inner.status)
        saved = self.saved(s, carries, body_fwd, body_bwd, skip=s.targets)
        tape = tuple((n, self.namer.fresh(f"{n}_tape")) for n in saved + statuses)
        status = tuple((dict(tape)[f], self.namer.fresh(f"{f}_any")) for f in statuses)
        self.scope.status.extend(flag for _, flag in status)
        fwd = replace(s, body=tuple(body_fwd), tape=tape, status=status,
                      shape_only=_shape_only(saved, body_bwd))
        if not carries and not outer_accs and not elems:
            return replace(fwd, checkpoint=None), []
        out: list = []
        self.enter_loop(out, s, carries, outer_accs)
        if s.checkpoint is not None and self.loop_depth == 0 and self.cond_depth == 0 \
                and not self.split_backward \
                and not statuses:
            return self.checkpointed_loop(fwd, out, carries, outer_accs, elems, saved, body_bwd)
        fwd = replace(fwd, checkpoint=None)
        read = names_read_deep(body_bwd)
        targets = [(t, it) for t, it in zip(s.targets, s.iters) if t in read]
        adj_name = self.namer.fresh(f"{s.name}_adjoint")
        carry_p, xs_p = self.namer.shared("carry"), self.namer.shared("xs")
        carry_in = [self.adj(c.update) for c in carries] + [self.adj(x) for x in outer_accs]
        carry_out = [self.adj(c.param) for c in carries] + [self.adj(x) for x in outer_accs]
        xs_names = [t for t, _ in targets] + saved
        head = [ir.Unpack(tuple(carry_in), ir.Name(carry_p))]
        if xs_names:
            head.append(ir.Unpack(tuple(xs_names), ir.Name(xs_p)))
        head += self.recompute(s, body_fwd, body_bwd)
        ys = _tuple(*[self.adj(t) for t, _ in elems]) if elems else ast.Constant(None)
        adj_fn = ir.Function(adj_name, (carry_p, xs_p), tuple(head + body_bwd + [
            ir.Return(ir.Raw(_tuple(_carry_cast(carry_out, carry_p), ys)))]))
        xs = [iterable(it) for _, it in targets] + [name(dict(tape)[n]) for n in saved]
        stacks = [self.namer.fresh(f"{self.adj(t)}_stack") for t, _ in elems]
        init = _tuple(*[self.adj(c.out) for c in carries], *[self.adj(x) for x in outer_accs])
        keywords = [ast.keyword(arg="reverse", value=ast.Constant(True))]
        if not xs:
            keywords.insert(0, ast.keyword(arg="length", value=trip_count(s.iters[0])))
        scan = ast.Call(func=parse_expr("lax.scan"), args=[name(adj_name), init, _tuple(*xs)],
                        keywords=keywords)
        out.append(ir.Def(adj_fn, s.origin))
        out.append(ir.Unpack((tuple(carry_out), tuple(stacks) if stacks else "_"), ir.Raw(scan),
                             s.origin))
        self.leave_loop(out, s, carries)
        for (t, it), stack in zip(elems, stacks):
            self.accumulate(out, it.array.id, name(stack), s.origin)
        return fwd, out

    def checkpointed_loop(self, s, out, carries, outer_accs, elems, saved, body_bwd):
        """The backward of a checkpointed top-level loop: ``checkpointed_scan_adjoint`` recomputes
        each segment's tape from the carry saved at its start, then runs the adjoint step."""
        segment = self.namer.fresh(f"{s.name}_segment")
        kept = self.namer.fresh(f"{s.name}_checkpoints")
        fwd = replace(s, checkpointed=(segment, kept))
        adj_name = self.namer.fresh(f"{s.name}_adjoint")
        carry_p, xs_p = self.namer.shared("carry"), self.namer.shared("xs")
        carry_in = [self.adj(c.update) for c in carries] + [self.adj(x) for x in outer_accs]
        carry_out = [self.adj(c.param) for c in carries] + [self.adj(x) for x in outer_accs]
        head = [ir.Unpack(tuple(carry_in), ir.Name(carry_p)),
                ir.Unpack((tuple(s.targets), tuple(saved) if saved else "_"), ir.Name(xs_p))]
        head += self.recompute(s, list(s.body), body_bwd)
        ys = _tuple(*[self.adj(t) for t, _ in elems]) if elems else ast.Constant(None)
        adj_fn = ir.Function(adj_name, (carry_p, xs_p), tuple(head + body_bwd + [
            ir.Return(ir.Raw(_tuple(_carry_cast(carry_out, carry_p), ys)))]))
        init = _tuple(*[self.adj(c.out) for c in carries], *[self.adj(x) for x in outer_accs])
        run = call("checkpointed_scan_adjoint", name(s.name), name(adj_name), init,
                   _tuple(*[iterable(it) for it in s.iters]), name(kept), name(segment))
        stacks = [self.namer.fresh(f"{self.adj(t)}_stack") for t, _ in elems]
        out.append(ir.Def(adj_fn, s.origin))
        out.append(ir.Unpack((tuple(carry_out), tuple(stacks) if stacks else "_"), ir.Raw(run), s.origin))
        self.leave_loop(out, s, carries)
        for (t, it), stack in zip(elems, stacks):
            self.accumulate(out, it.array.id, name(stack), s.origin)
        return fwd, out

    def while_loop(self, s: ir.While):
        carries = self.active_carries(s)
        outer_accs = self.free_active(s.body, [c.param for c in s.carry])
        body_fwd, body_bwd, inner = self.loop_body(s, carries, outer_accs)
        if inner.status:
            raise self.error(s.origin, "a data-dependent while loop inside another while loop",
                             "bound the inner loop with a for loop over range(max_iter)")
        saved = self.saved(s, carries, body_fwd, body_bwd)
        tape = tuple((n, self.namer.fresh(f"{n}_tape")) for n in saved)
        count = self.namer.fresh(f"{s.name}_count")
        overflow = self.namer.fresh(f"{s.name}_overflow")
        self.scope.status.append(overflow)
        self.loops.append((s.origin.line if s.origin else 0, s.max_iter))
        fwd = replace(s, body=tuple(body_fwd), tape=tape, count=count, overflow=overflow,
                      shape_only=_shape_only(saved, body_bwd))
        if not carries and not outer_accs:
            return fwd, []
        out: list = []
        self.enter_loop(out, s, carries, outer_accs)
        adj_name = self.namer.fresh(f"{s.name}_adjoint")
        k, carry_p, step = self.namer.shared("k"), self.namer.shared("carry"), self.namer.shared("step")
        carry_in = [self.adj(c.update) for c in carries] + [self.adj(x) for x in outer_accs]
        carry_out = [self.adj(c.param) for c in carries] + [self.adj(x) for x in outer_accs]
        head = [ir.Unpack(tuple(carry_in), ir.Name(carry_p)),
                ir.Assign(step, ir.Raw(parse_expr(f"{count} - 1 - {k}")))]
        for n, stacked in tape:
            head.append(ir.Assign(n, ir.Raw(ast.Subscript(value=name(stacked), slice=name(step),
                                                          ctx=ast.Load()))))
        head += self.recompute(s, body_fwd, body_bwd)
        adj_fn = ir.Function(adj_name, (k, carry_p), tuple(head + body_bwd + [
            ir.Return(ir.Raw(_carry_cast(carry_out, carry_p)))]))
        init = _tuple(*[self.adj(c.out) for c in carries], *[self.adj(x) for x in outer_accs])
        loop = call("lax.fori_loop", ast.Constant(0), name(count), name(adj_name), init)
        out.append(ir.Def(adj_fn, s.origin))
        out.append(ir.Unpack(tuple(carry_out), ir.Raw(loop), s.origin))
        self.leave_loop(out, s, carries)
        return fwd, out

    # ----- branches -----
    def branch(self, s: ir.If):
        outs = [(o, a, b) for o, a, b in s.outputs if self.act.is_active(o)]
        outer_accs = self.free_active([s])
        if not outs and not outer_accs:
            return s, []
        out: list = []
        for o, _, _ in outs:
            self.ensure(out, o, s.origin)
        for x in outer_accs:
            self.ensure(out, x, s.origin)
        if s.static:
            return self.static_branch(s, outs, outer_accs, out)
        return self.dynamic_branch(s, outs, outer_accs, out)

    def branch_side(self, stmts, outs, side, outer_accs):
        """(forward with tapes, backward) of one branch: its outputs' adjoints flow in first."""
        outer_scope = self.scope
        self.scope = Scope(outer_scope.initialized | {o for o, _, _ in outs} | set(outer_accs))
        head: list = []
        local = bound_deep(stmts, set())
        for o, a, b in outs:
            atom = a if side == 0 else b
            if isinstance(atom, ir.Name) and self.act.is_active(atom.id):
                if atom.id in local:
                    head.append(ir.Assign(self.adj(atom.id), ir.Raw(name(self.adj(o)))))
                    self.scope.initialized.add(atom.id)
                else:
                    self.accumulate(head, atom.id, name(self.adj(o)), None)
        fwd, bwd = self.block(stmts)
        if self.scope.status:
            raise self.error(None, "a data-dependent while loop inside an `if`",
                             "move the while loop out of the if")
        self.scope = outer_scope
        return fwd, head + bwd

    def static_branch(self, s, outs, outer_accs, out):
        then_fwd, then = self.branch_side(s.body, outs, 0, outer_accs)
        else_fwd, other = self.branch_side(s.orelse, outs, 1, outer_accs)
        if self.loop_depth or self.split_backward:
            # the backward runs in another function (an adjoint loop body, a callee's bwd_) where
            # the branch's own values are not in scope: the taken branch's forward runs again
            then, other = list(then_fwd) + then, list(else_fwd) + other
        out.append(ir.IfElse(s.test, tuple(then) or (ir.Comment("no adjoint on this branch"),),
                             tuple(other)))
        return replace(s, body=tuple(then_fwd), orelse=tuple(else_fwd)), out

    def dynamic_branch(self, s, outs, outer_accs, out):
        incoming = [self.adj(o) for o, _, _ in outs]
        returned = [self.adj(x) for x in outer_accs]
        functions = []
        for side, stmts, label in ((0, s.body, "then"), (1, s.orelse, "else")):
            self.cond_depth += 1
            recomputed, adjoint = self.branch_side(stmts, outs, side, outer_accs)
            self.cond_depth -= 1
            body = recomputed + adjoint  # the branch's forward runs again, then its adjoint
            fn_name = self.namer.fresh(f"{s.name}_{label}_adjoint")
            params = tuple(incoming + returned)
            functions.append(ir.Function(fn_name, params, tuple(body + [
                ir.Return(ir.Raw(_tuple(*returned)))])))
        for f in functions:
            out.append(ir.Def(f, s.origin))
        cond = ast.Call(func=parse_expr("lax.cond"),
                        args=[to_ast(s.test), name(functions[0].name), name(functions[1].name),
                              *[name(n) for n in incoming + returned]], keywords=[])
        if returned:
            out.append(ir.Unpack(tuple(returned), ir.Raw(cond), s.origin))
        return s, out

    # ----- calls of the user's functions -----
    def call(self, s: ir.CallFn):
        active_in = tuple(i for i, a in enumerate(s.args)
                          if isinstance(a, ir.Name) and self.act.is_active(a.id))
        active_out = tuple(i for i, t in enumerate(s.targets) if self.act.is_active(t))
        if not active_in or not active_out:
            return s, []
        callee = self.callees.by_name(s.callee)
        active_in = callee_active_params(callee, active_in, active_out)
        if not active_in:
            return s, []
        fwd_name, bwd_name = callee_vjp(self.callees, callee, active_in, active_out)
        residual = self.namer.fresh(f"{s.callee}_res")
        out: list = []
        for i in active_out:
            self.ensure(out, s.targets[i], s.origin)
        results = [self.namer.fresh(f"d_{s.args[i].id}") for i in active_in]
        backward = call(bwd_name, name(residual), *[name(self.adj(s.targets[i])) for i in active_out])
        out.append(ir.Unpack(tuple(results), ir.Raw(backward), s.origin))
        for i, r in zip(active_in, results):
            self.accumulate(out, s.args[i].id, name(r), s.origin)
        return replace(s, residual=residual, forward=fwd_name), out

    def vjp_functions(self, fwd_name: str, bwd_name: str, active_out):
        """A callee's forward (outputs and residual) and backward (argument gradients)."""
        fn = self.fn
        body, ret = fn.body[:-1], fn.body[-1]
        outs = list(ret.value.items) if isinstance(ret.value, ir.Tup) else [ret.value]
        incoming = []
        seeds: list = []
        for i in active_out:
            atom = outs[i]
            param = self.namer.fresh(f"b_out{i}" if len(outs) > 1 else "b_out")
            incoming.append(param)
            if isinstance(atom, ir.Name) and atom.id in self.act.varied:
                if atom.id in self.scope.initialized:
                    seeds.append(ir.Assign(self.adj(atom.id), ir.Raw(_add(self.adj(atom.id), name(param)))))
                else:
                    seeds.append(ir.Assign(self.adj(atom.id), ir.Raw(name(param))))
                    self.scope.initialized.add(atom.id)
        self.split_backward = True
        forward, backward = self.block(body)
        for w in self.wrt:
            self.ensure(backward, w)
        if self.scope.status:
            raise self.error(None, "a data-dependent while loop inside a called function",
                             "move the while loop into the differentiated function")
        read = names_read_deep(seeds + backward)
        candidates = list(fn.params) + _defined_in_order(forward)
        residual = [n for n in dict.fromkeys(candidates) if n in read]
        res_p = self.namer.fresh("res")
        fwd = ir.Function(fwd_name, fn.params, (
            ir.Section("forward", "forward: the primal computation", tuple(forward)),
            ir.Section("return", "the outputs, and the residual: the values the backward reads",
                       (ir.Return(ir.Raw(_tuple(*[to_ast(o) for o in outs], _tuple(*residual)))),))),
            doc=f"The forward of `{fn.name}`, for its gradient.")
        head = (ir.Unpack(tuple(residual), ir.Name(res_p)),) if residual else ()
        bwd = ir.Function(bwd_name, (res_p, *incoming), (
            ir.Section("seed", "the residual, and the gradients of the outputs, from the caller",
                       head + tuple(seeds)),
            ir.Section("backward", "backward: the adjoint of each line, last line first",
                       tuple(backward)),
            ir.Section("return", f"the gradients of {', '.join(self.wrt)}",
                       (ir.Return(ir.Raw(_tuple(*[self.adj(w) for w in self.wrt]))),))),
            doc=f"The backward of `{fn.name}`: the gradients of {', '.join(self.wrt)}.",
            temporaries=fn.temporaries, meta={"foldable": frozenset(
                self.adj(t) for t in fn.temporaries)})
        return fwd, bwd

    def error(self, origin, what, fix):
        return UnsupportedSyntaxError(f"{what} is not supported yet", filename=self.filename,
                                      line=origin.line if origin else 0,
                                      col=0, text=origin.text if origin else "", fix=fix)


def _carry_cast(names, carry_param: str) -> ast.expr:
    """The adjoint loop's next carry, in the dtypes of the carry it received: a float32 weight's
    accumulator stays float32 even when float64 values flow into it (as JAX's cotangents do)."""
    return call("cast_like", _tuple(*names), name(carry_param))


def _defined_in_order(stmts) -> list:
    return ir.defined_names(stmts)


def _callee_outputs(fn):
    ret = fn.body[-1].value
    return list(ret.items) if isinstance(ret, ir.Tup) else [ret]


def callee_active_params(callee, active_in, active_out) -> tuple:
    """The argument positions through which gradient flows inside the callee too."""
    from .activity import analyze

    fn = callee.function
    outs = _callee_outputs(fn)
    act = analyze(fn, [fn.params[i] for i in active_in], [outs[i] for i in active_out])
    return tuple(i for i in active_in if act.is_active(fn.params[i]))


def callee_vjp(callees, callee, active_in, active_out):
    """The (fwd, bwd) function names of a callee for these active arguments and outputs; made
    once per combination and added to the generated module."""
    key = (active_in, active_out)
    if key not in callee.vjps:
        from .activity import analyze

        fn = callee.function
        wrt = [fn.params[i] for i in active_in]
        outs = _callee_outputs(fn)
        activity = analyze(fn, wrt, [outs[i] for i in active_out])
        fwd_name = callees.module_namer.fresh(f"fwd_{callee.name}")
        bwd_name = callees.module_namer.fresh(f"bwd_{callee.name}")
        callee.vjps[key] = (fwd_name, bwd_name)
        reverser = Reverser(fn, wrt, activity, callee.namer, callee.parsed.filename, callees)
        fwd, bwd = reverser.vjp_functions(fwd_name, bwd_name, active_out)
        callees.functions.extend([fwd, bwd])
    return callee.vjps[key]


def reverse(fn: ir.Function, wrt, activity: Activity, namer: Namer, filename: str = "",
            callees=None) -> ir.Function:
    """The gradient function of a normal-form function (see the module docstring)."""
    return Reverser(fn, wrt, activity, namer, filename, callees).run()


def _product_factors(expr) -> list:
    """``a * b * c`` (left-nested, as Python parses it) as [a, b, c]; anything else as [expr]."""
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mult):
        return _product_factors(expr.left) + _product_factors(expr.right)
    return [expr]


def _product(factors):
    out = factors[0]
    for f in factors[1:]:
        out = ast.BinOp(left=out, op=ast.Mult(), right=f)
    return out


def _shape_only(saved, body_bwd) -> tuple:
    shape_only = read_for_shape_only(body_bwd)
    return tuple(n for n in saved if n in shape_only)


def _without_no_grad(stmts) -> list:
    """The statements with ``with no_grad():`` blocks spliced in (their values are plain values)."""
    out = []
    for s in stmts:
        out.extend(_without_no_grad(s.body) if isinstance(s, ir.NoGrad) else [s])
    return out
