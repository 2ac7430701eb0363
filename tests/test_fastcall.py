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
