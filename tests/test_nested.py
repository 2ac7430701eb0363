"""Higher order by transforming generated code again: ``grad(grad(f))`` and ``jvp(grad(f))``
(reverse over reverse, forward over reverse), and functions whose body calls ``grad(f)`` or
``jvp(f)`` (nested differentiation: the call is a callee whose adjoint is generated code), each
against ``jax.grad``/``jax.jvp`` of the jax.numpy version and float64 central finite differences;
perturbation confusion; refusals with a location; a golden file of a nested gradient's source."""

import os
import pathlib
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sourcegrad import grad, jacfwd, jvp, value_and_grad
from sourcegrad.api.forward import JVPFunction
from sourcegrad.api.grad import GradFunction
from sourcegrad.errors import SourceUnavailableError, UnsupportedSyntaxError

from .golden import nested as golden_nested
from .helpers import assert_close, fd_vjp, jax_version

GOLDEN = pathlib.Path(__file__).parent / "golden"

# ----- inner functions: straight-line -----


def cubic_sin(x):
    return np.sin(x) * x**3


def soft(x):
    return np.log(1.0 + np.exp(x)) + 0.5 * x**2


def ratio(x):
    return x / (1.0 + x * x)


def sin_prod(x, y):
    return np.sum(np.sin(x) * y**2)


def quad_form(x, A):
    return np.sum(x * (A @ x)) + np.sum(np.tanh(x))


def plus(x, y):
    return x + y


def times(x, y):
    return x * y


def smallest(D):
    return np.sum(np.min(D, axis=1) ** 2)


def inverse_distance(x, y):
    return 1.0 / np.linalg.norm(x - y) + np.linalg.norm(x * y, ord=3)


def with_loop(x):
    for _ in range(3):
        x = np.sin(x)
    return x


# ----- (a) grad(grad(f)), jvp(grad(f)) -----

# (f, wrt of the inner gradient, wrt of the outer, args, seed of the outer: None for a scalar)
SECOND = {
    "cubic_sin": (cubic_sin, 0, 0, (0.7,), None),
    "soft": (soft, 0, 0, (-0.3,), None),
    "ratio": (ratio, 0, 0, (1.3,), None),
    "times_cross": (times, 1, 0, (0.4, -1.5), None),
    "sin_prod_xy": (sin_prod, 1, 0, (np.linspace(0.1, 1.0, 4), np.linspace(-1.0, 2.0, 4)), "ones"),
    "sin_prod_xx": (sin_prod, 0, 0, (np.linspace(0.1, 1.0, 4), np.linspace(-1.0, 2.0, 4)), "normal"),
    "quad_form": (quad_form, 0, 0, (np.array([0.3, -0.2, 0.5]), np.arange(9.0).reshape(3, 3) / 7), "normal"),
    "smallest": (smallest, 0, 0, (np.array([[0.3, -1.0, 2.0], [1.5, 0.2, 0.9]]),), "normal"),
    "norm": (inverse_distance, 0, 1, (np.array([0.3, -0.2, 0.5]), np.array([1.0, 2.0, -1.0])), "normal"),
}


def _seed(kind, shape):
    if kind is None:
        return None
    if kind == "ones":
        return np.ones(shape)
    return np.random.default_rng(7).standard_normal(shape)


@pytest.mark.parametrize("name", sorted(SECOND))
def test_grad_of_grad_matches_jax(name):
    f, inner, outer, args, seed_kind = SECOND[name]
    g = grad(grad(f, wrt=inner), wrt=outer)
    seed = _seed(seed_kind, np.shape(args[inner]))
    ours = g(*args) if seed is None else g(*args, seed=seed)
    jf = jax.grad(jax_version(f), argnums=inner)
    ref = jax.vjp(lambda a: jf(*args[:outer], a, *args[outer + 1 :]), jnp.asarray(args[outer]))[1](
        jnp.ones(()) if seed is None else jnp.asarray(seed)
    )[0]
    assert_close(ours, ref, rtol=1e-9, atol=1e-11, what=f"{name}: grad(grad) vs jax")


