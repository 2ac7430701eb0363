"""Neural-network functions of jax.nn and jax.scipy.special.

A NumPy user writes ``1 / (1 + np.exp(-x))``; these let code call the same fused primitives a
JAX user would (``jax.nn.sigmoid``), with the same one-line adjoints.
"""

import jax

from sourcegrad.rules import defrule

defrule(
    "jax.nn.sigmoid(x)",
    temp="sigmoid",
    objects=(jax.nn.sigmoid,),
    x="g * ans * (1 - ans)",
    tangent="d_x * ans * (1 - ans)",
)
defrule("jax.nn.relu(x)", temp="relu", objects=(jax.nn.relu,), x="g * (x > 0)", tangent="d_x * (x > 0)")
defrule(
    "jax.nn.softplus(x)",
    temp="softplus",
    objects=(jax.nn.softplus,),
    x="g * jax.nn.sigmoid(x)",
    tangent="d_x * jax.nn.sigmoid(x)",
)
defrule(
    "jax.nn.log_softmax(x, axis=-1)",
    temp="log_softmax",
    static=("axis",),
    objects=(jax.nn.log_softmax,),
    x="g - jnp.exp(ans) * jnp.sum(g, axis=axis, keepdims=True)",
    tangent="d_x - jnp.sum(jnp.exp(ans) * d_x, axis=axis, keepdims=True)",
)
defrule(
    "jax.nn.softmax(x, axis=-1)",
    temp="softmax",
    static=("axis",),
    objects=(jax.nn.softmax,),
    x="ans * (g - jnp.sum(g * ans, axis=axis, keepdims=True))",
    tangent="ans * (d_x - jnp.sum(d_x * ans, axis=axis, keepdims=True))",
)
defrule(
    "jax.scipy.special.logsumexp(a, axis=None, keepdims=False)",
    temp="logsumexp",
    static=("axis", "keepdims"),
    objects=(jax.scipy.special.logsumexp,),
    a="unreduce(g, a, axis=axis, keepdims=keepdims) * jnp.exp(a - unreduce(ans, a, axis=axis, keepdims=keepdims))",
    tangent="jnp.sum(d_a * jnp.exp(a - unreduce(ans, a, axis=axis, keepdims=keepdims)), "
    "axis=axis, keepdims=keepdims)",
)
