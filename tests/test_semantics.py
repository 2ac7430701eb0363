"""NumPy's answer or a located error (issue 9): decorated functions, files edited after import,
module values read at call time, complex inputs, integer outputs, shapes that do not fit,
arguments that cannot be differentiated, and grad's options."""

import functools
import importlib.util
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import sourcegrad
from sourcegrad import UnsupportedSyntaxError, grad
from sourcegrad.frontend.parse import parse_function

from .helpers import assert_close, library_frames, make_function
from .helpers import fd_vjp as _fd_vjp


def fd(fn, x):
    """float64 central differences of the NumPy function, read at this moment."""
    return _fd_vjp(fn, {"x": x}, ("x",))[1][0]


def load_module(tmp_path, name, text):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(text))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module, path


def no_library_frames(exc):
    inner = library_frames(exc)
    assert not inner, inner


X = np.array([0.3, -1.2, 2.0])


# ----- 3. decorated functions -----
DECORATED = """
    import functools
    import numpy as np
    from sourcegrad import grad

    def doubled(f):
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            return 2.0 * f(*args, **kwargs)
        return wrapper

    @doubled
    def loss(x):
        return np.sum(np.sin(x))

    @doubled
    @grad
    def inner_grad(x):
        return np.sum(np.sin(x))

    @grad(wrt="x")
    def plain(x):
        return np.sum(np.sin(x))
"""


def test_a_wrapped_function_is_refused_at_the_decorator(tmp_path):
    mod, path = load_module(tmp_path, "sg_decorated", DECORATED)
    with pytest.raises(sourcegrad.UnsupportedSyntaxError) as info:
        grad(mod.loss)
    err = info.value
    assert err.filename == str(path) and err.text.strip() == "@doubled"
    assert "wrapper" in str(err) and "__wrapped__" in str(err) and "@grad" in str(err)
    no_library_frames(err)
    # applied knowingly, to the inner function, it differentiates the inner body
    assert_close(grad(mod.loss.__wrapped__)(X), np.cos(X))
    # @grad under the other decorator: the wrapper doubles what grad returns, as written
    assert_close(mod.inner_grad(X), 2.0 * np.cos(X))
    assert_close(mod.plain(X), np.cos(X))


def lambda_free_sin(x):
    return np.sin(x)


def test_partial_and_bound_methods_differentiate_the_function_underneath():
    def f(x, y, scale=1.0):
        return np.sum(np.sin(x) * y) * scale

    y = np.array([0.5, -2.0, 1.5])
    g = grad(functools.partial(f, y=y, scale=3.0))  # wrt=0: the partial's first parameter, x
    assert_close(g(X), fd(lambda x: f(x, y, 3.0), X))
    g = grad(functools.partial(functools.partial(f, X), scale=2.0), wrt=0)  # wrt=0 is now y
    assert_close(g(y), _fd_vjp(lambda y: f(X, y, 2.0), {"y": y}, ("y",))[1][0])
    assert "def grad_f(x, y, scale" in g.source

    class Model:
        def loss(self, x):
            return np.sum(x**2)

        def reads_self(self, x):
            return np.sum(x * self.k)

    assert_close(grad(Model().loss)(X), 2 * X)
    with pytest.raises(UnsupportedSyntaxError, match="reads `self`") as info:
        grad(Model().reads_self)
    no_library_frames(info.value)
    # grad of a gradient is second order now (issue 11): a function of one scalar, no seed needed
    assert_close(grad(grad(lambda_free_sin))(0.7), -np.sin(0.7))
    with pytest.raises(sourcegrad.SourceUnavailableError, match="partial"):
        sourcegrad.jvp(functools.partial(f, y=y))


# ----- 4. the file changed on disk -----
def test_a_file_edited_after_import_is_refused(tmp_path):
    mod, path = load_module(
        tmp_path,
        "sg_edited",
        """
        import numpy as np

        def f(x):
            return np.sum(np.sin(x))
    """,
    )
    assert_close(grad(mod.f)(X), np.cos(X))
    path.write_text(path.read_text().replace("np.sin(x)", "np.cos(x)"))
    with pytest.raises(sourcegrad.SourceChangedError) as info:
        grad(mod.f)
    assert "reload" in str(info.value) and f"{path}:4" in str(info.value)
    no_library_frames(info.value)
    mod, _ = load_module(tmp_path, "sg_edited", path.read_text())  # imported again
    assert_close(grad(mod.f)(X), -np.sin(X))


