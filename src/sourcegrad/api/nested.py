"""Nested differentiation: ``grad(f)`` or ``jvp(f)`` called inside a differentiated function.

``dfdy = grad(f, wrt="y")`` at module level, then ``z = x * dfdy(x, y)`` in the body of ``g``:
the normalizer finds the call (``normal/calls.py``: ``DERIVATIVE_CALLEES``, filled here) and
makes it a call of ``f``'s generated gradient, regenerated as a plain function ``grad_f(x, y)``
(``regenerate.py``). That function is a callee like any of the user's own: ``grad(g)`` generates
its ``fwd_grad_f``/``bwd_grad_f`` pair, and the backward line
``d_x, d_y = bwd_grad_f(res, b_z)`` is reverse over reverse: the VJP of ``x -> grad_y f(x, y)``
with cotangent ``v``, which (the Hessian being symmetric) is the Hessian-vector product
``H [0; v]`` restricted to the active arguments. A ``jvp(f)`` call ``y, dy = jf(x, tangents=v)``
becomes a call of the generated ``jvp_f(x, d_x)``, differentiated the same way (reverse over
forward). Every derivative has its own generated function and its own names (``b_b_x``), so a
perturbation of the outer function never mixes with the inner one's: no perturbation confusion.

Scope: ``f`` straight-line and (for ``grad``) scalar-valued; the outer function may call it
anywhere, in ``for`` and ``while`` loops included.
"""

from __future__ import annotations

import ast
import weakref

from ..normal.calls import DERIVATIVE_CALLEES
from . import regenerate
from .forward import JVPFunction
from .grad import GradFunction, _plain_gradient
from .jacobians import Jacobian

__all__ = ["gradient_callee", "tangent_callee"]

_PLAIN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # derivative -> (transform, fn)


def _plain(obj, make):
    t = obj._current()
    hit = _PLAIN.get(obj)
    if hit is None or hit[0] is not t:
        hit = _PLAIN[obj] = (t, make(t))
    return hit[1]


def _no_star(keywords, what):
    for kw in keywords:
        if kw.arg is None:
            raise ValueError(f"**kwargs in a call of {what} inside a differentiated function")


def gradient_callee(g, args, keywords):
    """``dfdy(x, y)``: ``grad_f(x, y)`` with the same arguments."""
    _no_star(keywords, repr(g))
    if g._return_value:
        raise ValueError(
            f"{g!r} is a value_and_grad: inside a differentiated function call grad(f) and f apart"
        )
    for kw in keywords:
        if kw.arg in ("seed", "accumulate"):
            raise ValueError(
                f"`{kw.arg}=` in a call of {g!r} inside a differentiated function is not supported "
                f"(the inner function must return a scalar)"
            )
    return _plain(g, lambda t: _plain_gradient(g)), args, keywords


def tangent_callee(j, args, keywords):
    """``jf(x, tangents=v)``: ``jvp_f(x, d_x)``, the generated tangent function."""
    _no_star(keywords, repr(j))
    given = [kw for kw in keywords if kw.arg == "tangents"]
    if not given:
        raise ValueError(f"a call of {j!r} needs tangents= (one per wrt input: {', '.join(j.wrt)})")
    tangents = given[0].value
    if j._wrt_single:
        items = [tangents]
    elif isinstance(tangents, (ast.Tuple, ast.List)) and len(tangents.elts) == len(j.wrt):
        items = list(tangents.elts)
    else:
        raise ValueError(
            f"tangents= of {j!r} inside a differentiated function must be written as a tuple of "
            f"{len(j.wrt)} (one per wrt input: {', '.join(j.wrt)})"
        )

    def make(t):
        regenerate.check_straight_line(t)
        if tuple(t.normal.params) != j._params:
            raise regenerate.unsupported(t, "container or *args parameters", "pass arrays")
        return regenerate.load_tangent(t)

    fn = _plain(j, make)
    tangent_params = fn.__code__.co_varnames[len(j._params) : fn.__code__.co_argcount]
    rest = [kw for kw in keywords if kw.arg != "tangents"]
    extra = [ast.copy_location(ast.keyword(arg=p, value=v), v) for p, v in zip(tangent_params, items)]
    return fn, args, rest + extra


def jacobian_callee(jac, args, keywords):
    """``jacfwd(f)``/``jacrev(f)`` called in a body: not generated as a callee yet (its columns
    are a ``jax.vmap`` of the tangent function, not code in the supported subset)."""
    if jac._mode == "forward":
        what, instead = "jacfwd", "one jvp call per input element, tangents= a unit vector"
    else:
        what, instead = "jacrev", "one grad call per output element"
    raise ValueError(
        f"{what}(...) cannot be called inside a differentiated function yet; write its columns as "
        f"{instead} (for a scalar function, grad(f) is its Jacobian)"
    )


DERIVATIVE_CALLEES[GradFunction] = gradient_callee
DERIVATIVE_CALLEES[JVPFunction] = tangent_callee
DERIVATIVE_CALLEES[Jacobian] = jacobian_callee
