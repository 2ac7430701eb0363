"""Activity analysis: which values need a gradient accumulator.

A value is *varied* if it depends, through differentiable operations, on a
``wrt`` input, and *useful* if the output depends on it the same way. Only
*active* values (varied and useful) get an accumulator and backward code.
PyTorch computes "varied" at run time as ``requires_grad`` ("an output needs a
gradient if any input does") and prunes the rest of the graph; here the pruning
is decided before anything runs, and the generated code shows it.

Values computed inside ``with no_grad():`` and by non-differentiable
primitives (comparisons, ``argmax``, ``stop_gradient``) are never varied.

The result is a side table (:class:`Activity`), not marks on the IR.
"""

from __future__ import annotations

import linecache
from dataclasses import dataclass

from .. import rules
from ..errors import UnsupportedSyntaxError
from ..normal import ir, walk

__all__ = ["Activity", "analyze", "differentiable_args", "check_static_slots"]


@dataclass(frozen=True)
class Activity:
    varied: frozenset
    useful: frozenset

    @property
    def active(self) -> frozenset:
        return self.varied & self.useful

    def is_active(self, name: str) -> bool:
        return name in self.varied and name in self.useful

    def why_inactive(self, name: str, wrt) -> str:
        if name not in self.varied:
            return f"is constant with respect to {', '.join(wrt)}"
        return "does not reach the output"


def differentiable_args(value) -> list[tuple[str, ir.Name, str]]:
    """(param, atom, kind) of each argument that a gradient can flow into."""
    if isinstance(value, ir.Name):
        return [("x", value, "array")]
    if isinstance(value, ir.Tup):
        return [(f"[{i}]", v, "array") for i, v in enumerate(value.items) if isinstance(v, ir.Name)]
    if not isinstance(value, ir.Prim):
        return []
    rule = rules.lookup_key(value.op)
    if not rule.differentiable:
        return []
    out = []
    for pname, arg in value.args:
        param = rule.param(pname)
        if param.kind == "array" and isinstance(arg, ir.Name):
            out.append((pname, arg, "array"))
        elif param.kind == "sequence" and isinstance(arg, ir.Tup):
            out.extend((pname, a, "sequence") for a in arg.items if isinstance(a, ir.Name))
    return out


def _varied(stmts, varied: set) -> None:
    for s in stmts:
        if isinstance(s, ir.Assign):
            if any(a.id in varied for _, a, _ in differentiable_args(s.value)):
                varied.add(s.target)
        elif isinstance(s, ir.Unpack):
            if isinstance(s.value, ir.Name) and s.value.id in varied:
                varied.update(ir._flat(s.targets))
        elif isinstance(s, (ir.For, ir.While)):
            if isinstance(s, ir.For):
                for t, it in zip(s.targets, s.iters):
                    if isinstance(it, ir.ArrayIter) and _is_varied(it.array, varied):
                        varied.add(t)
            while True:  # to a fixed point: iteration k's update is iteration k+1's param
                before = len(varied)
                for c in s.carry:
                    if _is_varied(c.init, varied) or c.update in varied:
                        varied.add(c.param)
                if isinstance(s, ir.While):
                    _varied(s.test_body, varied)
                _varied(s.body, varied)
                if len(varied) == before:
                    break
            for c in s.carry:
                if c.param in varied or c.update in varied:
                    varied.add(c.out)
        elif isinstance(s, ir.If):
            _varied(s.body, varied)
            _varied(s.orelse, varied)
            for out, a, b in s.outputs:
                if _is_varied(a, varied) or _is_varied(b, varied):
                    varied.add(out)
        elif isinstance(s, ir.CallFn):
            if any(_is_varied(a, varied) for a in s.args):
                varied.update(s.targets)
        # NoGrad: nothing computed inside is varied


