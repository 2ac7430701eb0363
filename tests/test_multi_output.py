"""Functions that return several arrays (slogdet, eigh, svd, qr, lstsq, split and its kin), in the
functions users write: unpacked (``w, V = np.linalg.eigh(A)``), indexed (``slogdet(A)[1]``) or
kept in a list, with batch dimensions where NumPy takes them. Each gradient is checked against
``jax.vjp`` of the same code in jax.numpy and float64 central finite differences, each tangent
against ``jax.jvp``; what has no derivative is a located error."""

import zlib

import numpy as np
import pytest

import sourcegrad
from sourcegrad import grad, jvp

from .helpers import assert_close, assert_hessian_matches_jax, fd_vjp, jax_vjp, make_function
from .test_forward import fd_jvp, reference_jvp

#: name -> (source, {argument: shape}); matrices named S* are made symmetric positive definite
CASES = {
    "gaussian_loglik": (
        """
        def gaussian_loglik(L, x, mu):
            S = L @ L.T + np.eye(3)
            sign, logdet = np.linalg.slogdet(S)
            r = x - mu
            return -0.5 * (logdet + r @ np.linalg.solve(S, r) + 3 * np.log(2 * np.pi))
        """,
        {"L": (3, 3), "x": (3,), "mu": (3,)},
    ),
    "slogdet_indexed_batched": (
        """
        def slogdet_indexed_batched(S):
            return np.sum(np.linalg.slogdet(S)[1] * np.array([1.0, -2.0]))
        """,
        {"S": (2, 3, 3)},
    ),
    "pca_reconstruction": (
        """
        def pca_reconstruction(X):
            Xc = X - np.mean(X, axis=0)
            U, s, Vt = np.linalg.svd(Xc, full_matrices=False)
            Xk = (U[:, :2] * s[:2]) @ Vt[:2]
            return np.sum((Xc - Xk) ** 2)
        """,
        {"X": (6, 4)},
    ),
    "svd_wide_batched": (
        """
        def svd_wide_batched(A, W):
            U, s, Vt = np.linalg.svd(A, full_matrices=False)
            return np.sum(s ** 2) + np.sum(U ** 2 * W) + np.sum(Vt ** 4)
        """,
        {"A": (2, 3, 5), "W": (3, 3)},
    ),
    "singular_values_only": (
        """
        def singular_values_only(A):
            return np.sum(np.linalg.svd(A, compute_uv=False) * np.arange(1.0, 4.0))
        """,
        {"A": (2, 4, 3)},
    ),
    "square_svd_default": (
        """
        def square_svd_default(A):
            U, s, Vt = np.linalg.svd(A)
            return np.sum(s) + np.sum(U[0] ** 2) + np.sum(Vt[:, 1] ** 2)
        """,
        {"A": (3, 3)},
    ),
    "eigh_spectrum": (
        """
        def eigh_spectrum(A, c):
            S = A + A.T
            w, V = np.linalg.eigh(S)
            return np.sum(w * c) + np.sum((V ** 2) @ c)
        """,
        {"A": (3, 3), "c": (3,)},
    ),
    "eigh_batched": (
        """
        def eigh_batched(A):
            w, V = np.linalg.eigh(A + np.swapaxes(A, -1, -2))
            return np.sum(np.exp(w)) + np.sum(V[..., 0] ** 2 * np.arange(3.0))
        """,
        {"A": (2, 3, 3)},
    ),
    "eigvalsh_and_eigh_last": (
        """
        def eigvalsh_and_eigh_last(A):
            S = A @ A.T
            return np.sum(np.linalg.eigvalsh(S)) + np.sum(np.linalg.eigh(S)[-1] ** 2 * S)
        """,
        {"A": (3, 3)},
    ),
    "qr_fit": (
        """
        def qr_fit(X, y):
            Q, R = np.linalg.qr(X)
            beta = np.linalg.solve(R, Q.T @ y)
            return np.sum((X @ beta - y) ** 2) + np.sum(beta ** 2) + np.sum(R ** 2)
        """,
        {"X": (6, 3), "y": (6,)},
    ),
    "qr_batched_r_mode": (
        """
        def qr_batched_r_mode(X):
            R = np.linalg.qr(X, mode="r")
            Q = np.linalg.qr(X)[0]
            return np.sum(R ** 2 * np.arange(3.0)) + np.sum(Q ** 2 * np.arange(3.0))
        """,
        {"X": (2, 4, 3)},
    ),
    "least_squares_fit": (
        """
        def least_squares_fit(A, y):
            coef = np.linalg.lstsq(A, y, rcond=None)[0]
            return np.sum((A @ coef - y) ** 2) + np.sum(coef ** 2 * np.arange(1.0, 4.0))
        """,
        {"A": (7, 3), "y": (7,)},
    ),
    "lstsq_all_parts": (
        """
        def lstsq_all_parts(A, B):
            x, res, rank, sv = np.linalg.lstsq(A, B, rcond=None)
            return np.sum(x ** 2) + np.sum(res) + sv[0] * rank
        """,
        {"A": (6, 3), "B": (6, 2)},
    ),
    "split_parameters": (
        """
        def split_parameters(theta, X):
            W, b = np.split(theta, [6])
            h = np.tanh(X @ np.reshape(W, (3, 2)) + b)
            return np.sum(h ** 2)
        """,
        {"theta": (8,), "X": (4, 3)},
    ),
    "split_list_of_parts": (
        """
        def split_list_of_parts(x):
            parts = np.split(x, 3, axis=1)
            total = 0.0
            for p in parts:
                total = total + np.sum(p * parts[0])
            return total + np.sum(np.array_split(x, 2)[1] ** 3)
        """,
        {"x": (3, 6)},
    ),
    "hvd_splits": (
        """
        def hvd_splits(x):
            a, b, c = np.hsplit(x, [1, 3])
            top, bottom = np.vsplit(x, 2)
            d0, d1 = np.dsplit(x[None], [2])
            return np.sum(a * c[:, :1]) + np.sum(b ** 2) + np.sum(top * bottom) + np.sum(d1 ** 3) + np.sum(d0)
        """,
        {"x": (2, 4)},
    ),
    "array_split_uneven": (
        """
        def array_split_uneven(x):
            a, b, c = np.array_split(x, 3)
            return np.sum(a ** 2) + np.sum(b * 3.0) + np.sum(np.sin(c))
        """,
        {"x": (7,)},
    ),
}


