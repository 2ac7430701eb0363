"""Recursion on static values (shapes, Python ints), resolved while JAX traces, and for loops whose
slices' lengths depend on the index, unrolled while JAX traces; checked against float64 central
finite differences and jax.grad / jax.jvp of the same code under jax.numpy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sourcegrad import UnsupportedSyntaxError, grad, jvp

from .golden.functions import det_by_minors  # the same function as its golden file
from .helpers import assert_close, fd_vjp, jax_vjp, make_function

jax.config.update("jax_enable_x64", True)


# ----- recursive functions, as NumPy users write them -----
def tree_sum(x):
    h = x.shape[0] // 2
    return x[0] if x.shape[0] == 1 else tree_sum(x[:h]) + tree_sum(x[h:])


def tree_loss(x):
    return tree_sum(np.sin(x) * x)


def power(x, n):
    if n == 0:
        return np.ones_like(x)
    return x * power(x, n - 1)


def power_loss(x, n=3):
    return np.sum(power(x, n) + power(np.cos(x), 2))


def even(x, n):
    if n == 0:
        return x
    return odd(x * 1.5, n - 1)


def odd(x, n):
    if n == 0:
        return np.sin(x)
    return even(np.cos(x), n - 1)


def mutual_loss(x):
    return np.sum(even(x, 5))


def sum_and_squares(x):
    if x.shape[0] == 1:
        return x[0], x[0] ** 2
    s, q = sum_and_squares(x[1:])
    return s + x[0], q + x[0] ** 2


def moments(x):
    s, q = sum_and_squares(x)
    return q / x.shape[0] - (s / x.shape[0]) ** 2


def prefix_sums(x, w):
    total = 0.0
    for j in range(x.shape[0]):
        total = total + w[j] * np.sum(x[:j] ** 2) + np.sum(np.tanh(x[j:]))
    return total


def tree_sums_in_a_loop(x, w):
    total = 0.0
    for i in range(w.shape[0]):
        total = total + tree_sum(np.sin(x * w[i]))
    return total


def powers_in_a_loop(x, w):
    total = 0.0
    for i in range(w.shape[0]):
        total = total + np.sum(power(x * w[i], 2))
    return total


def _check(fn, values: dict, wrt):
    """sourcegrad's gradients agree with float64 central differences and with jax.grad."""
    g = grad(fn, wrt=wrt)
    got = g(*values.values())
    got = got if isinstance(got, tuple) else (got,)
    _, fd = fd_vjp(fn, values, list(wrt))
    _, ref = jax_vjp(fn, values, list(wrt))
    for ours, by_fd, by_jax in zip(got, fd, ref):
        assert_close(ours, by_jax, rtol=1e-10, atol=1e-12)
        assert_close(ours, by_fd, rtol=1e-6, atol=1e-8)
    return g


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_tree_sum_over_halves(n):
    g = _check(tree_loss, {"x": np.linspace(-1.0, 2.0, n)}, ("x",))
    # one generated function per role, whatever the depth: the recursion happens while tracing
    assert g.source.count("def fwd_tree_sum(") == 1 and g.source.count("def bwd_tree_sum(") == 1
    assert "@static_recursion(limit=100)\ndef fwd_tree_sum(x):" in g.source


def test_power_by_a_static_int():
    _check(power_loss, {"x": np.array([0.3, -1.2, 2.0]), "n": 3}, ("x",))
    g = grad(power_loss)
    x = np.array([0.5, 1.5])
    assert_close(g(x, 6), 6 * x**5 - 2 * np.cos(x) * np.sin(x), rtol=1e-12)


def test_mutual_recursion():
    _check(mutual_loss, {"x": np.array([0.3, 0.7, -0.4])}, ("x",))


@pytest.mark.parametrize("ell", [1, 2, 3, 4])
def test_det_by_minors_against_jax_linalg_det(ell):
    A = np.random.default_rng(ell).random((ell, ell))
    g = grad(det_by_minors)
    assert_close(g(A), jax.grad(jnp.linalg.det)(jnp.asarray(A)), rtol=1e-10, atol=1e-12)
    assert_close(g.primal(A), np.linalg.det(A), rtol=1e-12, atol=1e-14)
    if ell <= 3:
        _, (fd,) = fd_vjp(det_by_minors, {"A": A}, ["A"])
        assert_close(g(A), fd, rtol=1e-6, atol=1e-8)


