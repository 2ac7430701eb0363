"""Forward mode (``sourcegrad.jvp``) on the whole corpus: each function's tangent against
``jax.jvp`` of its jax.numpy version and against float64 central finite differences along the
same random tangent; and the tangent code's shape (one tangent line after each primal line)."""

import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import sourcegrad
from sourcegrad import jvp

from .corpus import control_flow, straight_line  # noqa: F401  (registers the cases)
from .corpus.registry import CASES
from .helpers import assert_close, jax_version, make_function


def random_tangents(case, args):
    rng = np.random.default_rng(zlib.crc32(case.name.encode()) + 7)
    return tuple(
        jax.tree_util.tree_map(lambda a: rng.standard_normal(np.shape(a)), args[w]) for w in case.wrt
    )


def fd_jvp(fn, args, wrt, tangents, eps=1e-6):
    """Central finite differences in float64 along the tangent: (f(x + h t) - f(x - h t)) / 2h."""

    def moved(sign):
        new = dict(args)
        for w, t in zip(wrt, tangents):
            new[w] = jax.tree_util.tree_map(
                lambda a, d: np.asarray(a, np.float64) + sign * eps * np.asarray(d), args[w], t
            )
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
    return {
        k: (jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64), v) if k in wrt else v)
        for k, v in args.items()
    }


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


# ----- the API and the generated code's shape -----


def _softplus(x):
    return jnp.logaddexp(x, 0.0)


def _softplus_no_tangent(x):
    return jnp.logaddexp(x, 0.0)


def _uses_softplus(x):
    return np.sum(_softplus(x) * x)


def _uses_softplus_no_tangent(x):
    return np.sum(_softplus_no_tangent(x) * x)


def test_register_rule_takes_a_tangent():
    from sourcegrad import register_rule

    register_rule(_softplus_no_tangent, "_softplus_no_tangent(x)", x="g * jax.nn.sigmoid(x)")
    with pytest.raises(sourcegrad.MissingRuleError, match="no tangent rule") as info:
        jvp(_uses_softplus_no_tangent)
    assert info.value.lineno > 0 and "_softplus_no_tangent(x) * x" in info.value.text
    register_rule(_softplus, "_softplus(x)", x="g * jax.nn.sigmoid(x)", tangent="d_x * jax.nn.sigmoid(x)")
    x, dx = np.array([0.5, -1.0]), np.array([1.0, 2.0])
    f = jvp(_uses_softplus)
    assert "d_softplus_value = d_x * jax.nn.sigmoid(x)" in f.source, f.source
    _, d = f(x, tangents=dx)
    _, ref = jax.jvp(lambda x: jnp.sum(_softplus(x) * x), (x,), (dx,))
    assert_close(d, ref, rtol=1e-12)


def test_tangents_are_checked():
    fn = make_function("""
        def pair(x, w):
            return np.sum(x * w)
    """)
    f = jvp(fn, wrt=("x", "w"))
    with pytest.raises(sourcegrad.WrtError, match="one tangent per wrt input"):
        f(np.ones(2), np.ones(2), tangents=(np.ones(2),))
    with pytest.raises(sourcegrad.WrtError, match="pass tangents="):
        f(np.ones(2), np.ones(2))
    out, d = f(np.ones(2), np.full(2, 3.0), tangents=(np.ones(2), np.zeros(2)))
    assert float(out) == 6.0 and float(d) == 6.0


def test_inactive_values_get_no_tangent_and_lines_are_quoted():
    fn = make_function("""
        def masked(x, w):
            scale = np.sum(w ** 2)
            y = np.sin(x) * scale
            return np.sum(y)
    """)
    src = jvp(fn, wrt="x").source.split("def jvp_masked")[1]
    assert "d_scale" not in src and "d_w" not in src
    assert "# line 3: y = np.sin(x) * scale" in src
    lines = src.splitlines()
    i = lines.index("    y = sin * scale")
    assert lines[i + 1] == "    d_y = d_sin * scale"


def test_while_loop_needs_no_bound_in_forward_mode():
    fn = make_function("""
        def halve(x):
            while np.sum(x) > 1.0:
                x = x * 0.5
            return np.sum(x * x)
    """)
    src = jvp(fn).source
    assert "lax.while_loop" in src and "taped_while" not in src
    x = np.array([3.0, 5.0])
    _, d = jvp(fn)(x, tangents=np.array([1.0, 0.0]))
    assert_close(d, 2 * (x[0] / 8) / 8, rtol=1e-12)  # x is halved three times


def test_tangent_names_are_stable():
    from sourcegrad.normal.naming import Namer

    n = Namer({"x", "d_y"})
    assert n.tangent("x") == "d_x" and n.tangent("x") == "d_x"
    assert n.tangent("y") == "d_y_"
    assert n.tangent_names() == ["d_x", "d_y_"]
