"""Reductions over ``axis`` (None, an int or a tuple) with ``keepdims``.

``unreduce`` broadcasts the result's adjoint back to the input's shape; the
rest is the reduction's local derivative.
"""

from sourcegrad.rules import defrule

_REDUCE = dict(static=("axis", "keepdims"), max_positional=2)
# A reduction's tangent: d_x times the partials (the adjoint of a seed of ones), summed.
_PARTIALS = "jnp.sum(d_x * {partials}, axis=axis, keepdims=keepdims)"
_EXTREMUM = _PARTIALS.format(partials="extremum_adjoint(jnp.ones_like(ans), x, ans, axis=axis, "
                                      "keepdims=keepdims)")

defrule("jnp.sum(x, axis=None, keepdims=False)", temp="total", **_REDUCE,
        x="unreduce(g, x, axis=axis, keepdims=keepdims)",
        tangent="jnp.sum(d_x, axis=axis, keepdims=keepdims)")
defrule("jnp.mean(x, axis=None, keepdims=False)", **_REDUCE,
        x="unreduce(g, x, axis=axis, keepdims=keepdims) / reduced_size(x, axis=axis)",
        tangent="jnp.mean(d_x, axis=axis, keepdims=keepdims)")
defrule("jnp.prod(x, axis=None, keepdims=False)", temp="product", **_REDUCE,
        x="prod_adjoint(g, x, axis=axis, keepdims=keepdims)",
        tangent=_PARTIALS.format(partials="prod_adjoint(jnp.ones_like(ans), x, axis=axis, "
                                          "keepdims=keepdims)"))
defrule("jnp.max(x, axis=None, keepdims=False)", temp="largest", aliases=("amax",), **_REDUCE,
        x="extremum_adjoint(g, x, ans, axis=axis, keepdims=keepdims)", tangent=_EXTREMUM)
defrule("jnp.min(x, axis=None, keepdims=False)", temp="smallest", aliases=("amin",), **_REDUCE,
        x="extremum_adjoint(g, x, ans, axis=axis, keepdims=keepdims)", tangent=_EXTREMUM)
defrule("jnp.var(x, axis=None, ddof=0, keepdims=False)", static=("axis", "ddof", "keepdims"),
        max_positional=2, x="var_adjoint(g, x, axis=axis, ddof=ddof, keepdims=keepdims)",
        tangent="2 * jnp.sum((x - jnp.mean(x, axis=axis, keepdims=True)) * d_x, axis=axis, "
                "keepdims=keepdims) / (reduced_size(x, axis=axis) - ddof)")
defrule("jnp.std(x, axis=None, ddof=0, keepdims=False)", static=("axis", "ddof", "keepdims"),
        max_positional=2, x="std_adjoint(g, x, ans, axis=axis, ddof=ddof, keepdims=keepdims)",
        tangent="jnp.sum((x - jnp.mean(x, axis=axis, keepdims=True)) * d_x, axis=axis, "
                "keepdims=keepdims) / ((reduced_size(x, axis=axis) - ddof) * ans)")
defrule("jnp.linalg.norm(x, ord=None, axis=None, keepdims=False)", temp="norm",
        static=("ord", "axis", "keepdims"),
        x="norm_adjoint(g, x, ans, ord=ord, axis=axis, keepdims=keepdims)",
        tangent=_PARTIALS.format(
            partials="norm_adjoint(jnp.ones_like(ans), x, ans, ord=ord, axis=axis, keepdims=keepdims)"))
defrule("jnp.cumsum(x, axis=None)", static=("axis",), x="cumsum_adjoint(g, x, axis=axis)",
        tangent="jnp.cumsum(d_x, axis=axis)")
