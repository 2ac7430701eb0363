"""Calls to the user's own functions: each callee is transformed too, with its own adjoint.

A call ``h = layer(x, W)`` inside a differentiated function makes ``layer`` a
*callee*: it is parsed, fenced and normalized like the top-level function
(specialized to the kinds of its arguments at that call site, with container
arguments passed as their leaves), and the generated module gets

* ``layer(x, W)``            its normal-form primal,
* ``fwd_layer(x, W)``        its forward: the outputs and a *residual*, the values
                             its backward reads (``jax.vjp`` keeps the same
                             thing opaque; here it is a tuple you can read),
* ``bwd_layer(res, b_h)``    its backward: the gradients of the arguments that
                             were active at the call site.

The caller's backward calls ``bwd_layer`` and adds each result to the
caller's accumulators. Nested ``def``s that read enclosing variables are lifted:
the variables they read become extra arguments, with their values at the call.

A callee that calls itself (directly, or through other callees) with arguments of the same kinds
calls its own generated function: the recursion is resolved while JAX traces, where the shapes and
static arguments that decide it are known (a determinant by minors recurses on the matrix's size),
so the generated code recurses exactly as the user's does, and one ``fwd_``/``bwd_`` pair serves
every depth (``runtime.static_recursion`` bounds the depth). While the callee is being normalized,
a call of itself uses what it is assumed to be (one output, no argument written in place or
returned); if the finished callee is otherwise, it is normalized again with what it is.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field, replace

from ..frontend import fence
from ..frontend.desugar import desugar
from ..frontend.parse import ParsedFunction, parse_function
from ..frontend.resolve import Environment
from . import ir
from .naming import Namer, identifiers_in

__all__ = [
    "Callee",
    "CalleeTable",
    "DERIVATIVE_CALLEES",
    "Pending",
    "RECURSION_LIMIT",
    "RECURSION_VARIANTS",
    "UnsettledRecursion",
    "outputs_of",
]

#: How many variants of one function (its arguments of different kinds at each level) may be
#: normalized inside one another before the recursion is refused.
RECURSION_VARIANTS = 8

#: How deep a generated function that calls itself may recurse while JAX traces.
RECURSION_LIMIT = 100

#: What a callee is assumed to be at a call of itself, before it is normalized.
NO_ALIASING: dict = {"writes": {}, "outputs": {}}

# A call of a sourcegrad derivative object in a differentiated function's body (``dfdy(x, y)``
# of a module-level ``dfdy = grad(f, wrt="y")``, or of a ``jvp(f)``): type -> a function
# ``(obj, args, keywords) -> (plain function, args, keywords)``, the generated code of ``f``'s
# gradient (tangent) as a plain function and the call's arguments for it; it raises ValueError
# for a call it cannot take. ``api/nested.py`` fills it; the call becomes a callee like a user
# function's, so its adjoint is generated code too (reverse over reverse, reverse over forward).
DERIVATIVE_CALLEES: dict = {}


@dataclass
class Callee:
    name: str  # the primal's name in the generated module
    function: ir.Function  # its normal form (parameters flattened to leaves)
    parsed: ParsedFunction
    namer: Namer
    vjps: dict = field(default_factory=dict)  # (active params, active outputs) -> (fwd, bwd) names
    recursive: bool = False  # it calls itself: its generated functions are depth-guarded

    def guarded(self, fn: ir.Function) -> ir.Function:
        """``fn`` (this callee's primal, ``fwd_`` or ``jvp_``), depth-guarded if it recurses."""
        if not self.recursive:
            return fn
        return replace(fn, decorators=(f"static_recursion(limit={RECURSION_LIMIT})",))

    @property
    def n_outputs(self) -> int:
        value = self.function.body[-1].value
        return len(value.items) if isinstance(value, ir.Tup) else 1


class UnsettledRecursion(Exception):
    """A function that calls itself returns another number of values, or shares memory with its
    arguments differently, depending on what it is assumed to return at the call of itself."""


@dataclass
class Pending:
    """A callee being normalized: what a call of itself inside it needs."""

    fn_name: str
    name: str = ""  # its generated name, chosen at the first call of itself
    outputs: int | None = None  # assumed while normalizing (one value), checked afterwards
    aliasing: dict = field(default_factory=lambda: NO_ALIASING)
    called: bool = False  # does it call itself?


class CalleeTable:
    """Every callee of one transform, keyed by the function and the kinds of its arguments."""

    def __init__(self, module_namer: Namer, max_iter=None):
        self.module_namer = module_namer
        self.max_iter = max_iter
        self.entries: dict = {}
        self.stack: list = []  # (identity, why a call of it is data-dependent or "") being normalized
        self.pending: dict = {}  # key -> Pending: the callees being normalized
        self.functions: list = []  # generated Functions, in definition order

    def identity(self, target):
        return ("def", target[0].filename, target[1].lineno) if isinstance(target, tuple) else target

    def enter(self, identity, where_error, dynamic: str = ""):
        """Start normalizing a call of ``identity``; ``dynamic`` says why the call is in a
        data-dependent place (a branch on array values), or is empty. ``where_error(why)`` is the
        located error for a recursion that cannot be resolved while tracing."""
        variants = sum(1 for i, _ in self.stack if i == identity)
        if variants >= RECURSION_VARIANTS:
            raise where_error(
                f"each call of itself passes arguments of another kind (an array, a static "
                f"value, a container and its keys), so it would need {variants + 1} versions of "
                f"itself and more"
            )
        self.stack.append((identity, dynamic))

    def leave(self):
        self.stack.pop()

    def key(self, target, param_kinds: dict, free: tuple) -> tuple:
        return (self.identity(target), tuple(sorted(param_kinds.items(), key=lambda kv: kv[0])), free)

    def recursion(self, key, dynamic: str) -> Pending | None:
        """The pending callee if a call with ``key`` is a call of a callee being normalized
        (recursion); ``dynamic`` as in ``enter``. Raises ValueError with the reason when the
        recursion depends on data."""
        pending = self.pending.get(key)
        if pending is None:
            return None
        start = max(i for i, (identity, _) in enumerate(self.stack) if identity == key[0])
        why = dynamic or next((d for _, d in self.stack[start + 1 :] if d), "")
        if why:
            raise ValueError(why)
        if not pending.name:
            pending.name = self.module_namer.fresh(pending.fn_name)
        pending.called = True
        return pending

    def get(self, target, param_kinds: dict, free: tuple, normalize_fn, env=None) -> Callee:
        """The callee for ``target`` (a function object, or (ParsedFunction, FunctionDef) of a
        nested def, whose names resolve in ``env``) with these argument kinds;
        ``normalize_fn(parsed, env, namer, kinds, free)`` makes its normal form."""
        key = self.key(target, param_kinds, free)
        hit = self.entries.get(key)
        if hit is not None:
            return hit
        if isinstance(target, tuple):
            outer, node = target
            parsed = ParsedFunction(
                node, outer.filename, outer.first_line, outer.indent, outer.lines, outer.comments
            )
            fn_name = node.name
        else:
            parsed = parse_function(target)
            env = Environment.of(target)
            fn_name = target.__name__
        fence.check(parsed)
        parsed = desugar(parsed, identifiers_in(parsed.node) | set(free))
        pending = self.pending[key] = Pending(fn_name)
        try:
            for _ in range(3):
                namer = Namer(identifiers_in(parsed.node) | set(free))
                function = normalize_fn(parsed, env, namer, param_kinds, free)
                found = (outputs_of(function), function.meta["aliasing"])
                if not pending.called or (pending.outputs, pending.aliasing) == found:
                    break
                pending.outputs, pending.aliasing = found
            else:
                raise UnsettledRecursion(fn_name)
        finally:
            del self.pending[key]
        name = pending.name or self.module_namer.fresh(fn_name)
        function = ir.Function(
            name,
            function.params,
            function.body,
            doc=(f"`{fn_name}` (called by the differentiated function), in normal form."),
            globals_used=function.globals_used,
            temporaries=function.temporaries,
            meta=function.meta,
        )
        callee = Callee(name, function, parsed, namer, recursive=pending.called)
        self.entries[key] = callee
        return callee

    def by_name(self, name: str) -> Callee:
        for callee in self.entries.values():
            if callee.name == name:
                return callee
        raise KeyError(name)


def outputs_of(function: ir.Function) -> int | None:
    """How many values a normal-form function returns: None for one, k for a tuple of k."""
    value = function.body[-1].value
    return len(value.items) if isinstance(value, ir.Tup) else None


def signature_of(target) -> inspect.Signature:
    """The signature of a callee: a function object's, or one built from a nested def's AST."""
    if not isinstance(target, tuple):
        return inspect.signature(target)
    node = target[1]
    a = node.args
    params = []
    positional = [*a.posonlyargs, *a.args]
    defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    for arg, default in zip(positional, defaults):
        params.append(
            inspect.Parameter(
                arg.arg,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=inspect.Parameter.empty if default is None else default,
            )
        )
    for arg, default in zip(a.kwonlyargs, a.kw_defaults):
        params.append(
            inspect.Parameter(
                arg.arg,
                inspect.Parameter.KEYWORD_ONLY,
                default=inspect.Parameter.empty if default is None else default,
            )
        )
    return inspect.Signature(params)
