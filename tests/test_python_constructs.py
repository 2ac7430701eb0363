"""Python as NumPy users write it (issue 10): comprehensions and generator expressions, the
builtins sum/min/max/dict, and/or/not, chained comparisons and `is None` on values known while
tracing. Each gradient is checked against float64 central differences of the NumPy function and
against jax.grad of the same code run by JAX."""

import numpy as np
import pytest

from sourcegrad import UnsupportedSyntaxError, grad

from .helpers import assert_close, fd_vjp, jax_vjp, library_frames, make_function

X = np.array([0.3, -1.2, 0.7, 1.1])
W = np.array([1.5, 0.2, -0.4, 0.9])

# name -> (source, whether jax.grad runs the same code)
CASES = {
    "stack_of_calls": (
        """
        def f(x, w):
            return np.sum(np.stack([np.sin(x[i]) * w[i] for i in range(3)]) ** 2)
        """,
        True,
    ),
    "array_of_products": (
        """
        def f(x, w):
            v = np.array([x[i] * w[i] for i in range(3)])
            return np.sum(v * v)
        """,
        True,
    ),
    "sum_of_generator": (
        """
        def f(x, w):
            return sum(w[i] * x[i] for i in range(4))
        """,
        True,
    ),
    "sum_with_start": (
        """
        def f(x, w):
            return sum((w[i] * x[i] for i in range(2)), start=x[3])
        """,
        True,
    ),
    "min_and_max": (
        """
        def f(x, w):
            return max(x[i] * w[i] for i in range(4)) + min([x[i] ** 2 for i in range(4)])
        """,
        True,
    ),
    "zip_of_tuples": (
        """
        def f(x, w):
            xs = (x, 2.0 * x, np.sin(x))
            ys = [w, w * w, w]
            return np.sum(np.stack([a * b for a, b in zip(xs, ys)]))
        """,
        True,
    ),
    "enumerate_of_tuple": (
        """
        def f(x, w):
            return np.sum(np.stack([k * a for k, a in enumerate((x, w, x * w))]))
        """,
        True,
    ),
    "if_on_static_values": (
        """
        def f(x, w):
            return sum(x[i] * w[j] for i in range(4) for j in range(4) if i != j and i + j < 5)
        """,
        True,
    ),
    "nested_comprehensions": (
        """
        def f(x, w):
            rows = [np.stack([x[i] * w[j] for j in range(3)]) for i in range(2)]
            return np.sum(np.stack(rows) ** 2)
        """,
        True,
    ),
    "comprehension_target_is_local": (
        """
        def f(x, w):
            i = 2
            s = sum(x[i] for i in range(3))
            return s * x[i]
        """,
        True,
    ),
    "dict_comprehension": (
        """
        def f(x, w):
            p = {k: v for k, v in zip(("a", "b"), (x, w))}
            q = dict(a=p["a"] * 2.0, b=p["b"])
            return np.sum(q["a"] * q["b"])
        """,
        True,
    ),
    "rolled_sum_over_shape": (
        """
        def f(x, w):
            n = x.shape[0]
            return sum(w[i] * x[i] ** 2 for i in range(n))
        """,
        True,
    ),
    "rolled_stack_over_shape": (
        """
        def f(x, w):
            n = x.shape[0]
            return np.sum(np.stack([np.sin(x[i]) * w for i in range(1, n)]) ** 2)
        """,
        True,
    ),
    "rolled_stack_with_step": (
        """
        def f(x, w):
            n = x.shape[0]
            return np.sum(np.array([np.cos(x[i]) * w[i] for i in range(n - 1, -1, -2)]) ** 2)
        """,
        True,
    ),
    "rolled_long_range": (
        """
        def f(x, w):
            return sum(x[i % 4] * w[i % 3] for i in range(100))
        """,
        True,
    ),
}


def _check(src, jax_too):
    f = make_function(src)
    g = grad(f, wrt=("x", "w"))
    grads = g(X, W)
    _, expected = fd_vjp(f, {"x": X, "w": W}, ("x", "w"))
    assert_close(list(grads), expected, rtol=1e-6)
    if jax_too:
        _, reference = jax_vjp(f, {"x": X, "w": W}, ("x", "w"))
        assert_close(list(grads), list(reference), rtol=1e-9)
    return g


@pytest.mark.parametrize("key", sorted(CASES))
def test_comprehension_gradients(key):
    src, jax_too = CASES[key]
    _check(src, jax_too)


def test_written_out_comprehension_quotes_the_line():
    g = _check(CASES["sum_of_generator"][0], True)
    assert "# line 2: return sum(w[i] * x[i] for i in range(4))" in g.source
    assert "lax.scan" not in g.source  # four elements: written out


def test_rolled_comprehension_is_a_loop():
    g = _check(CASES["rolled_sum_over_shape"][0], True)
    assert g.source.count("lax.scan(") == 3  # the primal, the gradient's forward and backward
    g = _check(CASES["rolled_long_range"][0], True)
    assert "lax.scan(" in g.source and g.source.count("x[") < 20  # 100 elements, not written out


