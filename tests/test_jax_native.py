"""A sourcegrad gradient is a JAX function: it composes with jit, vmap, jvp, grad and scan.

Oracles: jax.grad of the same function with numpy bound to jax.numpy (``jax_version``), and the
closed form d/da sum(sqrt(a)) = 0.5 / sqrt(a) for Newton's iteration (a data-dependent while loop,
which jax.grad cannot reverse)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sourcegrad import TapeOverflowError, grad
from tests import jax_functions as F
from tests.helpers import jax_version

rng = np.random.default_rng(0)
X = jnp.asarray(rng.uniform(0.2, 1.2, (4, 3)))  # a batch of 4 rows
K = jnp.asarray(0.6)

# name: (function, wrt, arguments of one example, index of the batched argument)
CASES = {
    "straight": (
        F.mlp,
        ("W", "b"),
        (jnp.asarray(rng.normal(size=(3, 5))) * 0.5, jnp.asarray(rng.normal(size=5)), X[0]),
        2,
    ),
    "loop": (F.recurrence, ("x", "k"), (X[0], K), 0),
    "checkpointed": (F.checkpointed, ("x", "k"), (X[0], K), 0),
    "branch": (F.branch, "x", (X[0] - 0.5,), 0),
    "calls": (F.calls, ("x", "k"), (X[0], K), 0),
}


def _branch(x):  # F.branch with the data-dependent `if` as a select, so vmap can batch it
    return jnp.sum(jnp.where(jnp.sum(x) > 0, x * 0.5, jnp.sin(x)) ** 2)


def oracle(fn, wrt):
    names = fn.__code__.co_varnames[: fn.__code__.co_argcount]
    single = isinstance(wrt, str)
    idx = (names.index(wrt),) if single else tuple(names.index(n) for n in wrt)
    g = jax.grad(_branch if fn is F.branch else jax_version(fn), argnums=idx)
    return (lambda *a: g(*a)[0]) if single else g


def newton_grad(a):
    return 0.5 / jnp.sqrt(a)


def close(a, b, tol=1e-9):
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=tol, atol=tol)
    assert jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)


@pytest.mark.parametrize("case", CASES)
def test_jit(case):
    fn, wrt, args, _ = CASES[case]
    close(jax.jit(grad(fn, wrt=wrt))(*args), oracle(fn, wrt)(*args))


@pytest.mark.parametrize("case", CASES)
def test_vmap_per_example(case):
    fn, wrt, args, b = CASES[case]
    batched = list(args)
    batched[b] = X - 0.6 if case == "branch" else X  # rows on both sides of the branch
    axes = [0 if i == b else None for i in range(len(args))]
    close(
        jax.vmap(grad(fn, wrt=wrt), in_axes=axes)(*batched), jax.vmap(oracle(fn, wrt), in_axes=axes)(*batched)
    )


@pytest.mark.parametrize("case", CASES)
def test_jvp_and_grad_over_the_gradient(case):
    fn, wrt, args, _ = CASES[case]
    g, ref = grad(fn, wrt=wrt), oracle(fn, wrt)
    tangents = tuple(jnp.ones_like(a) for a in args)
    close(jax.jvp(g, args, tangents), jax.jvp(ref, args, tangents))

    def scalar(h):
        return lambda *a: sum(jnp.sum(jnp.sin(v)) for v in jax.tree_util.tree_leaves(h(*a)))

    close(
        jax.grad(scalar(g), argnums=tuple(range(len(args))))(*args),
        jax.grad(scalar(ref), argnums=tuple(range(len(args))))(*args),
    )


@pytest.mark.parametrize("case", CASES)
def test_inside_a_scan_body(case):
    fn, wrt, args, _ = CASES[case]
    g, ref = grad(fn, wrt=wrt), oracle(fn, wrt)

    def run(h):
        def body(carry, scale):
            out = h(*[a * scale for a in args])
            return carry + sum(jnp.sum(v) for v in jax.tree_util.tree_leaves(out)), out

        return jax.lax.scan(body, jnp.zeros(()), jnp.asarray([1.0, 0.9, 1.1]))

    close(jax.jit(lambda: run(g))(), run(ref))


def test_while_loop_under_jit_vmap_scan_and_forward_mode():
    g = grad(F.newton)
    a = X + 1.0
    close(jax.jit(g)(a[0]), newton_grad(a[0]), 1e-7)
    close(jax.vmap(g)(a), jax.vmap(newton_grad)(a), 1e-7)
    _, ys = jax.lax.scan(lambda c, row: (c, g(row)), 0.0, a)
    close(ys, jax.vmap(newton_grad)(a), 1e-7)
    # forward over reverse: the Hessian of sum(sqrt(a)); jax.grad cannot reverse a while loop
    close(jax.jacfwd(g)(a[0]), jnp.diag(-0.25 * a[0] ** -1.5), 1e-6)


def test_tape_overflow_under_jit_is_an_error_not_a_truncated_gradient():
    g = grad(F.newton_short)
    a = jnp.asarray([2.0, 3.0])
    with pytest.raises(
        Exception,
        match=r"TapeOverflowError: a while loop of `newton_short`.*"
        r"max_iter=3",
    ):
        jax.block_until_ready(jax.jit(g)(a))


def test_tape_overflow_under_vmap_raises():
    g = grad(F.newton_short)
    with pytest.raises(TapeOverflowError, match=r"max_iter=3"):
        jax.vmap(g)(jnp.asarray([[2.0, 3.0], [1.0, 1.0]]))


def test_tape_overflow_without_a_callback_gives_nan_gradients():
    """What an exported gradient does (it cannot carry a host callback): NaN, never truncated."""
    g = grad(F.newton_short)
    t = g._current()
    a = jnp.asarray([2.0, 3.0])

    def run(a):
        return g._results(t, t.grad_fn(a), callback=False)[1]

    out = jax.jit(run)(a)
    assert np.all(np.isnan(np.asarray(out)))
    # a loop that ends within its tape is untouched
    close(jax.jit(run)(jnp.asarray([1.0, 1.0])), grad(F.newton_short)(np.asarray([1.0, 1.0])))


def test_per_example_gradients_example():
    import pathlib
    import re
    import subprocess
    import sys

    repo = pathlib.Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, str(repo / "examples" / "per_example_grads.py")],
        capture_output=True,
        text=True,
        cwd=repo,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert float(re.search(r"max difference vmap vs loop: (\S+)", done.stdout).group(1)) < 1e-4
    assert float(re.search(r"ratio (\d+)x", done.stdout).group(1)) > 1
    assert "clipped per-example norms <= 1: True" in done.stdout
