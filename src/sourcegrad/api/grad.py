"""The public API: ``grad``, ``value_and_grad``, and the :class:`GradFunction` they return.

Why this is long: ``GradFunction`` is the object users hold, and its call protocol (bind the
arguments, choose the precision, pick or make the variant, jit, turn the outputs into the
result) reads best in one place; each step with a life of its own is elsewhere already
(boundary.py: the checks; options.py: the options; fastcall.py: the per-call fast path;
compiled.py: ahead-of-time compilation; views.py: the read-only views).
"""

from __future__ import annotations

import functools
import inspect
import threading
from typing import cast

import jax
import numpy as np

from ..deploy import module_cache
from ..errors import (
    OptionError,
    SeedError,
    SourcegradError,
    SourceUnavailableError,
    UnsupportedSyntaxError,
    WrtError,
)
from ..frontend import fence
from ..frontend.parse import parse_function
from ..normal.structs import kind_of
from ..pipeline import Transformed
from . import boundary, fastcall, located, overflow, regenerate
from .bound import BoundGradient, unwrap_bound, wrt_names
from .boundary import _is_static, _public
from .compiled import CompiledGrad, _signature_of, compile_gradient
from .options import check as check_options
from .views import GradViews

__all__ = ["grad", "value_and_grad", "GradFunction", "CompiledGrad"]

_RESERVED_KEYWORDS = ("seed", "accumulate")


CompiledGrad.__call__ = _public(CompiledGrad.__call__)  # type: ignore[method-assign]


