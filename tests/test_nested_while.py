"""Data-dependent while loops without max_iter inside a ``for`` loop, inside a called function and
inside another while loop: the forward runs a plain ``lax.while_loop``, and the enclosing loop's
adjoint step (or the callee's ``bwd_``) runs the checkpointed loop again from its inputs, which
come on the enclosing loop's tape (or in the callee's residual), then its recompute sweep.

Every gradient is checked against float64 central finite differences of the NumPy function; the
inputs give the inner loop a different trip count in each outer iteration, zero included. Where
the trip counts are known, ``jax.grad`` of the same computation written with Python loops of
those lengths is a second oracle."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sourcegrad import UnsupportedSyntaxError, grad

from .helpers import assert_close, fd_vjp, make_function


def _check(fn, values: dict, wrt, rtol=1e-6, atol=1e-9, **options):
    g = grad(fn, wrt=wrt, **options)
    got = g(*values.values())
    _, expected = fd_vjp(fn, values, wrt)
    assert_close(got, tuple(expected), rtol=rtol, atol=atol)
    return g, got


# ----- inside a for loop -----


def inner_for(x, a):
    s = 0.0
    for i in range(3):
        y = x * a[i]
        while y < 10.0:
            y = y * 1.5
        s = s + y
    return s


def _trips(y):  # how many times `y = y * 1.5` runs before y >= 10
    n = 0
    while y < 10.0:
        y, n = y * 1.5, n + 1
    return n


def _inner_for_jax(x, a, trips):
    s = 0.0
    for i in range(3):
        y = x * a[i]
        for _ in range(trips[i]):
            y = y * 1.5
        s = s + y
    return s


@pytest.mark.parametrize(
    "x,a",
    [
        (1.3, [0.5, 2.0, 20.0]),  # 7, 4 and 0 iterations
        (0.01, [1.0, 3.0, 0.5]),  # 18, 15 and 19
        (40.0, [1.0, 2.0, 3.0]),  # none at all
    ],
)
def test_in_a_for_loop(x, a):
    a = np.array(a)
    g, got = _check(inner_for, {"x": np.float64(x), "a": a}, ("x", "a"))
    trips = [_trips(x * ai) for ai in a]
    expected = jax.grad(_inner_for_jax, argnums=(0, 1))(x, jnp.asarray(a), trips)
    assert_close(got, expected, rtol=1e-10)
    # the forward runs a plain lax.while_loop; the adjoint step runs the checkpointed loop again
    forward, backward = g.source.split("# == backward")
    assert "checkpointed_while(" not in forward and "lax.while_loop(" in forward
    assert "checkpointed_while(" in backward and "checkpointed_while_adjoint(" in backward
    assert "_checkpoints_tape" not in g.source and "taped_while" not in g.source


def test_tape_holds_the_loops_inputs_not_its_slots():
    """XLA's temp memory of the gradient of 50 iterations around a while loop with a state of 1024
    floats: 4 or 32 slots cost about the same (saving the slots on the tape would differ by
    28 x 50 x 8 KiB = 10.9 MiB)."""
    src = (
        "def fn(x, a):\n    s = 0.0\n    for i in range(50):\n        y = x * a[i]\n"
        "        k = 0.0\n        while k < 20.0:\n            y = np.sin(y) + 0.1 * y\n"
        "            k = k + 1.0\n        s = s + np.sum(y)\n    return s\n"
    )
    fn = make_function(src, "fn")

    def temp(slots):
        g = grad(fn, wrt=("x",), while_checkpoints=slots)
        values, static, t = g._bind((np.ones(1024), np.linspace(0.5, 1.5, 50)), {})
        compiled = jax.jit(t.grad_fn, static_argnums=static).lower(*values, None, None).compile()
        return compiled.memory_analysis().temp_size_in_bytes

    assert abs(temp(32) - temp(4)) < 2**20


def relax_rows(x, W, tol):
    """An array state, a while loop over each row of W, reading values the row computes."""
    total = 0.0
    for w in W:
        c = np.cos(w)
        h = x * w
        err = np.sum(h * h)
        while err > tol:
            h = 0.8 * h + 0.05 * np.sin(c * h)
            err = np.sum(h * h)
        total = total + np.sum(h * w)
    return total


def test_array_state_reading_the_rows_values():
    x = np.array([0.9, -0.4, 0.3])
    W = np.array([[0.5, 1.5, -0.3], [1e-3, 2e-3, -1e-3], [2.0, -1.0, 0.7]])  # the middle row: 0 trips
    _check(relax_rows, {"x": x, "W": W, "tol": 1e-2}, ("x", "W"), rtol=1e-5, atol=1e-8)


def nested_for(x, a):
    s = 0.0
    for i in range(2):
        for j in range(2):
            y = x * a[i] + a[j]
            while y < 5.0:
                y = y * 1.25 + 0.1
            s = s + y * a[j]
    return s


def test_in_a_loop_in_a_loop():
    _check(nested_for, {"x": np.float64(0.7), "a": np.array([0.3, 6.0])}, ("x", "a"))


def windowed(x, a):
    """An unrolled loop (its slice's bounds move with the index) around the while loop."""
    s = 0.0
    for i in range(3):
        y = np.sum(x[i : i + 2]) * a
        while y < 4.0:
            y = y * 1.5
        s = s + y
    return s


def test_in_a_loop_unrolled_while_tracing():
    _check(windowed, {"x": np.array([0.2, 0.3, 5.0, 0.1]), "a": np.float64(1.1)}, ("x", "a"))


def test_in_a_checkpointed_for_loop():
    g, _ = _check(
        inner_for, {"x": np.float64(1.3), "a": np.array([0.5, 2.0, 20.0])}, ("x", "a"), checkpoint="sqrt"
    )
    assert "checkpointed_scan_adjoint(" in g.source


def counted(x, w, n):
    """The inner loop indexes by its own counter; its trip count differs per row of w."""
    s = 0.0
    for k in range(3):
        j = 0
        y = x
        while j < n[k]:
            y = y * w[(j + k) % 4] + 0.01 * np.cos(y)
            j = j + 1
        s = s + np.sum(y)
    return s


def test_loop_indexed_by_its_counter_many_trips_few_slots():
    x = np.array([0.3, -1.2])
    w = np.array([0.99, 1.005, 0.998, 1.001])
    _check(
        counted,
        {"x": x, "w": w, "n": np.array([0.0, 5.0, 300.0])},
        ("x", "w"),
        rtol=1e-5,
        atol=1e-8,
        while_checkpoints=6,
    )


def in_branch_in_loop(x, a):
    s = 0.0
    for i in range(3):
        y = x * a[i]
        if y > 1.0:
            while y < 10.0:
                y = y * 1.5
        else:
            y = y * 2.0
        s = s + y
    return s


def test_in_a_branch_on_data_in_a_loop():
    _check(in_branch_in_loop, {"x": np.float64(1.3), "a": np.array([0.5, 2.0, 20.0])}, ("x", "a"))


# ----- inside a called function -----


def helper(y, a):
    while y < 10.0:
        y = y * a
    return y


def in_callee(x, a):
    return helper(x, a) + helper(2 * x, a)


@pytest.mark.parametrize("x", [1.3, 0.02, 6.0, 30.0])  # 30: no iteration in either call
def test_in_a_called_function(x):
    g, _ = _check(in_callee, {"x": np.float64(x), "a": np.float64(1.7)}, ("x", "a"))
    # the checkpoints are in the residual; bwd_helper defines the step function again
    # fwd_helper runs a plain lax.while_loop, bwd_helper the checkpointed loop and its sweep
    fwd = g.source[g.source.index("def fwd_helper") : g.source.index("def bwd_helper")]
    assert "lax.while_loop(" in fwd and "checkpointed_while(" not in fwd
    assert re.search(r"return y_\d+, \(y, a\)", fwd)  # the residual: the loop's inputs
    bwd = g.source[g.source.index("def bwd_helper") : g.source.index("def in_callee")]
    assert "checkpointed_while(" in bwd and "checkpointed_while_adjoint(" in bwd


def smooth(h, c, tol):
    d = np.cos(c)  # computed before the loop in the callee: the step reads it from the residual
    err = np.sum(h * h)
    while err > tol:
        h = 0.8 * h + 0.05 * np.sin(d * h)
        err = np.sum(h * h)
    return h


def callee_in_loop(x, W):
    total = 0.0
    for w in W:
        total = total + np.sum(smooth(x * w, w, 1e-2) * w)
    return total


def test_called_function_in_a_loop():
    x = np.array([0.9, -0.4, 0.3])
    W = np.array([[0.5, 1.5, -0.3], [1e-3, 2e-3, -1e-3], [2.0, -1.0, 0.7]])
    _check(callee_in_loop, {"x": x, "W": W}, ("x", "W"), rtol=1e-5, atol=1e-8)


def loop_in_callee(x, a):
    s = 0.0
    for i in range(3):
        s = s + helper(x * a[i], 1.5)
    return s


def callee_with_loop(x, a):
    return loop_in_callee(x, a) * 2.0


def test_for_loop_around_it_in_a_called_function():
    _check(callee_with_loop, {"x": np.float64(1.3), "a": np.array([0.5, 2.0, 20.0])}, ("x", "a"))


# ----- inside another while loop -----


def nested_while(x, a):
    y = x
    n = 0.0
    while n < 3.0:
        z = y
        while z < 10.0:
            z = z * a
        y = y + z * 0.01
        n = n + 1.0
    return y


def doubling(x, a):
    y = x
    n = 0.0
    while n < 4.0:
        z = y
        while z < 10.0:
            z = z * a
        y = y * 2.0 + z * 0.01
        n = n + 1.0
    return y


@pytest.mark.parametrize("x", [1.3, 9.0, 12.0])  # 4, 1 and 0 inner iterations, each time
def test_in_another_while_loop(x):
    _check(nested_while, {"x": np.float64(x), "a": np.float64(1.7)}, ("x", "a"))


@pytest.mark.parametrize("x", [0.3, 1.3])  # inner trips 7, 5, 4, 3 and 4, 3, 2, 0
def test_in_another_while_loop_trip_counts_change(x):
    _, got = _check(doubling, {"x": np.float64(x), "a": np.float64(1.7)}, ("x", "a"))
    trips, y = [], x
    for _ in range(4):
        z, n = y, 0
        while z < 10.0:
            z, n = z * 1.7, n + 1
        trips.append(n)
        y = y * 2.0 + z * 0.01
    assert_close(got, jax.grad(_doubling_jax, argnums=(0, 1))(x, 1.7, trips), rtol=1e-10)


def _doubling_jax(x, a, trips):
    y = x
    for n in trips:
        z = y
        for _ in range(n):
            z = z * a
        y = y * 2.0 + z * 0.01
    return y


def test_in_another_while_loop_with_max_iter():
    src = (
        "def fn(x, a):\n    y = x\n    n = 0.0\n    while n < 3.0:  # sourcegrad: max_iter=5\n"
        "        z = y\n        while z < 10.0:\n            z = z * a\n"
        "        y = y + z * 0.01\n        n = n + 1.0\n    return y\n"
    )
    fn = make_function(src, "fn")
    g, _ = _check(fn, {"x": np.float64(1.3), "a": np.float64(1.7)}, ("x", "a"))
    assert "taped_while(" in g.source and "checkpointed_while(" in g.source


def relax_until(x, w, tol):
    """Both loops carry arrays; the inner one's trip count shrinks as the outer one converges:
    7, 5, 4, 3, 1, then 0 in each of the last four outer iterations."""
    outer = np.sum(x * x)
    while outer > tol:
        h = x * w
        err = np.sum(h * h)
        while err > 0.02:
            h = 0.7 * h + 0.01 * np.sin(w * h)
            err = np.sum(h * h)
        x = 0.6 * x + 0.1 * h
        outer = np.sum(x * x)
    return np.sum(x * w)


def test_array_loops_in_each_other():
    x = np.array([1.0, -0.7, 0.4])
    w = np.array([0.5, 1.5, -0.3])
    _check(relax_until, {"x": x, "w": w, "tol": 1e-3}, ("x", "w"), rtol=1e-5, atol=1e-8)


def test_taped_loop_inside_is_still_a_located_error():
    src = (
        "def fn(x):\n    while np.sum(x) < 30:\n        y = x\n"
        "        while np.sum(y) < 3:  # sourcegrad: max_iter=10\n"
        "            y = y * 2\n        x = x + y\n    return np.sum(x)\n"
    )
    with pytest.raises(UnsupportedSyntaxError, match="with max_iter inside another while loop") as info:
        grad(make_function(src, "fn", filename="/p/m.py"))
    assert info.value.lineno == 4 and "drop its max_iter" in str(info.value)


def step_of(y, a):
    return y * a + 0.1 * np.sin(y)


def callee_in_taped_loop(x, a):
    y = x
    while y < 10.0:  # sourcegrad: max_iter=50
        y = step_of(y, a)
    return y


def test_called_function_in_a_loop_with_max_iter():
    """Its residual is a record on the loop's tape: the adjoint reads that row of each array."""
    g, _ = _check(callee_in_taped_loop, {"x": np.float64(1.3), "a": np.float64(1.7)}, ("x", "a"))
    assert "tape_row(" in g.source


@pytest.mark.parametrize(
    "where,src,line",
    [
        (
            "inside a called function",
            "def inner(y):\n    while y < 10.0:  # sourcegrad: max_iter=50\n        y = y * 1.5\n"
            "    return y\n\n\ndef fn(x):\n    return inner(x)\n",
            2,
        ),
        (
            "inside an `if`",
            "def fn(x):\n    if x > 1.0:\n        while x < 10.0:  # sourcegrad: max_iter=50\n"
            "            x = x * 1.5\n    return x\n",
            3,
        ),
    ],
)
def test_taped_loops_where_their_flag_cannot_go_are_located_errors(where, src, line):
    """A loop with max_iter there is refused at its own line, saying that without max_iter it works."""
    with pytest.raises(UnsupportedSyntaxError, match=f"with max_iter {where}") as info:
        grad(make_function(src, "fn", filename="/p/m.py"))
    assert info.value.lineno == line and "drop its max_iter" in str(info.value)
    unbounded = make_function(src.replace("  # sourcegrad: max_iter=50", ""), "fn")
    _check(unbounded, {"x": np.float64(1.3)}, ("x",))
