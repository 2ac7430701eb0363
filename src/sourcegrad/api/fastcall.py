"""The per-call fast path of a gradient: what an earlier call decided, reused.

Why it matters: small functions and per-sample loops call a gradient many times on tiny inputs,
where the computation takes microseconds and the time between the call and XLA's dispatch decides
the speed (``sourcegrad bench overhead`` measures it against ``jax.jit(jax.grad)``).

A call to a :class:`~sourcegrad.api.grad.GradFunction` binds its arguments, checks them (floats
where differentiated, no complex numbers), picks the precision, picks or makes the variant of the
transform for the arguments' kinds, and dispatches to the jitted generated code. Everything but
the dispatch depends only on each argument's type, shape and dtype (and on the values of static
arguments), so once a call with a given *call key* has succeeded, a later call with the same key
goes straight to the jitted function that call used (:class:`Shortcut`). The key is built from
the positional arguments alone, and only when each is a NumPy or JAX array, a Python float, a
NumPy float64 or float32 scalar, or a static int, str, bool or None; anything else (keywords, containers, tracers under an outer
transformation, ``seed=``, ``accumulate=``) takes the full path.

``g(*args)`` itself (no ``return_value``, no seed, no accumulator, no data-dependent while loop)
and ``g.primal(*args)`` have a leaner path still (:func:`fast_call`): a dict lookup by call key,
then the jitted function, which for ``g`` returns the gradients alone (:func:`gradients_only`):
each output of a jitted function is a JAX array made on every call, so not returning the unused
value saves about as much as the rest of the wrapper costs.

What still runs on every call: the module-value check (a module array written in place since the
transform makes everything again, as on the full path, and drops the shortcuts), the tape-overflow
check of data-dependent while loops (on the :class:`Shortcut` path), and JAX's own dispatch,
which checks shapes and dtypes again. Errors never come from a shortcut: it is stored only after
the full path succeeded for that key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .boundary import leaving_x64, x64_scope

__all__ = ["Shortcut", "call_key", "gradients_only", "fast_call", "tangent_casts", "with_tangents"]

_JAX_ARRAY = type(jnp.zeros(()))
_STATIC = (int, str, bool, type(None))

try:  # JAX's x64 flag as a State whose value is read in C++: about 1 µs less a call than
    # jax.config.jax_enable_x64 (measured in `sourcegrad bench overhead`); the public name else
    from jax._src.config import enable_x64 as _X64_STATE
except ImportError:  # pragma: no cover - a JAX without it

    class _PublicX64:
        @property
        def value(self) -> bool:
            return bool(jax.config.jax_enable_x64)  # type: ignore[attr-defined]

    _X64_STATE = _PublicX64()  # type: ignore[assignment]


def call_key(args: tuple) -> tuple | None:
    """The call key of these positional arguments, or None when the call must take the full
    path. Arrays count by (shape, dtype), NumPy's and JAX's alike (the same kind, the same
    trace); static values by (type, value), so that True and 1 differ. Written for speed: this
    runs on every call (arrays tested first), and every bytecode here shows in
    ``sourcegrad bench overhead``."""
    key: list[Any] = [_X64_STATE.value]
    for a in args:
        t = type(a)
        if t is np.ndarray or t is _JAX_ARRAY:
            key.append(a.shape)
            key.append(a.dtype)
        elif t in _STATIC:
            key.append((t, a))
        elif t is float or t is np.float64 or t is np.float32:
            # a Python float's position decides its precision (64-bit when differentiated); a
            # NumPy scalar (what `x - eta * g` gives for 0-d arrays) has its own dtype
            key.append(t)
        else:
            return None
    return tuple(key)


@dataclass(frozen=True)
class Shortcut:
    """What a successful full-path call decided for its call key."""

    transformed: Any  # the variant (pipeline.Transformed)
    jitted: Any  # the jitted generated gradient
    x64: bool  # JAX's x64 mode around the call (64-bit inputs)

    def precision(self):
        return x64_scope(self.x64)


def gradients_only(grad_fn, check_output, single: bool, with_value: bool = False):
    """The generated gradient called with no seed and no accumulator, returning the gradients
    alone (the one gradient for a single ``wrt``), or ``(value, gradients)`` ``with_value``. The
    output's check (a float, not an int or a shape) runs while JAX traces it: on the traced
    value, whose dtype is the output's."""

    def gradients(*args):
        value, grads = grad_fn(*args, None, None)
        check_output(value)
        grads = grads[0] if single else tuple(grads)
        return (value, grads) if with_value else grads

    return gradients


def fast_call(jitted, x64: bool, reads, fallback):
    """What ``g(*args)`` calls for a call key seen before: the jitted function itself when nothing
    has to happen around it; else a function that checks the module values the transform read
    (``reads``, boundary.ModuleValues: when one changed, ``fallback(args)``, the full path, makes
    the gradient again) and scopes x64 around a 64-bit call."""
    if not x64 and not reads.reads:
        return jitted

    def call(*args):
        if reads.reads and reads.changed() is not None:
            return fallback(args)
        if not x64:
            return jitted(*args)
        with jax.enable_x64(True):
            return leaving_x64(jitted(*args), True)

    return call


def tangent_casts(given: tuple, converted) -> tuple | None:
    """How a fast path turns tangents as the caller gave them into what the full path made of
    them: per tangent None (an array of the same shape and dtype: as it is) or the dtype a Python
    float becomes; None when some tangent is neither (a container, a list, another dtype)."""
    if len(given) != len(converted):
        return None
    casts = []
    for a, b in zip(given, converted):
        if type(a) is float and jnp.shape(b) == ():
            casts.append(np.dtype(b.dtype))
        elif type(a) in (np.ndarray, _JAX_ARRAY) and hasattr(b, "dtype"):
            if a.shape != b.shape or a.dtype != b.dtype:
                return None
            casts.append(None)
        else:
            return None
    return tuple(casts)


def with_tangents(call, n: int, casts: tuple):
    """``call`` after the tangents (the arguments after the first ``n``) are cast as ``casts``
    says (see :func:`tangent_casts`); ``call`` itself when none needs it."""
    if all(c is None for c in casts):
        return call

    def cast(*args):
        tangents = (t if c is None else np.asarray(t, c) for t, c in zip(args[n:], casts))
        return call(*args[:n], *tangents)

    return cast
