"""Loops and branches as NumPy users write them (issue 10): values first assigned in a loop or on
one side of a static ``if``, ``return`` inside a loop, triangular loops, loop-carried values that
change shape, ``*args``, nested lists in ``np.array`` and ``np.triu_indices``-style indices.

Each gradient is checked against float64 central differences of the user's own NumPy function,
and against jax.grad of the same code run by JAX where JAX can run it (not through in-place
writes); what is refused is a located error with a fix."""

import numpy as np
import pytest

from sourcegrad import UnsupportedSyntaxError, grad, jvp

from .helpers import assert_close, fd_vjp, jax_vjp, library_frames, make_function

RNG = np.random.default_rng(7)
X = np.array([0.3, -1.2, 0.7, 1.1, -0.4, 0.9])
W = np.array([1.5, 0.2, -0.4, 0.9, 0.6, -1.1])
M = RNG.normal(size=(4, 3))


def _check(src, args: dict, wrt, jax_too=True, **grad_options):
    f = make_function(src)
    g = grad(f, wrt=wrt, **grad_options)
    grads = g(**args)
    _, expected = fd_vjp(f, args, wrt)
    assert_close(list(grads), expected, rtol=1e-6)
    if jax_too:
        _, reference = jax_vjp(f, args, wrt)
        assert_close(list(grads), list(reference), rtol=1e-9)
    return g


def _refused(src, *phrases, **call):
    f = make_function(src)
    with pytest.raises(UnsupportedSyntaxError) as info:
        g = grad(f, wrt=("x",))
        g(**call)
    for phrase in phrases:
        assert phrase in str(info.value), str(info.value)
    assert "how to fix:" in str(info.value) and "^" in str(info.value)
    assert not library_frames(info.value)
    return info.value


# ----- a. values first assigned in a loop, or on one side of a static if -----
FIRST_ASSIGNED = {
    "last_of_a_range": """
        def f(x, w):
            acc = 0.0
            for i in range(4):
                last = x[i] * w[i]
                acc = acc + np.sin(last)
            return last + acc
        """,
    "last_row": """
        def f(x, w):
            for k in range(1, 5, 2):
                row = np.tanh(x * w[k])
            return np.sum(row ** 2)
        """,
    "last_of_rows": """
        def f(x, w):
            for a in x.reshape(3, 2):
                y = a * w[:2]
                z = np.exp(y)
            return np.sum(z * y)
        """,
    "nested": """
        def f(x, w):
            total = 0.0
            for i in range(2):
                for j in range(3):
                    p = x[i] * w[j]
                total = total + p * x[i + 2]
            return total * p
        """,
}


@pytest.mark.parametrize("key", sorted(FIRST_ASSIGNED))
def test_value_first_assigned_in_a_loop_is_the_last_iterations(key):
    _check(FIRST_ASSIGNED[key], {"x": X, "w": W}, ("x", "w"))


def test_loop_that_runs_no_iteration_is_pythons_name_error():
    f = make_function(
        """
        def f(x, n):
            for i in range(n):
                last = x[i] * 2.0
            return np.sum(last)
        """
    )
    g = grad(f, wrt=("x",))
    assert_close(g(X, 3)[0], fd_vjp(f, {"x": X, "n": 3}, ("x",))[1][0])
    with pytest.raises(AssertionError, match="runs no iteration"):
        g(X, 0)


def test_temporary_reused_by_a_later_loop_is_not_peeled():
    f = make_function(
        """
        def f(x, n: int):
            acc = 0.0
            for i in range(n):
                t = x[i] * 2.0
                acc = acc + t
            for j in range(3):
                t = x[j] ** 2
                acc = acc + t
            return acc
        """
    )
    g = grad(f, wrt=("x",))
    assert "assert" not in g.source and g.source.count("lax.scan(") == 6  # two loops, three times
    for n in (0, 4):
        assert_close(g(X, n)[0], fd_vjp(f, {"x": X, "n": n}, ("x",))[1][0])


ONE_SIDED = """
def f(x, w, n: int):
    if n > 2:
        y = np.sin(x) * w
    else:
        z = x
    if n > 2:
        return np.sum(y ** 2)
    return np.sum(z)
"""


