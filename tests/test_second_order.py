"""Second order, forward over reverse: ``hessian`` and ``hvp`` of the corpus's straight-line
scalar functions against ``jax.hessian`` and ``jax.jvp(jax.grad)``, and against float64 central
finite differences of sourcegrad's own gradient. Functions outside the supported scope must be
refused with a located error, never answered wrongly."""

import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sourcegrad import grad
from sourcegrad.api.second_order import hessian, hvp
from sourcegrad.errors import UnsupportedSyntaxError

from .corpus import control_flow, straight_line  # noqa: F401  (registers the cases)
from .corpus.registry import CASES
from .helpers import assert_close, jax_version, make_function
from .test_forward import as64

SCALAR = [
    c
    for c in CASES
    if not c.seed and c.jax and all(isinstance(c.make_args()[w], (np.ndarray, float)) for w in c.wrt)
]
STRAIGHT = [c for c in SCALAR if c.fn.__module__.endswith("straight_line")]
FLOW = [c for c in SCALAR if c.fn.__module__.endswith("control_flow")]


def _supported(case):
    try:
        hessian(case.fn, wrt=case.wrt)
        return True
    except UnsupportedSyntaxError:
        return False


SUPPORTED = [c for c in STRAIGHT if _supported(c)]


def test_at_least_thirty_functions_are_supported():
    assert len(SUPPORTED) >= 30, [c.name for c in STRAIGHT if c not in SUPPORTED]


def _jax_fn(case, args):
    jfn = jax_version(case.fn)
    names = list(case.wrt)
    return (lambda *w: jfn(**{**args, **dict(zip(names, w))})), [jnp.asarray(args[w]) for w in names]


@pytest.mark.parametrize("case", SUPPORTED, ids=lambda c: c.name)
def test_hessian_and_hvp_match_jax(case):
    args = as64(case.make_args(), case.wrt)
    f, primals = _jax_fn(case, args)
    ours = hessian(case.fn, wrt=case.wrt)(**args)
    theirs = jax.hessian(f, argnums=tuple(range(len(primals))))(*primals)
    assert_close(ours, theirs, rtol=1e-6, atol=1e-9, what=f"{case.name}: hessian vs jax")
    rng = np.random.default_rng(zlib.crc32(case.name.encode()) + 11)
    vs = tuple(rng.standard_normal(np.shape(p)) for p in primals)
    mine = hvp(case.fn, wrt=case.wrt)(**args, vectors=vs)
    _, ref = jax.jvp(jax.grad(f, argnums=tuple(range(len(primals)))), tuple(primals), vs)
    assert_close(mine, ref, rtol=1e-6, atol=1e-9, what=f"{case.name}: hvp vs jax.jvp(jax.grad)")


@pytest.mark.slow  # a third oracle for the same cases: three more compiles each
@pytest.mark.parametrize("case", SUPPORTED, ids=lambda c: c.name)
def test_hvp_matches_finite_differences_of_the_gradient(case):
    args = as64(case.make_args(), case.wrt)
    rng = np.random.default_rng(zlib.crc32(case.name.encode()) + 11)
    vs = tuple(rng.standard_normal(np.shape(args[w])) for w in case.wrt)
    mine = hvp(case.fn, wrt=case.wrt)(**args, vectors=vs)
    g = grad(case.fn, wrt=case.wrt)
    eps = 1e-6
    plus = g(**{**args, **{w: args[w] + eps * v for w, v in zip(case.wrt, vs)}})
    minus = g(**{**args, **{w: args[w] - eps * v for w, v in zip(case.wrt, vs)}})
    fd = jax.tree_util.tree_map(lambda a, b: (np.asarray(a) - np.asarray(b)) / (2 * eps), plus, minus)
    assert_close(mine, fd, rtol=1e-4, atol=1e-6, what=f"{case.name}: hvp vs FD of grad")


def test_second_order_tangents_are_visible_in_the_source():
    fn = make_function("""
        def cubic(x):
            return np.sum(x ** 3)
    """)
    h = hessian(fn)
    assert "def grad_cubic(x):" in h.source and "def jvp_grad_cubic(x, d_x):" in h.source
    assert "d_b_x" in h.source
    assert_close(h(np.array([1.0, 2.0])), np.diag([6.0, 12.0]))


@pytest.mark.parametrize("case", FLOW[:5], ids=lambda c: c.name)
def test_control_flow_is_refused_with_a_location(case):
    with pytest.raises(UnsupportedSyntaxError, match="second order") as info:
        hessian(case.fn, wrt=case.wrt)
    assert info.value.lineno > 0 and info.value.filename.endswith("control_flow.py")


# ----- np.min / np.max (the reverse helper extremum_adjoint has a tangent rule) and more -----


def min_rows(D):
    return np.sum(np.min(D, axis=1))


def min_rows_squared(D):
    return np.sum(np.min(D, axis=1) ** 2)