class GradFunction(GradViews):
    """The gradient of a Python function, made by :func:`grad`.

    Call it like the original function (plus ``seed=`` and ``accumulate=``) to
    get the gradient; read :attr:`source` for the code that computes it.

    Why this is long: see the module docstring (the call protocol in one place).
    """

    def __init__(
        self,
        fn,
        wrt=0,
        *,
        return_value: bool = False,
        max_iter: int | None = None,
        checkpoint=None,
        while_checkpoints: int | None = None,
        axis_name=None,
        axis_reduce: str = "psum",
    ):
        fn = _plain_gradient(fn)
        functools.update_wrapper(self, fn)
        self._fn = fn
        self._signature = inspect.signature(fn)
        self._params = tuple(p.name for p in self._signature.parameters.values())
        if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in self._signature.parameters.values()):
            fence.check(parse_function(fn))  # the located error for *args / **kwargs, before wrt's
        self._wrt_single = not isinstance(wrt, (tuple, list))
        self.wrt = self._resolve_wrt(wrt)
        self._return_value = return_value
        self._max_iter = max_iter
        self._checkpoint = checkpoint
        self._while_checkpoints = while_checkpoints
        self._axis = dict(axis_name=axis_name, axis_reduce=axis_reduce)  # see across_devices
        self._wrt_index = frozenset(self._params.index(n) for n in self.wrt)
        # one transform and one compile per signature, whatever the number of threads calling
        self._lock = threading.RLock()
        self._first_calls: dict = {}  # signature -> a lock held by its first call
        self._seen: set = set()  # signatures that ran once (compiled)
        self._variants: dict = {}  # static parameter names -> Transformed
        self._reads: dict = {}  # id(Transformed) -> boundary.ModuleValues
        self._jitted: dict = {}
        self._compiled: dict = {}
        self._shortcuts: dict = {}  # call key -> fastcall.Shortcut (see fastcall.py)
        self._fast: dict = {}  # call key -> the callable of g(...)'s fast path (fastcall.fast_call)
        self._fast_value: dict = {}  # the same for g.value_and_grad(...)
        self._fast_primal: dict = {}  # the same for g.primal(...)
        self._fast_call_of = self._fast_value if return_value else self._fast  # what g(...) returns
        # an error that the first call's argument kinds may resolve
        self._deferred: UnsupportedSyntaxError | None = None
        self._transformed: Transformed | None = self._default_variant()
        self._check_reserved()

    # ----- construction -----
    def _resolve_wrt(self, wrt) -> tuple:
        items = tuple(wrt) if isinstance(wrt, (tuple, list)) else (wrt,)
        if not items:
            raise WrtError("wrt is empty: name at least one parameter to differentiate with respect to")
        names = []
        positional = [
            p.name
            for p in self._signature.parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        for item in items:
            if isinstance(item, int) and not isinstance(item, bool):
                if not -len(positional) <= item < len(positional):
                    raise WrtError(
                        f"wrt={item} is out of range: `{self._fn.__name__}` has "
                        f"{len(positional)} positional parameters ({', '.join(positional)})"
                    )
                name = positional[item]
            elif isinstance(item, str):
                if item not in self._params:
                    raise WrtError(
                        f"wrt names `{item}`, which is not a parameter of "
                        f"`{self._fn.__name__}` (parameters: {', '.join(self._params)})"
                    )
                name = item
            else:
                raise WrtError(f"wrt takes parameter positions (int) or names (str); got {item!r}")
            kind = self._signature.parameters[name].kind
            if kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
                raise WrtError(f"wrt names `{name}`, a *args/**kwargs parameter; name a plain one")
            if name in names:
                raise WrtError(f"wrt names `{name}` twice")
            names.append(name)
        return tuple(names)

    def _default_variant(self) -> Transformed | None:
        """Transform now, so unsupported code fails at decoration: parameters with int/str/bool
        defaults or annotations are assumed static, the others arrays; if that cannot be right
        (``range(n)`` with an unannotated ``n``), every non-differentiated parameter is static."""
        kinds = []
        for p in self._signature.parameters.values():
            static = p.name not in self.wrt and (
                (p.default is not p.empty and _is_static(p.default))
                or p.annotation in (int, str, bool, "int", "str", "bool")
            )
            kinds.append("static" if static else "array")
        try:
            return self._variant(tuple(kinds))
        except UnsupportedSyntaxError as exc:
            if getattr(exc, "kind_dependent", False):  # e.g. params.items(): wait for the call
                self._deferred = exc
                return None
            if not getattr(exc, "binding_time", False):
                raise
            everything = tuple("array" if p in self.wrt else "static" for p in self._params)
            try:
                return self._variant(everything)
            except UnsupportedSyntaxError:
                raise exc from None

    def _current(self) -> Transformed:
        if self._transformed is None:
            # _transformed is None only when _default_variant deferred an error
            assert self._deferred is not None
            # cast is safe: UnsupportedSyntaxError's constructor always sets filename and lineno
            raise UnsupportedSyntaxError(
                f"the generated code of `{self._fn.__name__}` depends on what its arguments are "
                f"(arrays or containers); call it once first. Transforming with every argument an "
                f"array failed: {self._deferred.msg}",
                filename=cast(str, self._deferred.filename),
                line=cast(int, self._deferred.lineno),
                col=(self._deferred.offset or 1) - 1,
                text=self._deferred.text or "",
            )
        return self._transformed

    def _variant(self, kinds: tuple) -> Transformed:
        """The transform for one kind of each argument: static, array, or a container layout
        (made once, then cached)."""
        t = self._variants.get(kinds)
        if t is None:
            with self._lock:
                t = self._variants.get(kinds)
                if t is None:
                    t = self._transform(kinds)
                    self._reads[id(t)] = boundary.ModuleValues(t.module_reads)
                    self._variants[kinds] = t
        elif self._stale(t):
            with self._lock:  # a module value was rebound or written since: make it all again
                if self._variants.get(kinds) is t:
                    self._variants.clear()
                    self._reads.clear()
                    self._jitted.clear()
                    self._compiled.clear()
                    self._seen.clear()
                    self._shortcuts.clear()
                    self._fast.clear()
                    self._fast_value.clear()
                    self._fast_primal.clear()
            return self._variant(kinds)
        self._transformed = t
        return t

    def _transform(self, kinds: tuple) -> Transformed:
        return module_cache.transform(  # pipeline.transform, or its cached result
            self._fn,
            self.wrt,
            param_kinds=dict(zip(self._params, kinds)),
            max_iter=self._max_iter,
            checkpoint=self._checkpoint,
            while_checkpoints=self._while_checkpoints,
            **self._axis,
        )

    def _stale(self, transformed) -> bool:
        reads = self._reads.get(id(transformed))
        return reads is None or (bool(reads.reads) and reads.changed() is not None)

    def _check_reserved(self):
        boundary.check_reserved(self._fn, self._params, _RESERVED_KEYWORDS, "gradient")

    def __repr__(self):
        return f"<sourcegrad.grad of {self._fn.__qualname__} wrt {', '.join(self.wrt)}>"

    # ----- calling -----
    def _arguments(self, args, kwargs) -> list:
        """The call's arguments, one per parameter (defaults applied), checked."""
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{self._fn.__name__}(): {exc}") from None
        bound.apply_defaults()
        values = [bound.arguments[p] for p in self._params]
        for name in self.wrt:
            boundary.check_differentiated(name, values[self._params.index(name)])
        boundary.check_no_complex(self._params, values)
        return values

    def _x64(self, values) -> bool:
        """Whether JAX's x64 mode is scoped around what runs on these inputs: 64-bit inputs
        compute in NumPy's precision (float32 stays float32)."""
        already = jax.config.jax_enable_x64  # type: ignore[attr-defined]
        return not already and boundary.wants_x64(values, self._wrt_index)

    def _bind(self, args, kwargs):
        """(values, static positions, transform) for a call's arguments (the bench reads it)."""
        return self._prepare(self._arguments(args, kwargs))

    def _prepare(self, values):
        values = list(values)
        for name in self.wrt:
            i = self._params.index(name)
            values[i] = boundary.check_wrt_value(name, values[i])
        kinds = tuple(
            "array" if p in self.wrt and kind_of(v) == "static" else kind_of(v)
            for p, v in zip(self._params, values)
        )
        static = tuple(i for i, k in enumerate(kinds) if k == "static")
        return values, static, self._variant(kinds)

    def _accumulators(self, accumulate, values):
        if accumulate is None:
            return None
        if self._axis["axis_name"] is not None:
            raise OptionError(
                f"accumulate= is not taken with axis_name={self._axis['axis_name']!r}: the sum across "
                f"devices would count it once per device; add the earlier gradients to this call's"
            )
        acc = (accumulate,) if self._wrt_single else tuple(accumulate)
        if len(acc) != len(self.wrt):
            raise WrtError(
                f"accumulate= must hold one accumulator per wrt input ({', '.join(self.wrt)}); got {len(acc)}"
            )
        boundary.check_accumulate(self.wrt, [values[self._params.index(n)] for n in self.wrt], acc)
        return acc

    def _check_seed(self, transformed, seed):
        if seed is None and transformed.output_is_tuple:
            raise SeedError(
                f"`{self._fn.__name__}` returns a tuple; pass seed= a tuple with one "
                f"array per output (zeros for outputs to ignore)"
            )
        return seed

    def _jit(self, transformed, static, kind="grad"):
        # each variant is kept alive in self._variants; x64 traces apart
        key = (kind, static, id(transformed), bool(jax.config.jax_enable_x64))
        fn = self._jitted.get(key)
        if fn is None:
            with self._lock:
                fn = self._jitted.get(key)
                if fn is None:
                    fn = self._jitted[key] = jax.jit(self._target(transformed, kind), static_argnums=static)
        return fn

    def _target(self, transformed, kind):
        """The generated function a kind of call runs: the gradient, the primal, or without seed,
        accumulator and status flag the gradients alone ("lean") or with the value ("value"):
        see fastcall.gradients_only."""
        if kind == "grad":
            return transformed.grad_fn
        if kind == "primal":
            return transformed.primal_fn
        return fastcall.gradients_only(
            transformed.grad_fn,
            functools.partial(boundary.check_output, transformed=transformed, name=self._fn.__name__),
            self._wrt_single,
            with_value=kind == "value",
        )

    def _execute(self, transformed, static, kind, values, *extra):
        """Run the compiled generated code: a signature's first call holds a lock (one trace and
        one compile under any number of threads); errors in the user's code are located."""
        fn = self._jit(transformed, static, kind)
        try:
            key = (
                kind,
                static,
                id(transformed),
                bool(jax.config.jax_enable_x64),
                tuple(values[i] for i in static),
                _signature_of([v for i, v in enumerate(values) if i not in static]),
                *(_signature_of(e) for e in extra),
            )
            if key in self._seen:
                return fn(*values, *extra)
            with self._lock:
                first = self._first_calls.setdefault(key, threading.Lock())
            with first:
                out = fn(*values, *extra)
                self._seen.add(key)
            self._first_calls.pop(key, None)
            return out
        except located.RUNTIME_ERRORS as exc:  # a mistake on a line of the user's: located
            raise located.relocated(exc, transformed) from None
        except NameError as exc:
            if self._axis["axis_name"] is None or "axis name" not in str(exc):
                raise
            raise OptionError(
                f"the gradient of `{self._fn.__name__}` was made with "
                f"axis_name={self._axis['axis_name']!r}, so it runs inside jax.shard_map over a mesh "
                f"with that axis ({exc}); call it there, or make it without axis_name"
            ).with_traceback(None) from None

    def _results(self, transformed, out, callback: bool = True):
        """(value, gradients) from the generated function's outputs; reports tape overflow: at
        once for a concrete flag; under an outer transformation (jit, vmap, scan, export) with
        NaN gradients and (unless ``callback`` is off, as for export) a host callback that raises
        :class:`TapeOverflowError` when the compiled code runs (see ``overflow.py``)."""
        if transformed.gradient.meta.get("has_status"):
            value, grads, flag = out
            if overflow.is_traced(flag):
                raised = functools.partial(overflow.error, self._fn.__name__, transformed)
                grads = overflow.guard(grads, flag, raised, callback)
            elif bool(flag):
                raise overflow.error(self._fn.__name__, transformed)
        else:
            value, grads = out
        return value, (grads[0] if self._wrt_single else tuple(grads))

    def _run(self, args, kwargs, seed, accumulate, value=True):
        """(value, gradients) of a call; ``value=False`` (``g(...)`` without ``return_value``):
        (None, gradients), from generated code that returns the gradients alone."""
        key = None
        if not kwargs and seed is None and accumulate is None and len(args) == len(self._params):
            key = fastcall.call_key(args)
            cut = self._shortcuts.get(key) if key is not None else None
            if cut is not None and not self._stale(cut.transformed):
                with cut.precision():
                    out = self._results(cut.transformed, cut.jitted(*args, None, None))
                    out = out if value else (None, out[1])
                    return boundary.leaving_x64(out, cut.x64)
        values = self._arguments(args, kwargs)
        x64 = self._x64(values)
        with boundary.x64_scope(x64):
            values, static, t = self._prepare(values)
            if seed is None and accumulate is None and not t.gradient.meta.get("has_status"):
                self._check_seed(t, seed)  # the lean code: no seed, no accumulator, no status flag
                kind = "value" if value else "lean"
                out = boundary.leaving_x64(self._execute(t, static, kind, values), x64)
                if key is not None:  # the next call like this one takes the fast path
                    fast, fallback = (
                        (self._fast_value, self._value_call) if value else (self._fast, self._call)
                    )
                    fast[key] = fastcall.fast_call(
                        self._jit(t, static, kind),
                        x64,
                        self._reads[id(t)],
                        lambda a: fallback(a, {}, None, None),
                    )
                return out if value else (None, out)
            out = self._execute(
                t, static, "grad", values, self._check_seed(t, seed), self._accumulators(accumulate, values)
            )
            result = self._results(t, out)
            boundary.check_output(result[0], t, self._fn.__name__)
            if key is not None:  # this call succeeded: the next one like it takes the shortcut
                self._shortcuts[key] = fastcall.Shortcut(t, self._jit(t, static), x64)
            return boundary.leaving_x64(result if value else (None, result[1]), x64)

    def __call__(self, *args, seed=None, accumulate=None, **kwargs):
        """The gradient(s) at these arguments. ``seed``: the output's gradient (required for a
        non-scalar output); ``accumulate``: gradients to add this call's gradients to."""
        if seed is None and accumulate is None and not kwargs:  # fastcall.py: a call seen before
            cut = self._fast_call_of.get(fastcall.call_key(args))
            if cut is not None:
                return cut(*args)
        full = self._value_call if self._return_value else self._call
        return full(args, kwargs, seed, accumulate)

    @_public
    def _call(self, args, kwargs, seed, accumulate):
        return self._run(args, kwargs, seed, accumulate, value=False)[1]

    def value_and_grad(self, *args, seed=None, accumulate=None, **kwargs):
        """``(f(*args), gradient)`` from one run of the generated code."""
        if seed is None and accumulate is None and not kwargs:  # fastcall.py: a call seen before
            cut = self._fast_value.get(fastcall.call_key(args))
            if cut is not None:
                return cut(*args)
        return self._value_call(args, kwargs, seed, accumulate)

    @_public
    def _value_call(self, args, kwargs, seed, accumulate):
        return self._run(args, kwargs, seed, accumulate)

    def primal(self, *args, **kwargs):
        """The function's value, computed by the generated (normal-form) primal, compiled."""
        if not kwargs:  # fastcall.py: a call seen before
            cut = self._fast_primal.get(fastcall.call_key(args))
            if cut is not None:
                return cut(*args)
        return self._primal(args, kwargs)

    @_public
    def _primal(self, args, kwargs):
        key = fastcall.call_key(args) if not kwargs else None
        values = self._arguments(args, kwargs)
        x64 = self._x64(values)
        with boundary.x64_scope(x64):
            values, static, t = self._prepare(values)
            out = boundary.leaving_x64(self._execute(t, static, "primal", values), x64)
            if t.gradient.meta.get("lstsq_residuals"):  # checked on every call: no fast path
                self._rank_check(args, kwargs, out)
                return out
            if key is not None and len(args) == len(self._params):
                self._fast_primal[key] = fastcall.fast_call(
                    self._jit(t, static, "primal"), x64, self._reads[id(t)], lambda a: self._primal(a, {})
                )
            return out

    def _rank_check(self, args, kwargs, out) -> None:
        """The function reads np.linalg.lstsq's residuals, which NumPy gives as an empty array
        when the matrix has a lower rank than its columns (a shape the compiled primal cannot
        have: its residuals are NaN there). The gradient checks the rank (a status flag): run it,
        seeded with zeros, so that the primal raises its located ShapeError too."""
        seed = jax.tree_util.tree_map(
            lambda v: np.zeros(np.shape(v), getattr(v, "dtype", None) or type(v)), out
        )
        self._run(args, kwargs, seed, None)

    @_public
    def compile(self, *args, seed=None, accumulate=None, **kwargs) -> CompiledGrad:
        """Compile ahead of time for these arguments (arrays or ``jax.ShapeDtypeStruct``).

        The result is callable with arguments of the same shapes and dtypes and
        can be inspected (``as_text()``, ``cost_analysis()``,
        ``memory_analysis()``). Compiling again for the same shapes, dtypes and
        static values returns the cached object; other shapes compile anew.
        """
        return compile_gradient(self, args, kwargs, seed, accumulate)

    @_public
    def export(self, *args, platforms=("cpu",), seed=None, **kwargs) -> bytes:
        """A serialized ``jax.export`` artifact of this gradient for these arguments (arrays or
        ``jax.ShapeDtypeStruct``, dimensions may be symbolic). Load it with
        ``jax.export.deserialize(data).call(*arrays)``; see ``sourcegrad.deploy.exporting``."""
        from ..deploy.exporting import export_gradient

        return export_gradient(self, args, kwargs, platforms=platforms, seed=seed)

    @property
    def compiled_count(self) -> int:
        """How many ahead-of-time compilations this function holds in its cache."""
        return len(self._compiled)


def _plain_gradient(fn):
    """``grad(grad(f))``, ``jvp(grad(f))``: the generated gradient of ``f``, regenerated as one
    plain function ``grad_<f>(*params)`` (``regenerate.py``), is what is differentiated again."""
    if not isinstance(fn, GradFunction):
        return fn
    if type(fn) is not GradFunction or fn._return_value:
        raise SourceUnavailableError(
            f"sourcegrad differentiates the gradients that grad() makes, not {fn!r}: apply grad "
            f"or jvp to a grad(f) (or use hvp/hessian)"
        )
    t = fn._current()
    if tuple(t.normal.params) != fn._params:
        raise regenerate.unsupported(t, "container or *args parameters", "pass arrays")
    return regenerate.load_gradient(t, fn._wrt_single, fn._fn.__defaults__)


def grad(
    fn=None,
    *,
    wrt=0,
    max_iter: int | None = None,
    checkpoint=None,
    while_checkpoints=None,
    axis_name=None,
    axis_reduce="psum",
):
    """The gradient of ``fn`` with respect to ``wrt``, by source transformation.

    ``wrt`` is a parameter position or name, or a tuple of them (default: the
    first parameter, as ``jax.grad``). One gives one gradient, a tuple gives a
    tuple. Use as ``grad(f)``, ``@grad`` or ``@grad(wrt=("W", "b"))``. The
    function is transformed immediately, so unsupported code fails here, with
    its location; ``.source`` shows the generated code. ``max_iter``: the tape
    length of data-dependent ``while`` loops that have no
    ``# sourcegrad: max_iter=N`` comment. ``checkpoint``: ``"sqrt"`` (or a segment length)
    to store only every segment's start of the function's top-level ``for`` loops and
    recompute their tapes in the backward pass (less memory, about twice the forward work);
    a loop can ask for it with a ``# sourcegrad: checkpoint=sqrt`` comment. ``"binomial"`` (or
    ``"binomial:N"``) keeps 32 (or N >= 2) copies of such a loop's carry whatever its trip count,
    at revolve's positions, and recomputes each iteration from the nearest. A data-dependent
    ``while`` loop without ``max_iter`` keeps ``while_checkpoints`` copies of its state (default
    32; per loop: ``# sourcegrad: checkpoints=N``) and recomputes its iterations from them.
    ``axis_name``: a mesh axis name (or a tuple of them): the gradient is to run inside
    ``jax.shard_map``, each device on its shard of the batch, and its generated code ends by
    reducing the gradients and the value across the devices with ``lax.psum`` (each shard's
    loss is its part of the total: divide a mean by the global batch size) or, with
    ``axis_reduce="pmean"``, ``lax.pmean`` (each shard's loss a mean over equal shards). Under
    ``psum`` a term that does not depend on the shard (a weight penalty) counts once per device.
    Such a gradient is called only inside ``jax.shard_map`` and takes no ``accumulate=``.
    """
    options = dict(checkpoint=checkpoint, while_checkpoints=while_checkpoints, axis_name=axis_name)
    check_options(checkpoint, max_iter, axis_name, axis_reduce)
    if fn is None:
        return functools.partial(grad, wrt=wrt, max_iter=max_iter, axis_reduce=axis_reduce, **options)
    return _make(fn, wrt, False, max_iter, axis_reduce=axis_reduce, **options)


def value_and_grad(
    fn=None,
    *,
    wrt=0,
    max_iter: int | None = None,
    checkpoint=None,
    while_checkpoints=None,
    axis_name=None,
    axis_reduce="psum",
):
    """Like :func:`grad`, but calling the result returns ``(value, gradient)`` (with
    ``axis_name``, the value reduced across the devices as the gradients are)."""
    options = dict(checkpoint=checkpoint, while_checkpoints=while_checkpoints, axis_name=axis_name)
    check_options(checkpoint, max_iter, axis_name, axis_reduce)
    if fn is None:
        return functools.partial(
            value_and_grad, wrt=wrt, max_iter=max_iter, axis_reduce=axis_reduce, **options
        )
    return _make(fn, wrt, True, max_iter, axis_reduce=axis_reduce, **options)


def _make(fn, wrt, return_value, max_iter, **options):
    try:  # a functools.partial or a bound method: see api/bound.py
        bound = unwrap_bound(fn)
        names = wrt_names(fn, wrt) if bound is not None else wrt
    except SourcegradError as exc:
        raise exc.with_traceback(None) from None
    if bound is not None:
        inner = _make(bound[0], names, return_value, max_iter, **options)
        return BoundGradient(fn, bound, inner)
    try:
        return GradFunction(fn, wrt, return_value=return_value, max_iter=max_iter, **options)
    except SourcegradError as exc:
        raise exc.with_traceback(None) from None
