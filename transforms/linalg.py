"""Products and linear algebra.

The product adjoints handle vectors, matrices and stacks of matrices (the
helpers in ``sourcegrad.runtime`` spell out each case); ``mT`` swaps the last
two axes.
"""

from sourcegrad.rules import defrule

defrule("jnp.dot(a, b)", a="dot_adjoint_lhs(g, a, b)", b="dot_adjoint_rhs(g, a, b)")
defrule("jnp.inner(a, b)", a="inner_adjoint_lhs(g, a, b)", b="inner_adjoint_rhs(g, a, b)")
defrule("jnp.outer(a, b)",
        a="jnp.reshape(g @ jnp.ravel(b), jnp.shape(a))",
        b="jnp.reshape(jnp.ravel(a) @ g, jnp.shape(b))")
defrule("jnp.einsum(subscripts, *operands)", static=("subscripts",),
        operands="einsum_adjoint(subscripts, position, g, *operands)")
defrule("jnp.trace(x, offset=0, axis1=0, axis2=1)", static=("offset", "axis1", "axis2"),
        positional=1, x="trace_adjoint(g, x, offset, axis1, axis2)")
defrule("jnp.transpose(x, axes=None)", static=("axes",), temp="transposed",
        x="transpose_adjoint(g, axes)")
defrule("jnp.linalg.solve(a, b)", temp="solution",
        a="-solve_outer(jnp.linalg.solve(mT(a), g), ans)",
        b="jnp.linalg.solve(mT(a), g)")
defrule("jnp.linalg.inv(x)", temp="inverse", x="-mT(ans) @ g @ mT(ans)")
defrule("jnp.linalg.det(x)", temp="det",
        x="jnp.expand_dims(g * ans, (-2, -1)) * mT(jnp.linalg.inv(x))")
