"""The public API: wrt forms, dtypes, seeds, accumulation, value_and_grad, AOT compile, source."""

import hashlib
import linecache
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import sourcegrad
from sourcegrad import SeedError, WrtError, grad, value_and_grad

from .helpers import assert_close, library_frames, make_function


def loss(W, b, x, y):
    return np.mean((np.tanh(x @ W + b) - y) ** 2)


def jloss(W, b, x, y):
    return jnp.mean((jnp.tanh(x @ W + b) - y) ** 2)


def data(dtype=np.float64):
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s).astype(dtype) for s in ((4, 3), (3,), (5, 4), (5, 3))]


@pytest.mark.parametrize(
    "wrt, argnums", [(0, 0), ("b", 1), ((0, 1), (0, 1)), (("W", "b"), (0, 1)), (("b", "W"), (1, 0)), (-1, 3)]
)
def test_wrt_positions_and_names(wrt, argnums):
    args = data()
    ours = grad(loss, wrt=wrt)(*args)
    ref = jax.grad(jloss, argnums=argnums)(*args)
    if isinstance(ref, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(ref)
        for a, r in zip(ours, ref):
            assert_close(a, r)
    else:
        assert_close(ours, ref)


def test_default_wrt_is_first_argument_and_original_is_reachable():
    g = grad(loss)
    assert g.wrt == ("W",)
    assert g.__wrapped__ is loss
    assert g.__name__ == "loss"
    assert_close(g(*data()), jax.grad(jloss)(*data()))


def test_decorator_forms():
    @grad
    def f(x):
        return np.sum(np.sin(x))

    @grad(wrt=("y",))
    def h(x, y):
        return np.sum(x * y)

    assert_close(f(np.ones(3)), np.cos(np.ones(3)))
    (gy,) = h(np.ones(2), np.arange(2.0))
    assert_close(gy, np.ones(2))


@pytest.mark.parametrize(
    "wrt, match",
    [
        (7, "out of range"),
        ("nope", "not a parameter"),
        (("W", "W"), "twice"),
        ((), "empty"),
        (1.5, "positions"),
    ],
)
def test_bad_wrt(wrt, match):
    with pytest.raises(WrtError, match=match):
        grad(loss, wrt=wrt)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradients_keep_input_dtypes(dtype):
    args = data(dtype)
    gW, gb = grad(loss, wrt=("W", "b"))(*args)
    assert gW.dtype == dtype and gb.dtype == dtype
    assert gW.shape == (4, 3) and gb.shape == (3,)


def test_integer_inputs_in_wrt_are_an_error_not_zeros():
    f = grad(lambda_free_sum)
    with pytest.raises(WrtError, match="dtype int"):
        f(np.arange(3))
    with pytest.raises(WrtError, match="Python int"):
        f(3)


def lambda_free_sum(x):
    return np.sum(x * 2.0)


def test_python_float_inputs():
    g = grad(lambda_free_sum)(2.0)
    assert float(g) == 2.0


def test_value_and_grad_forms():
    args = data()
    value, (gW, gb) = value_and_grad(loss, wrt=("W", "b"))(*args)
    assert_close(value, jloss(*args))
    value2, gW2 = grad(loss).value_and_grad(*args)
    assert_close(value2, value)
    assert_close(gW2, gW)


def test_primal_of_a_vector_function_builds_seeds():
    f = grad(vector_fn)
    x = np.array([1.0, 2.0, 3.0])
    y = f.primal(x)
    assert_close(y, np.sin(x) * x)
    # seed = the output itself: d/dx 0.5 * |y|^2
    assert_close(f(x, seed=y), y * (np.cos(x) * x + np.sin(x)))


def vector_fn(x):
    return np.sin(x) * x


def test_seed_of_the_wrong_shape():
    with pytest.raises(SeedError, match=r"seed has shape \(2,\).*\(3,\)"):
        grad(vector_fn)(np.ones(3), seed=np.ones(2))


def test_accumulate_needs_one_accumulator_per_input():
    f = grad(loss, wrt=("W", "b"))
    with pytest.raises(WrtError, match="one accumulator per wrt input"):
        f(*data(), accumulate=(np.zeros((4, 3)),))


def test_accumulate_adds_and_none_starts_fresh():
    f = grad(loss, wrt=("W", "b"))
    args = data()
    fresh = f(*args)
    zeros = f(*args, accumulate=(np.zeros((4, 3)), np.zeros(3)))
    double = f(*args, accumulate=fresh)
    for a, z, d in zip(fresh, zeros, double):
        assert_close(a, z)
        assert_close(d, 2 * np.asarray(a))
    src = f.source
    assert "if acc is None:" in src and "b_W = jnp.zeros_like(W)" in src and "b_W, b_b = acc" in src


def tuple_out(x, y):
    return np.sin(x) * y, np.sum(x * y)


def test_tuple_outputs_take_a_tuple_of_seeds():
    f = grad(tuple_out, wrt=("x", "y"))
    x, y = np.array([0.5, 1.0]), np.array([2.0, 3.0])
    seed = (np.array([1.0, -1.0]), 0.5)
    gx, gy = f(x, y, seed=seed)
    _, vjp = jax.vjp(lambda x, y: (jnp.sin(x) * y, jnp.sum(x * y)), x, y)
    rx, ry = vjp((jnp.array(seed[0]), jnp.array(seed[1])))
    assert_close(gx, rx)
    assert_close(gy, ry)
    with pytest.raises(SeedError, match="returns a tuple"):
        f(x, y)


def with_static(x, n=2, scale=1.0):
    return np.sum(x.reshape(n, -1) ** 2) * scale


def test_static_int_arguments_and_keyword_defaults():
    f = grad(with_static)
    x = np.arange(6.0)
    assert_close(f(x), 2 * x)
    assert_close(f(x, 3, scale=0.5), x)
    assert_close(f(x, n=6), 2 * x)


def test_source_is_the_code_that_runs_and_is_in_linecache():
    f = grad(loss, wrt=("W", "b"))
    code = f._transformed.grad_fn.__code__
    assert code.co_filename == f.filename
    assert "".join(linecache.getlines(f.filename)) == f.source
    assert f.source.count("def grad_loss(") == 1


def bad_shapes(x, W):
    return np.sum(x @ W)


def test_shape_errors_name_the_user_line_and_the_generated_line():
    f = grad(bad_shapes)
    with pytest.raises(sourcegrad.ShapeError) as info:
        f(np.ones(3), np.ones((4, 2)))
    assert info.value.lineno == bad_shapes.__code__.co_firstlineno + 1
    assert "return np.sum(x @ W)" in str(info.value)
    generated = str(info.value).split("(line ", 1)[1].split(" of .source): ", 1)
    line = int(generated[0])
    assert (
        "@" in generated[1].split("\n")[0]
        and f.source.splitlines()[line - 1].strip() == generated[1].split("\n")[0]
    )
    inner = library_frames(info.value)
    assert not inner, inner


def test_source_is_deterministic_across_runs_and_processes():
    a = grad(loss, wrt=("W", "b")).source
    b = grad(loss, wrt=("W", "b")).source
    assert a == b
    script = (
        "import sys; sys.path.insert(0, '.'); from tests.test_api import loss; import hashlib; "
        "from sourcegrad import grad; "
        "print(hashlib.sha256(grad(loss, wrt=('W','b')).source.encode()).hexdigest())"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": str(seed), "PATH": ""},
            cwd=_repo_root(),
        ).stdout.strip()
        for seed in (1, 2)
    }
    assert outs == {hashlib.sha256(a.encode()).hexdigest()}


