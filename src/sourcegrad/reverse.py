"""Reverse: the normal-form primal -> the gradient function, with explicit accumulators.

The gradient function has five sections, in this order:

1. ``forward``  the primal statements, unchanged (single assignment keeps every
   intermediate value alive for the backward pass);
2. ``zero``     the accumulators of the ``wrt`` inputs: zeros, or the caller's
   accumulators when it passes ``acc`` (accumulation across calls);
3. ``seed``     the output's accumulator starts as the seed;
4. ``backward`` for each primal statement, last first, one ``b_x = b_x + ...``
   per active argument (fan-out shows as several contributions), from the
   rule's template; the accumulator of a non-input is zeroed just before its
   first contribution;
5. ``return``   the primal value and the input gradients.

Activity (``activity.py``) decides which statements get backward code; user
lines that get none are listed as comments saying why.
"""

from __future__ import annotations

import ast
from itertools import groupby

from . import ir, rules
from .activity import Activity
from .errors import UnsupportedSyntaxError
from .naming import Namer
from .templates import bound_args, call, instantiate, name, parse_expr, to_ast

__all__ = ["reverse"]


def _mentions(template: ast.expr, ident: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == ident for n in ast.walk(template))


def _add(acc: str, expr: ast.expr) -> ast.expr:
    return ast.BinOp(left=name(acc), op=ast.Add(), right=expr)


