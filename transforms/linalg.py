"""Products and linear algebra.

The product adjoints handle vectors, matrices and stacks of matrices (the
helpers in ``sourcegrad.runtime`` spell out each case); ``mT`` swaps the last
two axes.
"""

import numpy as np

from sourcegrad import runtime
from sourcegrad.rules import defrule

defrule(
    "jnp.dot(a, b)",
    a="dot_adjoint_lhs(g, a, b)",
    b="dot_adjoint_rhs(g, a, b)",
    tangent=dict(a="jnp.dot(d_a, b)", b="jnp.dot(a, d_b)"),
)
defrule(
    "jnp.inner(a, b)",
    a="inner_adjoint_lhs(g, a, b)",
    b="inner_adjoint_rhs(g, a, b)",
    tangent=dict(a="jnp.inner(d_a, b)", b="jnp.inner(a, d_b)"),
)
defrule(
    "jnp.outer(a, b)",
    a="jnp.reshape(g @ jnp.ravel(b), jnp.shape(a))",
    b="jnp.reshape(jnp.ravel(a) @ g, jnp.shape(b))",
    tangent=dict(a="jnp.outer(d_a, b)", b="jnp.outer(a, d_b)"),
)
defrule(
    "jnp.einsum(subscripts, *operands)",
    static=("subscripts",),
    operands="einsum_adjoint(subscripts, position, g, *operands)",
    tangent="einsum_tangent(subscripts, position, d_operands, *operands)",
)
# bilinear: each operand's adjoint is the transposed map of that one call, each tangent exact
for _name, _mode in (("convolve", "full"), ("correlate", "valid")):
    defrule(
        f"jnp.{_name}(a, v, mode={_mode!r})",
        static=("mode",),
        positional=3,
        a=f"vjp_of(jnp.{_name}, g, (a, v), 0, mode=mode)",
        v=f"vjp_of(jnp.{_name}, g, (a, v), 1, mode=mode)",
        tangent=dict(a=f"jnp.{_name}(d_a, v, mode=mode)", v=f"jnp.{_name}(a, d_v, mode=mode)"),
    )
defrule(
    "jnp.trace(x, offset=0, axis1=0, axis2=1)",
    static=("offset", "axis1", "axis2"),
    positional=1,
    x="trace_adjoint(g, x, offset, axis1, axis2)",
    tangent="jnp.trace(d_x, offset, axis1, axis2)",
)
defrule(
    "jnp.transpose(x, axes=None)",
    static=("axes",),
    temp="transposed",
    x="transpose_adjoint(g, axes)",
    tangent="jnp.transpose(d_x, axes)",
)
defrule(
    "jnp.linalg.solve(a, b)",
    temp="solution",
    a="-solve_outer(jnp.linalg.solve(mT(a), g), ans)",
    b="jnp.linalg.solve(mT(a), g)",
    tangent=dict(a="-jnp.linalg.solve(a, d_a @ ans)", b="jnp.linalg.solve(a, d_b)"),
)
defrule("jnp.linalg.inv(x)", temp="inverse", x="-mT(ans) @ g @ mT(ans)", tangent="-ans @ d_x @ ans")
defrule(
    "jnp.linalg.det(x)",
    temp="det",
    x="jnp.expand_dims(g * ans, (-2, -1)) * mT(jnp.linalg.inv(x))",
    tangent="ans * jnp.trace(jnp.linalg.solve(x, d_x), axis1=-2, axis2=-1)",
)
# JAX's cholesky and eigvalsh factor (a + a^T) / 2 (symmetrize_input=True), or read one triangle;
# registered first, for the jnp functions alone: NumPy's, below, take the np functions
defrule(
    "jnp.linalg.cholesky(a, upper=False, symmetrize_input=True)",
    static=("upper", "symmetrize_input"),
    max_positional=1,
    temp="chol",
    a="cholesky_adjoint(g, ans, symmetrize_input, upper)",
    tangent="jvp_of(cholesky_lower, d_a, (a,), 0, symmetrize=symmetrize_input, upper=upper)",
)
defrule(
    "jnp.linalg.eigvalsh(a, UPLO='L', symmetrize_input=True)",
    static=("UPLO", "symmetrize_input"),
    max_positional=2,
    temp="eigenvalues",
    a="eigh_adjoint(a, g, None, UPLO, symmetrize_input)",
    tangent="eigh_tangent(a, d_a, 0, UPLO, symmetrize_input)",
)
# NumPy's cholesky reads only one triangle of its argument (the lower one, the upper one for
# upper=True): cholesky_numpy computes that
defrule(
    "cholesky_numpy(a, upper=False)",
    static=("upper",),
    max_positional=1,
    temp="chol",
    objects=(np.linalg.cholesky, runtime.cholesky_numpy),  # the second: as gradients call it
    a="cholesky_adjoint(g, ans, False, upper, upper)",
    tangent="jvp_of(cholesky_numpy, d_a, (a,), 0, upper=upper)",
)
# NumPy's eigvalsh reads one triangle of its argument (UPLO), as its eigh does (decompositions.py)
defrule(
    "eigvalsh_of_triangle(a, UPLO='L')",
    static=("UPLO",),
    temp="eigenvalues",
    objects=(np.linalg.eigvalsh, runtime.eigvalsh_of_triangle),  # the second: as gradients call it
    a="eigh_adjoint(a, g, None, UPLO)",
    tangent="eigh_tangent(a, d_a, 0, UPLO)",
)
# JAX's pinv cuts the singular values at 10 * max(m, n) * eps, NumPy's at 1e-15 (relative): the
# jnp function keeps JAX's own derivative; NumPy's (registered second, for np.linalg.pinv) has
# the derivative of its cut pseudo-inverse
defrule(
    "jnp.linalg.pinv(a)",
    temp="pseudo_inverse",
    a="vjp_of(jnp.linalg.pinv, g, (a,), 0)",
    tangent="jvp_of(jnp.linalg.pinv, d_a, (a,), 0)",
)
defrule(
    "pinv_numpy(a)",
    temp="pseudo_inverse",
    objects=(np.linalg.pinv, runtime.pinv_numpy),  # the second: as gradients call it
    a="pinv_adjoint(g, a)",
    tangent="pinv_tangent(a, d_a)",
)
defrule(
    "jnp.linalg.matrix_power(a, n)",
    static=("n",),
    temp="power",
    a="vjp_of(jnp.linalg.matrix_power, g, (a, n), 0)",
    tangent="jvp_of(jnp.linalg.matrix_power, d_a, (a, n), 0)",
)
defrule(
    "jax.scipy.linalg.solve_triangular(a, b, trans=0, lower=False)",
    static=("trans", "lower"),
    temp="solution",
    positional=2,
    a="vjp_of(jax.scipy.linalg.solve_triangular, g, (a, b), 0, trans=trans, lower=lower)",
    b="vjp_of(jax.scipy.linalg.solve_triangular, g, (a, b), 1, trans=trans, lower=lower)",
    tangent=dict(
        a="jvp_of(jax.scipy.linalg.solve_triangular, d_a, (a, b), 0, trans=trans, lower=lower)",
        b="jax.scipy.linalg.solve_triangular(a, d_b, trans=trans, lower=lower)",
    ),
)