@pytest.mark.parametrize("name", sorted(SECOND))
def test_jvp_of_grad_matches_jax(name):
    f, inner, outer, args, _ = SECOND[name]
    tangent = _seed("normal", np.shape(args[outer]))
    value, d = jvp(grad(f, wrt=inner), wrt=outer)(*args, tangents=tangent)
    jf = jax.grad(jax_version(f), argnums=inner)
    ref_value, ref = jax.jvp(
        lambda a: jf(*args[:outer], a, *args[outer + 1 :]),
        (jnp.asarray(args[outer]),),
        (jnp.asarray(tangent),),
    )
    assert_close(value, ref_value, rtol=1e-9, atol=1e-11, what=f"{name}: gradient vs jax")
    assert_close(d, ref, rtol=1e-9, atol=1e-11, what=f"{name}: jvp(grad) vs jax")


def test_grad_of_grad_source_shows_both_functions():
    g = grad(grad(cubic_sin))
    assert "def grad_cubic_sin(x):" in g.source
    assert "def grad_grad_cubic_sin(x, seed=None, acc=None):" in g.source
    assert "b_b_" in g.source  # the second-order accumulators
    assert_close(g(0.5), jax.grad(jax.grad(jax_version(cubic_sin)))(0.5), rtol=1e-12)


def test_third_order():
    ggg = grad(grad(grad(cubic_sin)))
    assert_close(ggg(0.9), jax.grad(jax.grad(jax.grad(jax_version(cubic_sin))))(0.9), rtol=1e-10)


def test_grad_of_grad_needs_a_seed_for_an_array_gradient():
    with pytest.raises(Exception, match="not a scalar"):
        grad(grad(sin_prod))(np.ones(3), np.ones(3))


def test_grad_of_grad_refuses_loops_with_a_location():
    with pytest.raises(UnsupportedSyntaxError, match="second order") as info:
        grad(grad(with_loop))
    assert info.value.filename.endswith("test_nested.py") and info.value.lineno > 0


@pytest.mark.parametrize("make", [lambda: jvp(cubic_sin), lambda: value_and_grad(cubic_sin)])
def test_grad_of_other_derivative_objects_is_refused(make):
    with pytest.raises(SourceUnavailableError, match="differentiates the gradients that grad"):
        grad(make())


# ----- (b) grad(f) and jvp(f) called in a differentiated function's body -----

d_cubic_sin = grad(cubic_sin)
d_soft = grad(soft)
d_ratio = grad(ratio)
dx_sin_prod = grad(sin_prod, wrt=0)
dy_sin_prod = grad(sin_prod, wrt=1)
dx_quad = grad(quad_form, wrt=0)
dy_plus = grad(plus, wrt=1)
dy_times = grad(times, wrt=1)
d_smallest = grad(smallest)
both_times = grad(times, wrt=(0, 1))
j_sin_prod = jvp(sin_prod, wrt=0)
j_both = jvp(sin_prod, wrt=(0, 1))


def n_scalar(x):
    return x * d_cubic_sin(x)


def n_chain(x):
    return np.sin(d_soft(x)) + d_ratio(x * x)


def n_vector(x, y):
    return np.sum(np.cos(dx_sin_prod(x, y)) * x)


def n_cross(x, y):
    g = dy_sin_prod(x, y)
    return np.sum(g * g) + np.sum(x)


def n_quad(x, A):
    return np.sum(dx_quad(x, A) ** 2)


def n_two_grads(x, y):
    gx, gy = both_times(x, y)
    return gx * gy + np.sin(x)


def n_smallest(D):
    return np.sum(d_smallest(D) * D)


def n_for(x, y):
    for _ in range(3):
        x = x + 0.1 * dx_sin_prod(x, y)
    return np.sum(x * x)