def test_rolled_sum_of_an_empty_range_is_zero():
    f = make_function(
        """
        def f(x, n):
            return sum(x[i] ** 2 for i in range(n)) + np.sum(x)
        """
    )
    g = grad(f, wrt=("x",))
    (empty,) = g(X, 0)
    assert_close(empty, np.ones(4))
    (three,) = g(X, 3)
    assert_close(three, fd_vjp(f, {"x": X, "n": 3}, ("x",))[1][0])


STATIC_LOGIC = """
def f(x, n, mode=None, scale=None):
    if n > 1 and mode is None:
        x = x * 2.0
    if not (0 < n <= 3) or mode is not None:
        x = x * 3.0
    if scale is not None and scale > 1:
        x = x * scale
    k = n > 2 and 3 or 1
    return np.sum(x ** 2) * k
"""


@pytest.mark.parametrize(
    "n, mode, scale", [(2, None, None), (4, None, None), (0, "a", None), (3, None, 2.0), (1, None, 0.5)]
)
def test_static_logic_follows_python(n, mode, scale):
    f = make_function(STATIC_LOGIC)
    g = grad(f, wrt=("x",))
    (ours,) = g(X, n, mode, scale)
    expected = fd_vjp(f, {"x": X, "n": n, "mode": mode, "scale": scale}, ("x",))[1][0]
    assert_close(ours, expected, rtol=1e-6)
    reference = jax_vjp(f, {"x": X, "n": n, "mode": mode, "scale": scale}, ("x",))[1][0]
    assert_close(ours, reference, rtol=1e-9)


def test_static_and_short_circuits_while_tracing():
    f = make_function(
        """
        def f(x, w=None):
            if w is not None and w.shape[0] == x.shape[0]:
                x = x * w
            return np.sum(x ** 2)
        """
    )
    g = grad(f, wrt=("x",))
    (alone,) = g(X)
    assert_close(alone, 2 * X)
    (weighted,) = g(X, W)
    assert_close(weighted, 2 * X * W * W)


@pytest.mark.parametrize(
    "line, phrase",
    [
        ("m = (x > 0) and (x < 1)", "`and` of an array"),
        ("m = 0 < x < 1", "`chained comparisons` of an array"),
        ("y = [x[i] for i in range(3) if x[i] > 0]\n    x = y[0]", "must be known when compiling"),
        ("y = [v for v in x]\n    x = y[0]", "known only while JAX traces"),
    ],
)
def test_refused_on_arrays_with_a_fix(line, phrase):
    f = make_function(f"def f(x):\n    {line}\n    return np.sum(x)\n")
    with pytest.raises(UnsupportedSyntaxError) as info:
        grad(f)
    assert phrase in info.value.msg
    assert "how to fix:" in str(info.value)
    assert not library_frames(info.value)


PRINTING = """
def f(x, w):
    n = x.shape[0]
    assert n == w.shape[0], "x and w differ"
    y = np.sin(x) * w
    print("y is", y, f"sum {np.sum(y):.3f} n={n}", sep=" | ")
    for i in range(2):
        print(f"step {i}: {y[i]:.2f}")
    return np.sum(y)
"""


def test_print_runs_when_the_program_runs(capfd):
    f = make_function(PRINTING)
    g = grad(f, wrt=("x", "w"))
    capfd.readouterr()
    x, w = np.array([0.5, 1.0, 2.0]), np.array([1.0, 2.0, 3.0])
    grads = g(x, w)
    assert_close(list(grads), fd_vjp(f, {"x": x, "w": w}, ("x", "w"))[1])
    out = capfd.readouterr().out
    y = np.sin(x) * w
    assert f"sum {np.sum(y):.3f} n=3" in out and out.startswith("y is | [")
    assert f"step 0: {y[0]:.2f}" in out and f"step 1: {y[1]:.2f}" in out
    assert "debug_print('y is | {} | sum {:.3f} n={}', y, total, n)" in g.source


def test_assert_on_static_values_is_checked_while_tracing():
    f = make_function(PRINTING)
    g = grad(f, wrt=("x",))
    with pytest.raises(AssertionError, match=r":3:\d+: assert n == w.shape\[0\]: x and w differ"):
        g(np.ones(3), np.ones(4))


def test_builtin_min_and_max_of_several_arguments():
    """``max(a, b)`` and ``min(a, b, c)`` of numbers (Python's builtins, as in ``max(x[0], x[1])``)
    fold as ``max([a, b])`` does: NumPy's value, and the gradient of the argument that wins."""
    f = make_function(
        """
        def f(x):
            a = x[0] * 2.0
            return max(a, x[1]) * 3.0 + min(x[0], x[1], x[2] ** 2)
        """
    )
    for x in (np.array([0.3, 0.7, 0.5]), np.array([0.9, 0.7, 0.2])):
        g = grad(f)(x)
        _, (numeric,) = fd_vjp(f, {"x": x}, ("x",))
        assert_close(g, numeric, rtol=1e-6, atol=1e-9, what="max/min of several arguments vs FD")
        assert_close(grad(f).primal(x), f(x), rtol=1e-12, what="value")
