"""The helpers that generated adjoint code calls, as rules of their own (for second order).

A gradient function is made of rule templates, and those call the helpers of
``sourcegrad.runtime`` (``unbroadcast``, ``unreduce``, ...). To differentiate a gradient again
(``hessian``, ``hvp``: forward over reverse) the generated gradient is normalized like any user
function, so each helper it calls needs a tangent, and an adjoint like every rule. Most helpers
are the transpose of a linear map, linear in ``v`` (the incoming adjoint): their adjoint is that
map, their tangent the helper applied to ``d_v``; the arguments they read only for shapes are
``nondiff``.
"""

from sourcegrad import runtime
from sourcegrad.rules import defconst, defop, defrule

_AK = "axis=axis, keepdims=keepdims"

# ----- broadcasting and reductions: linear in v, the other argument gives the shape -----
defrule(
    "unbroadcast(v, like)",
    nondiff=("like",),
    objects=(runtime.unbroadcast,),
    temp="unbroadcast",
    v="broadcast_like(g, v)",
    tangent="unbroadcast(d_v, like)",
)
defrule(
    "broadcast_like(v, like)",
    nondiff=("like",),
    objects=(runtime.broadcast_like,),
    temp="spread",
    v="unbroadcast(g, v)",
    tangent="broadcast_like(d_v, like)",
)
defrule(
    "unreduce(v, like, axis=None, keepdims=False)",
    nondiff=("like",),
    temp="unreduced",
    static=("axis", "keepdims"),
    objects=(runtime.unreduce,),
    v=f"jnp.sum(g, {_AK})",
    tangent=f"unreduce(d_v, like, {_AK})",
)
defconst(
    "reduced_size(x, axis=None)",
    nondiff=("x",),
    static=("axis",),
    temp="size",
    objects=(runtime.reduced_size,),
)
defconst("tie_split(x, y)", nondiff=("x", "y"), objects=(runtime.tie_split,), temp="share")

# ----- products: v is a cotangent of x @ y; the adjoint of a VJP is the JVP (g @ y) -----
defrule(
    "matmul_adjoint_lhs(v, x, y)",
    nondiff=("x",),
    objects=(runtime.matmul_adjoint_lhs,),
    temp="matmul_adj",
    v="g @ y",
    y="matmul_adjoint_rhs(v, g, y)",
    tangent=dict(v="matmul_adjoint_lhs(d_v, x, y)", y="matmul_adjoint_lhs(v, x, d_y)"),
)
defrule(
    "matmul_adjoint_rhs(v, x, y)",
    nondiff=("y",),
    objects=(runtime.matmul_adjoint_rhs,),
    temp="matmul_adj",
    v="x @ g",
    x="matmul_adjoint_lhs(v, x, g)",
    tangent=dict(v="matmul_adjoint_rhs(d_v, x, y)", x="matmul_adjoint_rhs(v, d_x, y)"),
)
defrule("mT(a)", objects=(runtime.mT,), temp="swapped", a="mT(g)", tangent="mT(d_a)")
defrule(
    "transpose_adjoint(v, axes=None)",
    static=("axes",),
    objects=(runtime.transpose_adjoint,),
    temp="transposed",
    v="jnp.transpose(g, axes)",
    tangent="transpose_adjoint(d_v, axes)",
)

# ----- shapes and indexing: linear in v -----
defrule(
    "unslice(v, x, index)",
    nondiff=("x",),
    static=("index",),
    objects=(runtime.unslice,),
    temp="unsliced",
    v="g[index]",
    tangent="unslice(d_v, x, index)",
)

defrule(
    "split_adjoint(v, ary, sections, axis, part)",
    nondiff=("ary",),
    static=("sections", "axis", "part"),
    objects=(runtime.split_adjoint,),
    temp="unsplit",
    v="split_section(g, ary, sections, axis, part)",
    tangent="split_adjoint(d_v, ary, sections, axis, part)",
)
# the transpose of an FFT's transpose is the FFT (the argument `a` gives only shapes and dtype)
defrule(
    "fft_adjoint(v, a, kind, s=None, axes=None, norm=None)",
    nondiff=("a",),
    static=("kind", "s", "axes", "norm"),
    objects=(runtime.fft_adjoint,),
    temp="unfft",
    v="fft_apply(g, kind, s, axes, norm)",
    tangent="fft_adjoint(d_v, a, kind, s, axes, norm)",
)

