"""Data-dependent while loops without max_iter: online checkpointing (``checkpointed_while``).

Every gradient is checked against float64 central finite differences of the NumPy function and
against the full-tape gradient (``max_iter``); memory must not grow with the trip count."""

import jax
import numpy as np
import pytest

from sourcegrad import grad
from sourcegrad.runtime import checkpointed_while, checkpointed_while_adjoint

from .helpers import assert_close, fd_vjp, make_function


def decay(x, w, tol):
    err = np.sum(x * x)
    while err > tol:
        x = 0.99 * x + 0.001 * np.sin(w * x)
        err = np.sum(x * x)
    return np.sum(x * w)


def counter_indexed(x, w, n):
    """The Reactant pitfall: the body indexes by the loop's own counter."""
    i = 0
    while i < n:
        x = x * w[i % 5] + 0.01 * np.cos(x * w[(i + 1) % 5])
        i = i + 1
    return np.sum(x)


X = np.array([1.0, -0.7, 0.4])
W = np.array([0.5, 1.5, -0.3])


@pytest.mark.parametrize("slots", [4, 7, 32])
def test_gradient_matches_finite_differences_and_the_full_tape(slots):
    g = grad(decay, wrt=("x", "w"), while_checkpoints=slots)
    assert "checkpointed_while(" in g.source and "taped_while" not in g.source
    assert "recompute sweep" in g.source and f"{slots} slots" in g.source
    _, expected = fd_vjp(decay, {"x": X, "w": W, "tol": 1e-3}, ("x", "w"))
    got = g(X, W, 1e-3)
    assert_close(got, tuple(expected), rtol=1e-3, atol=1e-5)
    full = grad(decay, wrt=("x", "w"), max_iter=2000)(X, W, 1e-3)
    assert_close(got, full, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("n", [0, 1, 3, 50, 3000])
def test_loop_indexed_by_its_counter_at_long_trip_counts(n):
    w = np.array([0.99, 1.005, 0.998, 1.001, 0.997])
    x = np.array([0.3, -1.2])
    g = grad(counter_indexed, wrt=("x", "w"), while_checkpoints=6)
    got = g(x, w, np.float64(n))
    expected = jax.grad(_counter_jax, argnums=(0, 1))(x, w, n)
    assert_close(got, expected, rtol=2e-4, atol=1e-6)
    if n <= 50:
        _, fd = fd_vjp(counter_indexed, {"x": x, "w": w, "n": np.float64(n)}, ("x", "w"))
        assert_close(got, tuple(fd), rtol=1e-4, atol=1e-6)


def _counter_jax(x, w, n):
    import jax.numpy as jnp

    body = lambda i, x: x * w[i % 5] + 0.01 * jnp.cos(x * w[(i + 1) % 5])  # noqa: E731
    return jnp.sum(jax.lax.fori_loop(0, n, body, x))


def test_pragma_sets_the_slots():
    src = (
        "def fn(x, tol):\n    err = np.sum(x * x)\n"
        "    while err > tol:  # sourcegrad: checkpoints=5\n"
        "        x = 0.5 * x\n        err = np.sum(x * x)\n    return np.sum(x)\n"
    )
    g = grad(make_function(src, "fn"))
    assert "5 slots" in g.source
    assert_close(g(np.array([1.0, 2.0]), 1e-4), [0.5**8] * 2)  # err = 5 * 4**-k < 1e-4 first at k = 8


def in_branch(x, w, tol):
    if np.sum(x) > 0:
        err = np.sum(x * x)
        while err > tol:
            x = 0.9 * x + 0.01 * np.sin(w * x)
            err = np.sum(x * x)
        y = x * w
    else:
        y = x * 2.0
    return np.sum(y)


@pytest.mark.parametrize("x", [[1.0, 0.5, 0.2], [-1.0, 0.5, 0.2]])
def test_loop_in_a_branch_on_data(x):
    """The branch's adjoint reruns its forward: the step function and checkpoints are in scope."""
    x = np.array(x)
    got = grad(in_branch, wrt=("x", "w"))(x, W, 1e-3)
    _, expected = fd_vjp(in_branch, {"x": x, "w": W, "tol": 1e-3}, ("x", "w"))
    assert_close(got, tuple(expected), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "src",
    [
        "def fn(x):\n    for i in range(2):\n        while np.sum(x) < 3:\n"
        "            x = x * 2\n    return np.sum(x * x)\n",
        "def inner(x):\n    while np.sum(x) < 3:\n        x = x * 2\n"
        "    return x\n\n\ndef fn(x):\n    return np.sum(inner(x) ** 2)\n",
    ],
    ids=["in a loop", "in a called function"],
)
def test_in_a_loop_and_in_a_called_function(src):
    """Once located errors asking for max_iter; tests/test_nested_while.py has more cases."""
    fn = make_function(src, "fn")
    x = np.array([0.3, 0.25])
    _, expected = fd_vjp(fn, {"x": x}, ("x",))
    assert_close(grad(fn)(x), expected[0], rtol=1e-6)


def test_memory_does_not_grow_with_the_trip_count():
    """XLA's temp memory of the gradient at 100 and 10,000 iterations: the same buffers."""

    def temp(n):
        step = lambda s: ((s[0] * 0.999, s[1] + 1), (s[0],))  # noqa: E731

        def f(x):
            st, ck = checkpointed_while(lambda s: s[1] < n, step, (x, 0), 8)
            return checkpointed_while_adjoint(step, lambda c, r: (c[0] * 0.999,), (st[0],), ck)

        compiled = jax.jit(f).lower(np.ones(1000)).compile()
        return compiled.memory_analysis().temp_size_in_bytes

    assert temp(10_000) == temp(100)
