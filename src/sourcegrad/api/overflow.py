"""A while loop's tape overflow, or lstsq's residuals NumPy gives as an empty array, under an
outer JAX transformation.

A data-dependent ``while`` loop keeps at most ``max_iter`` steps on its tape; the generated code
returns a flag that says whether the loop was still running when the tape was full. Called
directly, a gradient checks the flag in Python and raises :class:`TapeOverflowError`. Under an
outer ``jax.jit``, ``jax.vmap``, ``lax.scan`` or ``jax.export`` the flag is a tracer, so the
check becomes part of the compiled code, in two ways that never let a truncated gradient through:

* the gradients are NaN where the flag is set (``jnp.where``): the one guard that survives every
  transformation, including ``jax.export`` (an exported artifact cannot carry a host callback);
* a ``jax.debug.callback`` raises :class:`TapeOverflowError` on the host when the compiled code
  runs with the flag set; JAX reports it as a runtime error whose message holds ours.

The same flag says when a function reads the residuals of ``np.linalg.lstsq`` whose matrix (more
rows than columns) has a lower rank than its columns: NumPy's residuals are then an empty array,
a shape known only from the values, which the compiled code cannot have; its residuals are NaN,
and the flag raises a located :class:`ShapeError` at the lstsq line (``error``).
"""

from __future__ import annotations

import linecache

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ShapeError, SourcegradError, TapeOverflowError, format_located

__all__ = ["message", "error", "is_traced", "guard"]


def message(name: str, loops) -> str:
    where = ", ".join(f"line {line} (max_iter={n})" for line, n in loops)
    return (
        f"a while loop of `{name}` was still running when its tape was full, so its gradient "
        f"would be wrong; while loops: {where}. Raise its bound: the `# sourcegrad: "
        f"max_iter=N` comment on the loop's line, or, for loops without that comment (it takes "
        f"precedence), grad(max_iter=N)"
    )


def error(name: str, transformed) -> SourcegradError:
    """The error a set status flag of ``transformed``'s gradient means: a while loop's tape
    overflow (:class:`TapeOverflowError`), or, located at the lstsq line, lstsq's residuals
    NumPy gives as an empty array (:class:`ShapeError`; either, when the function has both)."""
    meta = transformed.gradient.meta
    loops, lines = meta.get("while_loops", ()), meta.get("lstsq_residuals", ())
    if not lines:
        return TapeOverflowError(message(name, loops))
    filename = transformed.parsed.filename
    text = linecache.getline(filename, lines[0]).rstrip("\n")
    others = f" (or at line {', '.join(map(str, lines[1:]))})" if len(lines) > 1 else ""
    what = (
        f"`{name}` reads the residuals of np.linalg.lstsq{others}, and for these values its matrix "
        f"a (more rows than columns) has a lower rank than its columns: NumPy's residuals are then "
        f"an empty array, a shape known only from the values, which the compiled code cannot have "
        f"(its residuals would be NaN)"
    )
    if loops:
        what += f"; or {message(name, loops)}"
    fix = (
        "compute the residuals from the solution, np.sum((b - a @ x) ** 2, axis=0), which NumPy "
        "defines at every rank, or pass a matrix of full rank"
    )
    col = len(text) - len(text.lstrip())
    located = format_located(filename, lines[0], col, text, f"{what}\n  how to fix: {fix}", end_col=len(text))
    err = ShapeError(located)
    err.filename, err.lineno = filename, lines[0]
    return err


def is_traced(flag) -> bool:
    return isinstance(flag, jax.core.Tracer)


def guard(grads, flag, raised, callback: bool = True):
    """``grads`` with NaN where ``flag`` is set, and (``callback``) a host check that raises
    ``raised()``."""
    if callback:

        def check(flag_value):
            if np.any(flag_value):
                raise raised()

        jax.debug.callback(check, flag)

    def poison(g):
        nan = jnp.asarray(jnp.nan, g.dtype)
        f = jnp.reshape(flag, jnp.shape(flag) + (1,) * (jnp.ndim(g) - jnp.ndim(flag)))
        return jnp.where(f, nan, g)

    return jax.tree_util.tree_map(poison, grads)
