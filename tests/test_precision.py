"""Gradients in the precision of the inputs (issue 9, item 12), with JAX's x64 mode off as it is
by default: float64 inputs (and Python floats, float64 in NumPy) compute in float64, float32
inputs stay float32."""

import jax
import numpy as np
import pytest

from sourcegrad import grad, value_and_grad

from .golden.functions import newton_sqrt
from .helpers import fd_vjp


@pytest.fixture(autouse=True)
def x64_off_as_by_default():
    jax.config.update("jax_enable_x64", False)
    yield
    jax.config.update("jax_enable_x64", True)


def loss(W, b):
    return np.sum(np.tanh(W @ np.sin(b) + b[0]) ** 2) * 1e-3


RNG = np.random.default_rng(0)
W64, B64 = RNG.standard_normal((4, 3)), RNG.standard_normal(3)


def fd(fn, args, wrt):
    return fd_vjp(fn, args, wrt)[1]


def test_float64_inputs_give_float64_gradients_to_float64_accuracy():
    g = grad(loss, wrt=("W", "b"))
    gW, gb = g(W64, B64)
    assert gW.dtype == np.float64 and gb.dtype == np.float64
    refW, refb = fd(loss, {"W": W64, "b": B64}, ("W", "b"))
    # float32 arithmetic would leave relative errors near 1e-7
    np.testing.assert_allclose(gW, refW, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(gb, refb, rtol=1e-8, atol=1e-12)
    assert not jax.config.jax_enable_x64  # scoped: the global setting is untouched


def test_float32_inputs_stay_float32_after_float64_calls():
    g = grad(loss, wrt=("W", "b"))
    g(W64, B64)
    gW, gb = g(W64.astype(np.float32), B64.astype(np.float32))
    assert gW.dtype == np.float32 and gb.dtype == np.float32
    refW, _ = fd(loss, {"W": W64, "b": B64}, ("W", "b"))
    np.testing.assert_allclose(gW, refW, rtol=1e-4, atol=1e-6)
    gW, _ = g(W64, B64)
    assert gW.dtype == np.float64


def test_python_floats_are_float64_as_in_numpy():
    def f(x):
        return np.sin(x) * x

    gx = grad(f)(0.7)
    assert gx.dtype == np.float64
    assert abs(float(gx) - (np.cos(0.7) * 0.7 + np.sin(0.7))) < 1e-14


def test_a_newton_loop_with_tolerance_1e_12_converges_in_float64():
    a = np.array([2.0, 3.0, 10.0])
    g = grad(newton_sqrt)
    ga = g(a)
    assert ga.dtype == np.float64
    np.testing.assert_allclose(ga, 0.5 / np.sqrt(a), rtol=1e-12)
    assert g(a.astype(np.float32)).dtype == np.float32


def test_value_primal_and_compile_follow_the_inputs_precision():
    value, gW = value_and_grad(loss)(W64, B64)
    assert value.dtype == np.float64 and gW.dtype == np.float64
    assert value == pytest.approx(loss(W64, B64), rel=1e-14)
    g = grad(loss)
    assert g.primal(W64, B64).dtype == np.float64
    compiled = g.compile(W64, B64)
    out = compiled(W64, B64)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, fd(loss, {"W": W64, "b": B64}, ("W",))[0], rtol=1e-6)
    np.testing.assert_array_equal(out, g(W64, B64))
    assert (
        g.compile(W64.astype(np.float32), B64.astype(np.float32))(
            W64.astype(np.float32), B64.astype(np.float32)
        ).dtype
        == np.float32
    )


def test_int64_data_switches_to_64_bit_too():
    def pick(x, idx):
        return np.sum(x[idx] ** 2)

    idx = np.array([0, 2, 2])
    gx = grad(pick)(B64, idx)
    assert gx.dtype == np.float64
    np.testing.assert_allclose(gx, [2 * B64[0], 0.0, 4 * B64[2]], rtol=1e-14)


def test_forward_mode_and_hessians_keep_float64():
    from sourcegrad import hessian, jvp

    y, dy = jvp(loss, wrt="b")(W64, B64, tangents=np.ones(3))
    assert y.dtype == np.float64 and dy.dtype == np.float64
    H = hessian(loss, wrt="b")(W64, B64)
    assert H.dtype == np.float64
    # float32 arithmetic would leave relative errors near 1e-7
    moved = (loss(W64, B64 + 1e-6) - loss(W64, B64 - 1e-6)) / 2e-6
    np.testing.assert_allclose(float(dy), moved, rtol=1e-7)


def test_jacobians_keep_float64():
    from sourcegrad import jacfwd, jacrev

    def f(b):
        return np.tanh(W64 @ np.sin(b)) * 1e-3

    for jac in (jacfwd, jacrev):
        J = jac(f)(B64)
        assert J.dtype == np.float64 and J.shape == (4, 3)
        column = (f(B64 + np.array([1e-6, 0, 0])) - f(B64 - np.array([1e-6, 0, 0]))) / 2e-6
        # float32 arithmetic would leave relative errors near 1e-7 of the entries (~1e-3)
        np.testing.assert_allclose(J[:, 0], column, rtol=1e-7, atol=1e-13)


def test_float64_results_are_usable_after_the_call():
    # a float64 JAX array outside JAX's x64 mode computes in float32 and fails on mixed dtypes
    # (`.diagonal()` raised a TypeError): what comes back is NumPy's, as NumPy gives it
    def f(A):
        return np.sum(A @ A)

    A = np.arange(9.0).reshape(3, 3) / 7
    g = grad(f)
    first = g(A)
    gA = g(A)  # the second call takes the per-call fast path
    assert g._fast  # (it was stored)
    for out in (first, gA):
        assert isinstance(out, np.ndarray) and out.dtype == np.float64
    np.testing.assert_allclose(gA.diagonal(), (A.T @ np.ones((3, 3)) + np.ones((3, 3)) @ A.T).diagonal())
    value, _ = value_and_grad(f)(A)
    assert isinstance(value, np.float64)
    assert isinstance(grad(f).compile(A)(A), np.ndarray)
    # float32 inputs keep JAX arrays (asynchronous dispatch; nothing to repair)
    assert isinstance(grad(f)(A.astype(np.float32)), jax.Array)


def test_jacobian_precision_is_decided_by_every_input():
    # a differentiated Python float wants float64 (NumPy's), as for grad: the second input, not
    # only the first, decides
    from sourcegrad import jacfwd

    def f(x, y):
        return np.sin(x) * y

    x = np.linspace(0.1, 1.0, 3).astype(np.float32)
    _, Jy = jacfwd(f, wrt=("x", "y"))(x, 0.7)
    _, gy = grad(summed, wrt=("x", "y"))(x, 0.7)
    assert Jy.dtype == np.float64 and gy.dtype == np.float64
    np.testing.assert_allclose(Jy, np.sin(x.astype(np.float64)), rtol=1e-7)


def summed(x, y):
    return np.sum(np.sin(x) * y)