def max_cols_exp(D):
    return np.sum(np.exp(np.max(D, axis=0)))


def kmeans_cost(c, x):
    d = np.sum((x[:, None, :] - c) ** 2, axis=2)  # (points, clusters)
    return np.sum(np.min(d, axis=1))


def max_all_times_mean(D):
    return np.max(D) * np.mean(D**2)


def amin_keepdims(D):
    return np.sum(np.sin(D - np.min(D, axis=1, keepdims=True)))


_D = np.array([[0.3, -1.0, 2.0, 0.7], [1.5, 0.2, 0.9, -0.4], [0.1, 0.8, -2.2, 1.1]])
EXTREMA = {
    "min_rows": (min_rows, {"D": _D}, ("D",)),
    "min_rows_squared": (min_rows_squared, {"D": _D}, ("D",)),
    "max_cols_exp": (max_cols_exp, {"D": _D}, ("D",)),
    "kmeans_cost": (
        kmeans_cost,
        {
            "c": np.array([[0.0, 0.5], [1.0, -0.3], [-0.8, 0.9]]),
            "x": np.linspace(-1, 1, 14).reshape(7, 2) ** 3,
        },
        ("c",),
    ),
    "max_all_times_mean": (max_all_times_mean, {"D": _D}, ("D",)),
    "amin_keepdims": (amin_keepdims, {"D": _D}, ("D",)),
}


@pytest.mark.parametrize("name", sorted(EXTREMA))
def test_hessian_through_min_and_max_matches_jax(name):
    fn, args, wrt = EXTREMA[name]
    jfn = jax_version(fn)

    def f(*w):
        return jfn(**{**args, **dict(zip(wrt, w))})

    primals = [jnp.asarray(args[w]) for w in wrt]
    argnums = tuple(range(len(wrt)))
    ours = hessian(fn, wrt=wrt)(**args)
    assert_close(ours, jax.hessian(f, argnums=argnums)(*primals), rtol=1e-9, atol=1e-11, what=name)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    vs = tuple(rng.standard_normal(np.shape(p)) for p in primals)
    _, ref = jax.jvp(jax.grad(f, argnums=argnums), tuple(primals), vs)
    assert_close(hvp(fn, wrt=wrt)(**args, vectors=vs), ref, rtol=1e-9, atol=1e-11, what=f"{name}: hvp")


def test_at_least_thirty_hessians_in_all():
    assert len(SUPPORTED) + len(EXTREMA) >= 30


def test_hvp_of_a_function_that_is_not_scalar_is_refused():
    fn = make_function("""
        def elementwise(x):
            return np.sin(x)
    """)
    with pytest.raises(Exception, match="not a scalar"):
        hvp(fn)(np.ones(3), vectors=np.ones(3))


def kmeans_cost(centroids, points):
    distances = np.sum((points[:, None, :] - centroids[None, :, :]) ** 2, axis=2)
    return np.sum(np.min(distances, axis=1))


def test_hvp_through_broadcast_indices_matches_jax_in_float64():
    # the regenerated gradient passes jnp.s_[None, :, :] to unslice: read back as a constant index
    rng = np.random.default_rng(11)
    c, p, v = rng.normal(size=(3, 2)), rng.normal(size=(12, 2)), rng.normal(size=(3, 2))
    ours = hvp(kmeans_cost)(c, p, vectors=v)
    f = jax_version(kmeans_cost)
    theirs = jax.jvp(jax.grad(lambda c: f(c, p)), (c,), (v,))[1]
    assert ours.dtype == np.float64  # float64 inputs stay float64
    assert_close(ours, theirs, rtol=1e-10)


def test_hvp_tangent_of_the_wrong_shape_is_refused():
    from sourcegrad.errors import WrtError

    c, p = np.ones((3, 2)), np.zeros((4, 2))
    with pytest.raises(WrtError, match=r"shape \(1, 3, 2\), but `centroids` has shape \(3, 2\)"):
        hvp(kmeans_cost)(c, p, vectors=(np.ones((3, 2)),))


def lower_triangle_energy(x, rows, cols):
    L = np.zeros((3, 3))
    L[rows, cols] = x
    L[0] += x[0] * 2.0
    return np.sum(np.tanh(L @ L.T))


def test_hvp_through_in_place_writes_matches_jax():
    # the regenerated gradient calls inplace_set / inplace_add / take_written with jnp.s_[...]
    rows, cols = np.tril_indices(3, -1)
    x, v = np.array([0.3, -0.5, 0.9]), np.array([1.0, 0.5, -1.0])
    ours = hvp(lower_triangle_energy)(x, rows, cols, vectors=v)

    def reference(x):
        L = jnp.zeros((3, 3)).at[rows, cols].set(x)
        L = L.at[0].add(x[0] * 2.0)
        return jnp.sum(jnp.tanh(L @ L.T))

    assert_close(ours, jax.jvp(jax.grad(reference), (x,), (v,))[1], rtol=1e-10)
