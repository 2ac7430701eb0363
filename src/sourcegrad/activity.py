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

from dataclasses import dataclass

from . import ir, rules

__all__ = ["Activity", "analyze", "differentiable_args"]


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


def differentiable_args(value) -> list[tuple[str, object, str]]:
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


def _walk(stmts, no_grad=False):
    """Assignments in execution order, with whether they sit in a no_grad region."""
    for s in stmts:
        if isinstance(s, ir.NoGrad):
            yield from _walk(s.body, True)
        elif isinstance(s, (ir.Assign, ir.Unpack)):
            yield s, no_grad


def analyze(fn: ir.Function, wrt) -> Activity:
    varied = set(wrt)
    for s, no_grad in _walk(fn.body):
        if no_grad:
            continue
        if isinstance(s, ir.Assign):
            if any(a.id in varied for _, a, _ in differentiable_args(s.value)):
                varied.add(s.target)
        elif isinstance(s.value, ir.Name) and s.value.id in varied:
            varied.update(s.targets)

    ret = fn.body[-1]
    useful = {n for n in ir.names_read(ret.value)}
    for s, no_grad in reversed(list(_walk(fn.body))):
        if no_grad:
            continue
        if isinstance(s, ir.Assign):
            if s.target in useful:
                useful.update(a.id for _, a, _ in differentiable_args(s.value))
        elif any(t in useful for t in s.targets) and isinstance(s.value, ir.Name):
            useful.add(s.value.id)
    return Activity(frozenset(varied), frozenset(useful))
