"""``if`` on a value known while transforming or tracing (issue 9): a constant test is folded in
the generated code (only the side Python runs is there), and a name one side of a static ``if``
assigns stays Python's NameError, with the line that reads it, through later ``if``s that merge
it; where Python's run defines the name, its value."""

import jax
import numpy as np
import pytest

from sourcegrad import UnsupportedSyntaxError, grad, value_and_grad

from .helpers import assert_close, fd_vjp, jax_version, library_frames, make_function

X = np.array([0.3, -0.7, 1.1])


def _fd(fn, args, wrt=("x",)):
    return fd_vjp(fn, args, wrt)[1]


def _branch_lines(source: str) -> list[str]:
    """The ``if``/``else`` lines of the generated code, less the accumulator's (``if acc is None``)."""
    lines = [line.strip() for line in source.splitlines()]
    kept = [k for k, line in enumerate(lines) if line.startswith(("if ", "else:"))]
    return [lines[k] for k in kept if "acc" not in lines[k] and "acc" not in lines[k + 1]]


FOLDED = """
def f(x):
    if FLAG:
        x = x * 2.0
    else:
        x = x * 3.0
    if not FLAG:
        x = x + 1.0
    if FLAG and OTHER:
        x = np.sin(x)
    y = x * 5.0 if FLAG else x * 7.0
    return np.sum(x * y)
"""


@pytest.mark.parametrize("flag", [False, True])
def test_constant_tests_are_folded_away(flag):
    f = make_function(FOLDED, namespace={"FLAG": flag, "OTHER": True})
    g = value_and_grad(f, wrt="x")
    value, dx = g(X)
    assert_close(value, f(X))
    assert_close(dx, _fd(f, {"x": X})[0], rtol=1e-6, atol=1e-8)
    assert_close(dx, jax.grad(jax_version(f))(X), rtol=1e-12, atol=1e-12)
    source = g.source
    assert _branch_lines(source) == [], source  # no `if True:`, no dead side
    # the kept statements keep the comment that quotes the user's line
    kept = "x = x * 2.0" if flag else "x = x * 3.0"
    dropped = "x = x * 3.0" if flag else "x = x * 2.0"
    assert f"# line 3: {kept}" in source or f"# line 5: {kept}" in source, source
    code = "\n".join(line for line in source.splitlines() if not line.strip().startswith("#"))
    assert dropped.split("= ")[1] not in code, source
    assert ("* 5.0" in code) == flag and ("* 7.0" in code) == (not flag), source


def test_a_static_test_known_only_while_tracing_stays_an_if():
    f = make_function(
        """
        def f(x):
            if x.shape[0] > 2:
                x = x * 2.0
            return np.sum(x * x)
        """
    )
    g = grad(f, wrt="x")
    assert_close(g(X), 8.0 * X)
    assert len(_branch_lines(g.source)) >= 2


def test_name_the_constant_if_never_assigns_is_a_located_name_error():
    f = make_function(
        """
        def f(x):
            if FLAG:
                y = x * 2.0
            if not OTHER:
                y = x + 1.0
            return np.sum(y)
        """,
        namespace={"FLAG": False, "OTHER": True},
    )
    with pytest.raises(UnsupportedSyntaxError) as err:
        grad(f, wrt="x")(X)
    text = str(err.value)
    assert ":6:" in text and "`y` is not defined" in text and "NameError" in text, text
    assert "NoneType" not in text
    assert not library_frames(err.value)
    with pytest.raises(NameError):  # Python agrees
        f(X)


MERGED = """
def f(x, flag: bool):
    if flag:
        y = x * 2.0
    if not flag:
        y = x + 1.0
    if OTHER:
        y = y * y
    return np.sum(y)
"""


@pytest.mark.parametrize("flag", [False, True])
def test_a_later_static_if_that_defines_the_name_gives_pythons_value(flag):
    f = make_function(MERGED, namespace={"OTHER": True})
    g = value_and_grad(f, wrt="x")
    value, dx = g(X, flag)
    assert_close(value, f(X, flag))
    assert_close(dx, _fd(f, {"x": X, "flag": flag})[0], rtol=1e-6, atol=1e-8)


def test_a_later_static_if_that_keeps_the_unbound_value_checks_it_where_read():
    f = make_function(
        """
        def f(x, flag: bool):
            if flag:
                y = x * 2.0
            if x.shape[0] > 5:
                y = x + 1.0
            return np.sum(y)
        """
    )
    g = grad(f, wrt="x")
    assert_close(g(X, True), 2.0 * np.ones(3))
    with pytest.raises(NameError, match=r":6:\d+: `y` is not defined: the if at line 2 assigns it only"):
        g(X, False)
    with pytest.raises(NameError):  # Python agrees
        f(X, False)


def test_an_if_on_data_that_merges_an_unbound_value_is_a_located_error():
    f = make_function(
        """
        def f(x, flag: bool):
            if flag:
                y = x * 2.0
            if np.sum(x) > 0:
                y = x + 1.0
            return np.sum(y)
        """
    )
    g = grad(f, wrt="x")
    assert_close(g(X, True), _fd(f, {"x": X, "flag": True})[0], rtol=1e-6, atol=1e-8)
    with pytest.raises(NameError, match=r":4:\d+: `y` is not defined on every path through the if"):
        g(X, False)