def test_det_loop_is_unrolled_while_tracing():
    source = grad(det_by_minors).source
    assert "unrolled_scan(for_" in source and "(range(n),)" in source
    assert "lax.scan" not in source


@pytest.mark.parametrize("fn", [tree_sums_in_a_loop, powers_in_a_loop])
def test_recursion_called_in_a_rolled_loop(fn):
    """The loop saves each call's residual; its Python values (the static ifs' tests, the shapes,
    the int argument) stay Python values on the tape (runtime.Residual), as the backward needs."""
    g = _check(fn, {"x": np.linspace(-1.0, 1.0, 5), "w": np.array([0.5, 1.5, -2.0])}, ("x", "w"))
    assert "lax.scan(" in g.source and "Residual(" in g.source


def test_a_recursive_function_returning_a_tuple():
    _check(moments, {"x": np.array([0.5, -1.0, 2.0, 0.25])}, ("x",))


def test_jvp_of_a_recursive_function():
    x, t = np.array([0.3, 0.7, -0.4]), np.array([1.0, -2.0, 0.5])
    value, tangent = jvp(mutual_loss)(x, tangents=t)
    ref_value, ref_tangent = jax.jvp(
        lambda x: jnp.sum(jnp.sin(1.5 * jnp.cos(1.5 * jnp.cos(1.5 * x)))), (x,), (t,)
    )
    assert_close(value, ref_value, rtol=1e-12)
    assert_close(tangent, ref_tangent, rtol=1e-12)


def test_jvp_through_a_loop_unrolled_while_tracing():
    A, T = np.random.default_rng(5).random((2, 3, 3))
    value, tangent = jvp(det_by_minors)(A, tangents=T)
    ref_value, ref_tangent = jax.jvp(jnp.linalg.det, (A,), (T,))
    assert_close(value, ref_value, rtol=1e-12)
    assert_close(tangent, ref_tangent, rtol=1e-10)


def test_emitted_module_recurses_without_sourcegrad():
    """`sourcegrad emit` copies static_recursion and unrolled_scan into the module."""
    from sourcegrad.backend.standalone import standalone_module

    g = grad(det_by_minors)
    source = standalone_module(g._current())
    imports = [line for line in source.splitlines() if line.lstrip().startswith(("import ", "from "))]
    assert not [line for line in imports if "sourcegrad" in line]
    assert "@static_recursion(limit=100)\ndef fwd_det_of(M):" in source
    namespace: dict = {}
    exec(compile(source, "<emitted>", "exec"), namespace)
    A = np.random.default_rng(2).random((3, 3))
    _, (gradient,) = namespace["grad_det_by_minors"](A)
    assert_close(gradient, jax.grad(jnp.linalg.det)(A), rtol=1e-10, atol=1e-12)


def test_loop_slicing_by_its_index_is_unrolled():
    g = _check(prefix_sums, {"x": np.linspace(-1.0, 1.0, 6), "w": np.linspace(0.5, 2.0, 6)}, ("x", "w"))
    assert "unrolled_scan(for_" in g.source


# ----- refusals -----
def test_recursion_on_data_is_a_located_error():
    fn = make_function(
        """
        def halve(x):
            if np.sum(x) > 1.0:
                return halve(x / 2)
            return x

        def loss(x):
            return np.sum(halve(x))
        """,
        "loss",
    )
    with pytest.raises(UnsupportedSyntaxError) as err:
        grad(fn)
    text = str(err.value)
    assert err.value.lineno == 3 and "calls itself" in text and "`if` on array values (line 2)" in text
    assert "how to fix: decide the recursion on a static value" in text
    assert "return halve(x / 2)" in text and "^" in text


