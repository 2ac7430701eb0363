"""Jacobians from the two modes: ``jacfwd`` builds one column per input element with forward
mode (``jvp``: a tangent picks a column), ``jacrev`` one row per output element with reverse mode
(``grad`` with a seed: a seed picks a row). Both batch their columns or rows with ``jax.vmap``
over the generated code, so the Jacobian is one compiled call.

Shapes follow ``jax.jacfwd``/``jax.jacrev``: for an output of shape O and an input of shape I the
Jacobian has shape O + I; ``wrt`` naming several inputs gives a tuple, one Jacobian per input.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp

from ..errors import SourcegradError, TapeOverflowError
from . import boundary, located, overflow
from .boundary import _public
from .forward import JVPFunction
from .grad import GradFunction

__all__ = ["jacfwd", "jacrev", "Jacobian"]


def _basis(shape, dtype):
    """The standard basis of arrays of this shape: one per element, stacked (n, *shape)."""
    n = math.prod(shape)
    return jnp.reshape(jnp.eye(n, dtype=dtype), (n, *shape))


def _to_jacobian(stacked, lead_shape, tail_shape):
    """(n, *tail) with n = prod(lead) -> (*tail, *lead): columns of a jacfwd, moved to the end."""
    x = jnp.reshape(stacked, (*lead_shape, *tail_shape))
    nl = len(lead_shape)
    return jnp.transpose(x, tuple(range(nl, nl + len(tail_shape))) + tuple(range(nl)))


class Jacobian:
    """``jacfwd(f)`` / ``jacrev(f)``: call it like ``f`` to get the Jacobian; ``.source`` is the
    generated code that computes its columns (forward) or rows (reverse)."""

    def __init__(self, fn, wrt, mode: str, max_iter=None):
        functools.update_wrapper(self, fn)
        self._single = not isinstance(wrt, (tuple, list))
        self._mode = mode
        self._parts: list = []
        self._batched: dict = {}  # a tangent function's compiled code -> its compiled columns
        if mode == "forward":  # one tangent function per input: the others stay constant
            items = (wrt,) if self._single else tuple(wrt)
            self._parts = [JVPFunction(fn, w, max_iter=max_iter) for w in items]
        else:
            self._parts = [GradFunction(fn, wrt, max_iter=max_iter)]

    @property
    def source(self) -> str:
        return "\n\n".join(p.source for p in self._parts)

    @_public
    def __call__(self, *args, **kwargs):
        try:
            return self._call(args, kwargs)
        except located.RUNTIME_ERRORS as exc:  # a mistake on a line of the user's: located
            raise located.located_by_primal(exc, self._parts[0].primal, args, kwargs) from None

    def _call(self, args, kwargs):
        # one input that wants 64-bit (a float64 array, a differentiated Python float) decides
        x64 = any(p._x64(p._arguments(args, kwargs)) for p in self._parts)
        with boundary.x64_scope(x64):  # float64 inputs compute in float64, as NumPy does
            if self._mode == "forward":
                out = tuple(self._columns(p, args, kwargs) for p in self._parts)
            else:
                out = self._rows(self._parts[0], args, kwargs)
            return boundary.leaving_x64(out[0] if self._single else tuple(out), x64)

    def _columns(self, part: JVPFunction, args, kwargs):
        values, static, t = part._bind(args, kwargs)
        if getattr(t, "reads_residuals", False):  # lstsq's residuals NumPy may give empty: checked
            part._residual_gradient().primal(*args, **kwargs)
        fn = part._jit(t, static)
        columns = self._batched.get(fn)
        if columns is None:  # the basis, the batched tangents and the reshape: one compiled call
            index = part._params.index(part.wrt[0])
            columns = jax.jit(functools.partial(_columns_of, fn, index), static_argnums=static)
            columns = self._batched.setdefault(fn, columns)
        return columns(*values)

    def _rows(self, g: GradFunction, args, kwargs):
        values, static, t = g._bind(args, kwargs)
        if t.output_is_tuple:
            raise SourcegradError(
                "jacrev of a function returning a tuple is not supported; use jacfwd, or return one array"
            )
        y = jax.eval_shape(
            functools.partial(_call_static, t.primal_fn, values, static),
            *[v for i, v in enumerate(values) if i not in static],
        )
        fn = g._jit(t, static)
        seeds = _basis(y.shape, y.dtype)
        out = jax.vmap(lambda s: fn(*values, s, None))(seeds)
        if t.gradient.meta.get("has_status") and bool(jnp.any(out[2])):
            if t.gradient.meta.get("lstsq_residuals"):  # lstsq's residuals NumPy leaves empty
                raise overflow.error(g._fn.__name__, t)
            raise TapeOverflowError(
                f"a while loop of `{g._fn.__name__}` outran its tape; "
                f"raise its max_iter (or use jacfwd, which needs no tape)"
            )
        grads = out[1]
        # row k is the gradient of output element k: stacked rows are already (*O, *I)
        return tuple(jnp.reshape(r, (*y.shape, *jnp.shape(r)[1:])) for r in grads)


def _columns_of(fn, index, *values):
    """The Jacobian's columns: ``fn`` (a compiled tangent function) along each basis tangent of
    input ``index``, batched, moved to the end."""
    x = values[index]
    basis = _basis(jnp.shape(x), jnp.result_type(x))
    _, stacked = jax.vmap(lambda d: fn(*values, d))(basis)
    return jax.tree_util.tree_map(lambda s: _to_jacobian(s, jnp.shape(x), jnp.shape(s)[1:]), stacked)


def _call_static(fn, values, static, *dynamic):
    it = iter(dynamic)
    return fn(*[v if i in static else next(it) for i, v in enumerate(values)])


def jacfwd(fn=None, *, wrt=0, max_iter: int | None = None):
    """The Jacobian of ``fn`` with respect to ``wrt`` by forward mode: one tangent per input
    element (a column each), batched with ``jax.vmap``. Best when inputs are few."""
    if fn is None:
        return functools.partial(jacfwd, wrt=wrt, max_iter=max_iter)
    try:
        return Jacobian(fn, wrt, "forward", max_iter)
    except SourcegradError as exc:
        raise exc.with_traceback(None) from None


def jacrev(fn=None, *, wrt=0, max_iter: int | None = None):
    """The Jacobian of ``fn`` with respect to ``wrt`` by reverse mode: one seed per output
    element (a row each), batched with ``jax.vmap``. Best when outputs are few."""
    if fn is None:
        return functools.partial(jacrev, wrt=wrt, max_iter=max_iter)
    try:
        return Jacobian(fn, wrt, "reverse", max_iter)
    except SourcegradError as exc:
        raise exc.with_traceback(None) from None
