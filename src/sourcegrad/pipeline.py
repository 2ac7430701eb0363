"""The driver: a user's function in, a loaded gradient module out. Reads like a table of contents.

    parse      source text -> ast                        frontend/parse.py
    fence      reject what is outside the subset         frontend/fence.py
    desugar    remove early return, break, continue      frontend/desugar.py
    normalize  ast -> normal form, one op per line       normal/normalize/
    activity   which values need accumulators            ad/activity.py
    reverse    primal -> gradient function               ad/reverse/
    simplify   small rewrites for the reader             ad/simplify.py
    lower      For/While/If -> lax.scan/while_loop/cond  backend/lower.py
    emit       IR -> source text + source map, loaded    backend/emit.py

Set the environment variable ``SOURCEGRAD_DEBUG=1`` to print the source after
every stage; ``Transformed.stages`` holds the same texts.
"""

from __future__ import annotations

import gc
import os
import sys
from dataclasses import dataclass, field, replace
from functools import cached_property

from . import rules, runtime
from ._version import __version__
from .ad.activity import Activity, analyze, check_static_slots
from .ad.reverse import reverse
from .ad.simplify import simplify
from .backend import emit
from .backend.lower import across_devices, lower_function
from .frontend import fence
from .frontend.desugar import desugar
from .frontend.parse import ParsedFunction, parse_function
from .frontend.resolve import Environment
from .normal import ir, walk
from .normal.calls import CalleeTable
from .normal.naming import Namer, identifiers_in
from .normal.normalize import normalize
from .normal.structs import leaves

__all__ = ["Transformed", "transform", "STAGES"]

STAGES = ("source", "normalized", "activity", "reversed", "simplified")


@dataclass
class Transformed:
    """Everything the transform produced for one function and one choice of ``wrt``."""

    parsed: ParsedFunction
    wrt: tuple
    normal: ir.Function  # the primal in normal form, before lowering (loops are For nodes)
    wrt_leaves: tuple  # the IR names of the differentiated inputs (container leaves)
    primal: ir.Function
    activity: Activity
    reversed: ir.Function
    gradient: ir.Function
    source: str
    source_map: emit.SourceMap
    filename: str
    namespace: dict = field(repr=False)
    namespace_globals: dict = field(default_factory=dict, repr=False)  # what the user's module lends
    module_reads: tuple = field(default=(), repr=False)  # (function, name, value) read from modules

    @property
    def grad_fn(self):
        return self.namespace[self.gradient.name]

    @property
    def primal_fn(self):
        return self.namespace[self.primal.name]

    @property
    def output_is_tuple(self) -> bool:
        return bool(self.gradient.meta.get("output_is_tuple"))

    @cached_property
    def stages(self) -> dict:
        """The source after each stage, keyed by STAGES."""
        act = self.activity

        def note(s):
            if isinstance(s, ir.Assign):
                if act.is_active(s.target):
                    return "active"
                return f"inactive: {act.why_inactive(s.target, self.wrt)}"
            return None

        return {
            "source": "".join(self.parsed.lines),
            "normalized": emit.format_function(self.primal),
            "activity": emit.format_function(self.primal, annotate=note),
            "reversed": emit.format_function(self.reversed),
            "simplified": self.source,
        }


