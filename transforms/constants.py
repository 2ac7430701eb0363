"""Functions whose results are constants for the backward pass.

Shapes, indices of extrema, signs, rounding and stop-gradient: no gradient
flows through them, and the generated backward pass says so.
"""

import builtins

import jax

from sourcegrad import runtime
from sourcegrad.rules import defconst, defop

defconst("jnp.shape(a)", nondiff=("a",))
defconst("jnp.ndim(a)", nondiff=("a",))
defconst("jnp.size(a)", nondiff=("a",))
defconst("len(a)", nondiff=("a",), objects=(builtins.len,))
defconst("jnp.argmax(a, axis=None)", nondiff=("a",), static=("axis",))
defconst("jnp.argmin(a, axis=None)", nondiff=("a",), static=("axis",))
defconst("jnp.sign(x)", nondiff=("x",))
defconst("jnp.floor(x)", nondiff=("x",))
defconst("jnp.ceil(x)", nondiff=("x",))
defconst("jnp.round(x, decimals=0)", nondiff=("x",), static=("decimals",), aliases=("around",))
defconst("jnp.isnan(x)", nondiff=("x",))
defconst("jnp.isfinite(x)", nondiff=("x",))
defconst(
    "lax.stop_gradient(x)",
    nondiff=("x",),
    temp="const",
    objects=(runtime.stop_gradient, jax.lax.stop_gradient),
)
defconst("range_end(start, stop, step)", static=("start", "stop", "step"), objects=(runtime.range_end,))
defconst(
    "nested_range(outer, start, stop, step)",
    static=("outer", "start", "stop", "step"),
    temp="pairs",
    objects=(runtime.nested_range,),
)
defconst("debug_print(fmt, *values)", static=("fmt",), temp="printed", objects=(runtime.debug_print,))
defconst(
    "static_check(ok, message)", static=("ok", "message"), temp="checked", objects=(runtime.static_check,)
)
defconst(
    "defined_check(ok, message)", static=("ok", "message"), temp="assigned", objects=(runtime.defined_check,)
)
defconst("traced_bool(value)", static=("value",), temp="flag", objects=(runtime.traced_bool,))
# index tuples of a static size (np.triu_indices(3)), computed while tracing: a static index
defconst("jnp.triu_indices(n, k=0, m=None)", static=("n", "k", "m"), temp="iu")
defconst("jnp.tril_indices(n, k=0, m=None)", static=("n", "k", "m"), temp="il")
defconst("jnp.diag_indices(n, ndim=2)", static=("n", "ndim"), temp="di")
defop("dtype", "x.dtype", differentiable=False, temp="dtype")
defconst("jnp.heaviside(x1, x2)", nondiff=("x1", "x2"))