def test_value_assigned_on_one_side_of_a_static_if():
    for n in (3, 1):
        _check(ONE_SIDED, {"x": X, "w": W, "n": n}, ("x", "w"))
    f = make_function(
        """
        def f(x, n: int):
            if n > 2:
                y = x * 2.0
            return np.sum(y ** 2)
        """
    )
    g = grad(f, wrt=("x",))
    assert_close(g(X, 3)[0], 8.0 * X)
    with pytest.raises(NameError, match=r":4:\d+: `y` is not defined: the if at line 2 assigns it only when"):
        g(X, 1)  # Python: NameError


def test_value_assigned_on_one_side_of_a_branch_on_data_is_refused():
    err = _refused(
        """
        def f(x):
            if np.sum(x) > 0:
                y = x * 2.0
            return np.sum(y ** 2)
        """,
        "`y` is not defined here",
        "assigns it on one branch only",
        "NameError",
    )
    assert err.lineno == 4


# ----- b. return inside a loop -----
EARLY_RETURNS = {
    "static_index": (
        """
        def f(x, w, k):
            acc = 0.0
            for i in range(5):
                if i == k:
                    return acc * w[0]
                acc = acc + x[i] * w[i]
            return acc * 2.0
        """,
        [{"k": 0}, {"k": 2}, {"k": 7}],
    ),
    "on_data": (
        """
        def f(x, w, limit):
            acc = 0.0
            for i in range(6):
                acc = acc + x[i] * w[i]
                if acc > limit:
                    return acc ** 2
            return -acc
        """,
        [{"limit": 0.4}, {"limit": 5.0}],
    ),
    "in_a_while_loop": (
        """
        def f(x, w, limit):
            v = x[0]
            i = 0
            while v < limit:  # sourcegrad: max_iter=20
                v = v * 1.5 + w[1]
                i = i + 1
                if i > 3:
                    return v * w[2]
            return v
        """,
        [{"limit": 100.0}, {"limit": 2.0}],
    ),
    "in_nested_loops": (
        """
        def f(x, w, limit):
            acc = 0.0
            for i in range(3):
                for j in range(2):
                    acc = acc + x[i] * w[j]
                    if acc < limit:
                        return acc * x[3]
                acc = acc * 0.5
            return acc
        """,
        [{"limit": -0.5}, {"limit": -10.0}],
    ),
    "at_the_end_of_the_body": (
        """
        def f(x, w, n):
            for i in range(n):
                y = np.sin(x) * w[i]
                return np.sum(y ** 2)
            return np.sum(x)
        """,
        [{"n": 3}, {"n": 0}],
    ),
    "at_the_end_of_the_function": (
        """
        def f(x, w):
            for row in x.reshape(3, 2):
                y = row * w[:2]
                return np.sum(np.exp(y))
        """,
        [{}],
    ),
}


@pytest.mark.parametrize("key", sorted(EARLY_RETURNS))
def test_return_inside_a_loop(key):
    src, calls = EARLY_RETURNS[key]
    for extra in calls:
        _check(src, {"x": X, "w": W, **extra}, ("x", "w"))


def test_return_inside_a_loop_of_a_called_function():
    helper = make_function(
        """
        def first_big(v, limit):
            acc = 0.0
            for i in range(4):
                acc = acc + v[i] ** 2
                if acc > limit:
                    return acc
            return -acc
        """
    )
    f = make_function(
        """
        def f(x):
            total = 0.0
            for k in range(2):
                total = total + first_big(x * (k + 1), 1.0)
            return total
        """,
        namespace={"first_big": helper},
    )
    x = np.array([0.3, 0.5, 0.9, 0.2])
    (ours,) = grad(f, wrt=("x",))(x)
    assert_close(ours, fd_vjp(f, {"x": x}, ("x",))[1][0])
    assert_close(ours, jax_vjp(f, {"x": x}, ("x",))[1][0], rtol=1e-9)


def test_early_return_reads_a_value_the_loop_made_refused():
    _refused(
        """
        def f(x):
            for i in range(3):
                y = x[i] * 2.0
                if y > 1.0:
                    return y
            return x[0]
        """,
        "`y` is not defined here",
    )


def test_loop_ending_in_return_that_also_breaks_refused():
    _refused(
        """
        def f(x):
            for i in range(3):
                if x[i] > 0:
                    break
                return x[i]
            return x[0]
        """,
        "ends with `return` and also breaks",
    )


# ----- c. triangular loops -----
FILL = """
def f(icf, q, d: int):
    L = np.diag(np.exp(q))
    k = 0
    for c in range(d):
        for r in range(c + 1, d):
            L[r, c] = icf[k]
            k += 1
    return np.sum((L @ q) ** 2) + np.sum(L ** 3)
"""


