"""An ahead-of-time compiled gradient (``GradFunction.compile``): the executable, callable and
inspectable."""

from __future__ import annotations

import jax
import numpy as np

from ..errors import WrtError
from . import boundary, located

__all__ = ["CompiledGrad", "compile_gradient"]


class CompiledGrad:
    """An ahead-of-time compiled gradient: call it, or inspect what XLA made of it."""

    # __call__ re-raises sourcegrad's errors without the library's frames (api._public, applied
    # in api.py, which imports this module)

    def __init__(self, owner, compiled, static, transformed, static_values=(), x64: bool = False):
        self._owner = owner
        self._compiled = compiled
        self._static = static
        self._static_values = tuple(static_values)
        self._transformed = transformed
        self._n_params = len(owner._params)
        self._has_status = bool(transformed.gradient.meta.get("has_status"))
        self._x64 = x64  # compiled for 64-bit inputs: JAX's x64 mode on around every call

    def __call__(self, *args, seed=None, accumulate=None, **kwargs):
        if self._owner._stale(self._transformed):  # a module value changed: not this executable
            return self._owner(*args, seed=seed, accumulate=accumulate, **kwargs)
        if not self._x64:  # no scope to enter (a context manager costs microseconds a call)
            return self._call(args, kwargs, seed, accumulate)
        with jax.enable_x64(True):
            return boundary.leaving_x64(self._call(args, kwargs, seed, accumulate), True)

    def _call(self, args, kwargs, seed, accumulate):
        if (
            not kwargs
            and seed is None
            and accumulate is None
            and len(args) == self._n_params
            and not self._owner._return_value
            and (not self._static or tuple(args[i] for i in self._static) == self._static_values)
        ):
            # the fast path: the executable itself checks the shapes and dtypes of the arrays
            dynamic = [a for i, a in enumerate(args) if i not in self._static] if self._static else args
            out = self._compiled(*dynamic, None, None)
            if self._has_status:  # a while loop's tape overflow must still raise
                return self._owner._results(self._transformed, out)[1]
            grads = out[1]
            return grads[0] if self._owner._wrt_single else tuple(grads)
        values, static, _ = self._owner._prepare(self._owner._arguments(args, kwargs))
        if static != self._static:
            raise WrtError(
                "this compiled gradient was made for other static arguments; call .compile() again"
            )
        dynamic = [v for i, v in enumerate(values) if i not in static]
        out = self._compiled(*dynamic, seed, self._owner._accumulators(accumulate, values))
        value, grads = self._owner._results(self._transformed, out)
        return (value, grads) if self._owner._return_value else grads

    def as_text(self) -> str:
        """The optimized XLA HLO text of the compiled gradient."""
        return self._compiled.as_text()

    def cost_analysis(self) -> dict:
        """XLA's estimate: flops, transcendentals, bytes accessed."""
        cost = self._compiled.cost_analysis()
        return cost[0] if isinstance(cost, list) else cost

    def memory_analysis(self):
        """XLA's memory statistics (argument, output and temporary bytes)."""
        return self._compiled.memory_analysis()

    @property
    def jax_compiled(self):
        return self._compiled


def compile_gradient(owner, args, kwargs, seed, accumulate) -> CompiledGrad:
    """``GradFunction.compile``: compile ahead of time, once per signature (cached on ``owner``)."""
    values = owner._arguments(args, kwargs)
    scoped = owner._x64(values)
    with boundary.x64_scope(scoped):
        values, static, t = owner._prepare(values)
        acc = owner._accumulators(accumulate, values)
        seed = owner._check_seed(t, seed)
        # jax's Config defines its flags as attributes at run time; its stubs do not list them
        x64 = bool(jax.config.jax_enable_x64)  # type: ignore[attr-defined]
        key = (
            static,
            tuple(values[i] for i in static),
            _signature_of([v for i, v in enumerate(values) if i not in static]),
            _signature_of(seed),
            _signature_of(acc),
            x64,
            id(t),
        )
        with owner._lock:
            hit = owner._compiled.get(key)
            if hit is None:
                try:
                    compiled = owner._jit(t, static).lower(*values, seed, acc).compile()
                except located.RUNTIME_ERRORS as exc:  # a mistake on a line of the user's: located
                    raise located.relocated(exc, t) from None
                hit = owner._compiled[key] = CompiledGrad(
                    owner,
                    compiled,
                    static,
                    t,
                    [values[i] for i in static],
                    x64=scoped,
                )
        return hit


def _signature_of(tree):
    """Structure, shapes and dtypes: what a compilation is specialized to (arrays: the fast path)."""
    if tree is None:
        return None
    if isinstance(tree, (np.ndarray, jax.Array)):
        return tree.shape, tree.dtype
    if isinstance(tree, list) and all(isinstance(v, (np.ndarray, jax.Array)) for v in tree):
        return tuple((v.shape, v.dtype) for v in tree)
    leaves, structure = jax.tree_util.tree_flatten(tree)
    return structure, tuple((getattr(x, "shape", ()), getattr(x, "dtype", type(x))) for x in leaves)
