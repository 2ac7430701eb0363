"""``np.linalg.lstsq``'s residuals (issue 9): NumPy's are an empty array when a (more rows than
columns) has a lower rank than its columns, a shape known only from the values. A gradient that
reads them checks a's rank after the call (a status flag, as for a while loop's tape overflow):
NumPy's value and gradient at full rank, a located ShapeError at the lstsq line at lower rank,
never a NaN or a residual NumPy does not have."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import sourcegrad
from sourcegrad import grad, value_and_grad

from .helpers import assert_close, fd_vjp, jax_version, library_frames, make_function

RNG = np.random.default_rng(7)
A_FULL = RNG.standard_normal((6, 3))
A_LOW = A_FULL.copy()
A_LOW[:, 2] = A_LOW[:, 0] - 2.0 * A_LOW[:, 1]  # rank 2 < 3 columns
B1 = RNG.standard_normal(6)
B2 = RNG.standard_normal((6, 2))

SOURCES = {
    "sum": """
        def f(A, b):
            x, res, rank, s = np.linalg.lstsq(A, b, rcond=None)
            return np.sum(res) + np.sum(x ** 2)
        """,
    "index": """
        def f(A, b):
            res = np.linalg.lstsq(A, b, rcond=None)[1]
            return res[0] * 2.0
        """,
    "shape": """
        def f(A, b):
            res = np.linalg.lstsq(A, b, rcond=None)[1]
            if res.shape[0] == 0:
                return np.sum(A)
            return np.sum(A * 3.0)
        """,
    "loop": """
        def f(A, b):
            t = 0.0
            for k in range(2):
                x, res, rank, s = np.linalg.lstsq(A * (k + 1.0), b, rcond=None)
                t = t + np.sum(res)
            return t
        """,
    "static_if": """
        def f(A, b):
            t = np.sum(A)
            if A.shape[0] > 3:
                res = np.linalg.lstsq(A, b, rcond=None)[1]
                t = t * np.sum(res)
            return t
        """,
}
#: the line of the lstsq call whose residuals are read (make_function's line 1 is `def f`)
LSTSQ_LINE = {"sum": 2, "index": 2, "shape": 2, "loop": 4, "static_if": 4}


@pytest.mark.parametrize("b", [B1, B2], ids=["b1d", "b2d"])
@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_full_rank_residuals_are_numpys(kind, b):
    if kind == "index" and b.ndim == 2:
        b = b[:, 0]
    f = make_function(SOURCES[kind])
    args = {"A": A_FULL, "b": b}
    value, grads = value_and_grad(f, wrt=("A", "b"))(**args)
    assert_close(value, f(**args), rtol=1e-10, atol=1e-12, what="value vs NumPy")
    _, fd = fd_vjp(f, args, ("A", "b"))
    for w, mine, numeric in zip("Ab", grads, fd):
        assert_close(mine, numeric, rtol=1e-5, atol=1e-6, what=f"{kind}: d/d{w} vs FD")
    if kind in ("sum", "index"):  # jnp's lstsq agrees with NumPy's at full rank
        with jax.enable_x64(True):
            ref = jax.grad(jax_version(f), argnums=(0, 1))(jnp.asarray(A_FULL), jnp.asarray(b))
        for w, mine, theirs in zip("Ab", grads, ref):
            assert_close(mine, np.asarray(theirs), rtol=1e-8, atol=1e-10, what=f"{kind}: d/d{w} vs jax")


@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_residuals_numpy_leaves_empty_by_rank_are_a_located_error(kind):
    f = make_function(SOURCES[kind])
    assert np.linalg.lstsq(A_LOW, B1, rcond=None)[1].shape == (0,)  # NumPy: empty, by rank
    with pytest.raises(sourcegrad.ShapeError) as info:
        grad(f, wrt=("A", "b"))(A_LOW, B1)
    text = str(info.value)
    assert f":{LSTSQ_LINE[kind]}:" in text and "np.linalg.lstsq(A" in text, text
    assert "lower rank" in text and "how to fix" in text
    assert not library_frames(info.value)


#: every entry point besides the gradient that runs the function's value: each must give NumPy's
#: value at full rank and the located error at lower rank (they used to give NaN residuals)
VALUE_ENTRY_POINTS = {
    "primal": lambda f, A, b: grad(f, wrt=("A", "b")).primal(A, b),
    "jvp": lambda f, A, b: sourcegrad.jvp(f, wrt="A")(A, b, tangents=np.ones_like(A))[0],
    "jacfwd": lambda f, A, b: sourcegrad.jacfwd(f, wrt="A")(A, b),
}


@pytest.mark.parametrize("entry", sorted(VALUE_ENTRY_POINTS))
@pytest.mark.parametrize("kind", ["sum", "index", "shape", "loop"])
def test_the_value_and_forward_mode_check_the_rank_too(kind, entry):
    f = make_function(SOURCES[kind])
    call = VALUE_ENTRY_POINTS[entry]
    twice = call(f, A_FULL, B1), call(f, A_FULL, B1)  # the second call must not skip the check
    if entry != "jacfwd":
        for out in twice:
            assert_close(out, f(A_FULL, B1), rtol=1e-10, atol=1e-12, what=f"{entry} vs NumPy")
    else:  # the Jacobian of a scalar: d f / d A, against central differences
        _, fd = fd_vjp(f, {"A": A_FULL, "b": B1}, ("A",))
        assert_close(twice[1], fd[0], rtol=1e-5, atol=1e-6, what="jacfwd vs FD")
    for _ in range(2):
        with pytest.raises(sourcegrad.ShapeError) as info:
            call(f, A_LOW, B1)
        text = str(info.value)
        assert f":{LSTSQ_LINE[kind]}:" in text and "lower rank" in text, text
        assert not library_frames(info.value)


def test_residuals_not_read_are_not_checked():
    # the solution of a rank-deficient matrix is NumPy's (its pseudo-inverse's); unread residuals
    # raise nothing, and the generated code computes no rank check
    f = make_function(
        """
        def f(A, b):
            x, res, rank, s = np.linalg.lstsq(A, b, rcond=1e-3)
            return np.sum(x ** 3) + rank
        """
    )
    g = value_and_grad(f, wrt=("A", "b"))
    value, _ = g(A_LOW, B1)
    assert_close(value, f(A_LOW, B1), rtol=1e-10, atol=1e-12)
    assert "lstsq_rank_low" not in g.source
    read = make_function(SOURCES["sum"])
    assert "res_rank_low = lstsq_rank_low(A)" in grad(read, wrt=("A",)).source


def test_residuals_of_a_wide_matrix_are_empty_at_every_rank():
    # m <= n: NumPy's residuals are empty whatever the rank; so are these (no check needed)
    f = make_function(SOURCES["shape"])
    wide = A_LOW[:3].T.copy()  # 3 x 3 (m = n), of rank 2
    value, grads = value_and_grad(f, wrt=("A",))(wide, B1[:3])
    assert_close(value, f(wide, B1[:3]), rtol=1e-12, atol=1e-12)
    assert_close(grads[0], fd_vjp(f, {"A": wide, "b": B1[:3]}, ("A",))[1][0], rtol=1e-6, atol=1e-8)


def test_under_jit_the_check_raises_when_the_compiled_code_runs():
    f = make_function(SOURCES["sum"])
    g = grad(f, wrt=("A", "b"))
    gA, _ = jax.jit(g)(A_FULL, B1)  # full rank: the check passes
    assert_close(gA, grad(f, wrt=("A", "b"))(A_FULL, B1)[0], rtol=1e-12, atol=1e-12)
    with pytest.raises(Exception, match=r"ShapeError: .*reads the residuals of np.linalg.lstsq"):
        jax.block_until_ready(jax.jit(g)(A_LOW, B1))


def test_without_a_callback_the_gradients_are_nan_not_a_number():
    """What an exported gradient does (no host callback): NaN, never NumPy-less numbers."""
    f = make_function(SOURCES["sum"])
    g = grad(f, wrt=("A", "b"))
    g(A_FULL, B1)
    t = g._current()
    grads = jax.jit(lambda A, b: g._results(t, t.grad_fn(A, b), callback=False)[1])(A_LOW, B1)
    assert all(np.all(np.isnan(x)) for x in grads)


def test_residuals_read_inside_an_if_on_data_are_refused_where_they_are():
    f = make_function(
        """
        def f(A, b):
            t = np.sum(A)
            if np.sum(b) > 0.0:
                res = np.linalg.lstsq(A, b, rcond=None)[1]
                t = np.sum(res)
            return t
        """
    )
    with pytest.raises(sourcegrad.UnsupportedSyntaxError) as info:
        grad(f, wrt=("A",))(A_FULL, B1)
    text = str(info.value)
    assert ":3:" in text and "residuals of np.linalg.lstsq inside an `if`" in text, text


def test_residuals_read_where_the_gradient_does_not_reach_are_still_checked():
    # an if whose outputs have no gradient still runs its lstsq: its residuals are checked
    f = make_function(
        """
        def f(x, A, b):
            t = np.sum(x ** 2)
            if A.shape[0] > 3:
                res = np.linalg.lstsq(A, b, rcond=None)[1]
                c = np.sum(res)
            else:
                c = 1.0
            return t * c
        """
    )
    x = np.array([0.5, -1.5])
    g = value_and_grad(f, wrt=("x",))
    value, (dx,) = g(x, A_FULL, B1)
    assert_close(value, f(x, A_FULL, B1), rtol=1e-10, atol=1e-12)
    assert_close(dx, fd_vjp(f, {"x": x, "A": A_FULL, "b": B1}, ("x",))[1][0], rtol=1e-6, atol=1e-8)
    with pytest.raises(sourcegrad.ShapeError, match=r":4:.*residuals of np.linalg.lstsq"):
        g(x, A_LOW, B1)


def test_residuals_read_in_a_called_function_or_no_grad_are_refused_where_they_are():
    helper = make_function(
        """
        def helper(A, b):
            res = np.linalg.lstsq(A, b, rcond=None)[1]
            return np.sum(res)
        """
    )
    for wrt in (("A",), ("x",)):  # the call differentiated or not: its primal would run unchecked
        f = make_function(
            """
            def f(x, A, b):
                return np.sum(x) * helper(A * 1.0, b)
            """,
            namespace={"helper": helper},
        )
        with pytest.raises(sourcegrad.UnsupportedSyntaxError, match=r":2:.*inside a called function"):
            grad(f, wrt=wrt)(np.ones(2), A_FULL, B1)
    f = make_function(
        """
        def f(x, A, b):
            with no_grad():
                res = np.linalg.lstsq(A, b, rcond=None)[1]
            return np.sum(x) * np.sum(res)
        """,
        namespace={"no_grad": sourcegrad.no_grad},
    )
    with pytest.raises(sourcegrad.UnsupportedSyntaxError, match=r":2:.*inside a no_grad block"):
        grad(f, wrt=("x",))(np.ones(2), A_FULL, B1)


@pytest.mark.parametrize("entry", ["hessian", "hvp"])
def test_second_order_of_a_function_reading_residuals_is_refused_where_it_is(entry):
    f = make_function(SOURCES["sum"])
    with pytest.raises(sourcegrad.UnsupportedSyntaxError) as info:
        if entry == "hessian":
            sourcegrad.hessian(f)(A_FULL, B1)
        else:
            sourcegrad.hvp(f)(A_FULL, B1, vectors=np.ones_like(A_FULL))
    text = str(info.value)
    assert ":1:" in text and "lstsq's residuals" in text and "np.sum((b - a @ x) ** 2" in text, text
    assert not library_frames(info.value)
