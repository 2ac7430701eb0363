"""Second order through the runtime helpers that are pure JAX functions (``transforms/jax_helpers.py``):
the adjoints written ``vjp_of(...)``/``transpose_of(...)`` (np.diff, np.gradient, np.cumprod,
np.median, np.quantile, np.percentile, np.average, np.convolve, np.correlate, np.kron, ...) and the
adjoints of np.linalg.eigh, eigvalsh, svd, qr, lstsq, cholesky, solve, pinv, np.angle, and of the
reductions and shape functions (cumsum, prod, var, std, sort, roll, diag, trace, pad, concatenate,
linspace), of np.dot/np.inner, and the weights of arctan2, logaddexp, sinc, fmax, fmin and clip.
Each ``hessian`` and ``hvp`` is checked against ``jax.hessian``/``jax.jvp(jax.grad)`` of the same code on jax.numpy in float64, and
against central finite differences of sourcegrad's first-order gradient; reverse over reverse
(``grad(grad(f))``) against ``jax.vjp`` of ``jax.grad``."""

import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sourcegrad import grad, jvp
from sourcegrad.api.second_order import hessian, hvp
from sourcegrad.errors import MissingRuleError

from .helpers import assert_close, jax_version


def diff_weighted(x):
    return np.sum(np.diff(x) ** 2 * x[1:])


def diff_twice_rows(A):
    return np.sum(np.diff(A, n=2, axis=0) ** 2 * A[2:])


def gradient_1d(x):
    return np.sum(np.gradient(x) ** 2 * x)


def gradient_spacing(x, h):
    return np.sum(np.gradient(x, h) ** 2 * x) * h


def gradient_axis(A):
    return np.sum(np.gradient(A, axis=1) ** 2 * A)


def cumprod_times(x):
    return np.sum(np.cumprod(x) * x)


def cumprod_axis(A):
    return np.sum(np.cumprod(A, axis=1) * A)


def median_of_product(x, y):
    return np.median(x**2 * y)


def median_axis(A):
    return np.sum(np.median(A**2, axis=0) * A[0])


def quantile_axis(A):
    return np.sum(np.quantile(A**2, 0.3, axis=1) * A[:, 0])


def percentile_scaled(x):
    return np.percentile(x**2, 30.0) * np.sum(x)


def average_weighted_axis(A, w):
    return np.sum(np.average(A**2, axis=0, weights=w) * A[1])


def convolve_full(x, k):
    return np.sum(np.convolve(x, k) ** 2 * 0.5)


def correlate_same(x, k):
    return np.sum(np.correlate(x, k, mode="same") ** 2 * x[0])


def eigvalsh_squares(A):
    return np.sum(np.linalg.eigvalsh(A + A.T) ** 2)


def eigh_both(A):
    w, V = np.linalg.eigh(A + A.T)
    return np.sum(w**3) + np.sum(V[:, 0] ** 2 * w[0])


def svd_values(A):
    return np.sum(np.linalg.svd(A, compute_uv=False) ** 3)


def svd_vectors(A):
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    return np.sum(s**3) + np.sum(U[:, 0] ** 2 * s[0]) + np.sum(Vt[1] ** 2 * s[1])


def qr_parts(A):
    Q, R = np.linalg.qr(A)
    return np.sum(R**3) + np.sum(Q * A)


def lstsq_solution(A, b):
    x = np.linalg.lstsq(A, b, rcond=None)[0]
    return np.sum(x**2) + np.sum(A * A) * x[0]


def angle_squares(x, y):
    return np.sum(np.angle(x + 1j * y) ** 2)


def kron_tensordot(a, B):
    return np.sum(np.kron(a, a) ** 2 * 0.5) + np.sum(np.tensordot(B, B, axes=1) ** 2)


def repeat_take(x):
    return np.sum(np.repeat(x, 2) ** 3) + np.sum(np.take(x, np.array([0, 2, 2])) ** 3)


def matrix_power_cubed(A):
    return np.sum(np.linalg.matrix_power(A, 3) * A)


def cumsum_prod_axis(A):
    return np.sum(np.cumsum(A, axis=1) ** 2 * A) + np.sum(np.prod(A, axis=0, keepdims=True) * A)


def var_std_axis(A):
    return np.sum(np.var(A, axis=1, ddof=1) * A[:, 0]) + np.sum(np.std(A, axis=0) ** 3)


def sort_roll_axis(A):
    return np.sum(np.sort(A, axis=0) ** 3 * A) + np.sum(np.roll(A, 2, axis=1) ** 2 * A)


