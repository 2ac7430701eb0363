"""What the API checks at its boundary with the user, and how failures inside generated code are
reported on the user's line.

* the arguments of a call: what is differentiated must be real floating-point data, nothing may be
  complex, ``accumulate=`` must have the gradients' structure and shapes;
* the precision of a call: 64-bit inputs run with JAX's x64 mode on (NumPy computes in float64);
* the module values a gradient read when it was transformed (module floats and arrays): a call
  notices when they were rebound or written in place, so the gradient is made again;
* errors raised while JAX traces the generated code (shapes that do not fit) become
  :class:`ShapeError`, located on the user's line through the source map;
* a function whose output is an integer, a boolean or a shape is refused at its ``return``.
"""

from __future__ import annotations

import contextlib
import functools
import linecache
import numbers

import jax
import numpy as np

from .. import runtime
from ..errors import (
    InputError,
    SeedError,
    SourcegradError,
    WrtError,
    format_located,
)
from ..frontend.parse import parse_function
from ..frontend.resolve import NOT_FOUND
from ..normal import ir, walk

__all__ = [
    "leaving_x64",
    "x64_scope",
    "check_differentiated",
    "check_wrt_value",
    "check_no_complex",
    "check_accumulate",
    "wants_x64",
    "ModuleValues",
    "check_output",
]


# ----- arguments -----
def _leaves(value):
    import jax

    return jax.tree_util.tree_leaves(value)


def check_differentiated(name: str, value) -> None:
    """A differentiated argument holds real floating-point numbers or arrays, nothing else."""
    if value is None or isinstance(value, (str, bytes)) or not _leaves(value):
        raise InputError(
            f"`{name}` is differentiated (it is in wrt) but the call passes "
            f"{_describe(value)}; pass a floating-point array or number"
        )
    for leaf in _leaves(value):
        if isinstance(leaf, (str, bytes)) or not (isinstance(leaf, numbers.Number) or hasattr(leaf, "dtype")):
            raise InputError(
                f"`{name}` is differentiated (it is in wrt) but holds "
                f"{_describe(leaf)}; pass floating-point arrays or numbers"
            )


def check_wrt_value(name, value):
    """A differentiated argument's leaves are floating point; Python floats become arrays."""
    import jax.numpy as jnp

    def check(leaf):
        if isinstance(leaf, (bool, int)) and not isinstance(leaf, float):
            raise WrtError(
                f"`{name}` is a Python {type(leaf).__name__}; gradients are "
                f"defined for floating-point inputs only. Pass a float "
                f"({float(leaf)!r}) or remove `{name}` from wrt"
            )
        dtype = leaf.dtype if isinstance(leaf, (np.ndarray, jax.Array)) else jnp.result_type(leaf)
        if not jnp.issubdtype(dtype, jnp.inexact):
            raise WrtError(
                f"`{name}` has dtype {dtype}; gradients are defined for "
                f"floating-point inputs only (sourcegrad does not return zeros "
                f"for integers). Convert it with `.astype(float)` or remove "
                f"`{name}` from wrt"
            )
        return jnp.asarray(leaf) if isinstance(leaf, float) else leaf

    return jax.tree_util.tree_map(check, value)


def check_no_complex(names, values) -> None:
    """Complex numbers are refused: sourcegrad differentiates real functions only."""
    for name, value in zip(names, values):
        for leaf in _leaves(value):
            if isinstance(leaf, complex) or (hasattr(leaf, "dtype") and np.dtype(leaf.dtype).kind == "c"):
                raise InputError(
                    f"`{name}` is complex ({_describe(leaf)}); sourcegrad differentiates real "
                    f"functions of real inputs only and refuses complex ones rather than pick a "
                    f"conjugation convention. Pass the real and imaginary parts as two float arrays "
                    f"(x.real, x.imag), or use jax.grad(holomorphic=True)"
                )


