"""Second order by forward over reverse: ``hvp`` and ``hessian``.

How: the gradient that reverse mode generates is itself Python in the supported subset, so it
is *normalized again* and given to the forward pass, like any user function. The generated
gradient calls rule templates' helpers (``unbroadcast``, ``unreduce``, ``matmul_adjoint_lhs``,
...); those have rules of their own (``transforms/adjoint_helpers.py``), with tangents. The
gradient is regenerated for this purpose as one plain function, ``grad_<name>(*params)`` ->
the gradients (``regenerate.py``). ``jvp`` of that function along ``v`` is the
Hessian-vector product; ``.source`` shows both generated functions, so the second-order tangents
of the accumulators (``d_b_x``) can be read.

Scope: the differentiated function must be straight-line (no loops, branches or calls of your
own functions) and return a scalar; anything else raises a located ``UnsupportedSyntaxError``.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp

from ..errors import SourcegradError
from . import boundary, located
from .boundary import _public
from .forward import JVPFunction
from .grad import GradFunction
from .regenerate import load_gradient

__all__ = ["hvp", "hessian", "SecondOrder"]


class SecondOrder:
    """``hvp(f)`` / ``hessian(f)``: forward mode over the generated gradient of ``f``."""

    def __init__(self, fn, wrt, kind: str):
        functools.update_wrapper(self, fn)
        self._grad = GradFunction(fn, wrt)
        self._single = not isinstance(wrt, (tuple, list))
        self._kind = kind
        self._jvps: dict = {}
        t = self._grad._current()
        self._tangent_of(t)  # transform now: unsupported code fails here, with its location

    def _tangent_of(self, t) -> JVPFunction:
        hit = self._jvps.get(id(t))
        if hit is None:
            grad_fn = load_gradient(t)
            hit = self._jvps[id(t)] = (t, JVPFunction(grad_fn, self._grad.wrt))
        return hit[1]

    @property
    def source(self) -> str:
        """The tangent module of the regenerated gradient: ``grad_<name>``, then ``jvp_grad_<name>``
        whose ``d_b_x`` are the second-order tangents (the Hessian-vector product)."""
        return self._tangent_of(self._grad._current()).source

    @_public
    def __call__(self, *args, **kwargs):
        try:
            return self._call(args, dict(kwargs))
        except (*located.RUNTIME_ERRORS, SourcegradError) as exc:  # on the user's line: located
            given = {k: v for k, v in kwargs.items() if k != "vectors"}
            raise located.located_by_primal(exc, self._grad.primal, args, given) from None

    def _call(self, args, kwargs):
        if self._kind == "hvp":
            vectors = kwargs.pop("vectors")
            _, _, t = self._grad._bind(args, kwargs)
            vectors = (vectors,) if self._single else tuple(vectors)
            out = self._tangent_of(t)(*args, tangents=vectors, **kwargs)[1]
            return out[0] if self._single else out
        x64 = self._grad._x64(self._grad._arguments(args, kwargs))
        with boundary.x64_scope(x64):
            return boundary.leaving_x64(self._hessian(args, kwargs), x64)

    def _hessian(self, args, kwargs):
        values, static, t = self._grad._bind(args, kwargs)
        part = self._tangent_of(t)
        p_values, p_static, p_t = part._bind(args, kwargs)
        fn = part._jit(p_t, p_static)
        wrt = self._grad.wrt
        xs = [values[self._grad._params.index(w)] for w in wrt]
        out = []
        for i, x in enumerate(xs):  # block column i: the tangents of every gradient along x_i
            n = math.prod(jnp.shape(x))
            basis = jnp.reshape(jnp.eye(n, dtype=jnp.result_type(x)), (n, *jnp.shape(x)))

            def column(d, i=i):
                tangents = [jnp.zeros_like(v) if j != i else d for j, v in enumerate(xs)]
                return fn(*p_values, *tangents)[1]

            stacked = jax.vmap(column)(basis)
            out.append(tuple(_block(s, jnp.shape(x)) for s in stacked))
        blocks = tuple(tuple(out[i][j] for i in range(len(xs))) for j in range(len(xs)))
        return blocks[0][0] if self._single else blocks


def _block(stacked, x_shape):
    """(n, *row shape) columns -> (*row shape, *x shape), the layout of jax.hessian."""
    rows = jnp.shape(stacked)[1:]
    x = jnp.reshape(stacked, (*x_shape, *rows))
    k = len(x_shape)
    return jnp.transpose(x, tuple(range(k, k + len(rows))) + tuple(range(k)))


def hvp(fn=None, *, wrt=0):
    """The Hessian-vector product of a scalar function, forward over reverse: call the result
    with ``fn``'s arguments and ``vectors=`` (one per ``wrt`` input) for ``H @ v``."""
    if fn is None:
        return functools.partial(hvp, wrt=wrt)
    try:
        return SecondOrder(fn, wrt, "hvp")
    except SourcegradError as exc:
        raise exc.with_traceback(None) from None


def hessian(fn=None, *, wrt=0):
    """The Hessian of a scalar function, forward over reverse (``jax.hessian``'s layout: the
    gradient's shape, then the input's; nested tuples of blocks for several ``wrt`` inputs)."""
    if fn is None:
        return functools.partial(hessian, wrt=wrt)
    try:
        return SecondOrder(fn, wrt, "hessian")
    except SourcegradError as exc:
        raise exc.with_traceback(None) from None
