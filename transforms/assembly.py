"""Assembling, cutting and rearranging arrays: tile, pad, stacks, takes, axis moves.

All of these are linear in their array arguments. Where the adjoint is one NumPy call it is
written out (``moveaxis`` back, ``tril`` of ``g``); otherwise ``transpose_of(fn, g, args, k)`` is
the transpose of the linear map ``args[k] -> fn(*args)`` applied to ``g``.
"""

from sourcegrad.rules import defrule

# ----- one array in, rearranged -----
defrule("jnp.moveaxis(a, source, destination)", static=("source", "destination"), temp="moved",
        a="jnp.moveaxis(g, destination, source)")
defrule("jnp.swapaxes(a, axis1, axis2)", static=("axis1", "axis2"), temp="swapped",
        a="jnp.swapaxes(g, axis1, axis2)")
defrule("jnp.rollaxis(a, axis, start=0)", static=("axis", "start"), temp="rolled",
        a="transpose_of(jnp.rollaxis, g, (a,), 0, axis=axis, start=start)")
defrule("jnp.fliplr(m)", temp="flipped", m="jnp.fliplr(g)")
defrule("jnp.flipud(m)", temp="flipped", m="jnp.flipud(g)")
defrule("jnp.rot90(m, k=1, axes=(0, 1))", static=("k", "axes"), temp="rotated",
        m="jnp.rot90(g, -k, axes)")
defrule("jnp.tril(m, k=0)", static=("k",), temp="lower", m="jnp.tril(g, k)")
defrule("jnp.triu(m, k=0)", static=("k",), temp="upper", m="jnp.triu(g, k)")
defrule("jnp.diagonal(a, offset=0, axis1=0, axis2=1)", static=("offset", "axis1", "axis2"),
        a="transpose_of(jnp.diagonal, g, (a,), 0, offset=offset, axis1=axis1, axis2=axis2)")
defrule("jnp.atleast_1d(x)", temp="arr", x="jnp.reshape(g, jnp.shape(x))")
defrule("jnp.atleast_2d(x)", temp="arr", x="jnp.reshape(g, jnp.shape(x))")
defrule("jnp.atleast_3d(x)", temp="arr", x="jnp.reshape(g, jnp.shape(x))")

# ----- one array in, copied or cut -----
defrule("jnp.repeat(a, repeats, axis=None)", static=("repeats", "axis"), temp="repeated",
        a="transpose_of(jnp.repeat, g, (a, repeats), 0, axis=axis)")
defrule("jnp.tile(A, reps)", static=("reps",), temp="tiled", A="transpose_of(jnp.tile, g, (A, reps), 0)")
defrule("jnp.pad(array, pad_width, mode='constant', constant_values=0)",
        static=("pad_width", "mode", "constant_values"), temp="padded", positional=3,
        array="pad_adjoint(g, array, pad_width, mode)")
defrule("jnp.take(a, indices, axis=None)", nondiff=("indices",), static=("axis",), temp="taken",
        a="transpose_of(jnp.take, g, (a, indices), 0, axis=axis)")
defrule("jnp.take_along_axis(arr, indices, axis)", nondiff=("indices",), static=("axis",),
        temp="taken", arr="transpose_of(jnp.take_along_axis, g, (arr, indices), 0, axis=axis)")

# ----- several arrays in -----
defrule("jnp.tensordot(a, b, axes=2)", static=("axes",), temp="contracted",
        a="transpose_of(jnp.tensordot, g, (a, b), 0, axes=axes)",
        b="transpose_of(jnp.tensordot, g, (a, b), 1, axes=axes)")
defrule("jnp.kron(a, b)", a="transpose_of(jnp.kron, g, (a, b), 0)", b="transpose_of(jnp.kron, g, (a, b), 1)")
defrule("jnp.cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None)",
        static=("axisa", "axisb", "axisc", "axis"), temp="crossed",
        a="transpose_of(jnp.cross, g, (a, b), 0, axisa=axisa, axisb=axisb, axisc=axisc, axis=axis)",
        b="transpose_of(jnp.cross, g, (a, b), 1, axisa=axisa, axisb=axisb, axisc=axisc, axis=axis)")
defrule("jnp.append(arr, values, axis=None)", static=("axis",), temp="appended",
        arr="transpose_of(jnp.append, g, (arr, values), 0, axis=axis)",
        values="transpose_of(jnp.append, g, (arr, values), 1, axis=axis)")
for _name in ("hstack", "vstack", "dstack", "column_stack"):
    defrule(f"jnp.{_name}(tup)", sequence=("tup",), temp="joined",
            aliases=("row_stack",) * (_name == "vstack"),
            tup=f"transpose_of(jnp.{_name}, g, (tup,), 0)[position]")
defrule("jnp.select(condlist, choicelist, default=0)", nondiff=("condlist",), sequence=("choicelist",),
        temp="selected", positional=2,
        choicelist="transpose_of(jnp.select, g, (condlist, choicelist, default), 1)[position]",
        default="unbroadcast(transpose_of(jnp.select, g, (condlist, choicelist, default), 2), default)")
