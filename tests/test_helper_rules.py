"""The rules of the runtime helpers that generated adjoints call (``transforms/adjoint_helpers``,
needed to differentiate a gradient again): each one's adjoint against ``jax.vjp`` and its tangent
against ``jax.jvp``, both against float64 finite differences."""

import zlib

import numpy as np
import pytest

from sourcegrad import grad, jvp, runtime
from sourcegrad.rules import all_rules

from .helpers import assert_close, fd_vjp, jax_vjp, make_function
from .test_forward import fd_jvp, reference_jvp

# rule key -> (expression, {input: shape}, the inputs differentiated)
HELPER_TABLE = {
    "imag_adjoint": ("imag_adjoint(v, x) * x", {"v": (3,), "x": (3,)}, ("v",)),
    "conj_sign": ("conj_sign(x) * x", {"x": (4,)}, ("x",)),
    "split_adjoint": ("split_adjoint(v, x, [1, 3], 1, 1) * x", {"v": (2, 2), "x": (2, 5)}, ("v",)),
    "fft_adjoint": ("fft_adjoint(v, x, 'rfft', 6, -1, None) * x", {"v": (2, 4), "x": (2, 5)}, ("v",)),
    "take_written": ("take_written(x, jnp.s_[1:, 0]) * 3.0", {"x": (3, 2)}, ("x",)),
    "scalar_of": ("scalar_of(x) * x", {"x": (1,)}, ("x",)),
    "unbroadcast": ("unbroadcast(x, y) * 2", {"x": (3, 4), "y": (1, 4)}, ("x",)),
    "broadcast_like": ("broadcast_like(x, y)", {"x": (4,), "y": (3, 4)}, ("x",)),
    "unreduce": ("unreduce(x, y, axis=1)", {"x": (3,), "y": (3, 4)}, ("x",)),
    "matmul_adjoint_lhs": (
        "matmul_adjoint_lhs(v, x, y)",
        {"v": (2, 4), "x": (2, 3), "y": (3, 4)},
        ("v", "y"),
    ),
    "matmul_adjoint_rhs": (
        "matmul_adjoint_rhs(v, x, y)",
        {"v": (2, 4), "x": (2, 3), "y": (3, 4)},
        ("v", "x"),
    ),
    "mT": ("mT(x)", {"x": (2, 3, 4)}, ("x",)),
    "transpose_adjoint": ("transpose_adjoint(x, (1, 2, 0))", {"x": (2, 3, 4)}, ("x",)),
    "unslice": ("unslice(x, y, 1)", {"x": (4,), "y": (3, 4)}, ("x",)),
    "log_or_zero": ("log_or_zero(x)", {"x": (4,)}, ("x",)),
    "extremum_adjoint": (
        "extremum_adjoint(v, x, jnp.min(x, axis=1), axis=1)",
        {"v": (3,), "x": (3, 4)},
        ("v",),
    ),
    "norm_adjoint": (
        "norm_adjoint(v, x, jnp.linalg.norm(x, axis=1), axis=1) + norm_adjoint(v, x, jnp.sum(x, axis=1), ord=3, axis=1)",
        {"v": (3,), "x": (3, 4)},
        ("v", "x"),
    ),
}