def test_closures_methods_and_nested_code_match_their_source(tmp_path):
    mod, _ = load_module(
        tmp_path,
        "sg_shapes_of_code",
        """
        from __future__ import annotations
        import numpy as np
        from numpy import sin

        def outer(c):
            def h(x):
                return np.sum(sin(x) * c)
            return h

        class Model:
            def loss(self, x: np.ndarray) -> float:
                def sq(v: float):
                    return v * v
                return np.sum(sq(x))
    """,
    )
    assert_close(grad(mod.outer(3.0))(X), 3.0 * np.cos(X))
    parse_function(mod.Model.loss)  # a method with a nested def and annotations: the same code


# ----- 5. module values are read at call time -----
def test_module_values_rebound_or_written_in_place_are_read_at_call_time(tmp_path):
    mod, _ = load_module(
        tmp_path,
        "sg_globals",
        """
        import numpy as np

        SCALE = 2.0
        W = np.array([1.0, 2.0, 3.0])
        N = 2

        def f(x):
            y = x
            for _ in range(N):
                y = np.sin(y) * W
            return np.sum(y * SCALE)
    """,
    )
    g = grad(mod.f)
    j = sourcegrad.jvp(mod.f)  # forward mode too: it gave the first values' tangents until now
    v = np.linspace(-1.0, 1.0, X.size).reshape(X.shape)

    def check():
        for _ in range(2):  # the second call takes the per-call fast path
            expected = fd(mod.f, X)
            assert_close(g(X), expected, rtol=1e-6)
            value, tangent = j(X, tangents=v)
            assert_close(value, mod.f(X), rtol=1e-12)
            assert_close(tangent, np.sum(expected * v), rtol=1e-6)

    check()
    mod.SCALE = 3.0
    check()
    mod.W[1] = -4.0  # in place
    check()
    mod.W = np.array([0.5, 0.5, 0.5])  # rebound
    check()
    mod.N = 3  # a static value: the loop's length
    check()
    compiled = g.compile(X)
    mod.SCALE = -1.0
    assert_close(compiled(X), fd(mod.f, X), rtol=1e-6)


def test_a_module_array_indexed_by_a_rolled_loop_index(tmp_path):
    # the loop compiles as a scan, so `C[i]` has a traced index, which a NumPy array refuses;
    # this used to end in a ShapeError about `__array__` on a traced array
    mod, _ = load_module(
        tmp_path,
        "sg_module_array",
        """
        import numpy as np

        C = np.array([1.0, -2.0, 3.0])

        def f(x):
            s = 0.0
            for i in range(3):
                s = s + C[i] * np.sin(x[i])
            return s
    """,
    )
    g = grad(mod.f)
    assert_close(g(X), mod.C * np.cos(X), rtol=1e-12)
    mod.C[0] = 5.0  # still read at call time
    assert_close(g(X), mod.C * np.cos(X), rtol=1e-12)


def test_a_callee_in_another_module_reads_its_own_module(tmp_path):
    helper, _ = load_module(
        tmp_path,
        "sg_helper_mod",
        """
        import numpy as np
        K = 2.0

        def scaled(x):
            return np.sin(x) * K
    """,
    )
    mod, _ = load_module(
        tmp_path,
        "sg_caller_mod",
        """
        import numpy as np
        from sg_helper_mod import scaled

        def f(x):
            return np.sum(scaled(x) ** 2)
    """,
    )
    g = grad(mod.f)
    assert_close(g(X), fd(mod.f, X), rtol=1e-6)
    helper.K = -0.5
    assert_close(g(X), fd(mod.f, X), rtol=1e-6)


# ----- 10. complex inputs -----
def test_complex_inputs_are_refused_naming_the_argument():
    f = make_function("""
        def f(z, w):
            return np.sum(np.abs(z) ** 2 * w)
    """)
    with pytest.raises(sourcegrad.InputError, match="`z` is complex") as info:
        grad(f)(np.array([1 + 2j, 3 - 1j]), 1.0)
    no_library_frames(info.value)
    with pytest.raises(sourcegrad.InputError, match="`w` is complex"):
        grad(f)(X, 1j)
    with pytest.raises(sourcegrad.InputError, match="`z` is complex"):
        grad(f).primal(jnp.ones(2, jnp.complex64), 1.0)


