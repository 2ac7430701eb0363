"""An argument a rule takes as a constant never silently swallows a gradient (issue 9, item 8).

``linspace``'s bounds are differentiable; ``arange``'s set the length of its result and a rule's
``static`` parameters must be Python values while tracing, so a differentiated value there is a
located error naming the argument, raised while transforming.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import sourcegrad
from sourcegrad import grad

from .helpers import assert_close, fd_vjp, jax_vjp, make_function


@pytest.mark.parametrize(
    "expr, xshape",
    [
        ("np.linspace(x, 3.4, 5)", ()),
        ("np.linspace(-1.0, x, num=4)", ()),
        ("np.linspace(x, 2 * x, 6)", (3,)),
        ("np.linspace(x, x ** 2, 2)", (2, 2)),
        ("np.linspace(x, 1.0, 1)", ()),
    ],
)
def test_linspace_bounds_are_differentiable(expr, xshape):
    fn = make_function(f"def lin(x):\n    y = {expr}\n    return np.sum(np.sin(y) * y)\n")
    x = np.random.default_rng(3).standard_normal(xshape) if xshape else 0.7
    ours = grad(fn)(x)
    _, (fd,) = fd_vjp(fn, {"x": x}, ["x"])
    _, (ref,) = jax_vjp(fn, {"x": x}, ["x"])
    assert_close(ours, fd, rtol=1e-6, atol=1e-8)
    assert_close(ours, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "call, arg",
    [
        ("np.arange(x, 3.4, 0.5)", "start"),
        ("np.arange(0.0, x, 0.5)", "stop"),
        ("np.arange(0.0, 2.0, x)", "step"),
        ("np.reshape(np.ones(4), y)", "shape"),
        ("np.round(np.ones(3), y)", "decimals"),
    ],
)
def test_a_differentiated_value_in_a_static_slot_is_refused(call, arg):
    fn = make_function(
        f"def static_slot(x):\n    y = x.astype(np.int64)\n    z = {call}\n    return np.sum(z * x)\n"
    )
    with pytest.raises(sourcegrad.UnsupportedSyntaxError) as info:
        grad(fn)
    err = info.value
    assert err.lineno == 3
    assert f"the argument `{arg}` of" in str(err)
    assert "np." + call.split("(")[0].split(".")[-1] in err.text


def test_a_static_slot_of_a_user_rule_is_refused():
    def scaled(v, k):
        return v * k

    sourcegrad.register_rule(scaled, "scaled(v, k)", static=("k",), v="g * k")
    fn = make_function("def uses(x):\n    return np.sum(scaled(x, x[0]))\n", namespace={"scaled": scaled})
    with pytest.raises(sourcegrad.UnsupportedSyntaxError, match="argument `k` of `scaled`"):
        grad(fn)


def test_a_static_slot_with_a_constant_is_fine():
    fn = make_function("def fine(x):\n    n = x.shape[0]\n    return np.sum(np.arange(0.0, n) * x)\n")
    x = np.array([1.0, 2.0, 3.0])
    assert_close(grad(fn)(x), np.arange(3.0))


def test_a_static_slot_whose_result_is_unused_is_refused_too():
    """The forward still runs the call, where JAX would need a concrete value."""
    fn = make_function("def unused(x):\n    z = np.arange(0.0, x)\n    return x * 2.0\n")
    with pytest.raises(sourcegrad.UnsupportedSyntaxError, match="argument `stop` of `arange`"):
        grad(fn)


def test_nondiff_slots_have_a_zero_derivative():
    """``nondiff`` slots are piecewise constant: zero is their derivative, as jax.grad says."""
    fn = make_function("""
    def pieces(x):
        return np.sum(np.where(x > 0, x, 0.0) + np.sign(x) + np.zeros_like(x) + x[np.argmax(x)])
    """)
    x = np.array([0.3, -1.2, 2.5])
    _, (ref,) = jax_vjp(fn, {"x": x}, ["x"])
    assert_close(grad(fn)(x), ref)
    assert jnp is not None and jax is not None
