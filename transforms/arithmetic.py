"""Python's operators: + - * / ** @ % unary -, and comparisons (constants for the backward).

``broadcast=True``: the contribution is summed back over the axes along which
the argument was broadcast (``unbroadcast``), so ``b`` of shape (3,) added to a
(4, 3) matrix gets a (3,) gradient.
"""

from sourcegrad.rules import defop

# ----- Binary arithmetic (broadcasting) -----
defop("add", "x + y", numpy_name="add", broadcast=True, x="g", y="g", tangent=dict(x="d_x", y="d_y"))
defop(
    "subtract",
    "x - y",
    numpy_name="subtract",
    broadcast=True,
    temp="sub",
    x="g",
    y="-g",
    tangent=dict(x="d_x", y="-d_y"),
)
defop(
    "multiply",
    "x * y",
    numpy_name="multiply",
    broadcast=True,
    temp="mul",
    x="g * y",
    y="g * x",
    tangent=dict(x="d_x * y", y="x * d_y"),
)
defop(
    "divide",
    "x / y",
    numpy_name="divide",
    broadcast=True,
    temp="div",
    x="g / y",
    y="-g * ans / y",
    tangent=dict(x="d_x / y", y="-d_y * ans / y"),
)
defop(
    "power",
    "x ** y",
    numpy_name="power",
    broadcast=True,
    temp="power",
    x="g * jnp.where(y == 0, 0, y * x ** (y - 1))",
    y="g * ans * log_or_zero(x)",
    tangent=dict(x="d_x * jnp.where(y == 0, 0, y * x ** (y - 1))", y="d_y * ans * log_or_zero(x)"),
)
defop(
    "mod",
    "x % y",
    numpy_name="mod",
    broadcast=True,
    x="g",
    y="-g * jnp.floor_divide(x, y)",
    tangent=dict(x="d_x", y="-d_y * jnp.floor_divide(x, y)"),
)
defop(
    "matmul",
    "x @ y",
    numpy_name="matmul",
    temp="matmul",
    x="matmul_adjoint_lhs(g, x, y)",
    y="matmul_adjoint_rhs(g, x, y)",
    tangent=dict(x="d_x @ y", y="x @ d_y"),
)

# ----- Unary -----
defop("negative", "-x", numpy_name="negative", temp="neg", x="-g", tangent="-d_x")
defop("positive", "+x", numpy_name="positive", temp="pos", x="g", tangent="d_x")

# ----- Integer and boolean arithmetic, comparisons: no gradient -----
defop("floor_divide", "x // y", numpy_name="floor_divide", differentiable=False, temp="floordiv")
defop("less", "x < y", numpy_name="less", differentiable=False, temp="lt")
defop("less_equal", "x <= y", numpy_name="less_equal", differentiable=False, temp="le")
defop("greater", "x > y", numpy_name="greater", differentiable=False, temp="gt")
defop("greater_equal", "x >= y", numpy_name="greater_equal", differentiable=False, temp="ge")
defop("equal", "x == y", numpy_name="equal", differentiable=False, temp="eq")
defop("not_equal", "x != y", numpy_name="not_equal", differentiable=False, temp="ne")
defop("bitwise_and", "x & y", numpy_name="logical_and", differentiable=False, temp="both")
defop("bitwise_or", "x | y", numpy_name="logical_or", differentiable=False, temp="either")
defop("invert", "~x", numpy_name="logical_not", differentiable=False, temp="inverted")

# ----- Python's own operators on values known while tracing (normal/normalize/logic.py) -----
defop("static_not", "not x", differentiable=False, temp="negated")
defop("is_", "x is y", differentiable=False, temp="same")
defop("is_not", "x is not y", differentiable=False, temp="different")