@pytest.mark.parametrize("d", [4, 2])
def test_triangular_fill_like_gmm(d):
    n = d * (d - 1) // 2
    args = {"icf": np.linspace(-1.0, 1.0, n), "q": np.linspace(0.2, -0.3, d), "d": d}
    g = _check(FILL, args, ("icf", "q"), jax_too=False)  # JAX cannot run L[r, c] = ...
    assert g.source.count("nested_range(") == 2 and g.source.count("lax.scan(") == 3


TRIANGULAR = {
    "below_the_diagonal": """
        def f(x, w, d):
            total = 0.0
            for i in range(d):
                for j in range(i):
                    total = total + x[i] * x[j] ** 2 * w[j]
            return total
        """,
    "k_minus_index_with_a_step": """
        def f(x, w, d):
            total = 0.0
            for i in range(1, d):
                for j in range(d - i, d, 2):
                    total = total + np.sin(x[i] * w[j]) * x[j]
            return total
        """,
    "window_behind_the_index": """
        def f(x, w, d):
            total = 0.0
            for i in range(2, d):
                for j in range(i - 2, i + 1):
                    total = total + x[i] * w[j] * x[j]
            return total
        """,
    "inside_another_loop": """
        def f(x, w, d):
            total = 0.0
            for m in range(2):
                acc = x[m]
                for i in range(d):
                    for j in range(i, d):
                        acc = acc * 0.9 + x[i] * w[j] * w[m]
                total = total + acc ** 2
            return total
        """,
}


@pytest.mark.parametrize("key", sorted(TRIANGULAR))
@pytest.mark.parametrize("d", [5, 2])
def test_triangular_loops(key, d):
    _check(TRIANGULAR[key], {"x": X, "w": W, "d": d}, ("x", "w"))


def test_triangular_loop_checkpointed_and_forward():
    src = TRIANGULAR["below_the_diagonal"]
    _check(src, {"x": X, "w": W, "d": 5}, ("x", "w"), checkpoint="sqrt")
    f = make_function(src)
    tangent = RNG.normal(size=X.shape)
    _, d_out = jvp(f, wrt="x")(X, W, 5, tangents=tangent)
    _, (gx,) = fd_vjp(f, {"x": X, "w": W, "d": 5}, ("x",))
    assert_close(d_out, np.dot(gx, tangent), rtol=1e-6)


def test_triangular_loop_with_more_in_the_outer_body_refused_with_the_rewrite():
    _refused(
        """
        def f(x, d: int):
            total = 0.0
            for c in range(d):
                total = total + x[c]
                for r in range(c + 1, d):
                    total = total + x[r] * x[c]
            return total
        """,
        "depends on `c`, the index of an enclosing loop",
        "the only statement in the loop over `c`",
        x=X,
        d=4,
    )


def test_triangular_bound_that_is_not_index_plus_constant_refused():
    _refused(
        """
        def f(x, d: int):
            total = 0.0
            for c in range(d):
                for r in range(2 * c, d):
                    total = total + x[r] * x[c]
            return total
        """,
        "is not `c + k`",
        x=X,
        d=4,
    )


# ----- d. loop-carried values that change shape -----
SHAPE_CHANGES = {
    "sum_of_rows": """
        def f(X):
            res = 0.0
            for a in X:
                res += a * a
            return np.sum(res ** 2)
        """,
    "product_of_rows": """
        def f(X):
            p = 1
            for row in X:
                p = p * np.cos(row)
            return np.sum(p)
        """,
    "nested_over_rows": """
        def f(X):
            s = 0.0
            for row in X:
                acc = 1.0
                for v in row:
                    acc = acc * (1.0 + 0.1 * v)
                s = s + acc
            return s
        """,
}


@pytest.mark.parametrize(
    "key, shape",
    [(k, (4, 3)) for k in sorted(SHAPE_CHANGES)]
    + [(k, (5,)) for k in sorted(SHAPE_CHANGES) if k != "nested_over_rows"],  # NumPy: rows of numbers
)
def test_carried_number_that_becomes_a_row(key, shape):
    _check(SHAPE_CHANGES[key], {"X": M.reshape(-1)[: int(np.prod(shape))].reshape(shape)}, ("X",))