def check_accumulate(wrt: tuple, values: list, accumulators) -> None:
    """Each accumulator has the structure and the shapes of its input's gradient."""
    import jax

    for name, value, acc in zip(wrt, values, accumulators):
        want, got = jax.tree_util.tree_structure(value), jax.tree_util.tree_structure(acc)
        # jaxlib's stubs leave PyTreeDef's comparison unresolved; it defines __eq__/__ne__
        if want != got:  # type: ignore[operator]
            raise InputError(
                f"accumulate= for `{name}` has the structure {got}, but the gradient "
                f"of `{name}` has the structure {want}; pass one array per leaf"
            )
        for a, b in zip(jax.tree_util.tree_leaves(value), jax.tree_util.tree_leaves(acc)):
            if np.shape(a) != np.shape(b):
                raise InputError(
                    f"accumulate= for `{name}` has shape {np.shape(b)}, but `{name}` "
                    f"has shape {np.shape(a)}; the accumulator must match its input"
                )
            dtype = b.dtype if hasattr(b, "dtype") else np.result_type(b)
            if not np.issubdtype(dtype, np.floating):
                raise InputError(f"accumulate= for `{name}` has dtype {dtype}; pass a floating-point array")


def _describe(value) -> str:
    if value is None:
        return "None"
    if isinstance(value, (str, bytes)):
        return f"the {type(value).__name__} {value!r:.40}"
    if hasattr(value, "dtype") and hasattr(value, "shape"):
        return f"an array of dtype {value.dtype} and shape {tuple(value.shape)}"
    if isinstance(value, (list, tuple, dict)) and not _leaves(value):
        return f"an empty {type(value).__name__}"
    return f"a {type(value).__name__} ({value!r:.40})"


# ----- precision -----
def wants_x64(values, differentiated) -> bool:
    """Run in 64-bit when any array argument is 64-bit (float64, int64, ...) or a Python float is
    differentiated: NumPy computes a Python float as float64. Python floats that are not
    differentiated are weakly typed in NumPy and JAX alike, so they decide nothing."""
    for i, value in enumerate(values):
        for leaf in _leaves(value):
            dtype = getattr(leaf, "dtype", None)
            if dtype is not None:
                if np.dtype(dtype).itemsize >= 8 and np.dtype(dtype).kind in "fiuc":
                    return True
            elif isinstance(leaf, float) and i in differentiated:
                return True
    return False


def x64_scope(on: bool):
    """JAX's x64 mode around a call when ``on`` (see :func:`wants_x64`), else nothing."""
    return jax.enable_x64(True) if on else contextlib.nullcontext()


def leaving_x64(out, scoped: bool):
    """Results computed inside a scoped x64 mode, made usable after it: a float64 JAX array is
    unusable once JAX's x64 mode is off again (its methods compute in float32 and fail on mixed
    dtypes), so such results come back as NumPy arrays, as NumPy would give them. Tracers (an
    outer jit or vmap) stay as they are."""
    if not scoped:
        return out

    def host(leaf):
        if isinstance(leaf, jax.Array) and not isinstance(leaf, jax.core.Tracer):
            array = np.asarray(leaf)
            return array[()] if array.ndim == 0 else array  # a NumPy scalar, as NumPy returns
        return leaf

    return jax.tree_util.tree_map(host, out)


# ----- module values -----
class ModuleValues:
    """The module floats and arrays a transform read, to notice when they change.

    NumPy reads a global when the function runs; the generated code is traced once with the
    values it found. Rebinding is seen by identity, arrays written in place by comparing their
    contents with a copy taken at the transform (jax arrays are immutable: identity suffices)."""

    def __init__(self, reads):
        self.reads = [(fn, name, value, _snapshot(value)) for fn, name, value in reads]

    def changed(self) -> str | None:
        """The name of the first value that changed since the transform, or None."""
        for fn, name, value, copy in self.reads:
            now = _lookup(fn, name)
            if now is NOT_FOUND:
                continue
            if now is not value and not _same_scalar(now, value):
                return name
            if copy is not None and not _same_contents(value, copy):
                return name
        return None


