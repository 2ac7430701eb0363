"""Reading with indices and slices: ``x[0]``, ``x[1:]``, ``x[:, 0]``, ``x[idx]``, ``x[None]``.

The adjoint scatters ``g`` back into the accumulator at the same index with
``.at[...].add`` (repeated integer indices of a read add up, as they must).
"""

from sourcegrad import runtime
from sourcegrad.rules import defop

defop("getitem", "x[idx]", index=("idx",), x="acc.at[idx].add(g)", temp="sub", tangent="d_x[idx]")

# ----- in-place writes: y[idx] = v is y_1 = inplace_set(y, jnp.s_[idx], v), a new version of y -----
# The old version stays readable, so a write never destroys a value the backward pass needs
# (PyTorch checks this at run time with version counters; here it cannot happen). NumPy's rule for
# a repeated index (the last write wins; += adds once per distinct element) is kept by the
# inplace_* helpers, and take_written gives the adjoint to the writes that count. The tangent of
# a write is the same write of the tangents (linear in x and v together).
_WRITE = dict(index=("idx",), temp="updated", params=("x", "idx", "v"))
defop(
    "at_set",
    "inplace_set(x, jnp.s_[idx], v)",
    **_WRITE,
    objects=(runtime.inplace_set,),  # as a gradient normalized again calls it
    x="g.at[idx].set(0)",
    v="unbroadcast(take_written(g, jnp.s_[idx]), v)",
    tangent="inplace_set(d_x, jnp.s_[idx], d_v)",
)
defop(
    "at_add",
    "inplace_add(x, jnp.s_[idx], v)",
    **_WRITE,
    objects=(runtime.inplace_add,),  # as a gradient normalized again calls it
    x="g",
    v="unbroadcast(take_written(g, jnp.s_[idx]), v)",
    tangent="inplace_add(d_x, jnp.s_[idx], d_v)",
)
defop(
    "at_multiply",
    "inplace_multiply(x, jnp.s_[idx], v)",
    **_WRITE,
    objects=(runtime.inplace_multiply,),  # as a gradient normalized again calls it
    x="inplace_multiply(g, jnp.s_[idx], v)",
    v="unbroadcast(take_written(g, jnp.s_[idx]) * x[idx], v)",
    tangent=dict(
        x="inplace_multiply(d_x, jnp.s_[idx], v)",
        v="inplace_set(jnp.zeros_like(ans), jnp.s_[idx], x[idx] * d_v)",
    ),
)

# A subscript known while tracing (ints, slices with constant bounds, None): the adjoint pads g
# back into x's shape (lax.pad, fused by XLA) instead of scattering it into the accumulator.
defop(
    "getitem_static", "x[idx]", index=("idx",), temp="sub", x="unslice(g, x, jnp.s_[idx])", tangent="d_x[idx]"
)