def diag_trace_pad(S):
    return np.sum(np.diag(S) ** 3) + np.trace(S, offset=1) ** 3 + np.sum(np.pad(S, 1) ** 3)


def concatenate_axis(A, S):
    return np.sum(np.concatenate([A, S * A[:, :3]], axis=1) ** 3)


def linalg_more(S, b):
    C = np.linalg.cholesky(S @ S.T + np.eye(3))
    return np.sum(C**3) + np.sum(np.linalg.solve(S, b) ** 2) + np.sum(np.linalg.pinv(S) ** 2)


def linspace_cubed(a, b):
    return np.sum(np.linspace(a, b, 5) ** 3 * a)


def dot_inner(A, x):
    return np.sum(np.dot(A, x) ** 3) + np.sum(np.inner(A, A) ** 2)


def weighted_elementwise(x, y):
    return np.sum(np.arctan2(x, y) ** 2 + np.logaddexp(x, y) * x + np.sinc(x) * y)


def piecewise_weights(x, y):
    return np.sum(np.fmax(x, y) ** 3 + np.fmin(x, y) ** 2 * x + np.clip(x, -0.5, 2.5) ** 3 * y)


_rng = np.random.default_rng(20261129)
_x = _rng.normal(size=6) + 2.0
_A = _rng.normal(size=(4, 5))
_S = _rng.normal(size=(3, 3))
_w = _rng.uniform(0.5, 1.5, size=4)
_k = np.array([0.5, -1.0, 0.25])

# name -> (function, arguments, wrt)
CASES = {
    "diff": (diff_weighted, {"x": _x}, ("x",)),
    "diff_n2_axis0": (diff_twice_rows, {"A": _A}, ("A",)),
    "gradient": (gradient_1d, {"x": _x}, ("x",)),
    "gradient_spacing": (gradient_spacing, {"x": _x, "h": 0.7}, ("x", "h")),
    "gradient_axis1": (gradient_axis, {"A": _A}, ("A",)),
    "cumprod": (cumprod_times, {"x": _x}, ("x",)),
    "cumprod_axis1": (cumprod_axis, {"A": _A}, ("A",)),
    "median": (median_of_product, {"x": _x, "y": _rng.normal(size=6)}, ("x", "y")),
    "median_axis0": (median_axis, {"A": _A}, ("A",)),
    "quantile_axis1": (quantile_axis, {"A": _A}, ("A",)),
    "percentile": (percentile_scaled, {"x": _x}, ("x",)),
    "average_weights_axis0": (average_weighted_axis, {"A": _A, "w": _w}, ("A", "w")),
    "convolve": (convolve_full, {"x": _x, "k": _k}, ("x", "k")),
    "correlate_same": (correlate_same, {"x": _x, "k": _k}, ("x", "k")),
    "eigvalsh": (eigvalsh_squares, {"A": _S}, ("A",)),
    "eigh": (eigh_both, {"A": _S}, ("A",)),
    "svd_values": (svd_values, {"A": _A}, ("A",)),
    "svd_vectors": (svd_vectors, {"A": _A}, ("A",)),
    "qr": (qr_parts, {"A": _A.T}, ("A",)),
    "lstsq": (lstsq_solution, {"A": _A.T, "b": _rng.normal(size=5)}, ("A", "b")),
    "angle": (angle_squares, {"x": _x - 2.0, "y": _rng.normal(size=6)}, ("x", "y")),
    "kron_tensordot": (kron_tensordot, {"a": _k, "B": _S}, ("a", "B")),
    "repeat_take": (repeat_take, {"x": _x}, ("x",)),
    "matrix_power": (matrix_power_cubed, {"A": _S}, ("A",)),
    "cumsum_prod_axis": (cumsum_prod_axis, {"A": _A}, ("A",)),
    "var_std_axis": (var_std_axis, {"A": _A}, ("A",)),
    "sort_roll_axis": (sort_roll_axis, {"A": _A}, ("A",)),
    "diag_trace_pad": (diag_trace_pad, {"S": _S}, ("S",)),
    "concatenate_axis1": (concatenate_axis, {"A": _A, "S": _rng.normal(size=(4, 3))}, ("A", "S")),
    "cholesky_solve_pinv": (linalg_more, {"S": _S, "b": _k}, ("S", "b")),
    "linspace": (linspace_cubed, {"a": 0.3, "b": 1.2}, ("a", "b")),
    "dot_inner": (dot_inner, {"A": _A, "x": _rng.normal(size=5)}, ("A", "x")),
    "arctan2_logaddexp_sinc": (weighted_elementwise, {"x": _x - 2.0, "y": _rng.normal(size=6)}, ("x", "y")),
    "fmax_fmin_clip": (piecewise_weights, {"x": _x - 2.0, "y": _rng.normal(size=6)}, ("x", "y")),
}