def n_while(x, y):
    while np.sum(x) < 5.0:
        x = x + 0.5 * np.abs(dx_sin_prod(x, y)) + 0.1
    return np.sum(x**2)


def n_jvp(x, y):
    v, dv = j_sin_prod(x, y, tangents=y)
    return v * dv


def n_jvp_two(x, y):
    v, dv = j_both(x, y, tangents=(np.cos(y), x))
    return np.sin(dv) + v


def n_jvp_for(x, y):
    total = 0.0
    for i in range(2):
        _, dv = j_sin_prod(x * (i + 1), y, tangents=x)
        total = total + dv
    return total


V4 = np.linspace(0.1, 1.0, 4)
W4 = np.linspace(-1.0, 2.0, 4)
NESTED = {
    "scalar": (n_scalar, {"x": 0.8}, ("x",)),
    "chain": (n_chain, {"x": 0.6}, ("x",)),
    "vector": (n_vector, {"x": V4, "y": W4}, ("x", "y")),
    "cross": (n_cross, {"x": V4, "y": W4}, ("x", "y")),
    "quad": (n_quad, {"x": np.array([0.3, -0.2, 0.5]), "A": np.arange(9.0).reshape(3, 3) / 7}, ("x", "A")),
    "two_grads": (n_two_grads, {"x": 0.4, "y": -1.3}, ("x", "y")),
    "smallest": (n_smallest, {"D": np.array([[0.3, -1.0, 2.0], [1.5, 0.2, 0.9]])}, ("D",)),
    "for": (n_for, {"x": V4, "y": W4}, ("x", "y")),
    "while": (n_while, {"x": V4, "y": W4}, ("x", "y")),
    "jvp": (n_jvp, {"x": V4, "y": W4}, ("x", "y")),
    "jvp_two": (n_jvp_two, {"x": V4, "y": W4}, ("x", "y")),
    "jvp_for": (n_jvp_for, {"x": V4, "y": W4}, ("x", "y")),
}


def _jax_derivative(obj, done):
    f = jax_version(obj._fn)
    pos = tuple(obj._params.index(w) for w in obj.wrt)
    if type(obj) is GradFunction:
        return jax.grad(f, argnums=pos[0] if obj._wrt_single else pos)

    def tangent(*args, tangents):
        tangents = (tangents,) if obj._wrt_single else tuple(tangents)

        def along(*w):
            full = list(args)
            for p, v in zip(pos, w):
                full[p] = v
            return f(*full)

        return jax.jvp(along, tuple(args[p] for p in pos), tangents)

    return tangent


def jax_nested(fn):
    """``fn`` in jax.numpy, each grad/jvp object it calls replaced by jax.grad/jax.jvp."""
    g = dict(fn.__globals__)
    for k, v in list(g.items()):
        if v is np:
            g[k] = jnp
        elif isinstance(v, (GradFunction, JVPFunction)):
            g[k] = _jax_derivative(v, None)
    return types.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__, fn.__closure__)


@pytest.mark.parametrize("name", sorted(set(NESTED) - {"while"}))
def test_nested_gradient_matches_jax_and_fd(name):
    fn, args, wrt = NESTED[name]
    ours = grad(fn, wrt=wrt)(**args)
    ref = jax.grad(
        lambda *w: jax_nested(fn)(**{**args, **dict(zip(wrt, w))}), argnums=tuple(range(len(wrt)))
    )(*[jnp.asarray(args[w]) for w in wrt])
    assert_close(ours, ref, rtol=1e-9, atol=1e-11, what=f"{name}: nested gradient vs jax")
    _, fd = fd_vjp(fn, args, wrt)
    assert_close(ours, tuple(fd), rtol=1e-5, atol=1e-7, what=f"{name}: nested gradient vs FD")


