"""Forward mode for users: ``jvp``, and the :class:`JVPFunction` it returns.

``jvp(f, wrt=("x",))`` transforms ``f`` into its tangent function (``ad/forward``). Call it like
``f``, plus ``tangents=``: one tangent per ``wrt`` input, each with its input's shape and
structure (a bare tangent when ``wrt`` names one input). It returns ``(f(...), tangent of the
output)``: ``jax.jvp``'s contract, with the primals passed as ``f``'s own arguments (static ones
included)::

    @sourcegrad.jvp(wrt=("x",))
    def f(x, w):
        return jnp.sum(jnp.sin(x) * w)

    y, dy = f(x, w, tangents=dx)        # dy = J_x f(x, w) @ dx
    print(f.source)                     # d_y = d_x * jnp.cos(x), line by line

A tangent picks a column of the Jacobian as a seed of ``grad`` picks a row.
"""

from __future__ import annotations

import functools
from typing import cast

import jax
import jax.numpy as jnp

from ..errors import OptionError, SourcegradError, WrtError
from ..pipeline import Transformed
from ..pipeline_forward import transform_forward
from . import boundary, fastcall, located
from .boundary import _public
from .grad import GradFunction

__all__ = ["jvp", "JVPFunction"]


class JVPFunction(GradFunction):
    """The tangent function (forward mode) of a Python function, made by :func:`jvp`."""

    def _transform(self, kinds: tuple) -> Transformed:
        t = transform_forward(
            self._fn, self.wrt, param_kinds=dict(zip(self._params, kinds)), max_iter=self._max_iter
        )
        # cast is safe: ForwardTransformed carries every field GradFunction reads from a
        # Transformed (the same interface, forward mode)
        return cast(Transformed, t)

    def _check_reserved(self):
        boundary.check_reserved(self._fn, self._params, ("tangents",), "tangent")

    def __repr__(self):
        return f"<sourcegrad.jvp of {self._fn.__qualname__} along {', '.join(self.wrt)}>"

    def _tangents(self, values, tangents):
        if tangents is None:
            raise WrtError(f"pass tangents= (one per wrt input: {', '.join(self.wrt)})")
        given = (tangents,) if self._wrt_single else tuple(tangents)
        if len(given) != len(self.wrt):
            raise WrtError(
                f"tangents= must hold one tangent per wrt input ({', '.join(self.wrt)}); got {len(given)}"
            )
        out = []
        for w, t in zip(self.wrt, given):
            primal = values[self._params.index(w)]
            try:
                out.append(jax.tree_util.tree_map(functools.partial(_tangent_like, w), primal, t))
            except ValueError:
                raise WrtError(
                    f"the tangent of `{w}` must have the structure of `{w}` "
                    f"(same containers, one array per leaf)"
                ) from None
        return out

    def __call__(self, *args, tangents=None, **kwargs):
        """``(f(*args), its tangent along tangents)``."""
        if not kwargs and tangents is not None:  # fastcall.py: a call seen before
            given = (tangents,) if self._wrt_single else tangents
            if type(given) is tuple:
                cut = self._fast.get(fastcall.call_key((*args, *given)))
                if cut is not None:
                    return cut(*args, *given)
        return self._call(args, kwargs, tangents)

    def _fallback(self, args):
        """The full path of a fast-path call (``args``: the arguments, then the tangents)."""
        n = len(self._params)
        return self._call(args[:n], {}, args[n] if self._wrt_single else tuple(args[n:]))

    @_public
    def _call(self, args, kwargs, tangents):
        values = self._arguments(args, kwargs)
        x64 = self._x64(values)
        with boundary.x64_scope(x64):  # float64 inputs compute in float64, as NumPy does
            values, static, t = self._prepare(values)
            converted = self._tangents(values, tangents)
            jitted = self._jit(t, static)
            try:
                out = boundary.leaving_x64(jitted(*values, *converted), x64)
            except located.RUNTIME_ERRORS as exc:  # a mistake on a line of the user's: located
                raise located.relocated(exc, t) from None
            if getattr(
                t, "reads_residuals", False
            ):  # lstsq's residuals, maybe NumPy's empty array: checked, no fast path
                self._residual_gradient()._rank_check(args, kwargs, out[0])
                return out
            given = (tangents,) if self._wrt_single else tangents
            if not kwargs and len(args) == len(self._params) and type(given) is tuple:
                key = fastcall.call_key((*args, *given))
                casts = fastcall.tangent_casts(given, converted)
                if key is not None and casts is not None:  # the next call like this: the fast path
                    self._fast[key] = fastcall.with_tangents(
                        fastcall.fast_call(jitted, x64, self._reads[id(t)], self._fallback), len(args), casts
                    )
            return out

    def _residual_gradient(self) -> GradFunction:
        """The gradient of the same function, whose rank check finds lstsq's residuals that NumPy
        gives as an empty array (see GradFunction._rank_check); made once, when first needed."""
        made = getattr(self, "_residual_grad", None)
        if made is None:
            made = self._residual_grad = GradFunction(self._fn, wrt=self.wrt, max_iter=self._max_iter)
        return made

    def value_and_grad(self, *args, **kwargs):
        raise TypeError(
            "a jvp function returns (value, tangent) when called; it has no "
            "value_and_grad (use sourcegrad.value_and_grad for gradients)"
        )

    def compile(self, *args, **kwargs):
        raise TypeError(
            "ahead-of-time compile() is for gradients; call the jvp function "
            "(it is compiled with jax.jit on the first call)"
        )


def _tangent_like(name, primal, tangent):
    """A tangent as an array of its primal's dtype; its shape must be the primal's."""
    tangent = jnp.asarray(tangent, dtype=jnp.result_type(primal))
    if jnp.shape(tangent) != jnp.shape(primal):
        raise WrtError(
            f"the tangent of `{name}` has shape {jnp.shape(tangent)}, but `{name}` has shape "
            f"{jnp.shape(primal)}; a tangent is a direction in `{name}`'s space (pass a bare array, "
            f"not a tuple, when there is one input to move)"
        )
    return tangent


def jvp(fn=None, *, wrt=0, max_iter: int | None = None, axis_name=None):
    """The tangent function of ``fn`` along ``wrt`` (forward mode), by source transformation.

    ``wrt`` as for :func:`sourcegrad.grad`. Calling the result with ``f``'s arguments and
    ``tangents=`` (one per ``wrt`` input) returns ``(output, output tangent)``; ``.source`` shows
    the generated code: each primal line followed by its tangent line. Data-dependent ``while``
    loops need no bound in forward mode (``max_iter`` is accepted for symmetry and ignored).
    ``axis_name`` (reverse mode's cross-device sum) is refused: see the error.
    """
    if axis_name is not None:
        raise OptionError(
            f"jvp does not take axis_name={axis_name!r} (only grad and value_and_grad do): under "
            f"jax.shard_map call jvp on each shard and reduce its output and output tangent "
            f"yourself (jax.lax.psum), as the function's own output is per shard"
        ).with_traceback(None)
    if fn is None:
        return functools.partial(jvp, wrt=wrt, max_iter=max_iter)
    try:
        return JVPFunction(fn, wrt, max_iter=max_iter)
    except SourcegradError as exc:
        raise exc.with_traceback(None) from None
