"""A rule cannot change once a gradient has used it (issue 9, item 6).

A gradient object transforms again for each new signature; if a rule could be replaced after
the first transform, one object would mix the old rule (first signature) and the new one (later
signatures). Registration after first use is refused instead.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import sourcegrad
from sourcegrad import grad

from .helpers import assert_close


def scaled_sine(x):
    return jnp.sin(x) * 3.0


def uses_scaled_sine(x):
    return np.sum(scaled_sine(x))


def never_used(x):
    return x * 2.0


def test_registering_again_before_use_replaces_the_rule():
    sourcegrad.register_rule(never_used, "never_used(x)", x="g * 5.0")  # wrong on purpose
    sourcegrad.register_rule(never_used, "never_used(x)", x="g * 2.0")
    fn = sourcegrad.rules.lookup(never_used)
    assert fn.sources["x"] == "g * 2.0"


def test_registering_again_after_use_is_refused():
    sourcegrad.register_rule(scaled_sine, "scaled_sine(x)", x="g * 3.0 * jnp.cos(x)")
    g = grad(uses_scaled_sine)
    x = np.array([0.1, 0.7])
    expected = jax.grad(lambda v: jnp.sum(jnp.sin(v) * 3.0))(x)
    assert_close(g(x), expected)
    with pytest.raises(sourcegrad.RuleError, match="already used to make a gradient"):
        sourcegrad.register_rule(scaled_sine, "scaled_sine(x)", x="g * 0.0")
    # the object made before still uses the one rule, for a new signature too
    x2 = np.array([[0.3, -0.2, 1.0]])
    assert_close(g(x2), jax.grad(lambda v: jnp.sum(jnp.sin(v) * 3.0))(x2))


def test_a_built_in_rule_cannot_be_replaced_after_use():
    grad(lambda_free_sin)(np.array([0.5]))
    with pytest.raises(sourcegrad.RuleError, match="register rules before|Register rules before"):
        sourcegrad.register_rule(np.sin, "sin(x)", x="g")


def lambda_free_sin(x):
    return np.sum(np.sin(x))