def _args(name, spec):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    out = {}
    for k, shape in spec.items():
        v = rng.standard_normal(shape)
        if k.startswith("S"):
            v = v @ np.swapaxes(v, -1, -2) + 3 * np.eye(shape[-1])
        out[k] = v
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_against_jax_and_finite_differences(name):
    source, spec = CASES[name]
    fn = make_function(source)
    args = _args(name, spec)
    wrt = tuple(spec)
    ours = grad(fn, wrt=wrt)(**args)
    ours = ours if isinstance(ours, tuple) else (ours,)
    _, theirs = jax_vjp(fn, args, wrt)
    _, fd = fd_vjp(fn, args, wrt)
    for w, mine, ref, numeric in zip(wrt, ours, theirs, fd):
        assert_close(mine, ref, rtol=1e-6, atol=1e-9, what=f"{name}: d/d{w} vs jax")
        assert_close(mine, numeric, rtol=1e-5, atol=1e-6, what=f"{name}: d/d{w} vs FD")


@pytest.mark.parametrize("name", sorted(CASES))
def test_tangent_against_jax_jvp(name):
    source, spec = CASES[name]
    fn = make_function(source)
    args = _args(name, spec)
    wrt = tuple(spec)
    rng = np.random.default_rng(3)
    tangents = tuple(rng.standard_normal(np.shape(args[w])) for w in wrt)
    out, d_out = jvp(fn, wrt=wrt)(**args, tangents=tangents)
    _, ref = reference_jvp(fn, args, wrt, tangents)
    assert_close(out, fn(**args), rtol=1e-10, atol=1e-12, what=f"{name}: value")
    assert_close(d_out, ref, rtol=1e-6, atol=1e-9, what=f"{name}: tangent vs jax")
    assert_close(d_out, fd_jvp(fn, args, wrt, tangents), rtol=1e-5, atol=1e-6, what=f"{name}: tangent vs FD")


