"""Reductions over ``axis`` (None, an int or a tuple) with ``keepdims``.

``unreduce`` broadcasts the result's adjoint back to the input's shape; the
rest is the reduction's local derivative.
"""

import jax.numpy as jnp
import numpy as np

from sourcegrad import runtime
from sourcegrad.rules import defrule

_REDUCE = dict(static=("axis", "keepdims"), max_positional=2)
# A reduction's tangent: d_x times the partials (the adjoint of a seed of ones), summed.
_PARTIALS = "jnp.sum(d_x * {partials}, axis=axis, keepdims=keepdims)"
_EXTREMUM = _PARTIALS.format(
    partials="extremum_adjoint(jnp.ones_like(ans), x, ans, axis=axis, keepdims=keepdims)"
)

defrule(
    "jnp.sum(x, axis=None, keepdims=False)",
    temp="total",
    **_REDUCE,
    x="unreduce(g, x, axis=axis, keepdims=keepdims)",
    tangent="jnp.sum(d_x, axis=axis, keepdims=keepdims)",
)
defrule(
    "jnp.mean(x, axis=None, keepdims=False)",
    **_REDUCE,
    x="unreduce(g, x, axis=axis, keepdims=keepdims) / reduced_size(x, axis=axis)",
    tangent="jnp.mean(d_x, axis=axis, keepdims=keepdims)",
)
defrule(
    "jnp.prod(x, axis=None, keepdims=False)",
    temp="product",
    **_REDUCE,
    x="prod_adjoint(g, x, axis=axis, keepdims=keepdims)",
    tangent=_PARTIALS.format(partials="prod_adjoint(jnp.ones_like(ans), x, axis=axis, keepdims=keepdims)"),
)
defrule(
    "jnp.max(x, axis=None, keepdims=False)",
    temp="largest",
    aliases=("amax",),
    **_REDUCE,
    x="extremum_adjoint(g, x, ans, axis=axis, keepdims=keepdims)",
    tangent=_EXTREMUM,
)
defrule(
    "jnp.min(x, axis=None, keepdims=False)",
    temp="smallest",
    aliases=("amin",),
    **_REDUCE,
    x="extremum_adjoint(g, x, ans, axis=axis, keepdims=keepdims)",
    tangent=_EXTREMUM,
)
defrule(
    "jnp.var(x, axis=None, ddof=0, keepdims=False)",
    static=("axis", "ddof", "keepdims"),
    max_positional=2,
    x="var_adjoint(g, x, axis=axis, ddof=ddof, keepdims=keepdims)",
    tangent="2 * jnp.sum((x - jnp.mean(x, axis=axis, keepdims=True)) * d_x, axis=axis, "
    "keepdims=keepdims) / (reduced_size(x, axis=axis) - ddof)",
)
defrule(
    "jnp.std(x, axis=None, ddof=0, keepdims=False)",
    static=("axis", "ddof", "keepdims"),
    max_positional=2,
    x="std_adjoint(g, x, ans, axis=axis, ddof=ddof, keepdims=keepdims)",
    tangent="jnp.sum((x - jnp.mean(x, axis=axis, keepdims=True)) * d_x, axis=axis, "
    "keepdims=keepdims) / ((reduced_size(x, axis=axis) - ddof) * ans)",
)
defrule(
    "jnp.linalg.norm(x, ord=None, axis=None, keepdims=False)",
    temp="norm",
    static=("ord", "axis", "keepdims"),
    x="norm_adjoint(g, x, ans, ord=ord, axis=axis, keepdims=keepdims)",
    tangent=_PARTIALS.format(
        partials="norm_adjoint(jnp.ones_like(ans), x, ans, ord=ord, axis=axis, keepdims=keepdims)"
    ),
)
defrule(
    "jnp.cumsum(x, axis=None)",
    static=("axis",),
    x="cumsum_adjoint(g, x, axis=axis)",
    tangent="jnp.cumsum(d_x, axis=axis)",
)
defrule(
    "jnp.diff(a, n=1, axis=-1)",
    static=("n", "axis"),
    temp="differences",
    a="transpose_of(jnp.diff, g, (a,), 0, n=n, axis=axis)",
    tangent="jnp.diff(d_a, n=n, axis=axis)",
)
# one array (a 1-D array, or one axis): linear in f; the spacing (a scalar or the coordinates)
# enters through divisions, so its adjoint is JAX's vjp of that one call
_GRADIENT_AT = "(f, *varargs), {k}, axis=axis, edge_order=edge_order"
defrule(
    "numpy_gradient(f, *varargs, axis=None, edge_order=1)",
    static=("axis", "edge_order"),
    temp="slope",
    objects=(np.gradient, jnp.gradient, runtime.numpy_gradient),  # the last: as gradients call it
    f=f"transpose_of(numpy_gradient, g, {_GRADIENT_AT.format(k=0)})",
    varargs=f"vjp_of(numpy_gradient, g, {_GRADIENT_AT.format(k='position + 1')})",
    tangent=dict(
        f="numpy_gradient(d_f, *varargs, axis=axis, edge_order=edge_order)",
        varargs=f"jvp_of(numpy_gradient, d_varargs, {_GRADIENT_AT.format(k='position + 1')})",
    ),
)
defrule(
    "jnp.sort(a, axis=-1)",
    static=("axis",),
    temp="ordered",
    a="sort_adjoint(g, a, axis)",
    tangent="jvp_of(jnp.sort, d_a, (a,), 0, axis=axis)",
)
defrule(
    "jnp.cumprod(x, axis=None)",
    static=("axis",),
    x="vjp_of(jnp.cumprod, g, (x,), 0, axis=axis)",
    tangent="jvp_of(jnp.cumprod, d_x, (x,), 0, axis=axis)",
)
defrule(
    "jnp.median(a, axis=None, keepdims=False)",
    static=("axis", "keepdims"),
    temp="middle",
    a="vjp_of(jnp.median, g, (a,), 0, axis=axis, keepdims=keepdims)",
    tangent="jvp_of(jnp.median, d_a, (a,), 0, axis=axis, keepdims=keepdims)",
)
defrule(
    "jnp.quantile(a, q, axis=None, keepdims=False)",
    nondiff=("q",),
    static=("axis", "keepdims"),
    positional=3,
    temp="quantile",
    a="vjp_of(jnp.quantile, g, (a, q), 0, axis=axis, keepdims=keepdims)",
    tangent="jvp_of(jnp.quantile, d_a, (a, q), 0, axis=axis, keepdims=keepdims)",
)
defrule(
    "jnp.percentile(a, q, axis=None, keepdims=False)",
    nondiff=("q",),
    static=("axis", "keepdims"),
    positional=3,
    temp="percentile",
    a="vjp_of(jnp.percentile, g, (a, q), 0, axis=axis, keepdims=keepdims)",
    tangent="jvp_of(jnp.percentile, d_a, (a, q), 0, axis=axis, keepdims=keepdims)",
)
defrule(
    "jnp.average(a, axis=None, weights=None, keepdims=False)",
    static=("axis", "keepdims"),
    positional=2,
    temp="average",
    a="transpose_of(jnp.average, g, (a,), 0, axis=axis, weights=weights, keepdims=keepdims)",
    weights="vjp_of(jnp.average, g, (a, axis, weights), 2, keepdims=keepdims)",
    tangent=dict(
        a="jnp.average(d_a, axis=axis, weights=weights, keepdims=keepdims)",
        weights="jvp_of(jnp.average, d_weights, (a, axis, weights), 2, keepdims=keepdims)",
    ),
)
