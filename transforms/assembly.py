"""Assembling, cutting and rearranging arrays: tile, pad, stacks, takes, axis moves.

All of these are linear in their array arguments. Where the adjoint is one NumPy call it is
written out (``moveaxis`` back, ``tril`` of ``g``); otherwise ``transpose_of(fn, g, args, k)`` is
the transpose of the linear map ``args[k] -> fn(*args)`` applied to ``g``.
"""

from sourcegrad import runtime
from sourcegrad.rules import defrule

# ----- one array in, rearranged -----
defrule(
    "jnp.moveaxis(a, source, destination)",
    static=("source", "destination"),
    temp="moved",
    a="jnp.moveaxis(g, destination, source)",
    tangent="jnp.moveaxis(d_a, source, destination)",
)
defrule(
    "jnp.swapaxes(a, axis1, axis2)",
    static=("axis1", "axis2"),
    temp="swapped",
    a="jnp.swapaxes(g, axis1, axis2)",
    tangent="jnp.swapaxes(d_a, axis1, axis2)",
)
defrule(
    "jnp.rollaxis(a, axis, start=0)",
    static=("axis", "start"),
    temp="rolled",
    a="transpose_of(jnp.rollaxis, g, (a,), 0, axis=axis, start=start)",
    tangent="jnp.rollaxis(d_a, axis, start)",
)
defrule("jnp.fliplr(m)", temp="flipped", m="jnp.fliplr(g)", tangent="jnp.fliplr(d_m)")
defrule("jnp.flipud(m)", temp="flipped", m="jnp.flipud(g)", tangent="jnp.flipud(d_m)")
defrule(
    "jnp.rot90(m, k=1, axes=(0, 1))",
    static=("k", "axes"),
    temp="rotated",
    m="jnp.rot90(g, -k, axes)",
    tangent="jnp.rot90(d_m, k, axes)",
)
defrule("jnp.tril(m, k=0)", static=("k",), temp="lower", m="jnp.tril(g, k)", tangent="jnp.tril(d_m, k)")
defrule("jnp.triu(m, k=0)", static=("k",), temp="upper", m="jnp.triu(g, k)", tangent="jnp.triu(d_m, k)")
defrule(
    "jnp.diagonal(a, offset=0, axis1=0, axis2=1)",
    static=("offset", "axis1", "axis2"),
    a="transpose_of(jnp.diagonal, g, (a,), 0, offset=offset, axis1=axis1, axis2=axis2)",
    tangent="jnp.diagonal(d_a, offset, axis1, axis2)",
)
defrule("jnp.atleast_1d(x)", temp="arr", x="jnp.reshape(g, jnp.shape(x))", tangent="jnp.atleast_1d(d_x)")
defrule("jnp.atleast_2d(x)", temp="arr", x="jnp.reshape(g, jnp.shape(x))", tangent="jnp.atleast_2d(d_x)")
defrule("jnp.atleast_3d(x)", temp="arr", x="jnp.reshape(g, jnp.shape(x))", tangent="jnp.atleast_3d(d_x)")

# ----- one array in, copied or cut -----
defrule(
    "jnp.repeat(a, repeats, axis=None)",
    static=("repeats", "axis"),
    temp="repeated",
    a="transpose_of(jnp.repeat, g, (a, repeats), 0, axis=axis)",
    tangent="jnp.repeat(d_a, repeats, axis=axis)",
)
defrule(
    "jnp.tile(A, reps)",
    static=("reps",),
    temp="tiled",
    A="transpose_of(jnp.tile, g, (A, reps), 0)",
    tangent="jnp.tile(d_A, reps)",
)
defrule(
    "jnp.pad(array, pad_width, mode='constant', constant_values=0)",
    static=("pad_width", "mode", "constant_values"),
    temp="padded",
    positional=3,
    array="pad_adjoint(g, array, pad_width, mode)",
    tangent="pad_tangent(d_array, pad_width, mode)",
)
defrule(
    "jnp.take(a, indices, axis=None)",
    nondiff=("indices",),
    static=("axis",),
    temp="taken",
    a="transpose_of(jnp.take, g, (a, indices), 0, axis=axis)",
    tangent="jnp.take(d_a, indices, axis=axis)",
)
defrule(
    "jnp.take_along_axis(arr, indices, axis)",
    nondiff=("indices",),
    static=("axis",),
    temp="taken",
    arr="transpose_of(jnp.take_along_axis, g, (arr, indices), 0, axis=axis)",
    tangent="jnp.take_along_axis(d_arr, indices, axis)",
)

# ----- several arrays in -----
defrule(
    "jnp.tensordot(a, b, axes=2)",
    static=("axes",),
    temp="contracted",
    a="transpose_of(jnp.tensordot, g, (a, b), 0, axes=axes)",
    b="transpose_of(jnp.tensordot, g, (a, b), 1, axes=axes)",
    tangent=dict(a="jnp.tensordot(d_a, b, axes)", b="jnp.tensordot(a, d_b, axes)"),
)
defrule(
    "jnp.kron(a, b)",
    a="transpose_of(jnp.kron, g, (a, b), 0)",
    b="transpose_of(jnp.kron, g, (a, b), 1)",
    tangent=dict(a="jnp.kron(d_a, b)", b="jnp.kron(a, d_b)"),
)
defrule(
    "jnp.cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None)",
    static=("axisa", "axisb", "axisc", "axis"),
    temp="crossed",
    a="transpose_of(jnp.cross, g, (a, b), 0, axisa=axisa, axisb=axisb, axisc=axisc, axis=axis)",
    b="transpose_of(jnp.cross, g, (a, b), 1, axisa=axisa, axisb=axisb, axisc=axisc, axis=axis)",
    tangent=dict(
        a="jnp.cross(d_a, b, axisa, axisb, axisc, axis)", b="jnp.cross(a, d_b, axisa, axisb, axisc, axis)"
    ),
)
defrule(
    "jnp.append(arr, values, axis=None)",
    static=("axis",),
    temp="appended",
    arr="transpose_of(jnp.append, g, (arr, values), 0, axis=axis)",
    values="transpose_of(jnp.append, g, (arr, values), 1, axis=axis)",
    tangent="jnp.append(d_arr, d_values, axis=axis)",
)
# np.r_[a, b] and np.c_[a, b] (normal/normalize/concatenators.py makes them these calls)
for _name in ("r_concatenate", "c_concatenate"):
    defrule(
        f"{_name}(arrays)",
        objects=(getattr(runtime, _name),),  # as generated code calls it (second order)
        sequence=("arrays",),
        temp="joined",
        arrays=f"transpose_of({_name}, g, (arrays,), 0)[position]",
        tangent=f"{_name}(d_arrays)",
    )
for _name in ("hstack", "vstack", "dstack", "column_stack"):
    defrule(
        f"jnp.{_name}(tup)",
        sequence=("tup",),
        temp="joined",
        aliases=("row_stack",) * (_name == "vstack"),
        tup=f"transpose_of(jnp.{_name}, g, (tup,), 0)[position]",
        tangent=f"jnp.{_name}(d_tup)",
    )
defrule(
    "jnp.select(condlist, choicelist, default=0)",
    nondiff=("condlist",),
    sequence=("choicelist",),
    temp="selected",
    positional=2,
    choicelist="transpose_of(jnp.select, g, (condlist, choicelist, default), 1)[position]",
    default="unbroadcast(transpose_of(jnp.select, g, (condlist, choicelist, default), 2), default)",
    tangent="jnp.select(condlist, d_choicelist, d_default)",
)
