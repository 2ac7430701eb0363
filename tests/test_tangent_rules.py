"""Each rule's tangent template, checked on its own with the table of ``test_rules.py``: the
tangent (forward mode) of each row's expression along a random direction, against ``jax.jvp`` and
float64 central finite differences; with every input moving, and with each input alone (the
others constant: their tangents are pruned, and a broadcast argument's tangent is spread)."""

import math
import zlib

import jax
import jax.scipy.linalg
import jax.scipy.special
import jax.scipy.stats
import numpy as np
import pytest
import scipy.linalg
import scipy.special
import scipy.stats

from sourcegrad import jvp
from sourcegrad.errors import RuleError
from sourcegrad.rules import all_rules, defrule

from .helpers import assert_close, make_function
from .test_forward import fd_jvp, reference_jvp
from .test_rules import FD_ONLY, NONDIFF, TABLE, _inputs


def test_every_rule_has_a_tangent():
    # the built-in rules (a test's own register_rule without a tangent is allowed: jvp refuses it)
    missing = sorted(
        k
        for k, r in all_rules().items()
        if r.domain.startswith("sourcegrad.transforms") and not r.has_tangent
    )
    assert not missing, f"rules without a tangent template: {missing}"


def _row_function(key):
    expr, spec, _ = TABLE[key]
    names = list(spec)
    *lines, result = [part.strip() for part in expr.split(";")]
    body = "".join(f"    {line}\n" for line in lines)
    source = f"def tangent_{key.replace('.', '_')}({', '.join(names)}):\n{body}    return {result}\n"
    # the function calls SciPy; its oracle, the same source, calls jax.scipy (as in test_rules.py)
    return (
        make_function(source, namespace={"jax": jax, "scipy": scipy, "math": math}),
        make_function(source, namespace={"jax": jax, "scipy": jax.scipy, "math": math}),
        names,
    )


def _subsets(names):
    return [tuple(names)] + ([(n,) for n in names] if len(names) > 1 else [])


@pytest.mark.parametrize("key", sorted(TABLE))
def test_tangent_rule(key):
    fn, oracle, names = _row_function(key)
    args = _inputs(TABLE[key][1], key)
    rng = np.random.default_rng(zlib.crc32(key.encode()) + 3)
    for wrt in _subsets(names):
        tangents = tuple(rng.standard_normal(np.shape(args[w])) for w in wrt)
        out, d_out = jvp(fn, wrt=wrt)(**args, tangents=tangents)
        assert_close(out, fn(**args), rtol=1e-12, atol=1e-12, what=f"{key}: value")
        what = f"{key} along {', '.join(wrt)}"
        assert_close(d_out, fd_jvp(fn, args, wrt, tangents), rtol=1e-5, atol=1e-6, what=f"{what} vs FD")
        if key not in FD_ONLY:
            _, theirs = reference_jvp(oracle, args, wrt, tangents)
            assert_close(d_out, theirs, rtol=TABLE[key][2], atol=1e-10, what=f"{what} vs jax")


@pytest.mark.parametrize("key", sorted(NONDIFF))
def test_non_differentiable_rule_has_zero_tangent(key):
    fn = make_function(
        f"def nd_tangent_{key}(x):\n    return np.sum({NONDIFF[key]})\n",
        namespace={"stop_gradient": __import__("sourcegrad").stop_gradient},
    )
    f = jvp(fn)
    _, d_out = f(np.array([0.3, -1.7, 2.2]), tangents=np.ones(3))
    assert float(d_out) == 0.0


def test_tangent_template_is_checked_when_registered():
    with pytest.raises(RuleError, match="tangent"):
        defrule("jnp.not_a_function(x)", x="g", tangent="d_y * x")
    with pytest.raises(RuleError, match="no tangent contribution"):
        defrule("jnp.not_a_function2(x, y)", x="g", y="g", tangent=dict(x="d_x"))
