"""The per-call shortcut (api/fastcall.py): a call like an earlier successful one skips the
argument checks and the variant lookup, and still gives what the full path gives."""

import numpy as np
import pytest

import sourcegrad
from sourcegrad.errors import WrtError

SCALE = np.array([1.0, 2.0, 3.0])


def scaled(x, n):
    return np.sum(SCALE * x**n)


def _expected(x, n):
    return SCALE * n * x ** (n - 1)


def test_repeated_calls_take_the_shortcut_and_agree(monkeypatch):
    g = sourcegrad.grad(scaled)
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(g(x, 3), _expected(x, 3))
    calls = []
    original = type(g)._arguments
    monkeypatch.setattr(type(g), "_arguments", lambda self, a, k: calls.append(1) or original(self, a, k))
    np.testing.assert_allclose(g(x + 1.0, 3), _expected(x + 1.0, 3))
    assert calls == []  # the shortcut: no binding, no checks
    np.testing.assert_allclose(g(x, 2), _expected(x, 2))  # another static value: the full path
    assert calls == [1]


def test_other_dtypes_and_bad_inputs_take_the_full_path():
    g = sourcegrad.grad(scaled)
    x64 = np.array([0.5, -1.0, 2.0])
    g(x64, 2)
    out32 = g(x64.astype(np.float32), 2)
    assert out32.dtype == np.float32
    assert g(x64, 2).dtype == np.float64  # float64 stays float64 after a float32 call
    with pytest.raises(WrtError, match="dtype int64"):
        g(np.array([1, 2, 3]), 2)


def test_a_module_array_written_in_place_is_seen():
    g = sourcegrad.grad(scaled)
    x = np.array([0.5, -1.0, 2.0])
    g(x, 2)
    g(x, 2)
    saved = SCALE.copy()
    try:
        SCALE[:] = [4.0, 5.0, 6.0]
        np.testing.assert_allclose(g(x, 2), _expected(x, 2))
    finally:
        SCALE[:] = saved
    np.testing.assert_allclose(g(x, 2), _expected(x, 2))


def test_the_fast_path_follows_shapes_and_matches_value_and_grad():
    g = sourcegrad.grad(lambda_free_sum, wrt=("x", "w"))
    for n in (3, 5, 3, 1):  # a shape seen, a new one, the first again: each against the formula
        x, w = np.linspace(-1.0, 1.0, n), np.full(n, 0.7)
        gx, gw = g(x, w)
        value, (vx, vw) = g.value_and_grad(x, w)
        assert value == pytest.approx(np.sum(np.tanh(x * w) ** 2))
        d = 2 * np.tanh(x * w) * (1 - np.tanh(x * w) ** 2)
        for got in (gx, vx):
            np.testing.assert_allclose(got, d * w, rtol=1e-12)
        for got in (gw, vw):
            np.testing.assert_allclose(got, d * x, rtol=1e-12)
        assert gx.dtype == np.float64


def lambda_free_sum(x, w):
    return np.sum(np.tanh(x * w) ** 2)


def vector_valued(x):
    return x * 2.0


def test_errors_from_the_gradients_only_path_are_the_full_paths():
    from sourcegrad.errors import SeedError

    g = sourcegrad.grad(vector_valued)
    with pytest.raises(SeedError, match="seed"):
        g(np.ones(3))
    with pytest.raises(SeedError, match="seed"):  # still refused: no fast path was stored
        g(np.ones(3))
    np.testing.assert_allclose(g(np.ones(3), seed=np.arange(3.0)), 2.0 * np.arange(3.0))


def damped(t, flag):
    if flag:
        return np.exp(-t) * np.sin(3.0 * t)
    return np.sin(3.0 * t)


def test_python_floats_and_static_bools_take_the_fast_path_in_float64():
    g = sourcegrad.grad(damped)
    for flag in (True, False, True):
        for t in (0.1, 0.7, 0.1):
            h = 1e-6
            fd = (damped(t + h, flag) - damped(t - h, flag)) / (2 * h)
            assert float(g(t, flag)) == pytest.approx(fd, rel=1e-8)
            assert float(g.primal(t, flag)) == pytest.approx(damped(t, flag), rel=1e-14)
    assert len(g._fast) == 2 and len(g._fast_primal) == 2  # one per static flag


def test_jvp_calls_take_the_fast_path_with_float_and_array_tangents():
    j = sourcegrad.jvp(damped)
    for t in (0.1, 0.7, 0.1):
        h = 1e-6
        fd = (damped(t + h, True) - damped(t - h, True)) / (2 * h)
        for tangent in (1.0, 2.0):  # a Python float tangent: cast to the primal's dtype
            value, along = j(t, True, tangents=tangent)
            assert float(value) == pytest.approx(damped(t, True), rel=1e-14)
            assert float(along) == pytest.approx(tangent * fd, rel=1e-8)
    assert len(j._fast) == 1
    jx = sourcegrad.jvp(lambda_free_sum, wrt="x")
    x, w = np.linspace(-1.0, 1.0, 4), np.full(4, 0.7)
    d = 2 * np.tanh(x * w) * (1 - np.tanh(x * w) ** 2) * w
    for v in (np.ones(4), np.arange(4.0), np.arange(4)):  # an int tangent is cast: the full path
        _, along = jx(x, w, tangents=v)
        assert float(along) == pytest.approx(float(d @ v), rel=1e-12)
    assert len(jx._fast) == 1  # float64 arrays only


def test_numpy_scalars_take_the_fast_path_in_their_own_precision():
    # `x - eta * g` on 0-d arrays gives NumPy scalars: a descent loop calls with those
    g, j = sourcegrad.grad(damped), sourcegrad.jvp(damped)
    for t in (np.float64(0.1), np.float64(0.7), np.float32(0.3), np.float32(0.5)):
        h = 1e-6
        fd = (damped(float(t) + h, True) - damped(float(t) - h, True)) / (2 * h)
        rel = 1e-8 if t.dtype == np.float64 else 1e-4
        out = g(t, True)
        assert out.dtype == t.dtype  # float32 stays float32, float64 float64
        assert float(out) == pytest.approx(fd, rel=rel)
        value, along = j(t, True, tangents=1.0)
        assert float(value) == pytest.approx(damped(float(t), True), rel=max(rel, 1e-14))
        assert float(along) == pytest.approx(fd, rel=rel)
    assert len(g._fast) == 2 and len(j._fast) == 2  # one per scalar type, reused by the second value
