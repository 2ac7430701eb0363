"""Python's math module in differentiated code (transforms/pymath.py), against NumPy float64
central differences of the same function and against jax.grad."""

import math

import jax
import numpy as np
import pytest

import sourcegrad
from sourcegrad.errors import ShapeError, SourcegradError

from .helpers import assert_close, fd_vjp


def gaussian_nll(x, mu, log_sigma):
    sigma = math.exp(log_sigma)
    return np.sum(0.5 * ((x - mu) / sigma) ** 2) + x.shape[0] * (log_sigma + 0.5 * math.log(2 * math.pi))


def polar(p):
    r = math.hypot(p[0], p[1])
    theta = math.atan2(p[1], p[0])
    return r * math.cos(theta) + math.sqrt(r) * math.sin(2 * theta) + math.degrees(theta) / 90


def special(x):
    return math.erf(x[0]) * math.lgamma(2.0 + x[1]) + math.log(1.0 + x[2] ** 2, 10) + math.tanh(x[0])


CASES = [
    (gaussian_nll, (np.array([0.3, -1.2, 2.0]), 0.4, 0.2), ("mu", "log_sigma")),
    (polar, (np.array([0.7, 1.3]),), ("p",)),
    (special, (np.array([0.4, 0.8, -0.6]),), ("x",)),
]


@pytest.mark.parametrize("fn,args,wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_math_functions_match_finite_differences(fn, args, wrt):
    g = sourcegrad.grad(fn, wrt=wrt)
    got = g(*args)
    names = fn.__code__.co_varnames[: fn.__code__.co_argcount]
    _, expected = fd_vjp(fn, dict(zip(names, args)), wrt)
    assert_close(list(got), expected, rtol=1e-6, what=fn.__name__)


def test_math_on_a_constant_matches_numpy():
    def f(x):
        return np.sum(x) * math.log(2 * math.pi) + math.sqrt(2.0)

    x = np.array([1.0, 2.0])
    value, gx = sourcegrad.value_and_grad(f)(x)
    assert float(value) == pytest.approx(f(x), rel=1e-12)
    np.testing.assert_allclose(gx, jax.grad(lambda v: v.sum() * math.log(2 * math.pi))(x))


def test_math_of_an_array_is_numpys_error_at_the_users_line():
    def f(x):
        return math.sqrt(x) * 2.0

    with pytest.raises(SourcegradError, match="math.sqrt|one number") as info:
        sourcegrad.grad(f)(np.array([1.0, 4.0]))
    assert "return math.sqrt(x) * 2.0" in str(info.value)
    assert isinstance(info.value, (ShapeError, SourcegradError))


def test_second_order_through_math_functions():
    from sourcegrad import hessian

    def energy(x):
        return np.sum(x**4 - 2.0 * x**2) * math.exp(0.1) + 0.5 * math.log(2 * math.pi)

    x = np.array([0.3, -0.8, 1.2])
    H = np.asarray(hessian(energy)(x))
    np.testing.assert_allclose(np.diag(H), (12 * x**2 - 4) * math.exp(0.1), rtol=1e-10)
