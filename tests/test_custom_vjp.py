"""sourcegrad.custom_vjp: the generated adjoint as the reverse rule of a JAX function.

Oracle: jax.grad of the same function written with jax.numpy; the examples train with optax and
equinox and compare with training by jax.grad throughout."""

import pathlib
import re
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import sourcegrad
from sourcegrad import WrtError
from tests import jax_functions as F
from tests.helpers import jax_version

REPO = pathlib.Path(__file__).resolve().parents[1]
rng = np.random.default_rng(1)
W, B, X = (jnp.asarray(rng.normal(size=s)) for s in ((3, 5), (5,), (4, 3)))


def outer(layer):
    return lambda W, b, x: jnp.sin(layer(W, b, x * 2.0)) * jnp.sum(x)


def test_jax_grad_runs_the_generated_backward():
    layer = sourcegrad.custom_vjp(F.mlp)  # default wrt: every array parameter
    got = jax.grad(outer(layer), argnums=(0, 1, 2))(W, B, X[0])
    want = jax.grad(outer(jax_version(F.mlp)), argnums=(0, 1, 2))(W, B, X[0])
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    jaxpr = str(jax.make_jaxpr(jax.grad(outer(layer)))(W, B, X[0]))
    assert "grad_mlp" in jaxpr  # the generated gradient function is what runs backward


def test_under_jit_and_vmap():
    layer = sourcegrad.custom_vjp(F.mlp, wrt=("W", "b", "x"))
    per_example = jax.jit(jax.vmap(jax.grad(outer(layer), argnums=(0, 2)), in_axes=(None, None, 0)))
    ref = jax.vmap(jax.grad(outer(jax_version(F.mlp)), argnums=(0, 2)), in_axes=(None, None, 0))
    for a, b in zip(per_example(W, B, X), ref(W, B, X)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_while_loop_and_static_argument():
    newton = sourcegrad.custom_vjp(F.newton)
    a = jnp.asarray([2.0, 3.0, 5.0])
    np.testing.assert_allclose(
        jax.grad(lambda a: newton(a) ** 2)(a), 2 * jnp.sum(jnp.sqrt(a)) * 0.5 / jnp.sqrt(a), rtol=1e-8
    )
    rec = sourcegrad.custom_vjp(F.recurrence)
    np.testing.assert_allclose(
        jax.grad(rec, argnums=(0, 1))(X[0], 0.6)[1],
        jax.grad(jax_version(F.recurrence), argnums=1)(X[0], 0.6),
        rtol=1e-10,
    )


def test_a_differentiated_argument_outside_wrt_is_an_error_not_a_zero():
    layer = sourcegrad.custom_vjp(F.mlp, wrt=("W",))
    with pytest.raises(WrtError, match=r"`x` is differentiated .* not in its wrt \(W\)"):
        jax.grad(lambda W, x: layer(W, B, x), argnums=(0, 1))(W, X[0])
    # not differentiating x is fine
    got = jax.grad(lambda W: layer(W, B, X[0]))(W)
    np.testing.assert_allclose(got, jax.grad(jax_version(F.mlp))(W, B, X[0]), rtol=1e-10)


def run(script):
    done = subprocess.run(
        [sys.executable, str(REPO / "examples" / script)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.parametrize("script", ["optax_custom_vjp.py", "equinox_custom_vjp.py"])
def test_training_examples_match_jax_grad(script):
    out = run(script)
    first, last = (float(v) for v in re.search(r"loss: (\S+) -> (\S+) \(sourcegrad", out).groups())
    assert last < first / 5, out
    ref = re.search(r"loss: \S+ -> (\S+) \(jax.grad", out).group(1)
    assert abs(float(ref) - last) < 1e-3, out
    assert float(re.search(r"max parameter difference after training: (\S+)", out).group(1)) < 1e-4
