"""Second order through the runtime helpers that are pure JAX functions (``rule_jax.defjax``).

A gradient normalized again calls these helpers; each is differentiated by JAX, one call at a
time: the tangent of an argument is ``jvp_of(helper, d_<arg>, (args...), i)``, its adjoint
``vjp_of(helper, g, (args...), i)``, and where the helper is linear in an argument (the incoming
adjoint ``v``, the cotangents ``g_w``, ``g_v`` of a decomposition's parts) the tangent is the
helper applied to that argument's tangent. One line per helper, no hand-written derivative.
"""

from sourcegrad import runtime
from sourcegrad.rule_jax import defjax

# the adjoints and tangents JAX computes for one call: `fn` and its keyword arguments are held
for _name, _linear, _temp in (("vjp_of", "v", "adjoint"), ("transpose_of", "v", "transposed")):
    defjax(
        f"{_name}(fn, v, args, k)",
        functions=("fn",),
        static=("k",),
        sequence=("args",),
        linear=(_linear,),
        keywords=True,
        objects=(getattr(runtime, _name),),
        temp=_temp,
    )
defjax(
    "jvp_of(fn, t, args, k)",
    functions=("fn",),
    static=("k",),
    sequence=("args",),
    linear=("t",),
    keywords=True,
    objects=(runtime.jvp_of,),
    temp="tangent",
)

# the adjoints of the decompositions (runtime/decompositions.py): linear in the parts' cotangents
defjax(
    "eigh_adjoint(a, g_w, g_v, UPLO, symmetrize=False)",
    static=("UPLO", "symmetrize"),
    linear=("g_w", "g_v"),
    objects=(runtime.eigh_adjoint,),
    temp="to_eigh",
)
defjax(
    "svd_adjoint(a, g_u, g_s, g_vt, full_matrices=False)",
    static=("full_matrices",),
    linear=("g_u", "g_s", "g_vt"),
    objects=(runtime.svd_adjoint,),
    temp="to_svd",
)
defjax("qr_adjoint(a, g_q, g_r)", linear=("g_q", "g_r"), objects=(runtime.qr_adjoint,), temp="to_qr")
defjax(
    "lstsq_adjoint(a, b, g_x, g_res, rcond, wrt, numpy=True)",
    static=("rcond", "wrt", "numpy"),
    linear=("g_x", "g_res"),
    objects=(runtime.lstsq_adjoint,),
    temp="to_lstsq",
)
defjax("angle_adjoint(v, x)", linear=("v",), objects=(runtime.angle_adjoint,), temp="to_angle")

# the adjoints of reductions, shapes and linear algebra (runtime/reductions.py, indexing.py,
# assembly.py, linalg.py): linear in the incoming adjoint v; an argument read only for its shape
# is nondiff: (signature, static, nondiff)
for _signature, _static, _nondiff in (
    ("cumsum_adjoint(v, x, axis=None)", ("axis",), ("x",)),
    ("prod_adjoint(v, x, axis=None, keepdims=False)", ("axis", "keepdims"), ()),
    ("var_adjoint(v, x, axis=None, ddof=0, keepdims=False)", ("axis", "ddof", "keepdims"), ()),
    ("std_adjoint(v, x, n, axis=None, ddof=0, keepdims=False)", ("axis", "ddof", "keepdims"), ()),
    ("sort_adjoint(v, x, axis=-1)", ("axis",), ()),
    ("roll_adjoint(v, shift, axis=None)", ("shift", "axis"), ()),
    ("diag_adjoint(v, x, k=0)", ("k",), ("x",)),
    ("trace_adjoint(v, x, offset=0, axis1=0, axis2=1)", ("offset", "axis1", "axis2"), ("x",)),
    ("pad_adjoint(v, array, pad_width, mode='constant')", ("pad_width", "mode"), ("array",)),
    ("unconcatenate(v, arrays, k, axis=0)", ("k", "axis"), ("arrays",)),
    ("linspace_adjoint(v, num, which)", ("num", "which"), ()),
    ("pinv_adjoint(v, a)", (), ()),
    (
        "cholesky_adjoint(v, L, symmetrize=False, upper=False, reads_upper=False)",
        ("symmetrize", "upper", "reads_upper"),
        (),
    ),
    ("solve_outer(v, x)", (), ()),
):
    _name = _signature.split("(")[0]
    defjax(
        _signature,
        static=_static,
        nondiff=_nondiff,
        linear=("v",),
        objects=(getattr(runtime, _name),),
        temp="to_" + _name.removesuffix("_adjoint"),
    )

# the adjoints of products and the weights elementwise rules multiply g by (runtime/elementwise.py,
# linalg.py): JAX differentiates them where they move (a weight that is piecewise constant, as
# fmax's or clip's, has tangent zero there)
for _signature, _static, _linear in (
    ("dot_adjoint_lhs(v, a, b)", (), ("v",)),
    ("dot_adjoint_rhs(v, a, b)", (), ("v",)),
    ("inner_adjoint_lhs(v, a, b)", (), ("v",)),
    ("inner_adjoint_rhs(v, a, b)", (), ("v",)),
    ("conj_sign_adjoint(v, x)", (), ("v",)),
    ("div_or_zero(a, b)", (), ()),
    ("logaddexp_weight(a, b)", (), ()),
    ("fmax_weight(a, b)", (), ()),
    ("fmin_weight(a, b)", (), ()),
    ("sinc_derivative(x)", (), ()),
    ("clip_mask(a, a_min=None, a_max=None, which='a')", ("which",), ()),
):
    _name = _signature.split("(")[0]
    defjax(_signature, static=_static, linear=_linear, objects=(getattr(runtime, _name),), temp=_name)
