"""Reading with indices and slices: ``x[0]``, ``x[1:]``, ``x[:, 0]``, ``x[idx]``, ``x[None]``.

The adjoint scatters ``g`` back into the accumulator at the same index with
``.at[...].add`` (repeated integer indices add up, as they must).
"""

from sourcegrad.rules import defop

defop("getitem", "x[idx]", index=("idx",), x="acc.at[idx].add(g)", temp="sub",
      tangent="d_x[idx]")

# ----- in-place writes: y[idx] = v is y_1 = y.at[idx].set(v), a new version of y -----
# The old version stays readable, so a write never destroys a value the backward pass needs
# (PyTorch checks this at run time with version counters; here it cannot happen).
defop("at_set", "x.at[idx].set(v)", index=("idx",), temp="updated",
      x="g.at[idx].set(0)", v="unbroadcast(g[idx], v)",
      tangent=dict(x="d_x.at[idx].set(0)", v="jnp.zeros_like(ans).at[idx].set(d_v)"))
defop("at_add", "x.at[idx].add(v)", index=("idx",), temp="updated",
      x="g", v="unbroadcast(g[idx], v)",
      tangent=dict(x="d_x", v="jnp.zeros_like(ans).at[idx].add(d_v)"))
defop("at_multiply", "x.at[idx].multiply(v)", index=("idx",), temp="updated",
      x="g.at[idx].multiply(v)", v="unbroadcast(g[idx] * x[idx], v)",
      tangent=dict(x="d_x.at[idx].multiply(v)", v="jnp.zeros_like(ans).at[idx].set(x[idx] * d_v)"))

# A subscript known while tracing (ints, slices with constant bounds, None): the adjoint pads g
# back into x's shape (lax.pad, fused by XLA) instead of scattering it into the accumulator.
defop("getitem_static", "x[idx]", index=("idx",), temp="sub", x="unslice(g, x, jnp.s_[idx])",
      tangent="d_x[idx]")
