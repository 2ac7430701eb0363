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
    # and the directional derivative of sourcegrad's own gradient, by finite differences
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