# ----- 11. an integer or a shape is not differentiable -----
@pytest.mark.parametrize(
    "body",
    [
        "return x.shape[0]",
        "return np.argmax(x)",
        "return x.size",
        "return np.sum(x > 0)",
        "return x.shape",
        "return x > 0",
    ],
)
def test_integer_outputs_are_refused_at_the_return(body):
    f = make_function(f"""
        def f(x):
            y = x * 2.0
            {body}
    """)
    with pytest.raises(TypeError):
        jax.grad(lambda x: jnp.argmax(x))(X)  # the reference refuses too
    with pytest.raises(sourcegrad.InputError, match="no gradient") as info:
        grad(f)(X)
    err = info.value
    assert err.lineno == 3
    assert body in str(err), str(err)
    no_library_frames(err)


# ----- internal tracebacks become located errors -----
@pytest.mark.parametrize(
    "expr, shapes",
    [("x + y", ((3,), (4,))), ("x @ y", ((3, 2), (3, 2))), ("np.reshape(x, (5,)) * y", ((3,), (5,)))],
)
def test_shape_mismatch_is_located_on_the_user_line(expr, shapes):
    f = make_function(f"""
        def f(x, y):
            a = np.sin(x)
            b = {expr}
            return np.sum(b)
    """)
    x, y = (np.ones(s) for s in shapes)
    with pytest.raises(ValueError):
        f(x, y)  # NumPy fails on the same line
    with pytest.raises(sourcegrad.ShapeError) as info:
        grad(f)(x, y)
    err = info.value
    assert err.lineno == 3 and f"b = {expr}" in str(err)
    no_library_frames(err)


def test_accumulate_of_the_wrong_shape_or_structure():
    f = make_function("""
        def f(W, b):
            return np.sum(np.tanh(W) + b)
    """)
    g = grad(f, wrt=("W", "b"))
    W, b = np.ones((2, 3)), np.ones(3)
    with pytest.raises(sourcegrad.InputError, match=r"accumulate= for `W` has shape \(3, 2\)"):
        g(W, b, accumulate=(np.zeros((3, 2)), np.zeros(3)))
    with pytest.raises(sourcegrad.InputError, match="accumulate= for `b` has the structure"):
        g(W, b, accumulate=(np.zeros((2, 3)), [np.zeros(3)]))
    acc = g(W, b, accumulate=(np.ones((2, 3)), np.ones(3)))
    assert_close(acc[0], 1 + (1 - np.tanh(W) ** 2))


@pytest.mark.parametrize(
    "value, what", [(None, "None"), ("abc", "str"), ([], "empty list"), ({"a": "s"}, "str")]
)
def test_non_numbers_where_an_array_is_differentiated(value, what):
    f = make_function("""
        def f(x):
            return np.sum(x)
    """)
    with pytest.raises(sourcegrad.InputError, match="`x` is differentiated") as info:
        grad(f)(value)
    assert what in str(info.value)
    no_library_frames(info.value)


# ----- grad's options -----
@pytest.mark.parametrize(
    "option",
    [
        {"checkpoint": -3},
        {"checkpoint": True},
        {"checkpoint": 0},
        {"checkpoint": "revolve"},  # "binomial" is valid (revolve)
        {"checkpoint": 2.5},
        {"max_iter": 0},
        {"max_iter": "10"},
    ],
)
def test_invalid_options_name_the_valid_values(option):
    def f(x):
        return np.sum(x)

    for make in (
        lambda: grad(f, **option),
        lambda: grad(**option),
        lambda: sourcegrad.value_and_grad(f, **option),
    ):
        with pytest.raises(sourcegrad.OptionError) as info:
            make()
        assert "positive int" in str(info.value)
        no_library_frames(info.value)


def test_valid_checkpoint_values_still_work():
    f = make_function("""
        def f(x):
            for i in range(6):
                x = np.sin(x)
            return np.sum(x)
    """)
    ref = fd(f, X)
    for spec in ("sqrt", 2, np.int64(3), None):
        assert_close(grad(f, checkpoint=spec)(X), ref, rtol=1e-6)