def _same_scalar(a, b) -> bool:
    """A Python number or string rebound to an equal one (``mod.lr = lr * 1.0``) is unchanged."""
    return type(a) is type(b) and isinstance(a, (int, float, str)) and a == b


def _same_contents(a: np.ndarray, b: np.ndarray) -> bool:
    try:
        return np.array_equal(a, b, equal_nan=True)
    except TypeError:  # dtypes without NaN (strings, objects)
        return np.array_equal(a, b)


def _snapshot(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    return None


def _lookup(fn, name):
    code = getattr(fn, "__code__", None)
    if code is not None and fn.__closure__ and name in code.co_freevars:
        try:
            return fn.__closure__[code.co_freevars.index(name)].cell_contents
        except ValueError:
            return NOT_FOUND
    return getattr(fn, "__globals__", {}).get(name, NOT_FOUND)


def check_output(value, transformed, name: str) -> None:
    """The differentiated output is floating point (an int, a bool or a shape has no gradient)."""
    import jax.numpy as jnp

    def inexact(v):
        dtype = v.dtype if hasattr(v, "dtype") else jnp.result_type(v)
        return np.dtype(dtype).kind == "f"

    leaves = _leaves(value)
    if leaves and all(inexact(v) for v in leaves):
        return
    bad = next((v for v in leaves if not inexact(v)), None)
    what = "nothing" if bad is None else f"a value of dtype {jnp.result_type(bad)}"
    origin = _return_origin(transformed.primal)
    filename = transformed.parsed.filename
    msg = (
        f"`{name}` returns {what}: an integer, a boolean or a shape has no gradient (jax.grad "
        f"refuses it too), and sourcegrad does not return zeros for it"
    )
    fix = "return a floating-point value (convert with .astype(float) if that is what you mean)"
    if bad is not None and np.dtype(jnp.result_type(bad)).kind == "c":
        msg = (
            f"`{name}` returns {what}: the gradient of a complex output needs a convention "
            f"(jax.grad refuses it too), and sourcegrad differentiates real outputs only"
        )
        fix = "return a real value: np.abs(z) ** 2, np.real(z) or np.imag(z)"
    if origin is None:
        raise InputError(f"{msg}; {fix}")
    text = linecache.getline(filename, origin.line).rstrip("\n") or origin.text
    col = len(text) - len(text.lstrip())
    err = InputError(
        format_located(
            filename, origin.line, col, text, f"{msg}\n  how to fix: {fix}", end_col=len(text.rstrip())
        )
    )
    err.filename, err.lineno = filename, origin.line
    raise err


def _return_origin(fn: ir.Function):
    found = None
    for s in walk.statements(fn.body):
        if isinstance(s, ir.Return) and s.origin is not None:
            found = s.origin
    return found


def _public(fn):
    """Re-raise sourcegrad's errors from the API boundary, without the library's frames."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except runtime.SeedError as exc:
            raise SeedError(str(exc)).with_traceback(None) from None
        except SourcegradError as exc:
            raise exc.with_traceback(None) from None

    return wrapper


def _is_static(value) -> bool:
    """Python ints, bools, strings, None and tuples of them are compile-time constants."""
    if value is None or isinstance(value, (bool, int, str)) and not isinstance(value, np.generic):
        return True
    if isinstance(value, tuple):
        return all(_is_static(v) for v in value)
    return False


def ast_args(fdef):
    a = fdef.args
    return [*a.posonlyargs, *a.args, *a.kwonlyargs]


def check_reserved(fn, params, keywords, kind: str) -> None:
    """A parameter of ``fn`` named like a keyword of its ``kind`` function (``seed=`` of a
    gradient, ``tangents=`` of a tangent function) is a located error at that parameter."""
    for name in keywords:
        if name in params:
            parsed = parse_function(fn)
            node = next(a for a in ast_args(parsed.node) if a.arg == name)
            raise parsed.locate(node).error(
                f"the parameter name `{name}` clashes with the `{name}=` keyword of the {kind} function",
                "rename the parameter",
            )