EIGH_TRIANGLE = """
def eigh_triangle(A):
    w, V = np.linalg.eigh(A, UPLO=UPLO)
    return np.sum(w * np.arange(1.0, 4.0)) + np.sum(V ** 2 * np.arange(3.0)) + np.sum(np.linalg.eigvalsh(A, UPLO) ** 3)
"""


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_reads_one_triangle_as_numpy_does(uplo):
    # a non-symmetric argument: NumPy reads only one triangle, so the other gets no gradient
    # (jnp.linalg.eigh would symmetrize it instead, a different function)
    fn = make_function(EIGH_TRIANGLE, namespace={"UPLO": uplo})
    A = np.random.default_rng(5).standard_normal((3, 3)) + np.diag([1.0, 3.0, 6.0])
    ours = grad(fn)(A)
    _, (fd,) = fd_vjp(fn, {"A": A}, ("A",))
    assert_close(ours, fd, rtol=1e-5, atol=1e-6, what=f"eigh UPLO={uplo} vs FD")
    other = np.triu(ours, 1) if uplo == "L" else np.tril(ours, -1)
    assert np.all(other == 0.0)
    _, d = jvp(fn)(A, tangents=np.ones((3, 3)))
    assert_close(d, float(np.sum(fd)), rtol=1e-5, atol=1e-6, what="eigh tangent vs FD")


def test_an_unused_part_is_neither_computed_nor_given_an_accumulator():
    fn = make_function(CASES["gaussian_loglik"][0])
    source = grad(fn, wrt=("L",)).source
    assert "b_sign" not in source
    indexed = make_function(CASES["slogdet_indexed_batched"][0])
    source = grad(indexed).source
    assert "slogdet(S)[0]" not in source and source.count("jnp.linalg.slogdet(S)[1]") == 2
    assert "b_S = b_S + jnp.expand_dims(" in source