# A loop over no rows leaves every value as it was before it (NumPy: `res` stays 0.0). Its first
# iteration, written out for the shape change, runs only when there is a row; it used to be an
# assert that refused the empty input.
NO_ROWS = {
    **SHAPE_CHANGES,
    "weighted_rows": """
        def f(X, w):
            acc = 0.0
            for row in X:
                acc = acc + row * w
            return np.sum(acc ** 2) + np.sum(w)
        """,
    "started_as_an_array": """
        def f(X, w):
            acc = np.zeros(3)
            for row in X:
                acc = acc + row * w
            return np.sum(acc ** 2) + np.sum(w)
        """,
    "index_bound_before": """
        def f(X, w):
            row = w * 2.0
            acc = 0.0
            for row in X:
                acc = acc + np.sin(row) * w
            return np.sum(acc * row)
        """,
    "over_an_expression": """
        def f(X, w):
            acc = 1.0
            for row in X * w:
                acc = acc * np.cos(row)
            return np.sum(acc) * np.sum(w ** 2)
        """,
}


@pytest.mark.parametrize(
    "key, shape",
    [
        (key, shape)
        for key in sorted(NO_ROWS)
        for shape in [(0, 3), (1, 3), (4, 3), (4, 0)]
        if not (key == "started_as_an_array" and shape[1] != 3)  # np.zeros(3) + rows of 0: NumPy raises
    ],
    ids=str,
)
def test_carried_number_over_rows_that_may_be_none(key, shape):
    args = {"X": M.reshape(-1)[: int(np.prod(shape))].reshape(shape)}
    if "(X, w)" in NO_ROWS[key]:
        args["w"] = W[: shape[1]]
    wrt = tuple(args)
    f = make_function(NO_ROWS[key])
    if isinstance(f(**args), (int, np.integer)):  # `p = 1` over no rows: NumPy's int, no gradient
        from sourcegrad import InputError

        with pytest.raises(InputError, match="returns a value of dtype int64") as info:
            grad(f, wrt=wrt)(**args)
        assert not library_frames(info.value)
        return
    g = _check(NO_ROWS[key], args, wrt)
    value, _ = g.value_and_grad(**args)
    assert_close(value, f(**args), rtol=1e-12)  # NumPy's value, also over no rows
    tangents = tuple(np.cos(v) for v in args.values())  # forward mode: d/dt f(args + t * tangents)
    out, tangent = jvp(f, wrt=wrt)(**args, tangents=tangents)
    assert_close(out, f(**args), rtol=1e-12)
    eps = 1e-6
    moved = [f(**{k: v + s * eps * t for (k, v), t in zip(args.items(), tangents)}) for s in (1, -1)]
    assert_close(tangent, (moved[0] - moved[1]) / (2 * eps), rtol=1e-6)


def test_value_first_assigned_in_a_loop_over_no_rows_is_pythons_name_error():
    f = make_function(
        """
        def f(X):
            for a in X:
                last = a * 2.0
            return np.sum(last)
        """
    )
    assert_close(grad(f, wrt="X")(M), fd_vjp(f, {"X": M}, ("X",))[1][0])
    with pytest.raises(
        AssertionError, match=r":2:\d+: assert len\(X\) > 0: the loop at line 2 runs no iteration"
    ):
        grad(f, wrt="X")(np.zeros((0, 3)))


def test_carried_number_that_becomes_a_row_over_a_range_says_how_to_start_it():
    from sourcegrad import ShapeError

    f = make_function(
        """
        def f(X):
            acc = 0.0
            for i in range(X.shape[0]):
                acc += X[i] ** 2
            return np.sum(acc)
        """
    )
    with pytest.raises(ShapeError) as info:
        grad(f, wrt="X")(M)
    text = str(info.value)
    assert ":3:" in text and "changes its shape or dtype in the first iteration" in text
    assert "np.zeros_like(X[0])" in text and "^" in text and not library_frames(info.value)
    assert_close(grad(f, wrt="X")(M[:, 0]), 2 * M[:, 0])  # a number stays a number: one loop


# ----- e. *args -----
def test_varargs_refused_at_the_star_with_the_tuple_rewrite():
    f = make_function("def f(*xs):\n    return sum(np.sum(x ** 2) for x in xs)\n")
    with pytest.raises(UnsupportedSyntaxError) as info:
        grad(f)
    assert "`*args` / `**kwargs` parameters are not supported" in info.value.msg
    assert "take a tuple" in str(info.value) and info.value.offset == 8
    g = make_function(
        """
        def g(xs):
            total = 0.0
            for x in xs:
                total = total + np.sum(x ** 2)
            return total
        """
    )
    xs = (X, W[:2])
    grads = grad(g, wrt="xs")(xs)
    assert_close(list(grads), [2 * X, 2 * W[:2]])