# ----- elementwise -----
defrule(
    "imag_adjoint(v, x)",
    nondiff=("x",),
    objects=(runtime.imag_adjoint,),
    temp="unimag",
    v="jnp.imag(g)",
    tangent="imag_adjoint(d_v, x)",
)
defrule(
    "conj_sign(x)",
    objects=(runtime.conj_sign,),
    temp="sign",
    x="conj_sign_adjoint(g, x)",
    tangent="conj_sign_tangent(x, d_x)",
)
defrule(
    "log_or_zero(x)",
    objects=(runtime.log_or_zero,),
    temp="log",
    x="jnp.where(x == 0, 0, g / jnp.where(x == 0, 1, x))",
    tangent="jnp.where(x == 0, 0, d_x / jnp.where(x == 0, 1, x))",
)

# the adjoint of an in-place write reads the written positions that count (the last writer of a
# repeated index): linear in v; its transpose puts g back there (inplace_set keeps the last write)
defop(
    "take_written",
    "take_written(v, jnp.s_[idx])",
    params=("v", "idx"),
    index=("idx",),
    objects=(runtime.take_written,),
    temp="written",
    v="inplace_set(jnp.zeros_like(v), jnp.s_[idx], g)",
    tangent="take_written(d_v, jnp.s_[idx])",
)

# Python's math functions take one number (transforms/pymath.py): the element, as a 0-d array
defrule(
    "scalar_of(x)",
    objects=(runtime.scalar_of,),
    temp="number",
    x="jnp.reshape(g, jnp.shape(x))",
    tangent="scalar_of(d_x)",
)

# ----- max/min: linear in v; which elements win (x, extreme) is piecewise constant -----
defrule(
    "extremum_adjoint(v, x, extreme, axis=None, keepdims=False)",
    nondiff=("x", "extreme"),
    static=("axis", "keepdims"),
    objects=(runtime.extremum_adjoint,),
    temp="to_winners",
    v=f"jnp.sum(g * extremum_adjoint(jnp.ones_like(v), x, extreme, {_AK}), {_AK})",
    tangent=f"extremum_adjoint(d_v, x, extreme, {_AK})",
)

# ----- norms: every ord at once, the tangent and adjoint by jax.jvp/jax.vjp of the helper; its norm
# argument is `n` (`ans` names a rule's own result in templates) -----
_NK = "ord=ord, axis=axis, keepdims=keepdims"
defrule(
    "norm_adjoint(v, x, n, ord=None, axis=None, keepdims=False)",
    static=("ord", "axis", "keepdims"),
    objects=(runtime.norm_adjoint,),
    temp="to_norm",
    v=f"norm_adjoint_vjp(g, v, x, n, 0, {_NK})",
    x=f"norm_adjoint_vjp(g, v, x, n, 1, {_NK})",
    n=f"norm_adjoint_vjp(g, v, x, n, 2, {_NK})",
    tangent=dict(
        v=f"norm_adjoint(d_v, x, n, {_NK})",
        x=f"norm_adjoint_jvp(v, x, n, d_x, 1, {_NK})",
        n=f"norm_adjoint_jvp(v, x, n, d_n, 2, {_NK})",
    ),
)

# ----- a regenerated gradient returns each gradient in its input's dtype (the real part for a real
# input): linear; the transpose casts back to the dtype of v (complex again, or the other precision) -----
defrule(
    "in_dtype_of(v, x)",
    nondiff=("x",),
    objects=(runtime.in_dtype_of,),
    temp="cast",
    v="in_dtype_of(g, v)",
    tangent="in_dtype_of(d_v, x)",
)

# ----- the seed of a scalar output (a gradient regenerated as a plain function): a constant -----
defconst(
    "seed_like(y, seed=None)",
    nondiff=("y",),
    static=("seed",),
    objects=(runtime.seed_like,),
    temp="seed",
)
