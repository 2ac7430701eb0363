"""A while loop's tape overflow under an outer JAX transformation.

A data-dependent ``while`` loop keeps at most ``max_iter`` steps on its tape; the generated code
returns a flag that says whether the loop was still running when the tape was full. Called
directly, a gradient checks the flag in Python and raises :class:`TapeOverflowError`. Under an
outer ``jax.jit``, ``jax.vmap``, ``lax.scan`` or ``jax.export`` the flag is a tracer, so the
check becomes part of the compiled code, in two ways that never let a truncated gradient through:

* the gradients are NaN where the flag is set (``jnp.where``): the one guard that survives every
  transformation, including ``jax.export`` (an exported artifact cannot carry a host callback);
* a ``jax.debug.callback`` raises :class:`TapeOverflowError` on the host when the compiled code
  runs with the flag set; JAX reports it as a runtime error whose message holds ours.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import TapeOverflowError

__all__ = ["message", "is_traced", "guard"]


def message(name: str, loops) -> str:
    where = ", ".join(f"line {line} (max_iter={n})" for line, n in loops)
    return (
        f"a while loop of `{name}` was still running when its tape was full, so its gradient "
        f"would be wrong; while loops: {where}. Raise its bound: the `# sourcegrad: "
        f"max_iter=N` comment on the loop's line, or, for loops without that comment (it takes "
        f"precedence), grad(max_iter=N)"
    )


def is_traced(flag) -> bool:
    return isinstance(flag, jax.core.Tracer)


def guard(grads, flag, text: str, callback: bool = True):
    """``grads`` with NaN where ``flag`` is set, and (``callback``) a host check that raises."""
    if callback:

        def check(flag_value):
            if np.any(flag_value):
                raise TapeOverflowError(text)

        jax.debug.callback(check, flag)

    def poison(g):
        nan = jnp.asarray(jnp.nan, g.dtype)
        f = jnp.reshape(flag, jnp.shape(flag) + (1,) * (jnp.ndim(g) - jnp.ndim(flag)))
        return jnp.where(f, nan, g)

    return jax.tree_util.tree_map(poison, grads)