def test_varargs_helper_refused_at_its_star():
    helper = make_function("def helper(*xs):\n    return xs[0] * xs[1]\n")
    f = make_function("def f(x):\n    return np.sum(helper(x, x))\n", namespace={"helper": helper})
    with pytest.raises(UnsupportedSyntaxError, match="parameters are not supported") as info:
        grad(f)(X)
    assert info.value.lineno == 1 and not library_frames(info.value)


# ----- f. nested lists in np.array -----
NESTED = {
    "two_by_two": """
        def f(x, w):
            a = x[0] * w[0]
            A = np.array([[a, x[1]], [np.sin(x[2]), w[3]]])
            return np.sum(A @ A) + np.linalg.det(A)
        """,
    "rows_of_arrays": """
        def f(x, w):
            B = np.array([[x[:2], w[:2]], [x[2:4] * w[2:4], np.exp(x[4:])]])
            return np.sum(B ** 2 * np.arange(2.0))
        """,
    "scalar_and_sum": """
        def f(x, w):
            v = np.array([x[0], np.sum(w[1:] * x[1:])])
            return np.sum(v ** 3)
        """,
    "stack_of_lists": """
        def f(x, w):
            return np.sum(np.stack([[x[0], w[1]], [x[2], x[3] * w[3]]], axis=1) ** 2)
        """,
}


@pytest.mark.parametrize("key", sorted(NESTED))
def test_nested_lists_in_np_array(key):
    _check(NESTED[key], {"x": X, "w": W}, ("x", "w"), jax_too=key != "stack_of_lists")  # jnp.stack: no lists


# ----- g. triu_indices, tril_indices, diag_indices -----
INDEX_FUNCTIONS = {
    "read_upper": """
        def f(A):
            return np.sum(A[np.triu_indices(3)] ** 2) + np.sum(A[np.triu_indices(3, 1)] * 3.0)
        """,
    "write_lower": """
        def f(A):
            L = np.zeros((3, 3))
            il = np.tril_indices(3, -1)
            L[il] = A[0]
            return np.sum((L + L.T + np.eye(3)) ** 3)
        """,
    "unpacked_rows_and_columns": """
        def f(A):
            r, c = np.tril_indices(3)
            return np.sum(np.exp(A[:3][r, c]) * A[:3][c, r])
        """,
    "diagonal_written": """
        def f(A):
            B = A[:3] * 2.0
            B[np.diag_indices(3)] = np.exp(A[3])
            return np.sum(B @ B)
        """,
    "in_a_loop": """
        def f(A):
            total = 0.0
            for k in range(2):
                r, c = np.triu_indices(3, 1)
                total = total + np.sum(A[:3][r, c] ** (k + 2)) * A[3, k]
            return total
        """,
}


@pytest.mark.parametrize("key", sorted(INDEX_FUNCTIONS))
def test_index_functions(key):
    A = RNG.normal(size=(4, 3))
    _check(INDEX_FUNCTIONS[key], {"A": A}, ("A",), jax_too=key not in ("write_lower", "diagonal_written"))


# ----- g. a loop's variable read after the loop (Python: its last value, or the old one) -----
INDEX_AFTER = {
    "bound_before": """
        def f(x, w):
            i = 5
            s = 0.0
            for i in range(3):
                s = s + x[i] ** 2 * w[i]
            return s * i
        """,
    "no_iteration_keeps_the_old_value": """
        def f(x, w):
            i = 5
            s = x[0] * w[1]
            for i in range(4, 1):
                s = s + x[i] ** 2
            return s * i
        """,
    "stepped": """
        def f(x, w):
            k = 0
            s = 0.0
            for k in range(1, 6, 2):
                s = s + np.sin(x[k] * w[k])
            return s * k + x[k]
        """,
    "nested": """
        def f(x, w):
            i = 0
            j = 0
            s = 0.0
            for i in range(2):
                for j in range(1, 4):
                    s = s + x[i] * w[j]
            return s * (i + j) + x[i + j]
        """,
    "peeled_first_bound_by_the_loop": """
        def f(x, w):
            for i in range(1, 4):
                y = x * w[i]
            return np.sum(y * x[i])
        """,
    "index_of_the_last_row": """
        def f(x, w):
            i = -1
            for i in range(2):
                y = x * w[i]
            return np.sum(y * x[i])
        """,
}