REFUSED = {
    "svd_full_matrices_non_square": (
        "def f(A):\n    U, s, Vt = np.linalg.svd(A)\n    return np.sum(U ** 2 * s[0])\n",
        (4, 3),
        sourcegrad.ShapeError,
        "full_matrices=False",
    ),
    "qr_wide": (
        "def f(A):\n    Q, R = np.linalg.qr(A)\n    return np.sum(R ** 2)\n",
        (2, 3),
        sourcegrad.ShapeError,
        "m >= n",
    ),
    "qr_complete": (
        "def f(A):\n    Q, R = np.linalg.qr(A, mode='complete')\n    return np.sum(R ** 2)\n",
        (4, 3),
        sourcegrad.UnsupportedSyntaxError,
        "mode='reduced'",
    ),
    "svd_hermitian": (
        "def f(A):\n    return np.sum(np.linalg.svd(A, hermitian=True)[1])\n",
        (3, 3),
        sourcegrad.UnsupportedSyntaxError,
        "np.linalg.eigh",
    ),
    "too_many_names": (
        "def f(x):\n    a, b, c = np.split(x, 2)\n    return np.sum(a)\n",
        (4,),
        sourcegrad.UnsupportedSyntaxError,
        "3 names but `split` returns 2 arrays",
    ),
    "no_such_part": (
        "def f(A):\n    return np.linalg.slogdet(A)[2]\n",
        (3, 3),
        sourcegrad.UnsupportedSyntaxError,
        "no [2]",
    ),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_what_has_no_derivative_is_a_located_error(name):
    source, shape, error, fix = REFUSED[name]
    fn = make_function(source)
    with pytest.raises(error) as info:
        grad(fn)(np.random.default_rng(0).standard_normal(shape) + 2 * np.eye(*shape[-2:])[: shape[0]])
    assert ":2:" in str(info.value) and fix in str(info.value)


def test_split_sections_must_be_known_when_compiling():
    fn = make_function("def f(x, n):\n    a, b = np.split(x, n)\n    return np.sum(a * b)\n")
    with pytest.raises(sourcegrad.UnsupportedSyntaxError) as info:
        grad(fn, wrt=("x",))(np.ones(4), np.ones(()))
    assert ":2:" in str(info.value)


@pytest.mark.parametrize("name", ["slogdet_indexed_batched", "split_parameters", "hvd_splits"])
def test_hessian_against_jax(name):
    source, spec = CASES[name]
    assert_hessian_matches_jax(make_function(source), _args(name, spec), name)


def test_runtime_helpers_have_distinct_names_for_emit():
    # `sourcegrad emit` copies the helpers a gradient calls, and the helpers they call, by name
    # into one module: two runtime modules defining the same name (fft's `_axes` once shadowed
    # reductions') would make the emitted module call the wrong one
    import inspect

    from sourcegrad import runtime

    seen: dict = {}
    for module in [m for m in vars(runtime).values() if inspect.ismodule(m)]:
        if not module.__name__.startswith("sourcegrad.runtime."):
            continue
        for name, value in vars(module).items():
            if getattr(inspect.getmodule(value), "__name__", "") == module.__name__:
                assert seen.setdefault(name, module.__name__) == module.__name__, name


#: a static keyword that decides which arrays a call returns, written as a literal and as names
#: holding that literal (a module constant, a local); each must give the literal's gradient
STATIC_NAMES = {
    "compute_uv": (
        "def f(A):\n{bind}    return np.sum(np.linalg.svd(A, compute_uv={value}) ** 3)\n",
        "False",
        (4, 3),
    ),
    "qr_mode": ("def f(A):\n{bind}    return np.sum(np.linalg.qr(A, mode={value}) ** 3)\n", "'r'", (4, 3)),
    "split_indices": (
        "def f(x):\n{bind}    a, b, c = np.split(x, {value})\n"
        "    return np.sum(a) + np.sum(b ** 2) + np.sum(c ** 3)\n",
        "(1, 3)",
        (5,),
    ),
    "split_count_axis": (
        "def f(x):\n{bind}    a, b = np.split(x, {value}, axis=1)\n    return np.sum(a * b ** 2)\n",
        "2",
        (3, 4),
    ),
}


@pytest.mark.parametrize("how", ["module", "local"])
@pytest.mark.parametrize("name", sorted(STATIC_NAMES))
def test_a_static_keyword_given_by_name_is_its_value(name, how):
    source, value, shape = STATIC_NAMES[name]
    literal = make_function(source.format(bind="", value=value))
    if how == "module":
        named = make_function(f"K = {value}\n" + source.format(bind="", value="K"))
    else:
        named = make_function(source.format(bind=f"    k = {value}\n", value="k"))
    x = np.random.default_rng(zlib.crc32(name.encode())).standard_normal(shape)
    arg = "x" if name.startswith("split") else "A"
    _, (fd,) = fd_vjp(named, {arg: x}, (arg,))
    ours = grad(named)(x)
    assert_close(ours, fd, rtol=1e-5, atol=1e-6, what=f"{name} by {how} name vs FD")
    assert_close(ours, grad(literal)(x), rtol=1e-12, atol=1e-14, what=f"{name} by {how} name")


#: the same keywords given by an argument of the function: its value is known only when the
#: function is called, after the gradient's code is written, so the call is refused where it is
STATIC_ARGUMENTS = {
    "compute_uv": (
        "def f(A, uv=True):\n    U, s, Vt = np.linalg.svd(A, False, compute_uv=uv)\n    return np.sum(s)\n"
    ),
    "compute_uv_false": ("def f(A, uv):\n    return np.sum(np.linalg.svd(A, compute_uv=uv))\n"),
    "hermitian": ("def f(A, h=True):\n    return np.sum(np.linalg.svd(A, hermitian=h)[1])\n"),
    "mode": ("def f(A, m='r'):\n    return np.sum(np.linalg.qr(A, mode=m) ** 2)\n"),
}


@pytest.mark.parametrize("name", sorted(STATIC_ARGUMENTS))
def test_a_static_keyword_given_by_an_argument_is_a_located_error(name):
    fn = make_function(STATIC_ARGUMENTS[name])
    keyword = name.removesuffix("_false")
    with pytest.raises(sourcegrad.UnsupportedSyntaxError) as info:
        grad(fn, wrt="A")(np.eye(3) + 0.1, False if name == "compute_uv_false" else True)
    assert ":2:" in str(info.value) and f"`{keyword}=`" in str(info.value)
    assert "when compiling" in str(info.value)


def _lstsq_matrix(singular_values, rows=6, seed=1):
    """A rows x 3 matrix with the given singular values (an exact zero: rank-deficient)."""
    rng = np.random.default_rng(seed)
    k = len(singular_values)
    u = np.linalg.qr(rng.standard_normal((rows, rows)))[0][:, :k]
    v = np.linalg.qr(rng.standard_normal((3, 3)))[0][:, :k]
    return (u * np.asarray(singular_values)) @ v.T


LSTSQ_SOURCE = """
def f(A, b):
    x, res, rank, s = np.linalg.lstsq(A, b, rcond=RCOND)
    return np.sum(x ** 3) + np.sum(s * np.arange(1.0, 4.0)) + rank{residuals}
"""


#: (singular values of A, rcond): NumPy's cut keeps s > rcond * s_max, with rcond=None meaning
#: eps * max(m, n) and rcond <= 0 or >= 1 meaning LAPACK's eps / 2; 0.5 drops the last value
@pytest.mark.parametrize("rcond", [None, -1.0, 0.0, 1e-3, 0.5, 0.999, 1.0, 2.0], ids=lambda r: f"rcond={r}")
@pytest.mark.parametrize("bdim", [1, 2])
def test_lstsq_cuts_the_singular_values_as_numpy_does(rcond, bdim):
    A = _lstsq_matrix([3.0, 1.0, 0.2])
    b = np.random.default_rng(bdim).standard_normal((6,) if bdim == 1 else (6, 2))
    # NumPy's residuals are empty when the cut lowers the rank (see the NaN test below)
    full = np.linalg.lstsq(A, b, rcond=rcond)[2] == 3
    assert full == (rcond not in (0.5, 0.999))
    fn = make_function(
        LSTSQ_SOURCE.format(residuals=" * np.sum(res)" if full else ""), namespace={"RCOND": rcond}
    )
    args = {"A": A, "b": b}
    g = grad(fn, wrt=("A", "b"))
    value, ours = g.value_and_grad(**args)
    _, fd = fd_vjp(fn, args, ("A", "b"))
    assert_close(value, fn(**args), rtol=1e-10, atol=1e-12, what="value")
    for w, mine, numeric in zip("Ab", ours, fd):
        assert_close(mine, numeric, rtol=1e-5, atol=1e-6, what=f"rcond={rcond}: d/d{w} vs FD")
    tangents = tuple(np.random.default_rng(4).standard_normal(np.shape(v)) for v in (A, b))
    out, d = jvp(fn, wrt=("A", "b"))(**args, tangents=tangents)
    assert_close(out, fn(**args), rtol=1e-10, atol=1e-12, what="jvp value")
    assert_close(d, fd_jvp(fn, args, ("A", "b"), tangents), rtol=1e-5, atol=1e-6, what="tangent vs FD")


@pytest.mark.parametrize("rcond", [1e-3, 0.5])
def test_lstsq_of_a_rank_deficient_matrix_with_a_cut(rcond):
    # an exact zero singular value stays dropped under a perturbation when rcond is not tiny, so
    # NumPy's solution is smooth there; its residuals are an empty array (not read here)
    fn = make_function(
        "def f(A, b):\n    x = np.linalg.lstsq(A, b, rcond=RCOND)[0]\n    return np.sum(x ** 3)\n",
        namespace={"RCOND": rcond},
    )
    args = {"A": _lstsq_matrix([3.0, 1.0, 0.0]), "b": np.random.default_rng(2).standard_normal((6, 2))}
    ours = grad(fn, wrt=("A", "b"))(**args)
    _, fd = fd_vjp(fn, args, ("A", "b"))
    for w, mine, numeric in zip("Ab", ours, fd):
        assert_close(mine, numeric, rtol=1e-5, atol=1e-6, what=f"rank-deficient rcond={rcond}: d/d{w}")


@pytest.mark.parametrize("rows", [3, 2])
def test_lstsq_residuals_of_a_matrix_without_more_rows_are_empty(rows):
    # NumPy's residuals are an empty array when a has no more rows than columns: its value and
    # its (absent) cotangent match; the solution's gradient is unchanged
    fn = make_function(
        """
        def f(A, b):
            x, res, rank, s = np.linalg.lstsq(A, b, rcond=None)
            return np.sum(x ** 3) + np.sum(res) + res.size * 10.0
        """
    )
    A = _lstsq_matrix([2.0, 1.0, 0.5][:rows], rows=rows) + 0.1 * np.eye(rows, 3)
    args = {"A": A, "b": np.random.default_rng(3).standard_normal(rows)}
    assert np.linalg.lstsq(A, args["b"], rcond=None)[1].shape == (0,)
    g = grad(fn, wrt=("A", "b"))
    ours = g(**args)
    _, fd = fd_vjp(fn, args, ("A", "b"))
    for w, mine, numeric in zip("Ab", ours, fd):
        assert_close(mine, numeric, rtol=1e-5, atol=1e-6, what=f"{rows}x3: d/d{w} vs FD")
    tangents = (np.ones_like(A), np.ones(rows))
    out, d = jvp(fn, wrt=("A", "b"))(**args, tangents=tangents)
    assert_close(out, fn(**args), rtol=1e-10, atol=1e-12, what="value")
    assert_close(d, fd_jvp(fn, args, ("A", "b"), tangents), rtol=1e-5, atol=1e-6, what="tangent vs FD")


def test_lstsq_residuals_numpy_leaves_empty_by_rank_are_a_located_error():
    # a 6x3 matrix of rank 2: NumPy's residuals are an empty array, a shape a compiled function
    # cannot have; reading them is checked after the call (tests/test_lstsq_residuals.py)
    fn = make_function(
        "def f(A, b):\n    x, res, rank, s = np.linalg.lstsq(A, b, rcond=1e-3)\n"
        "    return np.sum(x) + np.sum(res)\n"
    )
    args = {"A": _lstsq_matrix([3.0, 1.0, 0.0]), "b": np.random.default_rng(2).standard_normal(6)}
    assert np.linalg.lstsq(args["A"], args["b"], rcond=1e-3)[1].shape == (0,)
    with pytest.raises(sourcegrad.ShapeError, match=r":2:.*residuals of np.linalg.lstsq"):
        grad(fn, wrt=("A", "b"))(**args)


@pytest.mark.parametrize("rcond", [None, -1.0, 0.5, 2.0])
def test_jnp_lstsq_is_jaxs_own(rcond):
    # jnp.linalg.lstsq keeps JAX's cut (rcond >= 1 drops every value, NumPy's keeps them all) and
    # always returns the residuals: its value and gradient are jax's
    import jax
    import jax.numpy as jnp

    fn = make_function(
        "def f(A, b):\n    x, res, rank, s = jnp.linalg.lstsq(A, b, rcond=RCOND)\n"
        "    return jnp.sum(x ** 3) + jnp.sum(res) + jnp.sum(s)\n",
        namespace={"RCOND": rcond},
    )
    A, b = _lstsq_matrix([3.0, 1.0, 0.2], rows=3), np.random.default_rng(5).standard_normal(3)
    ours = grad(fn, wrt=("A", "b"))(A, b)
    with jax.enable_x64(True):
        ref = jax.grad(fn, argnums=(0, 1))(jnp.asarray(A), jnp.asarray(b))
    for mine, theirs in zip(ours, ref):
        assert_close(mine, np.asarray(theirs), rtol=1e-7, atol=1e-9, what=f"jnp lstsq rcond={rcond}")


JNP_SYMMETRIC = {
    "eigh": "w, V = jnp.linalg.eigh(A{kw})\n"
    "    return jnp.sum(w * jnp.arange(1.0, 4.0)) + jnp.sum(V ** 2 * jnp.arange(3.0))",
    "eigh_values": "return jnp.sum(jnp.linalg.eigh(A{kw})[0] ** 3)",
    "eigvalsh": "return jnp.sum(jnp.linalg.eigvalsh(A{kw}) ** 3)",
    "cholesky": "return jnp.sum(jnp.linalg.cholesky(A{kw}) * jnp.arange(1.0, 4.0))",
}


@pytest.mark.parametrize("kw", ["", ", symmetrize_input=False", ", UPLO='U', symmetrize_input=False"])
@pytest.mark.parametrize("name", sorted(JNP_SYMMETRIC))
def test_jnp_symmetric_decompositions_are_jaxs_own(name, kw):
    # jnp.linalg.eigh/eigvalsh/cholesky of a non-symmetric matrix: JAX symmetrizes it (its
    # default), or reads one triangle (symmetrize_input=False), unlike NumPy's functions, which
    # read one triangle; the value is JAX's, the gradient the derivative of that value
    import jax
    import jax.numpy as jnp

    if name == "cholesky" and "UPLO" in kw:
        kw = ", upper=False, symmetrize_input=False"
    body = JNP_SYMMETRIC[name].format(kw=kw)
    fn = make_function(f"def f(A):\n    {body}\n")
    rng = np.random.default_rng(zlib.crc32((name + kw).encode()))
    A = rng.standard_normal((3, 3)) * 0.3 + np.diag([2.0, 4.0, 7.0])
    value, ours = grad(fn).value_and_grad(A)
    with jax.enable_x64(True):
        theirs = float(jax.jit(fn)(jnp.asarray(A)))
    assert_close(value, theirs, rtol=1e-12, atol=1e-12, what=f"{name}{kw}: value vs jax")
    _, (fd,) = fd_vjp(lambda A: jax.jit(fn)(jnp.asarray(A)), {"A": A}, ("A",))
    assert_close(ours, fd, rtol=1e-5, atol=1e-6, what=f"{name}{kw}: d/dA vs FD of jax's function")
    if not kw:
        with jax.enable_x64(True):
            ref = jax.grad(fn)(jnp.asarray(A))
        assert_close(ours, np.asarray(ref), rtol=1e-8, atol=1e-10, what=f"{name}: d/dA vs jax.grad")
    tangent = rng.standard_normal((3, 3))
    _, d = jvp(fn)(A, tangents=tangent)
    assert_close(d, float(np.sum(fd * tangent)), rtol=1e-5, atol=1e-6, what=f"{name}{kw}: tangent vs FD")


@pytest.mark.parametrize("rcond", [None, -1.0, 0.0, 1.0, 1e-20])
def test_lstsq_rank_at_the_edge_of_numpys_cut(rcond):
    # a singular value of 5e-16 relative: under rcond=None's eps * max(m, n), above LAPACK's eps / 2
    # (rcond <= 0 or >= 1); the solution, the rank and the value are NumPy's
    fn = make_function(
        "def f(A, b):\n    x, res, rank, s = np.linalg.lstsq(A, b, rcond=RCOND)\n"
        "    return np.sum(x * np.arange(1.0, 4.0)) * 1e-15 + rank\n",
        namespace={"RCOND": rcond},
    )
    A = np.vstack([np.diag([1.0, 5e-16, 0.5]), np.zeros((1, 3))])
    b = np.array([1.0, 1.0, 1.0, 2.0])
    expected_rank = 2 if rcond is None else 3
    assert np.linalg.lstsq(A, b, rcond=rcond)[2] == expected_rank
    value, _ = grad(fn, wrt=("b",)).value_and_grad(A, b)
    assert_close(value, fn(A, b), rtol=1e-12, atol=1e-12, what=f"rcond={rcond}")


def test_lstsq_of_a_stack_fails_as_numpys_does():
    # NumPy's lstsq takes one matrix (LinAlgError for a stack): a located error, not a result
    fn = make_function("def f(A, b):\n    return np.sum(np.linalg.lstsq(A, b, rcond=None)[0])\n")
    with pytest.raises(sourcegrad.ShapeError) as info:
        grad(fn)(np.ones((2, 4, 3)), np.ones((2, 4)))
    assert ":2:" in str(info.value) and "2-D" in str(info.value)


def test_pinv_cuts_where_numpys_does():
    # NumPy's pinv drops singular values <= 1e-15 * s_max, JAX's <= 10 * max(m, n) * eps * s_max:
    # a value of 3e-15 is inverted by NumPy, and here
    fn = make_function("def f(A, w):\n    return np.sum(np.linalg.pinv(A) * w)\n")
    A = np.diag([1.0, 3e-15, 2.0])
    w = np.eye(3)
    value, _ = grad(fn, wrt=("w",)).value_and_grad(A, w)
    assert_close(value, fn(A, w), rtol=1e-12, atol=0.0, what="pinv value")
    assert value > 1e14


@pytest.mark.parametrize("how", ["literal", "module", "local"])
def test_svd_hermitian_given_by_name_is_refused_as_the_literal_is(how):
    bind = {
        "literal": ("", "", "True"),
        "module": ("H = True\n", "", "H"),
        "local": ("", "    h = True\n", "h"),
    }
    module, local, value = bind[how]
    fn = make_function(
        f"{module}def f(A):\n{local}    return np.sum(np.linalg.svd(A, hermitian={value})[1])\n"
    )
    with pytest.raises(sourcegrad.UnsupportedSyntaxError) as info:
        grad(fn)(np.eye(3) + 0.1)
    assert "hermitian=True" in str(info.value) and "np.linalg.eigh" in str(info.value)


@pytest.mark.parametrize("upper", [False, True])
def test_numpy_cholesky_reads_the_triangle_of_its_factor(upper):
    # NumPy's cholesky(a, upper=True) factors the symmetric matrix whose *upper* triangle is a's
    # (LAPACK potrf 'U'), not the transpose of the lower factor: a non-symmetric argument tells
    fn = make_function(
        "def f(A):\n    U = np.linalg.cholesky(A, upper=UPPER)\n    return np.sum(U ** 2 * np.arange(1.0, 10.0).reshape(3, 3))\n",
        namespace={"UPPER": upper},
    )
    rng = np.random.default_rng(5)
    A = rng.standard_normal((3, 3)) * 0.3 + np.diag([2.0, 4.0, 7.0])
    value, ours = grad(fn).value_and_grad(A)
    assert_close(value, fn(A), rtol=1e-13, atol=1e-13, what=f"upper={upper}: value vs NumPy")
    _, (fd,) = fd_vjp(fn, {"A": A}, ("A",))
    assert_close(ours, fd, rtol=1e-6, atol=1e-7, what=f"upper={upper}: d/dA vs FD of NumPy")
    unread = np.tril(np.ones((3, 3)), -1) if upper else np.triu(np.ones((3, 3)), 1)
    assert np.all(np.asarray(ours)[unread == 1] == 0.0)  # the triangle NumPy does not read
    tangent = rng.standard_normal((3, 3))
    _, d = jvp(fn)(A, tangents=tangent)
    assert_close(d, float(np.sum(fd * tangent)), rtol=1e-6, atol=1e-7, what=f"upper={upper}: tangent")


def test_numpy_cholesky_upper_has_second_order():
    # the rule's adjoint (cholesky_adjoint with reads_upper) is differentiated again for hvp:
    # against central differences of the first-order gradient
    fn = make_function(
        "def f(A):\n    U = np.linalg.cholesky(A, upper=True)\n    return np.sum(U ** 3)\n",
    )
    rng = np.random.default_rng(9)
    A = rng.standard_normal((3, 3)) * 0.3 + np.diag([2.0, 4.0, 7.0])
    v = rng.standard_normal((3, 3))
    g = grad(fn)
    ours = sourcegrad.hvp(fn)(A, vectors=v)
    eps = 1e-5
    fd = (np.asarray(g(A + eps * v)) - np.asarray(g(A - eps * v))) / (2 * eps)
    assert_close(ours, fd, rtol=1e-6, atol=1e-7, what="hvp of cholesky(upper=True)")
