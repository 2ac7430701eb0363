"""Mistakes found while JAX traces the generated code, located on the user's line by every entry
point: a failed ``assert`` on shapes or static arguments (an ``AssertionError``, as Python's), a
name Python would not have assigned (a ``NameError``), and arrays whose shapes do not fit a line
(``ShapeError``), through ``grad``, ``.primal``, ``jvp``, ``hessian``, ``hvp``, ``jacfwd`` and
``jacrev`` (the compound ones used to end in JAX's ``TypeError`` or a bare ``AssertionError``
from inside the library)."""

from __future__ import annotations

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad.errors import AssertionFailedError, ShapeError, UnboundNameError

from .helpers import library_frames, make_function

CHECKED = """
def checked(x, n):
    assert x.shape[0] == n, "x needs n entries"
    return np.sum(np.sin(x) ** 2)

def mismatched(x, y):
    z = x * 2.0
    return np.sum(z + y) ** 2

def one_sided(x, flag):
    if flag:
        y = x * 2.0
    return np.sum(y ** 2)
"""

ENTRY_POINTS = {
    "grad": lambda f, *a: sg.grad(f)(*a),
    "primal": lambda f, *a: sg.grad(f).primal(*a),
    "value_and_grad": lambda f, *a: sg.grad(f).value_and_grad(*a),
    "compile": lambda f, *a: sg.grad(f).compile(*a),
    "jvp": lambda f, *a: sg.jvp(f)(*a, tangents=np.ones_like(a[0])),
    "hessian": lambda f, *a: sg.hessian(f)(*a),
    "hvp": lambda f, *a: sg.hvp(f)(*a, vectors=np.ones_like(a[0])),
    "jacfwd": lambda f, *a: sg.jacfwd(f)(*a),
    "jacrev": lambda f, *a: sg.jacrev(f)(*a),
}


@pytest.fixture(scope="module")
def module():
    names = ("checked", "mismatched", "one_sided")
    return type("Functions", (), {n: staticmethod(make_function(CHECKED, n)) for n in names})


def _raised(call, cls):
    with pytest.raises(cls) as info:
        call()
    assert library_frames(info.value) == [], library_frames(info.value)
    return str(info.value)


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_a_failed_assert_is_an_assertion_error_on_the_users_line(module, entry):
    text = _raised(lambda: ENTRY_POINTS[entry](module.checked, np.ones(4), 3), AssertionFailedError)
    assert ":2:5: assert x.shape[0] == n: x needs n entries" in text, text
    assert 'assert x.shape[0] == n, "x needs n entries"' in text and "^^^" in text, text
    assert "how to fix" in text, text


def test_an_assert_that_holds_gives_numpys_gradient(module):
    x = np.array([0.3, -1.2, 2.0])
    g = sg.grad(module.checked)(x, 3)
    np.testing.assert_allclose(np.asarray(g), 2 * np.sin(x) * np.cos(x), rtol=1e-10)


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_shapes_that_do_not_fit_a_line_are_located_there(module, entry):
    text = _raised(lambda: ENTRY_POINTS[entry](module.mismatched, np.ones(4), np.ones(3)), ShapeError)
    assert ":7:5: this line fails for the shapes" in text and "(4,), (3,)" in text, text
    assert "return np.sum(z + y) ** 2" in text, text


@pytest.mark.parametrize("entry", ["grad", "primal", "jvp", "jacfwd", "jacrev"])
def test_a_name_python_would_not_have_assigned_is_a_name_error(module, entry):
    text = _raised(lambda: ENTRY_POINTS[entry](module.one_sided, np.ones(3), False), UnboundNameError)
    assert isinstance(UnboundNameError("x"), NameError)
    assert ":12:5: `y` is not defined: the if at line 10 assigns it only when its test is True" in text, text
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(np.asarray(sg.grad(module.one_sided)(x, True)), 8 * x, rtol=1e-12)
    v = np.array([1.0, 0.5, -2.0])  # forward mode on the side that assigns it (its tangent is kept)
    _, tangent = sg.jvp(module.one_sided)(x, True, tangents=v)
    np.testing.assert_allclose(float(tangent), 8 * x @ v, rtol=1e-12)


def test_an_assert_in_a_helper_from_another_file_is_located_in_that_file():
    helper = make_function(
        """
        def helper(x, n):
            assert x.shape[0] == n, "helper wants n entries"
            return np.sin(x)
        """,
        filename="<test-helper-file>",
    )
    f = make_function("def f(x):\n    return np.sum(helper(x, 3))\n", namespace={"helper": helper})
    text = _raised(lambda: sg.grad(f)(np.ones(4)), AssertionFailedError)
    assert text.startswith("<test-helper-file>:2:5: assert x.shape[0] == n: helper wants n entries"), text
    np.testing.assert_allclose(np.asarray(sg.grad(f)(np.array([0.1, 0.2, 0.3]))), np.cos([0.1, 0.2, 0.3]))
