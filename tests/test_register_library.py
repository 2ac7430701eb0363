"""register_rule for NumPy and SciPy functions (jax_impl=), the suggestion printed for a missing rule,
and temporaries that never hide the registered function (issue 10)."""

import sys
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special

import sourcegrad
from sourcegrad import grad
from sourcegrad.errors import MissingRuleError, RuleError

from .helpers import assert_close, make_function


def test_a_numpy_function_is_registered_with_its_jax_implementation():
    sourcegrad.register_rule(
        scipy.special.i0e,
        "i0e(x)",
        x="g * (jax.scipy.special.i1e(x) - jnp.sign(x) * ans)",
        jax_impl=jax.scipy.special.i0e,
    )
    fn = make_function("def f(x):\n    return np.sum(scipy.special.i0e(x) * x)\n", namespace={"scipy": scipy})
    x = np.array([0.3, -1.2, 2.5])
    expected = jax.grad(lambda v: jnp.sum(jax.scipy.special.i0e(v) * v))(x)
    assert_close(grad(fn)(x), expected, rtol=1e-6)


def test_a_numpy_function_without_a_jax_implementation_is_refused():
    with pytest.raises(RuleError, match="jax_impl=jnp.spacing"):
        sourcegrad.register_rule(np.spacing, "spacing(x)", x="g")


def test_the_suggestion_for_a_missing_rule_is_a_call_that_works():
    fn = make_function("def f(x):\n    return np.sum(np.trunc(x * 3.7) * x)\n")
    with pytest.raises(MissingRuleError) as info:
        grad(fn)
    call = next(line.strip() for line in str(info.value).splitlines() if "register_rule" in line)
    assert call == (
        'sourcegrad.register_rule(np.trunc, "trunc(x)", x="g * <d trunc / d x>", jax_impl=jnp.trunc)'
    )
    exec(call.replace("<d trunc / d x>", "0"), {"sourcegrad": sourcegrad, "np": np, "jnp": jnp, "jax": jax})
    x = np.array([0.3, -1.2, 2.5])
    expected = np.trunc(x * 3.7)
    assert_close(grad(fn)(x), expected, rtol=1e-6)


def test_a_ufunc_suggestion_names_no_out_parameter():
    from sourcegrad.rules import suggestion

    assert "out" not in suggestion("np.ldexp", np.ldexp)
    assert suggestion("np.ldexp", np.ldexp).startswith('sourcegrad.register_rule(np.ldexp, "ldexp(x1, x2)"')


def test_a_temporary_named_like_the_function_does_not_hide_it():
    module = types.ModuleType("mylib_for_sourcegrad_tests")
    exec("import jax.numpy as jnp\ndef erf(x):\n    return jnp.tanh(x)\n", module.__dict__)
    sys.modules[module.__name__] = module
    sourcegrad.register_rule(module.erf, "erf(x)", x="g * (1 - ans ** 2)")
    fn = make_function(
        "def f(x):\n    return np.sum(mylib.erf(x) * mylib.erf(2 * x))\n", namespace={"mylib": module}
    )
    x = np.array([0.3, -1.2, 2.5])
    expected = jax.grad(lambda v: jnp.sum(jnp.tanh(v) * jnp.tanh(2 * v)))(x)
    assert_close(grad(fn)(x), expected, rtol=1e-6)