@pytest.mark.parametrize("key", sorted(INDEX_AFTER))
def test_loop_index_bound_before_and_read_after_is_pythons(key):
    _check(INDEX_AFTER[key], {"x": X, "w": W}, ("x", "w"))


# Python's loop variable after a loop that ran to its end is the last value it took, also when
# the loop first binds it; a range whose bounds are shapes or static arguments, and an array's
# rows, keep it too (a static `if` on "the loop ran", decided while tracing). These were refused.
INDEX_AFTER_MORE = {
    "first_bound_constant_range": """
        def f(x, w):
            s = 0.0
            for i in range(3):
                s = s + x[i] ** 2 * w[i]
            return s * i + x[i]
        """,
    "first_bound_read_as_an_index": """
        def f(x, w):
            for k in range(1, 5, 2):
                w = w * x[k]
            y = x[k] * w
            return np.sum(y ** 2)
        """,
    "range_of_a_length": """
        def f(x, w):
            s = 0.0
            for i in range(1, len(x) - 1, 2):
                s = s + x[i] ** 2 * w[i - 1]
            return s * i + x[i] * w[i]
        """,
    "range_of_a_length_bound_before": """
        def f(x, w):
            i = 0
            s = 0.0
            for i in range(len(x)):
                s = s + x[i] ** 2
            return s * i * np.sum(w)
        """,
    "counting_down": """
        def f(x, w):
            s = x[0]
            for j in range(len(x) - 1, 0, -2):
                s = s * w[j] + x[j]
            return s * x[j] + j
        """,
    "rows": """
        def f(x, w):
            s = np.zeros(2)
            for row in x.reshape(3, 2):
                s = s + row * w[:2]
            return np.sum(s * np.exp(row))
        """,
    "rows_bound_before": """
        def f(x, w):
            row = w[:2]
            s = 0.0
            for row in x.reshape(3, 2):
                s = s + np.sum(row ** 2)
            return s * np.sum(row)
        """,
    "inner_index_in_the_outer_body": """
        def f(x, w):
            total = 0.0
            for i in range(2):
                for j in range(1, len(x) - 2):
                    total = total + x[i] * w[j]
                total = total * x[j + i]
            return total
        """,
    "enumerate": """
        def f(x, w):
            s = 0.0
            for i, v in enumerate(x):
                s = s + v ** 2 * w[i]
            return s * i * v
        """,
    "zip_bound_before": """
        def f(x, w):
            i = 0
            s = 0.0
            for i, v, u in zip(range(2, 8), x, w):
                s = s + v ** 2 * u
            return s * i + v * u
        """,
    "checkpointed": """
        def f(x, w):
            s = 0.0
            for i in range(len(x)):  # sourcegrad: checkpoint=2
                s = np.sin(s + x[i] * w[i])
            return s * x[i]
        """,
    "unrolled_for_its_slices": """
        def f(x, w):
            s = 0.0
            for j in range(1, len(x)):
                s = s + np.sum(x[:j]) * w[j]
            return s * x[j]
        """,
    "in_a_branch_on_data": """
        def f(x, w):
            if np.sum(x) > 0:
                s = 0.0
                for i in range(len(x)):
                    s = s + x[i] * w[i]
                y = s * x[i]
            else:
                y = np.sum(w * x)
            return y
        """,
    "rows_in_an_outer_loop": """
        def f(x, w):
            t = 0.0
            for k in range(2):
                for row in x.reshape(3, 2) * w[k]:
                    t = t + np.sum(row)
                t = t * np.sum(row)
            return t
        """,
    "augmented_after": """
        def f(x, w):
            s = 0.0
            for i in range(len(x) - 1):
                s = s + x[i] * w[i]
            i += 1
            return s * 2.0
        """,
    "read_in_the_next_iteration": """
        def f(x, w):
            j = 0
            total = 0.0
            for i in range(3):
                total = total + x[j] * w[i]
                for j in range(1, len(x) - 3):
                    total = total + np.sin(x[j])
            return total + j
        """,
}


@pytest.mark.parametrize("key", sorted(INDEX_AFTER_MORE))
def test_loop_variable_read_after_the_loop_is_pythons_last_value(key):
    _check(INDEX_AFTER_MORE[key], {"x": X, "w": W}, ("x", "w"))