def test_nested_gradient_in_a_data_dependent_while_loop():
    fn, args, wrt = NESTED["while"]
    ours = grad(fn, wrt=wrt)(**args)
    _, fd = fd_vjp(fn, args, wrt)
    assert_close(ours, tuple(fd), rtol=1e-5, atol=1e-7, what="while: nested gradient vs FD")
    # jax.grad of the same loop with its trip count (read from a run) fixed
    x, trips = args["x"], 0
    while np.sum(x) < 5.0:
        x = x + 0.5 * np.abs(np.asarray(dx_sin_prod(x, args["y"]))) + 0.1
        trips += 1
    inner = jax.grad(jax_version(sin_prod), argnums=0)

    def unrolled(x, y):
        for _ in range(trips):
            x = x + 0.5 * jnp.abs(inner(x, y)) + 0.1
        return jnp.sum(x**2)

    assert trips > 1
    assert_close(ours, jax.grad(unrolled, (0, 1))(args["x"], args["y"]), rtol=1e-9, atol=1e-11)


def test_nested_source_calls_the_inner_gradient_and_its_vjp():
    source = grad(n_vector, wrt=(0, 1)).source
    assert "def grad_sin_prod(x, y):" in source
    assert "grad_sin_prod_out = grad_sin_prod(x, y)" in source
    assert "def bwd_grad_sin_prod(" in source and "= bwd_grad_sin_prod(" in source
    assert "b_b_x" in source  # the inner gradient's own second-order accumulator


def test_nested_golden():
    source = grad(golden_nested.n_vector, wrt=(0, 1)).source
    path = GOLDEN / "nested_vector.nested.golden.py"
    if os.environ.get("SOURCEGRAD_UPDATE_GOLDEN") and not path.exists():
        path.write_text(source)
    assert path.exists(), f"no golden file {path}; run with SOURCEGRAD_UPDATE_GOLDEN=1"
    assert source == path.read_text(), f"nested-gradient source changed; see {path}"


# ----- (c) perturbation confusion -----


def confusion(x):
    return x * dy_plus(x, x)  # d/dx (x * d/dy (x + y) at y = x) = d/dx (x * 1) = 1


def confusion_times(x):
    return x * dy_times(x, x)  # d/dx (x * d/dy (x * y) at y = x) = d/dx x**2 = 2 x


@pytest.mark.parametrize("x", [-2.0, 0.0, 0.5, 3.0])
def test_no_perturbation_confusion(x):
    assert float(grad(confusion)(x)) == 1.0
    ref = jax.grad(lambda x: x * jax.grad(lambda x, y: x + y, argnums=1)(x, x))(x)
    assert float(ref) == 1.0
    assert_close(grad(confusion_times)(x), 2 * x, rtol=1e-12, atol=1e-12)
    ref2 = jax.grad(lambda x: x * jax.grad(lambda x, y: x * y, argnums=1)(x, x))(x)
    assert_close(grad(confusion_times)(x), ref2, rtol=1e-12, atol=1e-12)


# ----- refusals -----

d_with_loop = grad(with_loop)
j_with_loop = jvp(with_loop)


def calls_looping_gradient(x):
    return d_with_loop(x) * x


def calls_with_seed(x):
    return np.sum(dx_sin_prod(x, x, seed=x))


def calls_jvp_without_tangents(x):
    v, dv = j_sin_prod(x, x)
    return v


jf_sin_prod = jacfwd(sin_prod, wrt=0)


def calls_jacfwd(x):
    return np.sum(jf_sin_prod(x, x))


def calls_looping_jvp(x):
    v, dv = j_with_loop(x, tangents=x)
    return dv


@pytest.mark.parametrize(
    "fn, match",
    [
        (calls_looping_gradient, "second order"),
        (calls_looping_jvp, "second order"),
        (calls_with_seed, "seed="),
        (calls_jvp_without_tangents, "tangents="),
        (calls_jacfwd, "jacfwd"),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_unsupported_nested_calls_are_refused_with_a_location(fn, match):
    with pytest.raises(UnsupportedSyntaxError, match=match) as info:
        grad(fn)
    assert info.value.filename.endswith("test_nested.py") and info.value.lineno > 0
