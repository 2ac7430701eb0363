"""Every row of docs/conventions.md, checked against sourcegrad and against jax.grad (float64)."""

import math
import pathlib

import jax
import numpy as np
import pytest

from sourcegrad import grad

from .helpers import jax_vjp, make_function

NAN, INF = math.nan, math.inf

# name -> (expression of x and y, (x, y), sourcegrad's (d/dx, d/dy), jax.grad's (d/dx, d/dy),
#          the text of its row in docs/conventions.md)
ROWS = {
    "abs": ("np.abs(x) + np.abs(y)", (0.0, 0.0), (0, 0), (1, 1), "`np.abs(x)`"),
    "norm1": (
        "np.linalg.norm(np.array([x, y]), ord=1)",
        (0.0, 2.0),
        (0, 1),
        (1, 1),
        "`np.linalg.norm(v, ord=1)`",
    ),
    "norm_p_below_1": (
        "np.linalg.norm(np.array([x, y]), ord=0.5)",
        (0.0, 1.0),
        (0, 1),
        (INF, 1),
        "`np.linalg.norm(v, ord=p)`, p < 1",
    ),
    "sign_floor_round": (
        "np.sign(x) + np.floor(y) + np.round(x)",
        (0.0, 1.0),
        (0, 0),
        (0, 0),
        "`np.sign(x)`, `np.floor(x)`, `np.round(x)`",
    ),
    "relu": ("jax.nn.relu(x) + jax.nn.relu(y)", (0.0, 0.0), (0, 0), (0, 0), "`jax.nn.relu(x)`"),
    "maximum": ("np.maximum(x, y)", (1.0, 1.0), (0.5, 0.5), (0.5, 0.5), "`np.maximum(x, y)`"),
    "minimum": ("np.minimum(x, y)", (1.0, 1.0), (0.5, 0.5), (0.5, 0.5), "`np.minimum(x, y)`"),
    "max_ties": (
        "np.max(np.array([x, y, x - 1.0]))",
        (1.0, 1.0),
        (0.5, 0.5),
        (0.5, 0.5),
        "`np.max(a)`, `np.min(a)` (any axis)",
    ),
    "min_ties": (
        "np.min(np.stack([np.array([x, y]), np.array([x + 1, y + 2])]), axis=1)",
        (1.0, 1.0),
        (1.5, 0.5),
        (1.5, 0.5),
        "`np.max(a)`, `np.min(a)` (any axis)",
    ),
    "norm_inf": (
        "np.linalg.norm(np.array([x, y]), ord=np.inf)",
        (1.0, -1.0),
        (0.5, -0.5),
        (0.5, -0.5),
        "`np.linalg.norm(v, ord=np.inf)`",
    ),
    "clip_low": ("np.clip(x, y, 2.0)", (1.0, 1.0), (1, 0), (0.5, 0.5), "`np.clip(x, lo, hi)`"),
    "clip_high": ("np.clip(x, -1.0, y)", (1.0, 1.0), (1, 0), (0.5, 0.5), "`np.clip(x, lo, hi)`"),
    "hypot": ("np.hypot(x, y)", (0.0, 0.0), (0, 0), (0.5, 0.5), "`np.hypot(x, y)`"),
    "norm2": (
        "np.linalg.norm(np.array([x, y]))",
        (0.0, 0.0),
        (0, 0),
        (NAN, NAN),
        "`np.linalg.norm(v)` (2-norm, Frobenius)",
    ),
    "fro": (
        "np.linalg.norm(np.reshape(np.array([x, y, x, y]), (2, 2)))",
        (0.0, 0.0),
        (0, 0),
        (NAN, NAN),
        "`np.linalg.norm(v)` (2-norm, Frobenius)",
    ),
    "std": ("np.std(np.array([x, y]))", (1.0, 1.0), (0, 0), (NAN, NAN), "`np.std(a)`"),
    "arctan2": ("np.arctan2(x, y)", (0.0, 0.0), (0, 0), (NAN, NAN), "`np.arctan2(y, x)`"),
    "power_0_0": ("x ** y", (0.0, 0.0), (0, 0), (NAN, 0), "`x ** y`"),
    "power_dy": ("x ** y", (0.0, 2.0), (0, 0), (0, 0), "`x ** y` (d/dy)"),
    "logaddexp_tie": (
        "np.logaddexp(x, y)",
        (0.3, 0.3),
        (0.5, 0.5),
        (0.5, 0.5),
        "`np.logaddexp(x, y)` | x = y (finite)",
    ),
    "logaddexp_minf": (
        "np.logaddexp(x - np.inf, y - np.inf)",
        (0.3, 0.3),
        (0.5, 0.5),
        (NAN, NAN),
        "`np.logaddexp(x, y)` | x = y = -inf",
    ),
    "logaddexp_pinf": (
        "np.logaddexp(x + np.inf, y + np.inf)",
        (0.3, 0.3),
        (0.5, 0.5),
        (1, 1),
        "`np.logaddexp(x, y)` | x = y = +inf",
    ),
    "sqrt": ("np.sqrt(x) + y", (0.0, 0.0), (INF, 1), (INF, 1), "`np.sqrt(x)`"),
}

PAGE = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "conventions.md").read_text()


def _same(actual, expected):
    return (math.isnan(expected) and math.isnan(actual)) or actual == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("name", sorted(ROWS))
def test_convention(name):
    expr, (x, y), ours, theirs, row = ROWS[name]
    assert row in PAGE, f"{name}: docs/conventions.md has no row for {row}"
    fn = make_function(f"def conv_{name}(x, y):\n    return np.sum({expr})\n", namespace={"jax": jax})
    got = [float(v) for v in grad(fn, wrt=("x", "y"))(x, y)]
    assert all(_same(a, e) for a, e in zip(got, ours)), f"{name}: sourcegrad gives {got}, docs say {ours}"
    ref = [float(v) for v in jax_vjp(fn, {"x": x, "y": y}, ["x", "y"])[1]]
    assert all(_same(a, e) for a, e in zip(ref, theirs)), f"{name}: jax.grad gives {ref}, docs say {theirs}"


def test_guards_keep_the_derivative_elsewhere():
    """The guards change nothing where the functions are differentiable."""
    fn = make_function("""
    def smooth(x, y):
        v = np.array([x, y])
        return np.hypot(x, y) + np.arctan2(x, y) + np.linalg.norm(v) + np.std(v) + np.logaddexp(x, y)
    """)
    for x, y in [(0.3, -1.2), (-2.0, 0.7), (1e-3, 0.0)]:
        got = grad(fn, wrt=("x", "y"))(x, y)
        ref = jax_vjp(fn, {"x": x, "y": y}, ["x", "y"])[1]
        np.testing.assert_allclose(np.array(got, float), np.array(ref, float), rtol=1e-10)