def test_loop_variable_after_a_range_of_a_static_argument():
    src = """
        def f(x, w, n: int):
            s = 0.0
            for i in range(n):
                s = s + x[i] * w[i]
            return s * x[i] + i
        """
    for n in (1, 4):
        _check(src, {"x": X, "w": W, "n": n}, ("x", "w"))
    g = _check(src, {"x": X, "w": W, "n": 3}, ("x", "w"))
    tangent = np.cos(X)
    f = make_function(src)
    out, d_out = jvp(f, wrt="x")(X, W, 3, tangents=tangent)
    eps = 1e-6
    assert_close(out, f(X, W, 3), rtol=1e-12)
    assert_close(d_out, (f(X + eps * tangent, W, 3) - f(X - eps * tangent, W, 3)) / (2 * eps), rtol=1e-6)
    # Python: NameError when the loop ran no iteration; here the same, at the line that reads it
    with pytest.raises(NameError, match=r":5:\d+: `i` is not defined: the loop at line 3 ran no iteration"):
        g(X, W, 0)


# A triangular pair of loops runs as one loop over its (c, r) pairs; after it, Python's outer
# index is its range's last value even where the last inner range is empty (it was the last
# pair's: a silently wrong gradient), and the inner index is the last pair's.
TRIANGULAR_AFTER = {
    "outer": """
        def f(x, d):
            s = 0.0
            for c in range(d):
                for r in range(c + 1, d):
                    s = s + x[c] * x[r]
            return s * x[c]
        """,
    "inner": """
        def f(x, d):
            s = 0.0
            for c in range(d):
                for r in range(c + 1, d):
                    s = s + x[c] * x[r]
            return s * x[r] + x[c]
        """,
    "bound_before": """
        def f(x, d):
            c = 5
            r = 4
            s = x[0]
            for c in range(d):
                for r in range(c, d):
                    s = s + np.sin(x[c] * x[r])
            return s * x[c] * x[r]
        """,
    "constant": """
        def f(x, d):
            s = 0.0
            for c in range(4):
                for r in range(c + 1, 4):
                    s = s + x[c] * x[r]
            return s * x[c] * x[r] * d
        """,
}


@pytest.mark.parametrize("d", [1, 2, 4])
@pytest.mark.parametrize("key", sorted(TRIANGULAR_AFTER))
def test_loop_variables_after_a_triangular_pair_of_loops(key, d):
    if key == "inner" and d == 1:  # no pair: Python's NameError for `r`
        g = grad(make_function(TRIANGULAR_AFTER[key]), wrt="x")
        with pytest.raises(NameError, match=r":6:\d+: `r` is not defined: the loop at line 4 ran no"):
            g(X, d)
        return
    _check(TRIANGULAR_AFTER[key], {"x": X, "d": d}, ("x",))


def test_loop_variable_read_after_a_loop_in_a_callee():
    helper = make_function(
        """
        def helper(x, n):
            s = 0.0
            for i in range(n):
                s = s + x[i] ** 2
            return s * x[i]
        """
    )
    f = make_function(
        """
        def f(x, w):
            t = 0.0
            for k in range(2):
                t = t + helper(x * w[k], 3)
            return t + helper(x, len(x))
        """,
        namespace={"helper": helper},
    )
    grads = grad(f, wrt=("x", "w"))(X, W)
    assert_close(list(grads), fd_vjp(f, {"x": X, "w": W}, ("x", "w"))[1], rtol=1e-6)
    assert_close(list(grads), list(jax_vjp(f, {"x": X, "w": W}, ("x", "w"))[1]), rtol=1e-9)


def test_loop_variable_after_two_loops_that_may_run_no_iteration():
    src = """
        def f(x, w, n: int, m: int):
            s = 0.0
            for i in range(n):
                s = s + x[i] * w[i]
            for i in range(1, m):
                s = s * w[i]
            return s + x[i]
        """
    for n, m in [(3, 0), (0, 3), (2, 4), (4, 1)]:
        g = _check(src, {"x": X, "w": W, "n": n, "m": m}, ("x", "w"))
    with pytest.raises(NameError, match=r":7:\d+: `i` is not defined: the loop at line 3 ran no iteration"):
        g(X, W, 0, 1)


