"""Products and linear algebra.

The product adjoints handle vectors, matrices and stacks of matrices (the
helpers in ``sourcegrad.runtime`` spell out each case); ``mT`` swaps the last
two axes.
"""

from sourcegrad.rules import defrule

defrule("jnp.dot(a, b)", a="dot_adjoint_lhs(g, a, b)", b="dot_adjoint_rhs(g, a, b)",
        tangent=dict(a="jnp.dot(d_a, b)", b="jnp.dot(a, d_b)"))
defrule("jnp.inner(a, b)", a="inner_adjoint_lhs(g, a, b)", b="inner_adjoint_rhs(g, a, b)",
        tangent=dict(a="jnp.inner(d_a, b)", b="jnp.inner(a, d_b)"))
defrule("jnp.outer(a, b)",
        a="jnp.reshape(g @ jnp.ravel(b), jnp.shape(a))",
        b="jnp.reshape(jnp.ravel(a) @ g, jnp.shape(b))",
        tangent=dict(a="jnp.outer(d_a, b)", b="jnp.outer(a, d_b)"))
defrule("jnp.einsum(subscripts, *operands)", static=("subscripts",),
        operands="einsum_adjoint(subscripts, position, g, *operands)",
        tangent="einsum_tangent(subscripts, position, d_operands, *operands)")
defrule("jnp.trace(x, offset=0, axis1=0, axis2=1)", static=("offset", "axis1", "axis2"),
        positional=1, x="trace_adjoint(g, x, offset, axis1, axis2)",
        tangent="jnp.trace(d_x, offset, axis1, axis2)")
defrule("jnp.transpose(x, axes=None)", static=("axes",), temp="transposed",
        x="transpose_adjoint(g, axes)", tangent="jnp.transpose(d_x, axes)")
defrule("jnp.linalg.solve(a, b)", temp="solution",
        a="-solve_outer(jnp.linalg.solve(mT(a), g), ans)",
        b="jnp.linalg.solve(mT(a), g)",
        tangent=dict(a="-jnp.linalg.solve(a, d_a @ ans)", b="jnp.linalg.solve(a, d_b)"))
defrule("jnp.linalg.inv(x)", temp="inverse", x="-mT(ans) @ g @ mT(ans)",
        tangent="-ans @ d_x @ ans")
defrule("jnp.linalg.det(x)", temp="det",
        x="jnp.expand_dims(g * ans, (-2, -1)) * mT(jnp.linalg.inv(x))",
        tangent="ans * jnp.trace(jnp.linalg.solve(x, d_x), axis1=-2, axis2=-1)")