def _useful(stmts, useful: set) -> None:
    for s in reversed(stmts):
        if isinstance(s, ir.Assign):
            if s.target in useful:
                useful.update(a.id for _, a, _ in differentiable_args(s.value))
        elif isinstance(s, ir.Unpack):
            if any(t in useful for t in ir._flat(s.targets)) and isinstance(s.value, ir.Name):
                useful.add(s.value.id)
        elif isinstance(s, (ir.For, ir.While)):
            for c in s.carry:
                if c.out in useful:
                    useful.add(c.update)
                    # a loop that runs no iteration (a range that is empty at run time, the rest
                    # of a loop whose first iteration is written out) hands its carry's initial
                    # value to the output, even when the body never reads the carry
                    if isinstance(c.init, ir.Name):
                        useful.add(c.init.id)
            while True:
                before = len(useful)
                _useful(s.body, useful)
                for c in s.carry:
                    if c.param in useful:
                        useful.add(c.update)
                        if isinstance(c.init, ir.Name):
                            useful.add(c.init.id)
                if isinstance(s, ir.For):
                    for t, it in zip(s.targets, s.iters):
                        if t in useful and isinstance(it, ir.ArrayIter) and isinstance(it.array, ir.Name):
                            useful.add(it.array.id)
                if len(useful) == before:
                    break
        elif isinstance(s, ir.If):
            for out, a, b in s.outputs:
                if out in useful:
                    useful.update(x.id for x in (a, b) if isinstance(x, ir.Name))
            _useful(s.body, useful)
            _useful(s.orelse, useful)
        elif isinstance(s, ir.CallFn):
            if any(t in useful for t in s.targets):
                useful.update(a.id for a in s.args if isinstance(a, ir.Name))


def _is_varied(atom, varied) -> bool:
    return isinstance(atom, ir.Name) and atom.id in varied


def analyze(fn: ir.Function, wrt, outputs=None) -> Activity:
    """Activity of ``fn``'s names for gradients with respect to ``wrt`` (names) of ``outputs``
    (atoms; default: everything the function returns)."""
    varied = set(wrt)
    _varied(fn.body, varied)
    if outputs is None:
        useful = set(ir.names_read(fn.body[-1].value))
    else:
        useful = {a.id for a in outputs if isinstance(a, ir.Name)}
    _useful(fn.body[:-1], useful)
    return Activity(frozenset(varied), frozenset(useful))


def _names_in(arg) -> list:
    if isinstance(arg, ir.Name):
        return [arg.id]
    if isinstance(arg, ir.Tup):
        return [n for a in arg.items for n in _names_in(a)]
    if isinstance(arg, ir.Index):
        return [n for a in arg.items for n in _names_in(a)]
    if isinstance(arg, ir.Slice):
        return [n for a in (arg.lower, arg.upper, arg.step) for n in _names_in(a)]
    return []


def check_static_slots(fn: ir.Function, activity: Activity, filename: str) -> None:
    """Refuse a differentiated value in an argument that a rule takes as a constant.

    A rule's ``static`` parameters (an axis, a shape, ``arange``'s bounds) must be Python values
    while JAX traces, and no gradient flows through them: a value that depends on a ``wrt`` input
    there would get a silently zero gradient, or end in JAX's concretization error (even where the
    result does not reach the output: the forward runs it). So it is a located error naming the
    argument. (``nondiff`` and
    ``index`` parameters are not refused: there the derivative is zero by definition, as for the
    condition of ``where``, the argument of ``sign`` or ``argmax``, or an integer index.)
    """
    for s in walk.statements(fn.body):
        if not (isinstance(s, ir.Assign) and isinstance(s.value, ir.Prim)):
            continue
        rule = rules.lookup_key(s.value.op)
        for pname, arg in s.value.args:
            param = rule.param(pname)
            if param is None or param.kind != "static":
                continue
            varied = [n for n in _names_in(arg) if n in activity.varied]
            if varied:
                raise _static_error(s, rule, pname, filename)


def _static_error(s: ir.Assign, rule, pname: str, filename: str) -> UnsupportedSyntaxError:
    callee = (rule.callee or rule.key).split(".")[-1]
    line = s.origin.line if s.origin else 0
    text = linecache.getline(filename, line).rstrip("\n") if line else ""
    if not text.strip():
        text = s.origin.text if s.origin else ""
    col = text.find(callee + "(")
    col = max(col, 0) if col >= 0 else len(text) - len(text.lstrip())
    return UnsupportedSyntaxError(
        f"the argument `{pname}` of `{callee}` depends on a differentiated input, but "
        f"`{callee}` takes `{pname}` as a constant (a Python value while tracing, with no "
        f"gradient): the gradient through it would be lost",
        filename=filename,
        line=line,
        col=col,
        end_col=col + len(callee),
        text=text,
        fix=f"pass a value that does not depend on the differentiated inputs as `{pname}`, and "
        f"compute the differentiated part outside the call (e.g. `x + np.arange(n)` instead "
        f"of `np.arange(x, x + n)`)",
    )