def test_loop_variable_after_no_rows_is_pythons_name_error():
    src = """
        def f(X, w):
            s = np.zeros(3)
            for row in X:
                s = s + row * w
            return np.sum(s * row)
        """
    g = _check(src, {"X": M, "w": W[:3]}, ("X", "w"))
    with pytest.raises(NameError, match=r":5:\d+: `row` is not defined: the loop at line 3 ran no iteration"):
        g(np.zeros((0, 3)), W[:3])


def test_loop_variable_after_a_constant_empty_range_is_refused():
    _refused(
        """
        def f(x):
            s = x[0]
            for i in range(3, 1):
                s = s + x[i] ** 2
            return s * i
        """,
        "`i` is not defined here",
        "runs no iteration (its range is empty)",
        x=X,
    )


def test_loop_variable_not_read_after_the_loop_costs_no_line():
    g = grad(
        make_function(
            """
            def f(x, n: int):
                s = 0.0
                for i in range(n):
                    s = s + x[i] ** 2
                for i in range(3):
                    s = s * x[i]
                return s
            """
        ),
        wrt="x",
    )
    g(X, 4)
    assert "range_end" not in g.source and "_last" not in g.source


@pytest.mark.parametrize(
    "src, phrases",
    [
        (
            """
            def f(x):
                s = 0.0
                for i in range(3):
                    if x[i] > 0.5:
                        break
                    s = s + x[i]
                return s * i
            """,
            ("holds its value at the `break` or `return`",),
        ),
        (
            """
            def f(x):
                s = 0.0
                for i in range(len(x)):
                    if x[i] > 0.5:
                        return x[i] * s
                    s = s + x[i]
                return s * i
            """,
            ("holds its value at the `break` or `return`",),
        ),
    ],
    ids=["break", "return"],
)
def test_loop_variable_read_after_a_loop_that_stops_early_is_refused(src, phrases):
    _refused(src, *phrases, x=X)


# ----- loops that run no iteration hand their carries' initial values on -----
# A body that overwrites a value without reading it made the value before the loop look dead:
# with a trip count of 0 at run time (or 1 for a loop whose first iteration is written out, the
# rest running 0 times) its gradient was silently zero.
ZERO_TRIP = {
    "first_assigned_one_iteration": """
        def f(x, w, n):
            for i in range(n):
                y = x * w[i]
            return np.sum(y * x[0])
    """,
    "overwritten_in_a_range": """
        def f(x, w, n):
            y = x * 2.0
            for i in range(n):
                y = x * w[i]
            return np.sum(y * x[1])
    """,
    "overwritten_in_a_while": """
        def f(x, w, n):
            y = x * 2.0
            i = 0
            while i < n:
                y = x * w[i]
                i = i + 1
            return np.sum(y * x[1])
    """,
}


@pytest.mark.parametrize("n", [0, 1, 2])
@pytest.mark.parametrize("key", sorted(ZERO_TRIP))
def test_a_loop_that_may_run_no_iteration(key, n):
    if key == "first_assigned_one_iteration" and n == 0:
        n = 3  # Python raises NameError for 0: a separate, refused case
    _check(ZERO_TRIP[key], {"x": X, "w": W, "n": n}, ("x", "w"), jax_too=key != "overwritten_in_a_while")


# ----- the loop's variable after a loop that stops early -----
# The compiled loop runs every iteration and skips the rest after a break (or a return, which
# becomes a break), so the variable is not the one at the break: reading it is refused. It used
# to give the last index's value, a silently wrong gradient.
STOPS_EARLY = {
    "break": """
        def f(x):
            i = 0
            for i in range(4):
                if x[i] > 0.5:
                    break
            return x[i] * 2.0
    """,
    "return": """
        def f(x):
            i = 0
            for i in range(4):
                if x[i] > 0.5:
                    return x[i] * 2.0
            return x[0]
    """,
}


@pytest.mark.parametrize("key", sorted(STOPS_EARLY))
def test_the_index_after_a_loop_that_stops_early_is_refused(key):
    _refused(STOPS_EARLY[key], "holds its value at the `break` or `return`", x=X)


def test_a_variable_set_where_the_loop_stops_is_kept():
    _check(
        """
        def f(x):
            found = 0
            for i in range(4):
                if x[i] > 0.5:
                    found = i
                    break
            return x[found] * 2.0
        """,
        {"x": np.array([0.1, 0.9, 0.2, 0.3])},
        ("x",),
        jax_too=False,
    )