def test_recursion_that_does_not_end_while_tracing_is_a_located_error():
    fn = make_function(
        """
        def grow(x, n):
            if n == 0:
                return x
            return 2.0 * grow(x, n + 1)

        def loss(x):
            return np.sum(grow(x, 1))
        """,
        "loss",
    )
    g = grad(fn)  # the recursion is decided by n, known only at the call
    with pytest.raises(UnsupportedSyntaxError) as err:
        g(np.ones(3))
    text = str(err.value)
    assert err.value.lineno == 4 and "recurses more than 100 calls deep while JAX traces" in text
    assert "how to fix:" in text and "return 2.0 * grow(x, n + 1)" in text
    with pytest.raises(UnsupportedSyntaxError, match="recurses more than 100"):
        g.primal(np.ones(3))


def test_recursion_changing_its_argument_kinds_is_a_located_error():
    fn = make_function(
        """
        def nest(x, t):
            return nest(x, (t, t))

        def loss(x):
            return np.sum(nest(x, x))
        """,
        "loss",
    )
    with pytest.raises(UnsupportedSyntaxError) as err:
        grad(fn)
    assert err.value.lineno == 2 and "passes arguments of another kind" in str(err.value)


def test_long_unrolled_loops_are_located_errors():
    fixed = make_function(
        """
        def f(x):
            total = 0.0
            for i in range(200):
                total = total + np.sum(x[:i])
            return total
        """
    )
    with pytest.raises(UnsupportedSyntaxError) as err:
        grad(fixed)
    assert err.value.lineno == 4 and "runs 200 times, and at most 100 iterations are unrolled" in str(
        err.value
    )
    by_shape = make_function(
        """
        def f(x):
            total = 0.0
            for i in range(x.shape[0]):
                total = total + np.sum(x[:i])
            return total
        """
    )
    g = grad(by_shape)
    assert_close(g(np.ones(4)), np.array([3.0, 2.0, 1.0, 0.0]))
    with pytest.raises(UnsupportedSyntaxError) as err:
        g(np.ones(150))
    assert err.value.lineno == 3 and "this loop runs 150 times and is unrolled" in str(err.value)


def test_sliding_windows_unroll_and_shorten_near_the_end_as_numpy_does():
    """x[i:i + k] with a traced i: NumPy shortens the last windows (here the loop runs to the end
    of x), which a compiled slice of fixed length cannot; the loop is unrolled while JAX traces."""
    fn = make_function(
        """
        def f(x, w):
            total = 0.0
            for i in range(x.shape[0]):
                total = total + np.tanh(np.sum(x[i:i + 3] * w[: x[i:i + 3].shape[0]]))
            return total
        """
    )
    x, w = np.linspace(-1.0, 1.0, 6), np.array([0.5, -0.3, 0.8])
    args = {"x": x, "w": w}
    g = grad(fn, wrt=("x", "w"))
    value, grads = g.value_and_grad(x, w)
    assert_close(value, fn(x, w), rtol=1e-12)
    assert_close(list(grads), fd_vjp(fn, args, ("x", "w"))[1], rtol=1e-6)
    assert_close(list(grads), list(jax_vjp(fn, args, ("x", "w"))[1]), rtol=1e-10)
    with pytest.raises(UnsupportedSyntaxError) as err:  # too long to unroll: located, with the fix
        g(np.ones(150), w)
    assert err.value.lineno == 3 and "np.convolve" in str(err.value)  # the loop's line


def test_window_writes_unroll_too():
    fn = make_function(
        """
        def f(x, v):
            y = np.zeros((2, 9))
            for i in range(6):
                y[:, i:i + 4] += v * x[i]
            return np.sum(np.sin(y))
        """
    )
    args = {"x": np.linspace(-1.0, 1.0, 6), "v": np.arange(8.0).reshape(2, 4) / 8}
    got = grad(fn, wrt=("x", "v"))(**args)
    assert_close(list(got), fd_vjp(fn, args, ("x", "v"))[1], rtol=1e-6)

    def by_jax(x, v):
        y = jnp.zeros((2, 9))
        for i in range(6):
            y = y.at[:, i : i + 4].add(v * x[i])
        return jnp.sum(jnp.sin(y))

    assert_close(list(got), list(jax.grad(by_jax, argnums=(0, 1))(args["x"], args["v"])), rtol=1e-10)