class Reverser:
    def __init__(self, fn: ir.Function, wrt, activity: Activity, namer: Namer, filename: str):
        self.fn = fn
        self.wrt = tuple(wrt)
        self.act = activity
        self.namer = namer
        self.filename = filename
        self.initialized: set[str] = set()

    # ----- accumulators -----
    def adj(self, primal: str) -> str:
        return self.namer.adjoint(primal)

    def accumulate(self, out: list, x: str, expr: ast.expr, origin, replaces: bool = False):
        """``b_x = b_x + expr`` (or ``b_x = expr`` when the template updates ``acc`` itself)."""
        b = self.adj(x)
        if x not in self.initialized:
            out.append(ir.Assign(b, ir.Raw(call("jnp.zeros_like", name(x))), origin))
            self.initialized.add(x)
        out.append(ir.Assign(b, ir.Raw(expr if replaces else _add(b, expr)), origin))

    # ----- the pass -----
    def run(self) -> ir.Function:
        fn = self.fn
        seed = self.namer.fresh("seed")
        acc = self.namer.fresh("acc")
        forward, ret = fn.body[:-1], fn.body[-1]
        sections = [ir.Section("forward", "forward: the primal computation, one operation per line",
                               tuple(forward))]

        zero = ir.IfElse(
            ir.Raw(parse_expr(f"{acc} is None")),
            tuple(ir.Assign(self.adj(w), ir.Raw(call("jnp.zeros_like", name(w)))) for w in self.wrt),
            (ir.Unpack(tuple(self.adj(w) for w in self.wrt), ir.Name(acc)),))
        self.initialized.update(self.wrt)
        sections.append(ir.Section(
            "zero", f"the inputs' gradient accumulators: zero for a fresh gradient, or the "
                    f"caller's `{acc}` to add to (as PyTorch's .grad across backward() calls)",
            (zero,)))

        sections.append(ir.Section("seed", self.seed_title(ret), tuple(self.seed(ret, seed))))
        sections.append(ir.Section("backward", "backward: the adjoint of each line, last line first",
                                   tuple(self.backward(forward))))
        grads = ir.Raw(call("cast_like",
                            ast.Tuple(elts=[name(self.adj(w)) for w in self.wrt], ctx=ast.Load()),
                            ast.Tuple(elts=[name(w) for w in self.wrt], ctx=ast.Load())))
        value = to_ast(ret.value)
        sections.append(ir.Section("return", "the primal value and the gradients, in the inputs' dtypes",
                                   (ir.Return(ir.Raw(ast.Tuple(elts=[value, grads.expr], ctx=ast.Load()))),)))
        meta = dict(fn.meta)
        meta.update(foldable=frozenset(self.adj(t) for t in fn.temporaries if t in self.initialized),
                    seed=seed, acc=acc, output_is_tuple=isinstance(ret.value, ir.Tup))
        return ir.Function(f"grad_{fn.name}", fn.params + (seed, acc), tuple(sections),
                           doc=self.docstring(seed, acc), defaults=((seed, "None"), (acc, "None")),
                           globals_used=fn.globals_used, temporaries=fn.temporaries, meta=meta)

    def docstring(self, seed, acc) -> str:
        ins = ", ".join(self.wrt)
        return (f"The gradient of `{self.fn.name}` with respect to {ins}.\n\n"
                f"Returns ({self.fn.name}(...), (gradients of {ins})). `{seed}`: the output's "
                f"gradient (required unless the output is a scalar). `{acc}`: gradients to add to.")

    def seed_title(self, ret) -> str:
        return ("seed: d(output)/d(output), 1 for a scalar output, else the caller's seed "
                "(PyTorch's backward(gradient))")

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
            if item.id in self.initialized:
                out.append(ir.Assign(self.adj(item.id), ir.Raw(_add(self.adj(item.id), expr)), ret.origin))
            else:
                out.append(ir.Assign(self.adj(item.id), ir.Raw(expr), ret.origin))
                self.initialized.add(item.id)
        if not out:
            out.append(ir.Comment(f"the output does not depend on {', '.join(self.wrt)}: "
                                  f"its gradient is zero"))
        return out

    def backward(self, stmts) -> list:
        out: list = []
        # group consecutive statements by the user line they came from
        groups = [(origin, list(g)) for origin, g in groupby(stmts, key=lambda s: s.origin)]
        for origin, group in reversed(groups):
            if any(isinstance(s, ir.NoGrad) for s in group):
                for s in group:
                    out.append(ir.Comment(
                        f"line {s.origin.line}: `{s.origin.text}` block: constants (no_grad), "
                        f"no adjoint"))
                continue
            block: list = []
            for s in reversed(group):
                self.statement(s, block)
            if block:
                out.extend(block)
            elif origin is not None:
                out.append(ir.Comment(self.pruned(origin, group)))
        return out

    def pruned(self, origin, group) -> str:
        user = [t for s in group for t in (s.targets if isinstance(s, ir.Unpack) else (s.target,))
                if t not in self.fn.temporaries]
        target = user[-1] if user else group[-1].target
        why = self.act.why_inactive(target, self.wrt)
        last = group[-1]
        if isinstance(last, ir.Assign) and isinstance(last.value, ir.Prim) \
                and not rules.lookup_key(last.value.op).differentiable:
            why = f"comes from {last.value.op}(), which passes no gradient"
        return f"line {origin.line}: {origin.text}  -- no adjoint: `{target}` {why}"

    def statement(self, s, out):
        if isinstance(s, ir.Unpack):
            if any(self.act.is_active(t) for t in s.targets):
                raise self.error(s.origin, "unpacking a tuple of differentiable arrays from one value",
                                 "unpack a tuple display (a, b = x, y) or index the arrays")
            return
        if not isinstance(s, ir.Assign) or not self.act.is_active(s.target):
            return
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
        if replaces and arg.id not in self.initialized:
            out.append(ir.Assign(self.adj(arg.id), ir.Raw(call("jnp.zeros_like", name(arg.id))), origin))
            self.initialized.add(arg.id)
        expr = instantiate(template, dict(mapping, acc=name(self.adj(arg.id))))
        if rule.broadcast and self.may_broadcast(rule, prim, pname):
            expr = call("unbroadcast", expr, name(arg.id))
        self.accumulate(out, arg.id, expr, origin, replaces=replaces)

    @staticmethod
    def may_broadcast(rule, prim, pname) -> bool:
        """False when every other array argument is a scalar constant (3 * x has x's shape)."""
        for other, arg in prim.args:
            if other == pname or rule.param(other).kind not in ("array", "nondiff"):
                continue
            if not (isinstance(arg, ir.Const) and isinstance(arg.value, (int, float, complex))):
                return True
        return False

    def error(self, origin, what, fix):
        return UnsupportedSyntaxError(f"{what} is not supported yet", filename=self.filename,
                                      line=origin.line if origin else 0,
                                      col=0, text=origin.text if origin else "", fix=fix)


def reverse(fn: ir.Function, wrt, activity: Activity, namer: Namer, filename: str = "") -> ir.Function:
    """The gradient function of a normal-form function (see the module docstring)."""
    return Reverser(fn, wrt, activity, namer, filename).run()
