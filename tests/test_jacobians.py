"""``jacfwd`` (forward mode, a column per tangent) and ``jacrev`` (reverse mode, a row per seed)
against ``jax.jacfwd``/``jax.jacrev`` and float64 finite differences, for single arrays and
tuples of arrays, on corpus functions and on the seed page's example."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sourcegrad import jacfwd, jacrev

from .corpus import control_flow, straight_line  # noqa: F401  (registers the cases)
from .corpus.registry import CASES
from .helpers import assert_close, jax_version, make_function
from .test_forward import as64

#: corpus cases with array-valued inputs (no containers), some of each kind of control flow
CHOSEN = [
    c for c in CASES if c.jax and all(isinstance(c.make_args()[w], (np.ndarray, float)) for w in c.wrt)
][::4]


def fd_jacobian(fn, args, w, eps=1e-6):
    x = np.asarray(args[w], np.float64)
    cols = []
    for i in range(x.size):
        d = np.zeros(x.size)
        d[i] = eps
        d = d.reshape(x.shape)
        plus = np.asarray(fn(**{**args, w: x + d}), np.float64)
        minus = np.asarray(fn(**{**args, w: x - d}), np.float64)
        cols.append((plus - minus) / (2 * eps))
    out = np.stack(cols, axis=-1) if cols else np.zeros(0)
    return out.reshape(np.shape(cols[0]) + x.shape)


def reference(fn, args, wrt, which):
    jfn = jax_version(fn)
    names = list(wrt)

    def f(*w):
        return jfn(**{**args, **dict(zip(names, w))})

    jac = (jax.jacfwd if which == "fwd" else jax.jacrev)(f, argnums=tuple(range(len(names))))
    return jac(*[jnp.asarray(args[w]) for w in names])


def test_enough_cases():
    assert len(CHOSEN) >= 25


@pytest.mark.parametrize("case", CHOSEN, ids=lambda c: c.name)
def test_jacobians_match_jax_and_finite_differences(case):
    args = as64(case.make_args(), case.wrt)
    fwd = jacfwd(case.fn, wrt=case.wrt, max_iter=case.options.get("max_iter"))(**args)
    rev = jacrev(case.fn, wrt=case.wrt, max_iter=case.options.get("max_iter"))(**args)
    theirs = reference(case.fn, args, case.wrt, "fwd")
    for w, f, r, t in zip(case.wrt, fwd, rev, theirs):
        assert_close(f, t, rtol=case.rtol, atol=1e-9, what=f"{case.name}: jacfwd d/d{w} vs jax")
        assert_close(r, t, rtol=case.rtol, atol=1e-9, what=f"{case.name}: jacrev d/d{w} vs jax")
        assert_close(
            f, fd_jacobian(case.fn, args, w), rtol=1e-5, atol=1e-6, what=f"{case.name}: jacfwd d/d{w} vs FD"
        )


def test_single_input_gives_one_array():
    fn = make_function("""
        def lift(x, w):
            return np.tanh(x @ w) * 2.0
    """)
    x, w = np.random.default_rng(0).standard_normal((2, 3)), np.random.default_rng(1).standard_normal((3, 4))
    J = jacfwd(fn, wrt="w")(x, w)
    assert J.shape == (2, 4, 3, 4)
    assert_close(J, jax.jacfwd(lambda w: jnp.tanh(x @ w) * 2.0)(w), rtol=1e-10)
    assert_close(jacrev(fn, wrt="w")(x, w), J, rtol=1e-10)
