"""Elementwise functions: each adjoint is ``g`` times the local derivative.

``ans`` is the function's result, reused where the derivative is cheaper in
terms of it (exp, tanh, sqrt).
"""

from sourcegrad.rules import defrule

# ----- Unary: name -> adjoint of x -----
UNARY = {
    "sin": "g * jnp.cos(x)",
    "cos": "-g * jnp.sin(x)",
    "tan": "g * (1 + ans ** 2)",
    "arcsin": "g / jnp.sqrt(1 - x ** 2)",
    "arccos": "-g / jnp.sqrt(1 - x ** 2)",
    "arctan": "g / (1 + x ** 2)",
    "sinh": "g * jnp.cosh(x)",
    "cosh": "g * jnp.sinh(x)",
    "tanh": "g * (1 - ans ** 2)",
    "arcsinh": "g / jnp.sqrt(x ** 2 + 1)",
    "arccosh": "g / jnp.sqrt(x ** 2 - 1)",
    "arctanh": "g / (1 - x ** 2)",
    "exp": "g * ans",
    "expm1": "g * (ans + 1)",
    "exp2": "g * ans * jnp.log(2.0)",
    "log": "g / x",
    "log1p": "g / (1 + x)",
    "log2": "g / (x * jnp.log(2.0))",
    "log10": "g / (x * jnp.log(10.0))",
    "sqrt": "g / (2 * ans)",
    "cbrt": "g / (3 * ans ** 2)",
    "square": "g * 2 * x",
    # sign(x), or conj(x) / |x| for a complex x (JAX's convention); the result is real, so a
    # complex cotangent (a product with a complex value gives one) counts by its real part
    "abs": "jnp.real(g) * conj_sign(x)",
    "reciprocal": "-g * ans ** 2",
}
# ----- name -> tangent of the result (forward mode): the same local derivative, times d_x -----
TANGENTS = {
    "sin": "d_x * jnp.cos(x)",
    "cos": "-d_x * jnp.sin(x)",
    "tan": "d_x * (1 + ans ** 2)",
    "arcsin": "d_x / jnp.sqrt(1 - x ** 2)",
    "arccos": "-d_x / jnp.sqrt(1 - x ** 2)",
    "arctan": "d_x / (1 + x ** 2)",
    "sinh": "d_x * jnp.cosh(x)",
    "cosh": "d_x * jnp.sinh(x)",
    "tanh": "d_x * (1 - ans ** 2)",
    "arcsinh": "d_x / jnp.sqrt(x ** 2 + 1)",
    "arccosh": "d_x / jnp.sqrt(x ** 2 - 1)",
    "arctanh": "d_x / (1 - x ** 2)",
    "exp": "d_x * ans",
    "expm1": "d_x * (ans + 1)",
    "exp2": "d_x * ans * jnp.log(2.0)",
    "log": "d_x / x",
    "log1p": "d_x / (1 + x)",
    "log2": "d_x / (x * jnp.log(2.0))",
    "log10": "d_x / (x * jnp.log(10.0))",
    "sqrt": "d_x / (2 * ans)",
    "cbrt": "d_x / (3 * ans ** 2)",
    "square": "d_x * 2 * x",
    "abs": "jnp.real(conj_sign(x) * d_x)",
    "reciprocal": "-d_x * ans ** 2",
}
TEMP_NAMES = {"abs": "absolute"}

for _name, _adjoint in UNARY.items():
    defrule(
        f"jnp.{_name}(x)",
        x=_adjoint,
        temp=TEMP_NAMES.get(_name),
        tangent=TANGENTS[_name],
        aliases=("absolute",) if _name == "abs" else (),
    )

