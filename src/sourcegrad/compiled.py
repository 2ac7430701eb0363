"""An ahead-of-time compiled gradient (``GradFunction.compile``): the executable, callable and
inspectable."""

from __future__ import annotations

import contextlib

import jax

from .errors import WrtError

__all__ = ["CompiledGrad"]


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

    def _precision(self):
        return jax.enable_x64(True) if self._x64 else contextlib.nullcontext()

    def __call__(self, *args, seed=None, accumulate=None, **kwargs):
        if self._owner._stale(self._transformed):  # a module value changed: not this executable
            return self._owner(*args, seed=seed, accumulate=accumulate, **kwargs)
        with self._precision():
            return self._call(args, kwargs, seed, accumulate)

    def _call(self, args, kwargs, seed, accumulate):
        if not kwargs and seed is None and accumulate is None and len(args) == self._n_params \
                and not self._owner._return_value \
                and tuple(args[i] for i in self._static) == self._static_values:
            # the fast path: the executable itself checks the shapes and dtypes of the arrays
            dynamic = [a for i, a in enumerate(args) if i not in self._static]
            out = self._compiled(*dynamic, None, None)
            if self._has_status:  # a while loop's tape overflow must still raise
                return self._owner._results(self._transformed, out)[1]
            grads = out[1]
            return grads[0] if self._owner._wrt_single else tuple(grads)
        values, static, _ = self._owner._prepare(self._owner._arguments(args, kwargs))
        if static != self._static:
            raise WrtError("this compiled gradient was made for other static arguments; "
                           "call .compile() again")
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


