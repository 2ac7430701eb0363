"""The per-call fast path of a gradient: what an earlier call decided, reused.

A call to a :class:`~sourcegrad.api.grad.GradFunction` binds its arguments, checks them (floats
where differentiated, no complex numbers), picks the precision, picks or makes the variant of the
transform for the arguments' kinds, and dispatches to the jitted generated code. Everything but
the dispatch depends only on each argument's type, shape and dtype (and on the values of static
arguments), so once a call with a given *call key* has succeeded, a later call with the same key
goes straight to the jitted function that call used (:class:`Shortcut`). The key is built from
the positional arguments alone, and only when each is a NumPy or JAX array, a Python float that is
not differentiated, or a static int, str, bool or None; anything else (keywords, containers,
tracers under an outer transformation, ``seed=``, ``accumulate=``) takes the full path.

What still runs on every call: the module-value check (a module array written in place since the
transform makes everything again, as on the full path, and drops the shortcuts), the tape-overflow check of data-dependent
while loops, and JAX's own dispatch, which checks shapes and dtypes again. Errors never come from
the shortcut: it is stored only after the full path succeeded for that key.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["Shortcut", "call_key"]

_JAX_ARRAY = type(jnp.zeros(()))
_STATIC = (int, str, bool, type(None))


def call_key(args: tuple, differentiated: frozenset) -> tuple | None:
    """The call key of these positional arguments, or None when the call must take the full
    path. Arrays count by (type, shape, dtype); static values by (type, value)."""
    key: list[Any] = [bool(jax.config.jax_enable_x64)]  # type: ignore[attr-defined]
    for i, a in enumerate(args):
        t = type(a)
        if t is np.ndarray or t is _JAX_ARRAY:
            key.append((t, a.shape, a.dtype))
        elif t in _STATIC:
            key.append((t, a))
        elif t is float and i not in differentiated:
            key.append(t)  # a weakly typed scalar: it decides no precision and no kind
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
        return jax.enable_x64(True) if self.x64 else contextlib.nullcontext()
