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


def test_every_helper_rule_is_covered():
    helpers = {
        k
        for k, r in all_rules().items()
        if r.differentiable
        and r.user_object is None
        and k in runtime.__all__
        # a NumPy function whose forward is a runtime helper (np.linalg.cholesky ->
        # cholesky_numpy) is a rule of its domain, checked by tests/test_rules.py
        and r.domain == "sourcegrad.transforms.adjoint_helpers"
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
