"""The driver of forward mode: a user's function in, a loaded tangent module out.

The same stages as ``pipeline.py`` up to the activity analysis, then the sibling pass::

    parse, fence, desugar, normalize, activity   (shared with reverse mode)
    forward    primal -> tangent function         (ad/forward/)
    simplify   constant folding for the reader    (ad/simplify.py, the same rewrites)
    lower      For/While/If -> lax.scan/while_loop/cond
    emit       IR -> source text + source map, loaded

``SOURCEGRAD_DEBUG=1`` prints the source after every stage, as for reverse mode.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from functools import cached_property
from types import SimpleNamespace

from . import runtime
from ._version import __version__
from .ad.activity import Activity, analyze
from .ad.forward import forward
from .ad.reverse.statements import residual_read
from .ad.simplify import simplify
from .backend import emit
from .backend.lower import lower_function
from .frontend import fence
from .frontend.desugar import desugar
from .frontend.parse import ParsedFunction, parse_function
from .frontend.resolve import Environment
from .normal import ir
from .normal.calls import CalleeTable
from .normal.naming import Namer, identifiers_in
from .normal.normalize import normalize
from .normal.structs import leaves
from .pipeline import _rule_objects, module_reads

__all__ = ["ForwardTransformed", "transform_forward", "FORWARD_STAGES"]

FORWARD_STAGES = ("source", "normalized", "activity", "tangent")

UNBOUNDED = 2**31 - 1  # the "bound" of a while loop in forward mode: never used as a tape length


@dataclass
class ForwardTransformed:
    """Everything forward mode produced for one function and one choice of ``wrt``."""

    parsed: ParsedFunction
    wrt: tuple
    normal: ir.Function
    primal: ir.Function
    activity: Activity
    tangent: ir.Function  # the tangent function, before lowering (loops are For nodes)
    lowered: ir.Function
    source: str
    source_map: emit.SourceMap
    filename: str
    namespace: dict = field(repr=False)
    module_reads: tuple = field(default=(), repr=False)  # as Transformed's: checked at each call
    # np.linalg.lstsq's residuals are read (here or in a callee): NumPy's may be an empty array,
    # which the gradient's rank check finds (JVPFunction runs it; see GradFunction._rank_check)
    reads_residuals: bool = False

    @property
    def jvp_fn(self):
        return self.namespace[self.lowered.name]

    grad_fn = jvp_fn  # what GradFunction's jit cache calls

    @property
    def primal_fn(self):
        return self.namespace[self.primal.name]

    @property
    def output_is_tuple(self) -> bool:
        return bool(self.tangent.meta.get("output_is_tuple"))

    @property
    def gradient(self) -> ir.Function:
        return self.lowered

    @cached_property
    def stages(self) -> dict:
        act = self.activity

        def note(s):
            if isinstance(s, ir.Assign):
                return (
                    "active"
                    if act.is_active(s.target)
                    else f"inactive: {act.why_inactive(s.target, self.wrt)}"
                )
            return None

        return {
            "source": "".join(self.parsed.lines),
            "normalized": emit.format_function(self.primal),
            "activity": emit.format_function(self.primal, annotate=note),
            "tangent": self.source,
        }


def transform_forward(
    fn, wrt, *, param_kinds=None, max_iter: int | None = None, **_ignored
) -> ForwardTransformed:
    """Transform ``fn`` into its tangent function along the parameters named in ``wrt``."""
    parsed = parse_function(fn)
    fence.check(parsed)
    identifiers = identifiers_in(parsed.node)
    parsed = desugar(parsed, identifiers)
    env = Environment.of(fn)
    namer = Namer(identifiers)
    module_namer = Namer()
    module_namer.reserve(parsed.name, f"jvp_{parsed.name}", *runtime.__all__)
    # forward mode keeps no tape, so a data-dependent while loop needs no bound: the normal form
    # records one (unused: the loop lowers to a plain lax.while_loop) so normalize does not ask
    max_iter = max_iter or UNBOUNDED
    callees = CalleeTable(module_namer, max_iter)
    callees.enter(fn, None)
    normal = normalize(parsed, env, namer, param_kinds, max_iter, callees, None)
    inputs = normal.meta["inputs"]
    activity = analyze(normal, [leaf.id for w in wrt for leaf in leaves(inputs[w])])
    tangent = forward(normal, wrt, activity, namer, parsed.filename, callees)
    lowered = lower_function(simplify(tangent), namer)
    primal = lower_function(normal, namer)
    helpers = [lower_function(c.guarded(c.function), c.namer) for c in callees.entries.values()]
    helpers += [lower_function(simplify(f), module_namer) for f in callees.functions]
    user_globals: dict = {}
    for f in [normal] + [c.function for c in callees.entries.values()]:
        user_globals.update(f.meta.get("globals", {}))
        user_globals.update(_rule_objects(f))
    first = parsed.first_line
    module = ir.Module(
        header=(
            f"Generated by sourcegrad {__version__} from `{normal.name}` "
            f"({os.path.basename(parsed.filename)}, line {first}): its tangent (forward mode) "
            f"along {', '.join(wrt)}.",
            f"This is the code that runs (compiled with jax.jit). Do not edit it; "
            f"change `{normal.name}` instead.",
        ),
        imports=(),
        functions=(*helpers, primal, lowered),
        user_globals=user_globals,
        source_name=normal.name,
    )
    source, smap = emit.format_module(module)
    filename = f"<sourcegrad: jvp of {normal.name} from {os.path.basename(parsed.filename)}:{first}>"
    namespace = emit.load(source, filename, user_globals, f"sourcegrad.generated.jvp_{normal.name}")
    out = ForwardTransformed(
        parsed,
        tuple(wrt),
        normal,
        primal,
        activity,
        tangent,
        lowered,
        source,
        smap,
        filename,
        namespace,
        module_reads(fn, normal, callees),
        residual_read(SimpleNamespace(callees=callees), normal.body),
    )
    if os.environ.get("SOURCEGRAD_DEBUG"):
        for stage in FORWARD_STAGES:
            print(f"===== sourcegrad stage: {stage} ({normal.name}) =====", file=sys.stderr)
            print(out.stages[stage], file=sys.stderr)
    return out
