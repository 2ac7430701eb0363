"""A NumPy-style function as a JAX function whose reverse rule is sourcegrad's generated adjoint.

``custom_vjp(layer, wrt=("W", "b", "x"))`` returns a callable that JAX code can call and
differentiate: ``jax.grad`` of a loss that calls it runs, for that part, the generated primal
forward and the generated gradient ``grad_<name>(..., seed, acc)`` backward, with the incoming
cotangent as ``seed``. Built on ``jax.custom_vjp``:

* forward (``fwd``): the generated primal; the residuals are the arguments themselves;
* backward (``bwd``): the generated gradient function, which runs its forward section again and then
  the adjoint code (the generated gradient is one function: forward and backward together);
* arguments that are not in ``wrt`` get zero cotangents, and only if JAX does not differentiate them:
  a differentiated argument missing from ``wrt`` is a :class:`WrtError`, never a silent zero;
* static arguments (Python ints, strings, bools, None) are compile-time constants, as in ``grad``.

It composes with ``jax.jit``, ``jax.vmap`` and ``jax.grad``/``jax.vjp``; as for any
``jax.custom_vjp`` function, forward mode (``jax.jvp``) over it is not available.
"""

from __future__ import annotations

import functools
import inspect

import jax
import jax.numpy as jnp

from ..errors import SourcegradError, WrtError

__all__ = ["custom_vjp", "JaxFunction"]


def custom_vjp(fn=None, *, wrt=None, max_iter: int | None = None, checkpoint=None):
    """``fn`` as a JAX function whose gradient is sourcegrad's generated code.

    ``wrt``: the parameters JAX may differentiate (names or positions); default: every parameter
    without an int/str/bool default or annotation. ``max_iter`` and ``checkpoint`` as in
    :func:`grad`. Use as ``custom_vjp(f)`` or ``@custom_vjp(wrt=("W", "x"))``.
    """
    if fn is None:
        return functools.partial(custom_vjp, wrt=wrt, max_iter=max_iter, checkpoint=checkpoint)
    try:
        return JaxFunction(fn, wrt, max_iter, checkpoint)
    except SourcegradError as exc:
        raise exc.with_traceback(None) from None


def _default_wrt(fn) -> tuple:
    names = []
    for p in inspect.signature(fn).parameters.values():
        static = p.annotation in (int, str, bool, "int", "str", "bool") or (
            p.default is not p.empty and (p.default is None or isinstance(p.default, (bool, int, str)))
        )
        if not static and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            names.append(p.name)
    return tuple(names)


class JaxFunction:
    """What :func:`custom_vjp` returns: call it like ``fn``; ``.grad`` is the gradient function."""

    def __init__(self, fn, wrt, max_iter, checkpoint):
        from ..api.grad import grad  # api imports nothing from here: no import circle

        functools.update_wrapper(self, fn)
        self._fn = fn
        wrt = _default_wrt(fn) if wrt is None else wrt
        self.grad = grad(
            fn,
            wrt=tuple(wrt) if isinstance(wrt, (list, tuple)) else (wrt,),
            max_iter=max_iter,
            checkpoint=checkpoint,
        )
        self._cache: dict = {}

    def __repr__(self):
        return f"<sourcegrad.custom_vjp of {self._fn.__qualname__} wrt {', '.join(self.grad.wrt)}>"

    @property
    def source(self) -> str:
        """The generated module whose primal runs forward and whose gradient runs backward."""
        return self.grad.source

    def __call__(self, *args, **kwargs):
        g = self.grad
        try:
            values, static, t = g._prepare(g._arguments(args, kwargs))
            key = (static, tuple(values[i] for i in static), id(t))
            call = self._cache.get(key)
            if call is None:
                call = self._cache[key] = self._build(t, static, [values[i] for i in static])
            return call(*[v for i, v in enumerate(values) if i not in static])
        except SourcegradError as exc:
            raise exc.with_traceback(None) from None

    def _build(self, t, static, static_values):
        g = self.grad
        n = len(g._params)
        dynamic = [i for i in range(n) if i not in static]
        names = [g._params[i] for i in dynamic]
        fixed = dict(zip(static, static_values))

        def full(dyn):
            it = iter(dyn)
            return [fixed[i] if i in fixed else next(it) for i in range(n)]

        @jax.custom_vjp
        def call(*dyn):
            return g._execute(t, static, "primal", full(dyn))

        def fwd(*dyn):
            for name, arg in zip(names, dyn):
                leaves = jax.tree_util.tree_leaves(arg, is_leaf=_is_primal)
                if name not in g.wrt and any(p.perturbed for p in leaves):
                    raise WrtError(
                        f"`{name}` is differentiated by the JAX transformation around "
                        f"`{self._fn.__name__}`, but is not in its wrt ({', '.join(g.wrt)}); add "
                        f"it to wrt= of sourcegrad.custom_vjp (its gradient would otherwise be "
                        f"taken as zero)"
                    )
            vals = [jax.tree_util.tree_map(lambda p: p.value, arg, is_leaf=_is_primal) for arg in dyn]
            return g._execute(t, static, "primal", full(vals)), vals

        def bwd(vals, cotangent):
            seed = jax.tree_util.tree_map(_materialize, cotangent, is_leaf=_is_zero)
            out = g._execute(t, static, "grad", full(vals), seed, None)
            _, grads = g._results(t, out)
            grads = (grads,) if g._wrt_single else grads
            by_name = dict(zip(g.wrt, grads))
            return tuple(
                by_name[name] if name in by_name else jax.tree_util.tree_map(jnp.zeros_like, v)
                for name, v in zip(names, vals)
            )

        call.defvjp(fwd, bwd, symbolic_zeros=True)
        return call


def _is_primal(x) -> bool:
    return hasattr(x, "perturbed") and hasattr(x, "value")


def _is_zero(x) -> bool:
    return isinstance(x, jax.custom_derivatives.SymbolicZero)


def _materialize(ct):
    if _is_zero(ct):
        return jnp.zeros(ct.shape, ct.dtype)
    return ct