def _repo_root():
    import pathlib

    return str(pathlib.Path(__file__).resolve().parents[1])


def test_aot_compile_cache_and_inspection():
    f = grad(loss, wrt=("W", "b"))
    args = data()
    c1 = f.compile(*args)
    assert f.compile(*args) is c1
    assert f.compiled_count == 1
    gW, gb = c1(*args)
    rW, rb = jax.grad(jloss, argnums=(0, 1))(*args)
    assert_close(gW, rW)
    assert_close(gb, rb)
    assert "HloModule" in c1.as_text()
    cost = c1.cost_analysis()
    assert cost["flops"] > 0 and cost["transcendentals"] >= 15  # tanh of the 5x3 activations
    assert c1.memory_analysis().argument_size_in_bytes > 0
    # other shapes compile anew; ShapeDtypeStructs are enough to compile
    specs = [
        jax.ShapeDtypeStruct((4, 3), jnp.float32),
        jax.ShapeDtypeStruct((3,), jnp.float32),
        jax.ShapeDtypeStruct((7, 4), jnp.float32),
        jax.ShapeDtypeStruct((7, 3), jnp.float32),
    ]
    c2 = f.compile(*specs)
    assert c2 is not c1 and f.compiled_count == 2
    small = [np.asarray(a[:7] if a.ndim == 2 and a.shape[0] == 5 else a, np.float32) for a in args]
    small[2] = np.ones((7, 4), np.float32)
    small[3] = np.ones((7, 3), np.float32)
    out = c2(*small)
    assert out[0].dtype == np.float32


def softplus_user(x):
    return jax.nn.silu(x)  # no rule for jax.nn.silu: sourcegrad cannot transform this


def uses_softplus(x):
    return np.sum(softplus_user(x) * 2)


def test_register_rule_for_a_user_function():
    with pytest.raises(sourcegrad.MissingRuleError, match="register_rule"):
        grad(uses_softplus)
    sourcegrad.register_rule(
        softplus_user, "softplus_user(x)", x="g * jax.nn.sigmoid(x) * (1 + x * (1 - jax.nn.sigmoid(x)))"
    )
    f = grad(uses_softplus)
    x = np.array([-1.0, 0.0, 2.0])
    assert_close(f(x), jax.grad(lambda v: jnp.sum(jax.nn.silu(v) * 2))(x))
    assert "softplus_user(x)" in f.source


def test_register_rule_rejects_bad_templates():
    with pytest.raises(sourcegrad.RuleError, match="neither a parameter"):
        sourcegrad.register_rule(softplus_user, "softplus_user(x)", x="g * undefined_thing(x)")
    with pytest.raises(sourcegrad.RuleError, match="no adjoint template"):
        sourcegrad.register_rule(softplus_user, "softplus_user(x, y)", x="g")
    with pytest.raises(sourcegrad.RuleError, match="does not parse"):
        sourcegrad.register_rule(softplus_user, "softplus_user(x)", x="g *")


def test_functions_from_exec_with_linecache_source_work():
    f = make_function("""
        def cube(x):
            return np.sum(x ** 3)
    """)
    assert_close(grad(f)(np.array([1.0, 2.0])), [3.0, 12.0])


def test_parameter_named_seed_is_a_located_error():
    f = make_function("""
        def f(x, seed):
            return np.sum(x * seed)
    """)
    with pytest.raises(sourcegrad.UnsupportedSyntaxError, match="clashes"):
        grad(f)
