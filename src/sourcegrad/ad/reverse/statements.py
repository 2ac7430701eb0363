"""The adjoint of straight-line statements: each active argument of a primitive gets one
contribution ``b_x = b_x + ...`` from the rule's template; inside a loop, a contribution's local
partial moves to the forward sweep; a broadcasting argument's contribution is summed back to its
shape (``unbroadcast``)."""

from __future__ import annotations

import ast

from ... import rules
from ...normal import ir
from ...normal.astutil import call, name, walk
from ...normal.pyexpr import bound_args, instantiate, to_ast
from ...normal.walk import names_read_deep
from ...normal.walk import statements as walk_statements

__all__ = ["statement", "residual_read"]


def statement(ctx, s):
    """(the statement as the forward runs it, its backward statements) for a statement with no
    nested block: an assignment, an unpacking, a comment."""
    out: list = []
    if isinstance(s, ir.Unpack):
        if any(ctx.act.is_active(t) for t in ir._flat(s.targets)):
            raise ctx.error(
                s.origin,
                "unpacking a tuple of differentiable arrays from one value",
                "unpack a tuple display (a, b = x, y) or index the arrays",
            )
    elif isinstance(s, ir.Assign) and ctx.act.is_active(s.target):
        assignment(ctx, s, out)
    if isinstance(s, ir.Assign) and isinstance(s.value, ir.Prim) and s.value.op in RANK_CHECKED:
        rank_check(ctx, s)
    return s, out


# lstsq's residuals: NumPy's are an empty array when a (more rows than columns) has a lower rank,
# a shape known only from the values; sourcegrad's are NaN then, and reading them is checked
RANK_CHECKED = {"lstsq_numpy.residuals"}


def residual_read(ctx, stmts, read=None, seen=()) -> bool:
    """Whether ``stmts`` (deep, and the functions they call) compute lstsq residuals that are
    read (``read``: the names read where they are visible; by default, those ``stmts`` read)."""
    read = names_read_deep(stmts) if read is None else read
    for st in walk_statements(stmts):
        if isinstance(st, ir.Assign) and isinstance(st.value, ir.Prim) and st.value.op in RANK_CHECKED:
            if st.target in read:
                return True
        elif isinstance(st, ir.CallFn) and st.callee not in seen:
            callee = ctx.callees.by_name(st.callee).function
            if residual_read(ctx, callee.body, None, (*seen, st.callee)):
                return True
    return False


def rank_check(ctx, s: ir.Assign) -> None:
    """If the residuals are read: a forward line right after them, ``res_rank_low =
    lstsq_rank_low(a, rcond)``, a status flag the caller checks after the call (a located
    error where it is set, as for a while loop's tape overflow)."""
    if s.target not in ctx.names_read:
        return
    flag = ctx.namer.fresh(f"{s.target}_rank_low")
    prim = s.value
    assert isinstance(prim, ir.Prim)
    a, rcond = to_ast(prim.arg("a")), to_ast(prim.arg("rcond"))
    call_ = ast.Call(func=name("lstsq_rank_low"), args=[a], keywords=[ast.keyword("rcond", rcond)])
    ctx.hoisted.append(ir.Assign(flag, ir.Raw(call_), s.origin))
    ctx.scope.status.append(flag)
    ctx.residual_flags.add(flag)
    ctx.residual_origins.append(s.origin)


