"""``GradFunction.export`` and ``sourcegrad export``: a gradient as a serialized ``jax.export``
artifact, callable from any process that has JAX (neither sourcegrad nor the user's file needed).

The exported function takes the call's array arguments in order (static arguments are baked in),
plus ``seed`` as a last argument when one was given, and returns what the gradient function
returns: the gradients, or ``(value, gradients)`` for ``value_and_grad``. Shapes may be symbolic
(``jax.export.symbolic_shape("B, 784")``), for one artifact that serves every batch size. A while
loop that outruns its tape gives NaN gradients (an artifact cannot carry a host callback)."""

from __future__ import annotations

import ast
import re

import jax
import jax.numpy as jnp
import numpy as np

from ..api import boundary, located
from ..errors import InputError, SourcegradError

__all__ = ["export_gradient", "parse_shapes", "DTYPES"]

DTYPES = {
    "f16": jnp.float16,
    "bf16": jnp.bfloat16,
    "f32": jnp.float32,
    "f64": jnp.float64,
    "i8": jnp.int8,
    "i32": jnp.int32,
    "i64": jnp.int64,
    "u8": jnp.uint8,
    "bool": jnp.bool_,
}


def _spec(value):
    def leaf(v):
        if isinstance(v, jax.ShapeDtypeStruct):
            return v
        if isinstance(v, float):
            return jax.ShapeDtypeStruct((), jnp.result_type(float))
        return jax.ShapeDtypeStruct(np.shape(v), v.dtype if hasattr(v, "dtype") else jnp.result_type(v))

    return jax.tree_util.tree_map(leaf, value)


def export_gradient(g, args, kwargs, platforms=("cpu",), seed=None) -> bytes:
    """The serialized ``jax.export`` artifact of ``g`` for these arguments (arrays, Python numbers,
    or ``jax.ShapeDtypeStruct``, possibly with symbolic dimensions); see the module docstring."""
    values = g._arguments(args, kwargs)
    with boundary.x64_scope(g._x64(values)):
        values, static, t = g._prepare(values)
        if seed is None:
            g._check_seed(t, seed)
        fixed = {i: values[i] for i in static}
        n = len(values)

        def exported(*dyn):
            it = iter(dyn)
            full = [fixed[i] if i in fixed else next(it) for i in range(n)]
            given = next(it) if seed is not None else None
            value, grads = g._results(t, t.grad_fn(*full, given, None), callback=False)
            return (value, grads) if g._return_value else grads

        specs = [_spec(v) for i, v in enumerate(values) if i not in static]
        if seed is not None:
            specs.append(_spec(seed))
        try:
            exp = jax.export.export(jax.jit(exported), platforms=tuple(platforms))(*specs)
        except located.RUNTIME_ERRORS as exc:
            if isinstance(exc, SourcegradError):
                raise
            at_line = located.located_runtime_error(exc, t)
            if at_line is not None:
                raise at_line.with_traceback(None) from None
            raise InputError(
                f"jax.export cannot export the gradient of `{g._fn.__name__}` for "
                f"these shapes: {str(exc).strip().splitlines()[0]}"
            ) from None
        return bytes(exp.serialize())


_SPEC = re.compile(r"^(?P<dtype>[a-z0-9]+)\[(?P<dims>[^\]]*)\]$")


def parse_shapes(text: str, params) -> dict:
    """``"W=f32[784,512] x=f32[B,784] n=3"`` -> {name: ShapeDtypeStruct or Python value}. Symbolic
    dimensions (names such as ``B``) share one scope, so equal names are equal sizes."""
    items, symbols = [], []
    for part in text.replace(";", " ").split():
        name, eq, spec = part.partition("=")
        if not eq or not name or not spec:
            raise InputError(
                f"--shapes: expected name=dtype[d0,d1,...] (or name=value for a static "
                f"argument), got {part!r}"
            )
        if name not in params:
            raise InputError(
                f"--shapes names `{name}`, which is not a parameter (parameters: {', '.join(params)})"
            )
        m = _SPEC.match(spec)
        if m is None:
            try:
                items.append((name, ast.literal_eval(spec), None))
            except (ValueError, SyntaxError):
                raise InputError(
                    f"--shapes: {part!r} is neither dtype[dims] (such as f32[B,784]) nor a Python literal"
                ) from None
            continue
        if m["dtype"] not in DTYPES:
            raise InputError(
                f"--shapes: unknown dtype {m['dtype']!r} in {part!r}; use one of {', '.join(DTYPES)}"
            )
        dims = [d.strip() for d in m["dims"].split(",") if d.strip()]
        symbols += [d for d in dims if not d.isdigit() and d not in symbols]
        items.append((name, dims, DTYPES[m["dtype"]]))
    scope = dict(zip(symbols, jax.export.symbolic_shape(", ".join(symbols)))) if symbols else {}
    out = {}
    for name, dims, dtype in items:
        if dtype is None:
            out[name] = dims
        else:
            out[name] = jax.ShapeDtypeStruct(tuple(int(d) if d.isdigit() else scope[d] for d in dims), dtype)
    return out
