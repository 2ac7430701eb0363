"""Python's ``math`` module: ``math.log(2 * math.pi)``, ``math.sqrt(n)``, ``math.exp(s)``.

A ``math`` function takes one number: a Python float, or an array of one element, which NumPy
converts (a larger array is NumPy's TypeError; ``scalar_of`` raises it while JAX traces, and the
error names the user's line). The result is a 0-d value, as NumPy's conversion gives. The
derivatives are those of the NumPy function of the same name (``elementwise.UNARY``), so the two
tables cannot disagree. On constants (``math.log(2 * math.pi)``) the call runs while tracing and
no adjoint is generated.
"""

import math

from sourcegrad.rules import defop

from .elementwise import TANGENTS, UNARY

# math's name -> the NumPy function with the same derivative
UNARY_NAMES = {
    "sin": "sin",
    "cos": "cos",
    "tan": "tan",
    "asin": "arcsin",
    "acos": "arccos",
    "atan": "arctan",
    "sinh": "sinh",
    "cosh": "cosh",
    "tanh": "tanh",
    "asinh": "arcsinh",
    "acosh": "arccosh",
    "atanh": "arctanh",
    "exp": "exp",
    "expm1": "expm1",
    "log1p": "log1p",
    "log2": "log2",
    "log10": "log10",
    "sqrt": "sqrt",
    "fabs": "abs",
}

for _name, _numpy in UNARY_NAMES.items():
    defop(
        f"math.{_name}",
        f"jnp.{_numpy}(scalar_of(x))",
        params=("x",),
        objects=(getattr(math, _name),),
        temp=_name,
        x=UNARY[_numpy],
        tangent=TANGENTS[_numpy],
    )

# math.log(x) is the natural log; math.log(x, base) is log(x) / log(base)
defop(
    "math.log",
    "jnp.log(scalar_of(x)) / jnp.log(scalar_of(base))",
    params=("x", "base"),
    defaults={"base": math.e},
    objects=(math.log,),
    temp="log",
    static=("base",),
    x="g / (x * jnp.log(base))",
    tangent="d_x / (x * jnp.log(base))",
)
defop(
    "math.degrees",
    "scalar_of(x) * (180 / jnp.pi)",
    params=("x",),
    objects=(math.degrees,),
    temp="deg",
    x="g * (180 / jnp.pi)",
    tangent="d_x * (180 / jnp.pi)",
)
defop(
    "math.radians",
    "scalar_of(x) * (jnp.pi / 180)",
    params=("x",),
    objects=(math.radians,),
    temp="rad",
    x="g * (jnp.pi / 180)",
    tangent="d_x * (jnp.pi / 180)",
)
defop(
    "math.erf",
    "jax.scipy.special.erf(scalar_of(x))",
    params=("x",),
    objects=(math.erf,),
    temp="erf",
    x="g * (2 / jnp.sqrt(jnp.pi)) * jnp.exp(-x ** 2)",
    tangent="d_x * (2 / jnp.sqrt(jnp.pi)) * jnp.exp(-x ** 2)",
)
defop(
    "math.erfc",
    "jax.scipy.special.erfc(scalar_of(x))",
    params=("x",),
    objects=(math.erfc,),
    temp="erfc",
    x="-g * (2 / jnp.sqrt(jnp.pi)) * jnp.exp(-x ** 2)",
    tangent="-d_x * (2 / jnp.sqrt(jnp.pi)) * jnp.exp(-x ** 2)",
)
defop(
    "math.lgamma",
    "jax.scipy.special.gammaln(scalar_of(x))",
    params=("x",),
    objects=(math.lgamma,),
    temp="lgamma",
    x="g * jax.scipy.special.digamma(x)",
    tangent="d_x * jax.scipy.special.digamma(x)",
)
defop(
    "math.atan2",
    "jnp.arctan2(scalar_of(y), scalar_of(x))",
    params=("y", "x"),
    objects=(math.atan2,),
    temp="atan2",
    y="g * div_or_zero(x, x ** 2 + y ** 2)",
    x="-g * div_or_zero(y, x ** 2 + y ** 2)",
    tangent=dict(y="d_y * div_or_zero(x, x ** 2 + y ** 2)", x="-d_x * div_or_zero(y, x ** 2 + y ** 2)"),
)
defop(
    "math.hypot",
    "jnp.hypot(scalar_of(x), scalar_of(y))",
    params=("x", "y"),
    objects=(math.hypot,),
    temp="hypot",
    x="g * div_or_zero(x, ans)",
    y="g * div_or_zero(y, ans)",
    tangent=dict(x="d_x * div_or_zero(x, ans)", y="d_y * div_or_zero(y, ans)"),
)
