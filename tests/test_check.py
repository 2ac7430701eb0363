"""sourcegrad.check: the generated gradient against float64 finite differences of the user's code."""

import inspect

import numpy as np
import pytest

import sourcegrad
from sourcegrad import GradientCheckError, check, grad


def line_of(fn, text):
    """The file line of the first line of ``fn`` that contains ``text``."""
    lines, first = inspect.getsourcelines(fn)
    return first + next(i for i, line in enumerate(lines) if text in line)


# ----- a rule with a deliberately wrong adjoint: d(x*x)/dx is 2x, not 3x -----


def wrong_square(x):
    return x * x


sourcegrad.register_rule(wrong_square, "wrong_square(x)", x="g * 3 * x")


def two_faced(x):
    """NumPy and the generated (JAX) code compute different values: 2x under NumPy, 3x traced."""
    return x * 2.0 if isinstance(x, np.ndarray) else x * 3.0


sourcegrad.register_rule(two_faced, "two_faced(x)", x="g * 3.0")


def uses_wrong_rule(x, w):
    a = np.sin(x) * w
    c = np.exp(a) - 1.0
    b = wrong_square(a)
    d = b * c + a
    return np.sum(d)


def wrong_rule_in_loop(x, n=4):
    z = np.tanh(x)
    for _i in range(n):
        z = z * 0.9 + wrong_square(z) * 0.1
    return np.sum(z * z)


def forward_differs(x):
    a = np.cos(x)
    b = two_faced(a)
    return np.sum(b * b)


# ----- correct functions: the check passes -----


def mlp(W, b, x):
    h = np.tanh(x @ W + b)
    return np.mean(h**2)


def recurrence(x, h, n=5):
    for _i in range(n):
        h = np.sin(h * x) + 0.5 * h
    return h


def branchy(x, y):
    s = np.sum(x * y)
    if s > 0:
        out = np.log1p(x * x) * y
    else:
        out = np.exp(-x) * y
    return out, s


def with_dict(params, x):
    z = x @ params["W"] + params["b"]
    return np.sum(np.maximum(z, 0.1 * z) ** 2)


def newton_sqrt(a):
    x = a
    err = 1.0
    while err > 1e-12:  # sourcegrad: max_iter=60
        y = 0.5 * (x + a / x)
        err = np.max(np.abs(y - x))
        x = y
    return np.sum(x)


rng = np.random.default_rng(0)
W, b, X = rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal((5, 4))


@pytest.mark.parametrize(
    "fn, args, wrt",
    [
        (mlp, (W, b, X), ("W", "b", "x")),
        (recurrence, (np.array([0.3, -0.7, 1.1]), np.array([0.5, 0.1, -0.2])), ("x", "h")),
        (branchy, (np.array([0.5, 1.5]), np.array([1.0, 2.0])), ("x", "y")),
        (branchy, (np.array([-0.5, -1.5]), np.array([1.0, 2.0])), ("x", "y")),
        (with_dict, ({"W": W, "b": b}, X), ("params", "x")),
        (newton_sqrt, (np.array([2.0, 3.0, 10.0]),), 0),
    ],
)
def test_correct_functions_pass(fn, args, wrt):
    result = check(fn, *args, wrt=wrt)
    assert result.ok, str(result)
    names = (
        wrt
        if isinstance(wrt, tuple)
        else (inspect.signature(fn).parameters and list(inspect.signature(fn).parameters)[wrt],)
    )
    assert list(result.errors) == list(names)
    assert all(e < 1e-6 for e in result.errors.values()), result.errors
    assert result.divergence is None
    assert "ok" in str(result) and "ok" in repr(result)
    assert result.assert_ok() is result
    # the numeric side is real: its derivative is not zero for these functions
    assert all(abs(a.numeric) > 1e-6 for a in result.arguments)


def test_wrong_adjoint_fails_and_names_its_line():
    x, w = np.array([0.2, 0.9, -0.4]), np.array([1.5, -0.5, 2.0])
    result = check(uses_wrong_rule, x, w, wrt=("x", "w"))
    assert not result.ok
    assert all(e > 1e-3 for e in result.errors.values())
    line = line_of(uses_wrong_rule, "b = wrong_square(a)")
    d = result.divergence
    assert (d.line, d.end_line, d.kind) == (line, line, "derivative")
    assert d.text == "b = wrong_square(a)" and d.filename == __file__
    g = grad(uses_wrong_rule, wrt=("x", "w"))
    assert [n for n, _ in d.generated["backward"]] == g.lines_for(line)["backward"]
    assert any("3 * a" in text for _, text in d.generated["backward"])
    report = str(result)
    assert f"line {line}: b = wrong_square(a)" in report and "FAILED" in report
    assert f"diverges at line {line}" in repr(result)
    with pytest.raises(GradientCheckError, match=f"line {line}"):
        result.assert_ok()
    with pytest.raises(GradientCheckError, match="b_a = b_a"):
        check(uses_wrong_rule, x, w, wrt=("x", "w"), raise_on_failure=True)


def test_wrong_adjoint_inside_a_loop_names_the_loop():
    result = check(wrong_rule_in_loop, np.array([0.3, -0.8]))
    assert not result.ok
    start = line_of(wrong_rule_in_loop, "for _i in range(n)")
    assert (result.divergence.line, result.divergence.end_line) == (start, start + 1)


def test_forward_difference_is_reported_as_a_value():
    result = check(forward_differs, np.array([0.3, 1.2]))
    assert not result.ok and result.value_error > 0.1
    assert result.divergence.kind == "value"
    assert result.divergence.line == line_of(forward_differs, "b = two_faced(a)")
    assert "value" in str(result)


def test_deterministic_and_takes_a_grad_function():
    g = grad(uses_wrong_rule, wrt="w")
    x, w = np.array([0.2, 0.9, -0.4]), np.array([1.5, -0.5, 2.0])
    first, second = check(g, x, w), check(g, x, w)
    assert list(first.errors) == ["w"]
    assert first.errors == second.errors
    assert first.arguments[0].numeric == second.arguments[0].numeric
    other = check(g, x, w, random_state=1, locate=False)
    assert other.errors != first.errors and other.divergence is None


def test_float32_inputs_are_checked_in_float64():
    result = check(mlp, W.astype(np.float32), b.astype(np.float32), X.astype(np.float32), wrt=("W", "b"))
    assert result.ok and all(e < 1e-6 for e in result.errors.values())


def test_check_is_exported():
    assert "check" in sourcegrad.__all__ and sourcegrad.check is check


def writes_into_its_argument(x):
    x[0] = 0.0  # NumPy code may write into its inputs: every evaluation gets a fresh copy
    return np.sum(np.sin(x) * x)


def closure_maker(scale):
    def inner(x):
        y = np.cos(x) * scale
        z = wrong_square(y)
        return np.sum(z)

    return inner


def test_inputs_written_in_place_and_closures():
    x = np.array([0.5, 1.5, -0.3])
    result = check(writes_into_its_argument, x)
    assert result.ok, str(result)
    assert np.array_equal(x, [0.5, 1.5, -0.3])
    inner = closure_maker(1.7)
    failed = check(inner, x)
    assert not failed.ok and failed.divergence.line == line_of(inner, "z = wrong_square(y)")
