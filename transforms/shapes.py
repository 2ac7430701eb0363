"""Shape manipulation and array construction.

Most adjoints put ``g`` back into the input's shape; ``concatenate`` and
``stack`` hand each input its own piece (``position`` is the input's index in
the list).
"""

from sourcegrad.rules import defconst, defop, defrule

defrule(
    "jnp.reshape(x, shape)",
    static=("shape",),
    temp="reshaped",
    x="jnp.reshape(g, jnp.shape(x))",
    tangent="jnp.reshape(d_x, shape)",
)
defrule("jnp.ravel(x)", temp="flat", x="jnp.reshape(g, jnp.shape(x))", tangent="jnp.ravel(d_x)")
defrule(
    "jnp.expand_dims(x, axis)",
    static=("axis",),
    temp="expanded",
    x="jnp.reshape(g, jnp.shape(x))",
    tangent="jnp.expand_dims(d_x, axis)",
)
defrule(
    "jnp.squeeze(x, axis=None)",
    static=("axis",),
    temp="squeezed",
    x="jnp.reshape(g, jnp.shape(x))",
    tangent="jnp.squeeze(d_x, axis)",
)
defrule(
    "jnp.broadcast_to(x, shape)",
    static=("shape",),
    temp="broadcast",
    x="unbroadcast(g, x)",
    tangent="jnp.broadcast_to(d_x, shape)",
)
defrule(
    "jnp.roll(x, shift, axis=None)",
    static=("shift", "axis"),
    temp="rolled",
    x="roll_adjoint(g, shift, axis)",
    tangent="jnp.roll(d_x, shift, axis)",
)
defrule(
    "jnp.flip(x, axis=None)",
    static=("axis",),
    temp="flipped",
    x="jnp.flip(g, axis)",
    tangent="jnp.flip(d_x, axis)",
)
defrule("jnp.diag(x, k=0)", static=("k",), x="diag_adjoint(g, x, k)", tangent="jnp.diag(d_x, k)")
defrule(
    "jnp.concatenate(arrays, axis=0)",
    sequence=("arrays",),
    static=("axis",),
    temp="joined",
    arrays="unconcatenate(g, arrays, position, axis)",
    tangent="jnp.concatenate(d_arrays, axis=axis)",
)
defrule(
    "jnp.stack(arrays, axis=0)",
    sequence=("arrays",),
    static=("axis",),
    temp="stacked",
    arrays="jnp.take(g, position, axis=axis)",
    tangent="jnp.stack(d_arrays, axis=axis)",
)
defrule("jnp.asarray(a)", temp="arr", a="g", tangent="d_a")
defrule(
    "jnp.array(object)",
    sequence=("object",),
    alternate="asarray",
    temp="arr",
    object="g[position]",
    tangent="jnp.array(d_object)",
)
defrule(
    "jnp.linspace(start, stop, num=50)",
    static=("num",),
    broadcast=True,
    temp="linspace",
    start="linspace_adjoint(g, num, 'start')",
    stop="linspace_adjoint(g, num, 'stop')",
    tangent="jnp.linspace(d_start, d_stop, num)",
)
defrule(
    "jnp.full(shape, fill_value, dtype=None)",
    static=("shape", "dtype"),
    temp="filled",
    fill_value="unbroadcast(g, fill_value)",
    tangent="jnp.full(shape, d_fill_value, dtype)",
)

# ----- constructors whose result does not depend on differentiable values -----
defconst("jnp.zeros(shape, dtype=None)", static=("shape", "dtype"))
defconst("jnp.ones(shape, dtype=None)", static=("shape", "dtype"))
defconst("jnp.zeros_like(a, dtype=None)", nondiff=("a",), static=("dtype",))
defconst("jnp.ones_like(a, dtype=None)", nondiff=("a",), static=("dtype",))
defconst("jnp.eye(N, M=None, k=0, dtype=None)", static=("N", "M", "k", "dtype"))
defconst(
    "jnp.arange(start, stop=None, step=None, dtype=None)",
    static=("start", "stop", "step", "dtype"),
    positional=3,
)
defop(
    "astype",
    "x.astype(dtype)",
    static=("dtype",),
    temp="cast",
    x="g.astype(jnp.result_type(x))",
    tangent="d_x.astype(dtype)",
)
defop("copy", "x.copy()", temp="copied", x="g", tangent="d_x")