# ----- Binary (broadcasting) -----
defrule(
    "jnp.maximum(x, y)",
    broadcast=True,
    x="g * tie_split(x, y)",
    y="g * tie_split(y, x)",
    tangent=dict(x="d_x * tie_split(x, y)", y="d_y * tie_split(y, x)"),
)
defrule(
    "jnp.minimum(x, y)",
    broadcast=True,
    x="g * tie_split(y, x)",
    y="g * tie_split(x, y)",
    tangent=dict(x="d_x * tie_split(y, x)", y="d_y * tie_split(x, y)"),
)
# at the points where these are not differentiable, 0 (or 1/2 at a tie) instead of NaN:
# see docs/conventions.md
defrule(
    "jnp.arctan2(x1, x2)",
    broadcast=True,
    x1="g * div_or_zero(x2, x1 ** 2 + x2 ** 2)",
    x2="-g * div_or_zero(x1, x1 ** 2 + x2 ** 2)",
    tangent=dict(
        x1="d_x1 * div_or_zero(x2, x1 ** 2 + x2 ** 2)", x2="-d_x2 * div_or_zero(x1, x1 ** 2 + x2 ** 2)"
    ),
)
defrule(
    "jnp.hypot(x1, x2)",
    broadcast=True,
    x1="g * div_or_zero(x1, ans)",
    x2="g * div_or_zero(x2, ans)",
    tangent=dict(x1="d_x1 * div_or_zero(x1, ans)", x2="d_x2 * div_or_zero(x2, ans)"),
)
defrule(
    "jnp.logaddexp(x1, x2)",
    broadcast=True,
    x1="g * logaddexp_weight(x1, x2)",
    x2="g * logaddexp_weight(x2, x1)",
    tangent=dict(x1="d_x1 * logaddexp_weight(x1, x2)", x2="d_x2 * logaddexp_weight(x2, x1)"),
)
defrule(
    "jnp.where(condition, x, y)",
    broadcast=True,
    nondiff=("condition",),
    x="jnp.where(condition, g, 0)",
    y="jnp.where(condition, 0, g)",
    tangent=dict(x="jnp.where(condition, d_x, 0)", y="jnp.where(condition, 0, d_y)"),
)
defrule(
    "jnp.clip(a, a_min=None, a_max=None)",
    broadcast=True,
    positional=3,
    a="g * clip_mask(a, a_min, a_max, 'a')",
    a_min="g * clip_mask(a, a_min, a_max, 'a_min')",
    a_max="g * clip_mask(a, a_min, a_max, 'a_max')",
    tangent=dict(
        a="d_a * clip_mask(a, a_min, a_max, 'a')",
        a_min="d_a_min * clip_mask(a, a_min, a_max, 'a_min')",
        a_max="d_a_max * clip_mask(a, a_min, a_max, 'a_max')",
    ),
)

# ----- more NumPy elementwise functions -----
defrule("jnp.sinc(x)", x="g * sinc_derivative(x)", tangent="d_x * sinc_derivative(x)")
defrule("jnp.fabs(x)", temp="absolute", x="g * jnp.sign(x)", tangent="d_x * jnp.sign(x)")
defrule(
    "jnp.deg2rad(x)", temp="rad", aliases=("radians",), x="g * (jnp.pi / 180)", tangent="d_x * (jnp.pi / 180)"
)
defrule(
    "jnp.rad2deg(x)", temp="deg", aliases=("degrees",), x="g * (180 / jnp.pi)", tangent="d_x * (180 / jnp.pi)"
)
defrule(
    "jnp.nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None)",
    static=("copy", "nan", "posinf", "neginf"),
    positional=1,
    temp="finite",
    x="jnp.where(jnp.isfinite(x), g, 0)",
    tangent="jnp.where(jnp.isfinite(x), d_x, 0)",
)
defrule(
    "jnp.fmax(x1, x2)",
    broadcast=True,
    x1="g * fmax_weight(x1, x2)",
    x2="g * fmax_weight(x2, x1)",
    tangent=dict(x1="d_x1 * fmax_weight(x1, x2)", x2="d_x2 * fmax_weight(x2, x1)"),
)
defrule(
    "jnp.fmin(x1, x2)",
    broadcast=True,
    x1="g * fmin_weight(x1, x2)",
    x2="g * fmin_weight(x2, x1)",
    tangent=dict(x1="d_x1 * fmin_weight(x1, x2)", x2="d_x2 * fmin_weight(x2, x1)"),
)
defrule(
    "jnp.logaddexp2(x1, x2)",
    broadcast=True,
    x1="g * logaddexp_weight(x1 * jnp.log(2.0), x2 * jnp.log(2.0))",
    x2="g * logaddexp_weight(x2 * jnp.log(2.0), x1 * jnp.log(2.0))",
    tangent=dict(
        x1="d_x1 * logaddexp_weight(x1 * jnp.log(2.0), x2 * jnp.log(2.0))",
        x2="d_x2 * logaddexp_weight(x2 * jnp.log(2.0), x1 * jnp.log(2.0))",
    ),
)
