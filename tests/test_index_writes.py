"""Writes with a repeated index keep NumPy's semantics (issue 9, item 2).

``y[idx] = v`` keeps the last write to an element; ``y[idx] += v`` is ``y[idx] = y[idx] + v``, so it
adds once per distinct element (it is not ``np.add.at``); ``*=`` and ``-=`` likewise. The forward
value must equal NumPy's and the gradient NumPy's float64 central differences.
"""

import numpy as np
import pytest

from sourcegrad import ShapeError, grad, value_and_grad

from .helpers import assert_close, fd_vjp, make_function

# name -> (body lines writing into y, shape of x, shape of v)
CASES = {
    "set_repeat": (["y[np.array([0, 2, 0, 1])] = v"], (5,), (4,)),
    "set_negative_alias": (["y[np.array([4, -1, 0])] = v"], (5,), (3,)),
    "set_scalar_v": (["y[np.array([1, 1, 3])] = v"], (5,), ()),
    "add_repeat": (["y[np.array([0, 2, 0, -5])] += v"], (5,), (4,)),
    "sub_repeat": (["y[np.array([1, 1])] -= v"], (5,), (2,)),
    "mul_repeat": (["y[np.array([3, 2, 3, 3])] *= v"], (5,), (4,)),
    "add_broadcast_v": (["y[np.array([2, 2, 0])] += v"], (5,), (1,)),
    "rows_repeat": (["y[np.array([1, 0, 1])] = v"], (3, 4), (3, 4)),
    "rows_add_row": (["y[np.array([1, 0, 1])] += v"], (3, 4), (4,)),
    "mixed_slice_array": (["y[1:, np.array([2, 2, 0])] = v"], (3, 4), (2, 3)),
    "two_arrays": (["y[np.array([0, 2, 0]), np.array([1, 1, 1])] += v"], (3, 4), (3,)),
    "index_2d": (["idx = np.reshape(np.array([0, 1, 1, 0]), (2, 2))", "y[idx] = v"], (3,), (2, 2)),
    "computed_index": (["idx = np.argmax(x) * np.array([1, 0, 1]) + 1", "y[idx] = v"], (5,), (3,)),
    "no_repeat": (["y[np.array([3, 1])] += v"], (5,), (2,)),
    "scalar_index": (["y[2] = v"], (5,), ()),
    "slice_index": (["y[1:3] *= v"], (5,), (2,)),
    # fuzz (squeeze_write): NumPy drops the value's leading size-1 axes to fit the slot
    "set_row_drops_leading_axis": (["y[1] = v"], (3, 4), (1, 4)),
    "set_row_from_1x1": (["y[-1] = v"], (3, 4), (1, 1)),
    "set_column_drops_leading_axis": (["y[:, 2] = v"], (3, 4), (1, 3)),
    "set_slice_drops_two_axes": (["y[1:] = v"], (3,), (1, 1, 2)),
    "set_repeat_drops_leading_axis": (["y[np.array([0, 2, 0])] = v"], (3, 4), (1, 3, 4)),
    "set_in_loop_drops_leading_axis": (["for i in range(2):", "    y[i] = v * i"], (3, 4), (1, 4)),
}


def _function(name, lines):
    body = "".join(f"    {line}\n" for line in lines)
    return make_function(
        f"def write_{name}(x, v):\n    y = x * 1.5\n{body}    return np.sum(y * np.cos(y))\n"
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_write_matches_numpy(name):
    lines, xshape, vshape = CASES[name]
    fn = _function(name, lines)
    rng = np.random.default_rng(len(name))
    args = {
        "x": rng.standard_normal(xshape),
        "v": rng.standard_normal(vshape) if vshape else float(rng.standard_normal()),
    }
    value, grads = value_and_grad(fn, wrt=("x", "v"))(**args)
    expected, fd = fd_vjp(fn, args, ["x", "v"])
    assert_close(value, expected, rtol=1e-12, atol=1e-12, what=f"{name}: value")
    assert_close(grads[0], fd[0], rtol=1e-6, atol=1e-7, what=f"{name}: d/dx")
    assert_close(grads[1], fd[1], rtol=1e-6, atol=1e-7, what=f"{name}: d/dv")


def test_repeated_index_in_a_loop():
    fn = make_function("""
    def buffer(x, v):
        y = x * 1.0
        for k in range(3):
            y[np.array([k, 0, k])] += v * (k + 1)
        return np.sum(y * y)
    """)
    args = {"x": np.array([0.3, -1.2, 0.8, 2.0]), "v": np.array([0.5, -0.7, 1.1])}
    grads = grad(fn, wrt=("x", "v"))(**args)
    _, fd = fd_vjp(fn, args, ["x", "v"])
    assert_close(grads[0], fd[0], rtol=1e-6, atol=1e-7)
    assert_close(grads[1], fd[1], rtol=1e-6, atol=1e-7)


def test_augmented_write_does_not_drop_axes():
    """``y[1] += v`` with ``v`` of shape (1, 4) fails in NumPy (only ``=`` drops the value's leading
    size-1 axes): a located error, as NumPy's own."""
    fn = make_function("""
    def add_row(x, v):
        y = x * 1.0
        y[1] += v
        return np.sum(y)
    """)
    args = {"x": np.ones((3, 4)), "v": np.ones((1, 4))}
    with pytest.raises(ValueError):
        fn(**{k: a.copy() for k, a in args.items()})
    with pytest.raises(ShapeError) as info:
        value_and_grad(fn, wrt=("x", "v"))(**args)
    assert info.value.lineno == 3 and "y[1] += v" in str(info.value)
