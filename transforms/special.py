"""scipy.special and scipy.stats.norm, forward through jax.scipy.

Each rule applies to the SciPy function a NumPy user calls (``scipy.special.erf``,
``scipy.stats.norm.pdf``) and to its ``jax.scipy`` twin. ``z`` in the comments is ``(x - loc) / scale``.
"""

from sourcegrad.rules import defrule

_SP = "jax.scipy.special"
_NORM = "jax.scipy.stats.norm"

# ----- one argument -----
defrule(
    f"{_SP}.erf(x)",
    temp="erf",
    x="g * (2 / jnp.sqrt(jnp.pi)) * jnp.exp(-x ** 2)",
    tangent="d_x * (2 / jnp.sqrt(jnp.pi)) * jnp.exp(-x ** 2)",
)
defrule(
    f"{_SP}.erfc(x)",
    temp="erfc",
    x="-g * (2 / jnp.sqrt(jnp.pi)) * jnp.exp(-x ** 2)",
    tangent="-d_x * (2 / jnp.sqrt(jnp.pi)) * jnp.exp(-x ** 2)",
)
defrule(
    f"{_SP}.erfinv(x)",
    temp="erfinv",
    x="g * (jnp.sqrt(jnp.pi) / 2) * jnp.exp(ans ** 2)",
    tangent="d_x * (jnp.sqrt(jnp.pi) / 2) * jnp.exp(ans ** 2)",
)
defrule(f"{_SP}.gammaln(x)", temp="gammaln", x=f"g * {_SP}.digamma(x)", tangent=f"d_x * {_SP}.digamma(x)")
defrule(
    f"{_SP}.digamma(x)",
    temp="digamma",
    x=f"g * {_SP}.polygamma(1, x)",
    tangent=f"d_x * {_SP}.polygamma(1, x)",
)
defrule(f"{_SP}.expit(x)", temp="expit", x="g * ans * (1 - ans)", tangent="d_x * ans * (1 - ans)")
defrule(f"{_SP}.logit(x)", temp="logit", x="g / (x * (1 - x))", tangent="d_x / (x * (1 - x))")
defrule(
    f"{_SP}.multigammaln(a, d)",
    static=("d",),
    temp="multigammaln",
    a=f"g * jnp.sum({_SP}.digamma(jnp.expand_dims(a, -1) - jnp.arange(d) / 2), axis=-1)",
    tangent=f"d_a * jnp.sum({_SP}.digamma(jnp.expand_dims(a, -1) - jnp.arange(d) / 2), axis=-1)",
)
defrule(
    f"{_SP}.softmax(x, axis=None)",
    static=("axis",),
    temp="softmax",
    x="ans * (g - jnp.sum(g * ans, axis=axis, keepdims=True))",
    tangent="ans * (d_x - jnp.sum(d_x * ans, axis=axis, keepdims=True))",
)
defrule(
    f"{_SP}.log_softmax(x, axis=None)",
    static=("axis",),
    temp="log_softmax",
    x="g - jnp.exp(ans) * jnp.sum(g, axis=axis, keepdims=True)",
    tangent="d_x - jnp.sum(jnp.exp(ans) * d_x, axis=axis, keepdims=True)",
)

# ----- two arguments (broadcasting) -----
defrule(
    f"{_SP}.xlogy(x, y)",
    broadcast=True,
    temp="xlogy",
    x="g * log_or_zero(y)",
    y="g * div_or_zero(x, y)",
    tangent=dict(x="d_x * log_or_zero(y)", y="d_y * div_or_zero(x, y)"),
)
defrule(
    f"{_SP}.xlog1py(x, y)",
    broadcast=True,
    temp="xlog1py",
    x="g * log_or_zero(1 + y)",
    y="g * div_or_zero(x, 1 + y)",
    tangent=dict(x="d_x * log_or_zero(1 + y)", y="d_y * div_or_zero(x, 1 + y)"),
)
defrule(
    f"{_SP}.betaln(a, b)",
    broadcast=True,
    temp="betaln",
    a=f"g * ({_SP}.digamma(a) - {_SP}.digamma(a + b))",
    b=f"g * ({_SP}.digamma(b) - {_SP}.digamma(a + b))",
    tangent=dict(
        a=f"d_a * ({_SP}.digamma(a) - {_SP}.digamma(a + b))",
        b=f"d_b * ({_SP}.digamma(b) - {_SP}.digamma(a + b))",
    ),
)

# ----- scipy.stats.norm: d/dx, d/dloc = -d/dx, d/dscale -----
defrule(
    f"{_NORM}.pdf(x, loc=0, scale=1)",
    broadcast=True,
    temp="pdf",
    positional=3,
    x="-g * ans * (x - loc) / scale ** 2",
    loc="g * ans * (x - loc) / scale ** 2",
    scale="g * ans * (((x - loc) / scale) ** 2 - 1) / scale",
    tangent=dict(
        x="-d_x * ans * (x - loc) / scale ** 2",
        loc="d_loc * ans * (x - loc) / scale ** 2",
        scale="d_scale * ans * (((x - loc) / scale) ** 2 - 1) / scale",
    ),
)
defrule(
    f"{_NORM}.logpdf(x, loc=0, scale=1)",
    broadcast=True,
    temp="logpdf",
    positional=3,
    x="-g * (x - loc) / scale ** 2",
    loc="g * (x - loc) / scale ** 2",
    scale="g * (((x - loc) / scale) ** 2 - 1) / scale",
    tangent=dict(
        x="-d_x * (x - loc) / scale ** 2",
        loc="d_loc * (x - loc) / scale ** 2",
        scale="d_scale * (((x - loc) / scale) ** 2 - 1) / scale",
    ),
)
defrule(
    f"{_NORM}.cdf(x, loc=0, scale=1)",
    broadcast=True,
    temp="cdf",
    positional=3,
    x=f"g * {_NORM}.pdf(x, loc, scale)",
    loc=f"-g * {_NORM}.pdf(x, loc, scale)",
    scale=f"-g * {_NORM}.pdf(x, loc, scale) * (x - loc) / scale",
    tangent=dict(
        x=f"d_x * {_NORM}.pdf(x, loc, scale)",
        loc=f"-d_loc * {_NORM}.pdf(x, loc, scale)",
        scale=f"-d_scale * {_NORM}.pdf(x, loc, scale) * (x - loc) / scale",
    ),
)
defrule(
    f"{_NORM}.logcdf(x, loc=0, scale=1)",
    broadcast=True,
    temp="logcdf",
    positional=3,
    x=f"g * jnp.exp({_NORM}.logpdf(x, loc, scale) - ans)",
    loc=f"-g * jnp.exp({_NORM}.logpdf(x, loc, scale) - ans)",
    scale=f"-g * jnp.exp({_NORM}.logpdf(x, loc, scale) - ans) * (x - loc) / scale",
    tangent=dict(
        x=f"d_x * jnp.exp({_NORM}.logpdf(x, loc, scale) - ans)",
        loc=f"-d_loc * jnp.exp({_NORM}.logpdf(x, loc, scale) - ans)",
        scale=f"-d_scale * jnp.exp({_NORM}.logpdf(x, loc, scale) - ans) * (x - loc) / scale",
    ),
)