# the helpers JAX differentiates (transforms/jax_helpers.py, one generic rule each): the same checks
JAX_HELPER_TABLE = {
    "vjp_of": ("vjp_of(jnp.cumprod, v, (x,), 0, axis=1) * x", {"v": (2, 3), "x": (2, 3)}, ("v", "x")),
    "transpose_of": ("transpose_of(jnp.kron, v, (a, b), 0)", {"v": (6,), "a": (2,), "b": (3,)}, ("v", "b")),
    "jvp_of": ("jvp_of(jnp.cumprod, t, (x,), 0, axis=None) * x", {"t": (4,), "x": (4,)}, ("t", "x")),
    "eigh_adjoint": ("eigh_adjoint(x + x.T, v, None, 'L')", {"x": (3, 3), "v": (3,)}, ("x", "v")),
    "svd_adjoint": ("svd_adjoint(x, None, v, None)", {"x": (3, 2), "v": (2,)}, ("x", "v")),
    "qr_adjoint": ("qr_adjoint(x, None, v)", {"x": (3, 2), "v": (2, 2)}, ("x", "v")),
    "lstsq_adjoint": (
        "lstsq_adjoint(a, b, v, None, None, 'a', True)",
        {"a": (4, 2), "b": (4,), "v": (2,)},
        ("a", "b", "v"),
    ),
    "angle_adjoint": (
        "jnp.imag(angle_adjoint(v, x + 1j * y))",
        {"v": (3,), "x": (3,), "y": (3,)},
        ("v", "x", "y"),
    ),
    "cumsum_adjoint": ("cumsum_adjoint(v, x, axis=1) * x", {"v": (2, 3), "x": (2, 3)}, ("v",)),
    "prod_adjoint": ("prod_adjoint(v, x, axis=1)", {"v": (2,), "x": (2, 3)}, ("v", "x")),
    "var_adjoint": ("var_adjoint(v, x, axis=0, ddof=1)", {"v": (3,), "x": (2, 3)}, ("v", "x")),
    "std_adjoint": ("std_adjoint(v, x, jnp.std(x, axis=1), axis=1)", {"v": (2,), "x": (2, 3)}, ("v", "x")),
    "sort_adjoint": ("sort_adjoint(v, x, 1) * x", {"v": (2, 3), "x": (2, 3)}, ("v", "x")),
    "roll_adjoint": ("roll_adjoint(v, 1, 0) * 2.0", {"v": (3, 2)}, ("v",)),
    "diag_adjoint": ("diag_adjoint(v, x, 1) * 2.0", {"v": (4, 4), "x": (3,)}, ("v",)),
    "trace_adjoint": ("trace_adjoint(v, x, 1) * x", {"v": (), "x": (3, 3)}, ("v",)),
    "pad_adjoint": ("pad_adjoint(v, x, 1) * 2.0", {"v": (5,), "x": (3,)}, ("v",)),
    "unconcatenate": ("unconcatenate(v, (x, y), 1, 0) * y", {"v": (5,), "x": (2,), "y": (3,)}, ("v",)),
    "linspace_adjoint": ("linspace_adjoint(v, 5, 'start') * 2.0", {"v": (5,)}, ("v",)),
    "pinv_adjoint": ("pinv_adjoint(v, x)", {"v": (2, 3), "x": (3, 2)}, ("v", "x")),
    "cholesky_adjoint": (
        "cholesky_adjoint(v, jnp.linalg.cholesky(x @ x.T + 3.0 * jnp.eye(3)))",
        {"v": (3, 3), "x": (3, 3)},
        ("v", "x"),
    ),
    "solve_outer": ("solve_outer(v, x)", {"v": (3,), "x": (2,)}, ("v", "x")),
    "dot_adjoint_lhs": ("dot_adjoint_lhs(v, a, b)", {"v": (2,), "a": (2, 3), "b": (3,)}, ("v", "b")),
    "dot_adjoint_rhs": ("dot_adjoint_rhs(v, a, b)", {"v": (2,), "a": (2, 3), "b": (3,)}, ("v", "a")),
    "inner_adjoint_lhs": ("inner_adjoint_lhs(v, a, b)", {"v": (2, 4), "a": (2, 3), "b": (4, 3)}, ("v", "b")),
    "inner_adjoint_rhs": ("inner_adjoint_rhs(v, a, b)", {"v": (2, 4), "a": (2, 3), "b": (4, 3)}, ("v", "a")),
    "conj_sign_adjoint": (
        "jnp.real(conj_sign_adjoint(v, x + 1j * y))",
        {"v": (3,), "x": (3,), "y": (3,)},
        ("v", "x"),
    ),
    "div_or_zero": ("div_or_zero(a, b)", {"a": (3,), "b": (3,)}, ("a", "b")),
    "logaddexp_weight": ("logaddexp_weight(a, b)", {"a": (3,), "b": (3,)}, ("a", "b")),
    "fmax_weight": ("fmax_weight(a, b) * a", {"a": (3,), "b": (3,)}, ("a", "b")),
    "fmin_weight": ("fmin_weight(a, b) * a", {"a": (3,), "b": (3,)}, ("a", "b")),
    "sinc_derivative": ("sinc_derivative(x)", {"x": (3,)}, ("x",)),
    "clip_mask": ("clip_mask(a, 0.8, 1.6, 'a') * a", {"a": (4,)}, ("a",)),
    "in_dtype_of": ("in_dtype_of(v * 1j + v, x) * x", {"v": (3,), "x": (3,)}, ("v",)),
}
HELPER_TABLE.update(JAX_HELPER_TABLE)


def test_every_helper_rule_is_covered():
    helpers = {
        k.split("[")[0]  # vjp_of[axis:static]: vjp_of's rule for a call passing axis=
        for k, r in all_rules().items()
        if r.differentiable
        and r.user_object is None
        and hasattr(runtime, k.split("[")[0])
        # a NumPy function whose forward is a runtime helper (np.linalg.cholesky ->
        # cholesky_numpy) is a rule of its domain, checked by tests/test_rules.py
        and r.domain in ("sourcegrad.transforms.adjoint_helpers", "sourcegrad.transforms.jax_helpers")
    }
    assert helpers == set(HELPER_TABLE)


@pytest.mark.parametrize("key", sorted(HELPER_TABLE))
def test_helper_rule(key):
    expr, shapes, wrt = HELPER_TABLE[key]
    fn = make_function(
        f"def helper_{key}({', '.join(shapes)}):\n    return {expr}\n",
        namespace={k: getattr(runtime, k) for k in runtime.__all__},
    )
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    args = {k: rng.uniform(0.5, 2.0, s) for k, s in shapes.items()}
    out = np.asarray(fn(**args))
    seed = rng.standard_normal(out.shape)
    ours = grad(fn, wrt=wrt)(**args, seed=seed)
    _, fd = fd_vjp(fn, args, wrt, seed)
    _, ref = jax_vjp(fn, args, wrt, seed)
    for name, mine, theirs, numeric in zip(wrt, ours, ref, fd):
        assert_close(mine, theirs, rtol=1e-9, atol=1e-10, what=f"{key}: d/d{name} vs jax")
        assert_close(mine, numeric, rtol=1e-5, atol=1e-6, what=f"{key}: d/d{name} vs FD")
    tangents = tuple(rng.standard_normal(shapes[w]) for w in wrt)
    _, d_out = jvp(fn, wrt=wrt)(**args, tangents=tangents)
    assert_close(
        d_out, reference_jvp(fn, args, wrt, tangents)[1], rtol=1e-9, atol=1e-10, what=f"{key}: tangent vs jax"
    )
    assert_close(d_out, fd_jvp(fn, args, wrt, tangents), rtol=1e-5, atol=1e-6, what=f"{key}: tangent vs FD")