def _jax_fn(fn, args, wrt):
    jfn = jax_version(fn)
    return (lambda *w: jfn(**{**args, **dict(zip(wrt, w))})), [jnp.asarray(args[w]) for w in wrt]


def _vectors(name, args, wrt):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    return tuple(rng.standard_normal(np.shape(args[w])) for w in wrt)


@pytest.mark.parametrize("name", sorted(CASES))
def test_hessian_and_hvp_match_jax_and_finite_differences(name):
    fn, args, wrt = CASES[name]
    f, primals = _jax_fn(fn, args, wrt)
    argnums = tuple(range(len(wrt)))
    ours = hessian(fn, wrt=wrt)(**args)
    assert_close(ours, jax.hessian(f, argnums=argnums)(*primals), rtol=1e-7, atol=1e-9, what=name)
    vs = _vectors(name, args, wrt)
    mine = hvp(fn, wrt=wrt)(**args, vectors=vs)
    _, ref = jax.jvp(jax.grad(f, argnums=argnums), tuple(primals), vs)
    assert_close(mine, ref, rtol=1e-7, atol=1e-9, what=f"{name}: hvp vs jax.jvp(jax.grad)")
    g = grad(fn, wrt=wrt)
    eps = 1e-6
    plus = g(**{**args, **{w: args[w] + eps * v for w, v in zip(wrt, vs)}})
    minus = g(**{**args, **{w: args[w] - eps * v for w, v in zip(wrt, vs)}})
    fd = jax.tree_util.tree_map(lambda a, b: (np.asarray(a) - np.asarray(b)) / (2 * eps), plus, minus)
    assert_close(mine, fd, rtol=1e-4, atol=1e-6, what=f"{name}: hvp vs FD of the gradient")


# reverse over reverse: the adjoints of the helpers (vjp_of of the helper), with a seed
GRAD_OF_GRAD = [
    "diff_n2_axis0",
    "cumprod_axis1",
    "median_axis0",
    "eigh",
    "svd_vectors",
    "angle",
    "convolve",
    "var_std_axis",
]


@pytest.mark.parametrize("name", GRAD_OF_GRAD)
def test_grad_of_grad_matches_jax(name):
    fn, args, wrt = CASES[name]
    first = wrt[0]
    seed = _vectors(name + "/seed", args, (first,))[0]
    ours = grad(grad(fn, wrt=first), wrt=first)(**args, seed=seed)
    f, primals = _jax_fn(fn, args, wrt)
    ref = jax.vjp(lambda a: jax.grad(f)(a, *primals[1:]), primals[0])[1](jnp.asarray(seed))[0]
    assert_close(ours, ref, rtol=1e-7, atol=1e-9, what=f"{name}: grad(grad) vs jax")


@pytest.mark.parametrize("name", ["gradient_axis1", "quantile_axis1", "qr"])
def test_jvp_of_grad_matches_jax(name):
    fn, args, wrt = CASES[name]
    first = wrt[0]
    (t,) = _vectors(name, args, (first,))
    _, d = jvp(grad(fn, wrt=first), wrt=first)(**args, tangents=t)
    f, primals = _jax_fn(fn, args, wrt)
    _, ref = jax.jvp(lambda a: jax.grad(f)(a, *primals[1:]), (primals[0],), (jnp.asarray(t),))
    assert_close(d, ref, rtol=1e-7, atol=1e-9, what=f"{name}: jvp(grad) vs jax")


def test_the_tangent_of_a_helper_reads_as_jax_differentiating_it():
    h = hessian(cumprod_times)
    assert "vjp_of(jnp.cumprod, b_cumprod, (x,), 0, axis=None)" in h.source
    # linear in the incoming adjoint: the helper of its tangent; the rest by jax.jvp of vjp_of
    assert "vjp_of(jnp.cumprod, d_b_cumprod, (x,), 0, axis=None)" in h.source
    assert "jvp_of(vjp_of, [d_x], (jnp.cumprod, b_cumprod, (x,), 0), 2, axis=None)" in h.source


def einsum_cubed(A, x):
    return np.sum(np.einsum("ij,j->i", A, x) ** 3)


def test_a_helper_without_a_rule_is_still_refused_with_a_location():
    # einsum_adjoint takes *operands, which defjax does not cover: a located MissingRuleError
    with pytest.raises(MissingRuleError, match="einsum_adjoint") as info:
        hessian(einsum_cubed, wrt="A")
    assert info.value.lineno > 0 and "normalized again" in info.value.filename