def transform(fn, wrt, **options) -> Transformed:
    """Transform ``fn`` into its gradient (see ``_transform`` for the options).

    Python's cyclic garbage collector is paused meanwhile: a long function makes hundreds of
    thousands of short-lived AST nodes, and its repeated full scans made transform time grow
    faster than the function (measured: 1.17 ms per line at 5000 lines with it, 0.66 without).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _transform(fn, wrt, **options)
    finally:
        if was_enabled:
            gc.enable()


def _transform(
    fn,
    wrt,
    *,
    param_kinds=None,
    max_iter: int | None = None,
    checkpoint=None,
    while_checkpoints: int | None = None,
    axis_name=None,
    axis_reduce: str = "psum",
    parsed: ParsedFunction | None = None,
    env: Environment | None = None,
) -> Transformed:
    """Transform ``fn`` into its gradient with respect to the parameters named in ``wrt``.

    ``param_kinds``: parameter -> "static" (a Python constant while JAX traces: an
    ``if mode == "train"`` on it is a Python ``if``, ``range(n)`` a loop of known
    length), "array", or a container layout (``structs.kind_of``). ``max_iter``: the
    default tape length of data-dependent while loops. ``checkpoint``: "sqrt" (or a segment
    length) to recompute the tapes of top-level for loops segment by segment instead of storing
    them whole. ``while_checkpoints``: the checkpoint slots of data-dependent while loops
    without ``max_iter`` (``runtime.WHILE_CHECKPOINTS`` by default). ``axis_name``: a mesh axis
    name (or a tuple of them) to run the gradient inside ``jax.shard_map``: the accumulators and the
    value are reduced across its devices by ``lax.psum`` (``axis_reduce="pmean"``: ``lax.pmean``)
    before the return (``backend/lower.py``, ``across_devices``).
    """
    parsed = parsed or parse_function(fn)
    fence.check(parsed)
    identifiers = identifiers_in(parsed.node)
    parsed = desugar(parsed, identifiers)
    env = env or Environment.of(fn)
    namer = Namer(identifiers)
    module_namer = Namer()  # the generated module's function names
    module_namer.reserve(parsed.name, f"grad_{parsed.name}", *runtime.__all__)
    callees = CalleeTable(module_namer, max_iter)
    callees.enter(fn, None)
    primal = normalize(parsed, env, namer, param_kinds, max_iter, callees, checkpoint)
    if while_checkpoints is not None:
        if int(while_checkpoints) < 4:
            raise ValueError(f"while_checkpoints={while_checkpoints}: give at least 4 slots")
        primal = replace(primal, body=_while_slots(primal.body, int(while_checkpoints)))
    inputs = primal.meta["inputs"]
    activity = analyze(primal, [leaf.id for w in wrt for leaf in leaves(inputs[w])])
    check_static_slots(primal, activity, parsed.filename)
    reversed_ = reverse(primal, wrt, activity, namer, parsed.filename, callees)
    gradient = lower_function(simplify(reversed_), namer)
    if axis_name is not None:
        gradient = across_devices(gradient, axis_name, axis_reduce)
    reversed_ = lower_function(reversed_, namer)
    primal_lowered = lower_function(primal, namer)
    helpers = [lower_function(c.guarded(c.function), c.namer) for c in callees.entries.values()]
    helpers += [lower_function(simplify(f), module_namer) for f in callees.functions]
    user_globals = {}
    for f in [primal] + [c.function for c in callees.entries.values()]:
        user_globals.update(f.meta.get("globals", {}))
        user_globals.update(_rule_objects(f))
    first = parsed.first_line
    module = ir.Module(
        header=(
            f"Generated by sourcegrad {__version__} from `{primal.name}` "
            f"({os.path.basename(parsed.filename)}, line {first}): its gradient with "
            f"respect to {', '.join(wrt)}.",
            f"This is the code that runs (compiled with jax.jit). Do not edit it; "
            f"change `{primal.name}` instead.",
            *_shard_map_note(axis_name, axis_reduce),
        ),
        imports=(),
        functions=(*helpers, primal_lowered, gradient),
        user_globals=user_globals,
        source_name=primal.name,
    )
    source, smap = emit.format_module(module)
    filename = emit.generated_filename(primal.name, parsed.filename, first)
    namespace = emit.load(source, filename, user_globals, f"sourcegrad.generated.{primal.name}")
    wrt_leaves = tuple(leaf.id for w in wrt for leaf in leaves(inputs[w]))
    used = emit.used_names(module, source) if user_globals else set()
    out = Transformed(
        parsed,
        tuple(wrt),
        primal,
        wrt_leaves,
        primal_lowered,
        activity,
        reversed_,
        gradient,
        source,
        smap,
        filename,
        namespace,
        {k: v for k, v in user_globals.items() if k in used},
        module_reads(fn, primal, callees),
    )
    emit.release_with(out, filename)
    if os.environ.get("SOURCEGRAD_DEBUG"):
        for stage in STAGES:
            print(f"===== sourcegrad stage: {stage} ({primal.name}) =====", file=sys.stderr)
            print(out.stages[stage], file=sys.stderr)
    return out


def _shard_map_note(axis_name, reduce: str) -> tuple:
    """The header's line for a gradient made with ``axis_name``: where it runs, what it returns."""
    if axis_name is None:
        return ()
    axes = (axis_name,) if isinstance(axis_name, str) else tuple(axis_name)
    how = "sum" if reduce == "psum" else "mean"
    return (
        f"Call it inside jax.shard_map over the mesh {'axis' if len(axes) == 1 else 'axes'} "
        f"{', '.join(repr(a) for a in axes)}, each "
        f"device on its shard of the batch: it returns the {how} over the devices (lax.{reduce}) of "
        f"the value and of the gradients of each shard.",
    )


def module_reads(fn, primal: ir.Function, callees: CalleeTable) -> tuple:
    """The values the functions read from their modules (or closures), with the function whose
    names they are: a call checks that they have not changed since (api.py)."""
    reads = [(fn, name, value) for name, value in primal.meta.get("globals", {}).items()]
    for key, callee in callees.entries.items():
        owner = key[0] if callable(key[0]) else fn  # a nested def reads through its enclosing one
        reads += [(owner, name, value) for name, value in callee.function.meta.get("globals", {}).items()]
    return tuple(reads)


def _while_slots(stmts, slots: int) -> tuple:
    """grad(while_checkpoints=...) for the while loops without a pragma of their own."""
    out = []
    for s in stmts:
        if isinstance(s, ir.While) and s.checkpoints is None:
            s = replace(s, checkpoints=slots)
        out.append(walk.map_blocks(s, lambda block: _while_slots(block, slots)))
    return tuple(out)


def _rule_objects(fn: ir.Function) -> dict:
    """User-registered functions (and their helpers) that the generated code calls by name."""
    out = {}
    for s in walk.statements(fn.body):
        if isinstance(s, ir.Assign) and isinstance(s.value, ir.Prim):
            rule = rules.lookup_key(s.value.op)
            if rule.user_object is not None:
                assert rule.callee is not None  # a user-registered rule always has its callee
                out[rule.callee.split(".")[0]] = rule.user_object
                out.update(rule.helpers)
    return out