def assignment(ctx, s: ir.Assign, out):
    g = name(ctx.adj(s.target))
    value = s.value
    if isinstance(value, ir.Name):
        if ctx.act.is_active(value.id):
            ctx.accumulate(out, value.id, g, s.origin)
        return
    if isinstance(value, ir.Tup):
        raise ctx.error(
            s.origin,
            "a tuple holding differentiable arrays assigned to a name",
            "keep the arrays in separate variables",
        )
    if not isinstance(value, ir.Prim):
        return
    rule = rules.lookup_key(value.op)
    if not rule.differentiable:
        return
    mapping = bound_args(value, rule)
    mapping.update(g=g, ans=name(s.target))
    for pname, arg in value.args:
        template = rule.adjoints.get(pname)
        if template is None:
            continue
        if rule.param(pname).kind == "sequence":
            for position, item in enumerate(arg.items):
                if isinstance(item, ir.Name) and ctx.act.is_active(item.id):
                    contribute(
                        ctx,
                        out,
                        rule,
                        value,
                        pname,
                        item,
                        template,
                        dict(mapping, position=ast.Constant(position)),
                        s.origin,
                    )
        elif isinstance(arg, ir.Name) and ctx.act.is_active(arg.id):
            contribute(ctx, out, rule, value, pname, arg, template, mapping, s.origin)


def contribute(ctx, out, rule, prim, pname, arg, template, mapping, origin):
    replaces = _updates_acc(template)
    if replaces:
        ctx.ensure(out, arg.id, origin)
    expr = instantiate(template, dict(mapping, acc=name(ctx.adj(arg.id))))
    if ctx.loop_depth and not replaces:
        expr = hoist_partial(ctx, expr, mapping["g"].id, mapping["ans"].id, arg.id, origin)
    if rule.broadcast and may_broadcast(rule, prim, pname):
        expr = call("unbroadcast", expr, name(arg.id))
    ctx.accumulate(out, arg.id, expr, origin, replaces=replaces)


_UPDATES_ACC: dict = {}  # id(template) -> (template, does it read `acc`): rules' templates live on


def _updates_acc(template) -> bool:
    """Does the adjoint template update the accumulator itself (it reads ``acc``)?"""
    hit = _UPDATES_ACC.get(id(template))
    if hit is None or hit[0] is not template:
        found = any(isinstance(n, ast.Name) and n.id == "acc" for n in walk(template))
        hit = _UPDATES_ACC[id(template)] = (template, found)
    return hit[1]


def hoist_partial(ctx, expr, g: str, ans: str, arg: str, origin):
    """``g * P`` with ``P`` free of adjoints: compute ``P`` (the local partial) in the forward
    sweep, where XLA fuses it with the value it differentiates, and save it instead of what
    it reads. Measured (shared/notes/loop-adjoints.md): this closes most of the gap to
    jax.grad, at the price of tape memory when P is larger than its inputs."""
    sign, other = None, None
    factors = _product_factors(expr)
    for k, side in enumerate(factors):
        core = side.operand if isinstance(side, ast.UnaryOp) and isinstance(side.op, ast.USub) else side
        if isinstance(core, ast.Name) and core.id == g:
            sign, rest = side is not core, factors[:k] + factors[k + 1 :]
            other = rest[0] if len(rest) == 1 else _product(rest) if rest else None
            break
    if other is None or isinstance(other, (ast.Name, ast.Constant)):
        return expr
    reads = {n.id for n in walk(other) if isinstance(n, ast.Name)}
    if not reads or reads & set(ctx.namer.adjoint_names()) or g in reads:
        return expr  # a constant factor, or one that reads adjoints: nothing to hoist
    if ctx.loop_locals and not reads & ctx.loop_locals[-1]:
        return expr  # reads only the loop index and outer values: free to compute backward,
        #              while a hoisted partial would add a row to the tape every iteration
    partial = ctx.namer.fresh(f"d{ans}_d{arg}")
    ctx.hoisted.append(ir.Assign(partial, ir.Raw(other), origin))
    factor = ast.UnaryOp(op=ast.USub(), operand=name(g)) if sign else name(g)
    return ast.BinOp(left=factor, op=ast.Mult(), right=name(partial))


def may_broadcast(rule, prim, pname) -> bool:
    """False when every other array argument is a scalar constant (3 * x has x's shape)."""
    for other, arg in prim.args:
        if other == pname or rule.param(other).kind not in ("array", "nondiff"):
            continue
        if not (isinstance(arg, ir.Const) and isinstance(arg.value, (int, float, complex))):
            return True
    return False


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
