"""The operations random programs are made of, as source templates with safe input domains.

Every template is defined for every real input (``np.log(a * a + 1.0)`` rather than
``np.log(a)``), so a program never leaves NumPy's domain; shapes are checked by running the
statement on placeholder arrays while the program is generated.
"""

from __future__ import annotations

__all__ = ["UNARY", "BINARY", "REDUCE", "LINALG", "HELPERS_EW", "HELPERS_TUPLE", "HELPERS_WRITE", "FEATURES"]

#: Everything the generator can be asked to use; "straight" is always on.
FEATURES = (
    "straight",
    "broadcast",
    "reduce",
    "linalg",
    "loop",
    "branch",
    "helper",
    "container",
    "inplace",
    "squeeze_write",
    "alias",
    "helper_write",
)

UNARY = (
    "np.sin({a})",
    "np.cos({a})",
    "np.tanh({a})",
    "np.arctan({a})",
    "np.exp(np.sin({a}))",
    "np.log({a} * {a} + 1.0)",
    "np.sqrt({a} * {a} + 0.5)",
    "{a} ** 2",
    "np.square({a})",
    "-{a}",
    "np.abs({a})",
    "1.0 / ({a} * {a} + 1.0)",
    "np.log1p({a} * {a})",
    "np.expm1(0.3 * {a})",
    "np.maximum({a}, 0.2)",
    "np.minimum({a}, -0.1)",
    "np.clip({a}, -0.5, 0.6)",
    "np.sinh(0.5 * {a})",
    "np.cosh(0.5 * {a})",
    "np.where({a} > 0.1, {a}, 0.2 * {a})",
    "{a} * 2.5",
    "0.5 - {a}",
    "{a} / 3.0",
    "np.cbrt({a} * {a} + 1.0)",
    "np.arcsinh({a})",
    "np.exp2(0.5 * {a})",
    "np.log2({a} * {a} + 1.0)",
    "np.arctan2({a}, 1.5)",
    "({a} * {a} + 1.0) ** 0.5",
    "np.reciprocal({a} * {a} + 2.0)",
    "np.sign({a}) * {a}",
)

BINARY = (
    "{a} + {b}",
    "{a} - {b}",
    "{a} * {b}",
    "{a} / ({b} * {b} + 1.0)",
    "np.maximum({a}, {b})",
    "np.minimum({a}, {b})",
    "np.hypot({a}, {b})",
    "np.arctan2({a}, {b})",
    "np.logaddexp({a}, {b})",
    "np.where({a} > {b}, {a} * {b}, {b} - {a})",
    "{a} * np.sin({b})",
    "np.tanh({a} - {b})",
    "({a} + {b}) ** 2",
    "({a} * {a} + 1.0) ** {b}",
    "{a} * 0.5 + {b} * 0.25",
)

REDUCE = (
    "np.sum({a})",
    "np.mean({a})",
    "np.max({a})",
    "np.min({a})",
    "np.sum({a}, axis=0)",
    "np.mean({a}, axis=-1)",
    "np.max({a}, axis=0)",
    "np.prod({a} * 0.5 + 1.0)",
    "np.linalg.norm({a})",
    "np.std({a})",
    "np.var({a})",
    "np.sum({a} * {a}, axis=-1)",
    "np.cumsum({a})",
    "np.cumsum({a}, axis=0)",
    "{a}.sum()",
    "{a}.mean(axis=0)",
    "np.sum({a}, keepdims=True)",
    "np.min({a}, axis=-1)",
)

#: Linear algebra and shape operations; several return views of their operand under NumPy.
LINALG = (
    "{a} @ {b}",
    "np.dot({a}, {b})",
    "np.outer({a}, {b})",
    "np.inner({a}, {b})",
    "np.einsum('ij,j->i', {a}, {b})",
    "np.einsum('i,i->', {a}, {b})",
    "{a}.T",
    "np.transpose({a})",
    "{a}[0]",
    "{a}[1:]",
    "{a}[::-1]",
    "{a}[:, 1]",
    "np.reshape({a}, (-1,))",
    "{a}.ravel()",
    "np.stack([{a}, {b}])",
    "np.concatenate([{a}, {b}])",
    "np.flip({a})",
    "np.roll({a}, 1)",
    "np.expand_dims({a}, 0)",
    "np.trace(np.outer({a}, {b}))",
    "np.diag({a})",
    "{a}[-1]",
    "np.squeeze({a})",
    "{a}.reshape(-1)",
)

#: Helper functions of two arrays, elementwise (broadcasting): (body lines, return expression).
HELPERS_EW: tuple[tuple[list[str], str], ...] = (
    (["t = np.sin(a) * b"], "t + a"),
    (["t = a * b", "u = np.tanh(t)"], "u * a + b"),
    (["s = np.sum(a * a)"], "b * s + a"),
    ([], "np.logaddexp(a, b) - 0.5 * a"),
    (["t = np.maximum(a, b)"], "t * t"),
)

#: Helpers taking a tuple of two arrays.
HELPERS_TUPLE: tuple[tuple[list[str], str], ...] = (
    ([], "t[0] * np.sin(t[1])"),
    (["u = t[0] + t[1]"], "u * u"),
)

#: Helpers that write into their array argument ``a`` (NumPy changes the caller's array), with
#: whether they return ``a`` itself (then the result is the caller's array too).
HELPERS_WRITE = (
    (["a[0] = s"], "a", True),
    (["a *= 1.5"], "a + s", False),
    (["a[-1] += np.sin(s)"], "np.sum(a * a)", False),
    (["a[0] = a[0] * 0.5 + s"], "np.tanh(a)", False),
)
