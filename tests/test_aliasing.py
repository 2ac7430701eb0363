"""Aliasing and in-place writes: NumPy's answer (value and gradient), or a located error.

Under NumPy a write into an array changes every name that shares its memory: ``y = x`` then
``x[0] = 1.0``, a helper that writes into its argument, the rows of ``for row in X``. The
generated code makes a new version at each write, so sourcegrad either re-binds the aliases to the
new version (exactly NumPy's answer) or refuses with a located error. Each case is compared with
NumPy itself in float64: the value, and the gradient against central finite differences (every
call of the user's function gets a fresh copy, since it may write into its argument).
"""

import re

import numpy as np
import pytest

from sourcegrad import UnsupportedSyntaxError, value_and_grad

from .helpers import assert_close, library_frames, make_function

HELPERS = """
def clamp(a):
    a[0] = 0.0
    return a


def bump(a):
    a += 1.0
    return a * 2.0


def both(a, b):
    a[0] = 0.0
    return a * b


def fresh(a, b):
    t = np.sin(a) * b
    return t + a


def halve_first(a, s):
    a[0] = a[0] * 0.5 + s
    return np.tanh(a)
"""

X = np.array([1.5, -2.0, 3.0, 0.5])
M = np.array([[1.0, 2.0, -1.0], [0.5, -3.0, 2.5]])

# name -> (body of fn(x), input): sourcegrad must give NumPy's value and gradient
REPRODUCED = {
    "helper_writes_argument": ("b = clamp(x)\n    return (x * b).sum() + x[1] ** 2", X),
    "helper_result_ignored": ("_ = clamp(x)\n    return (x * x).sum()", X),
    "write_through_original": ("y = x\n    x[0] = 3.0 * x[1]\n    return (y * x).sum()", X),
    "write_through_alias": ("y = x\n    y[1] += x[0] * 2.0\n    return (y * x).sum() + x[1]", X),
    "alias_by_unpacking": ("a, b = x, x * 2.0\n    a[1] = 0.0\n    return (x * b).sum()", X),
    "list_loop_writes": (
        "y = x * 3.0\n    for a in [x, y]:\n        a[0] = 1.0\n    return (x * y).sum()",
        X,
    ),
    "rebinding_is_not_in_place": ("y = x\n    x = x + 1.0\n    return (y * x).sum()", X),
    "augmented_without_alias": ("x += 1.0\n    x *= x\n    return x.sum()", X),
    "augmented_python_scalar": ("s = 2.0\n    t = s\n    s += 1.0\n    return (t * x + s).sum()", X),
    "augmented_helper_result_only": ("b = bump(x)\n    return b.sum()", X),
    "write_2d_through_alias": ("y = x\n    y[0, :] = x[1, :] * 2.0\n    return (x * y).sum()", M),
    "row_by_index": ("for i in range(x.shape[0]):\n        x[i, 0] = 5.0\n    return (x * x).sum()", M),
    "copy_then_write": ("y = x.copy()\n    x[0] = 0.0\n    return (y * x).sum()", X),
    # fuzz: an in-place write into a helper's fresh result, which no other name reads, is plain
    # (it was refused naming the internal temporary `fresh_out`)
    "augmented_into_fresh_helper_result": ("v = fresh(x, x)\n    v *= 2.0\n    return (v * x).sum()", X),
    "augmented_into_returned_copy": ("v = clamp(x * 1.0)\n    v += 2.0\n    return (v * x).sum()", X),
    "augmented_fresh_result_in_loop": (
        "v = fresh(x, x)\n    for i in range(2):\n        v *= 1.5\n    return (v * x).sum()",
        X,
    ),
    # a write on one side of an if does not change what the other side reads (only one runs)
    "write_on_one_branch_read_on_other": (
        "y = x * 2.0\n    if x[0] > 0:\n        y[0] = 1.0\n    else:\n        y[1] = y[0] * 3.0\n"
        "    return (y * x).sum()",
        X,
    ),
    # ht's mirroring: a write under an if without else, then a read of the same name after it
    "write_under_if_then_read": (
        "y = x * 2.0\n    if x[0] > 0:\n        y[:1] = -y[:1]\n    return (y * x).sum()",
        X,
    ),
    # ht's bone chain: both sides write, one reads the buffer first; read after the loop
    "both_sides_write_then_read_after_loop": (
        "y = np.zeros(3)\n    for i in range(3):\n        if i == 0:\n            y[i] = x[i]\n"
        "        else:\n            y[i] = y[i - 1] * x[i]\n    z = y * 2.0\n    return (z * x[:3]).sum()",
        X,
    ),
    # fuzz (seed 1, program 2167): after `b = clamp(x)`, `x` and `b` read one version; a write
    # through `x` re-binds both, and a second helper write through `b` must re-bind both again
    # (only the first name reading that version was re-bound: `b` kept the value before it)
    "helper_alias_written_twice": (
        "b = clamp(x)\n    x[0] = np.sum(b)\n    c = clamp(b)\n    return x.sum() + 10.0 * b.sum() + 100.0 * (c * x).sum()",
        X,
    ),
    # fuzz (seed 1, programs 10902 and 6379): two aliases of one buffer, written through each
    "two_aliases_then_augmented_slice": (
        "v1 = x\n    v2 = v1\n    x[-2] = np.sum(v2)\n    v2[0:2] += np.cosh(0.5 * x[1])\n"
        "    return x.sum() + 1.75 * v1.sum() + 2.0 * (v2 * v2).sum()",
        X,
    ),
    "helper_called_twice_on_one_buffer": (
        "v1 = clamp(x)\n    v1[0:2] += np.cos(x[3])\n    v2 = clamp(x)\n"
        "    return x.sum() + 2.25 * (v1 * v1).sum() + 2.5 * v2.sum()",
        X,
    ),
    "alias_written_through_both_names": (
        "y = x\n    y[1] = x[0] * 2.0\n    x[2] = np.sum(y)\n    z = y\n    z[0] = x[3] * 3.0\n"
        "    return (x * y).sum() + (z * z).sum()",
        X,
    ),
    "branches_fill_a_buffer_in_a_loop": (
        "y = np.zeros(3)\n    for i in range(3):\n        if x[i] > 0:\n            y[i] = x[i]\n"
        "        else:\n            y[i] = y[i - 1] * x[i]\n    return (y * x[:3]).sum()",
        X,
    ),
}

# name -> (body of fn(x), the text the caret points at, a phrase of the message)
REFUSED = {
    "read_after_helper_augmented": ("b = bump(x)\n    return (x * b).sum()", "x * b", "if the argument is"),
    "augmented_with_alias": ("y = x\n    x += 1.0\n    return (y * x).sum()", "y * x", "if `x` is a NumPy"),
    "augmented_reduction_alias": (
        "s = x.sum()\n    t = s\n    s += 1.0\n    return t * s",
        "t * s",
        "if `s` is a NumPy",
    ),
    "write_into_alias_augmented": (
        "y = x\n    y += 1.0\n    return x.sum()",
        "y += 1.0",
        "would also change `x`",
    ),
    "row_while_iterating": (
        "for row in x:\n        row[0] = 5.0\n    return x.sum()",
        "row[0]",
        "writes into a row of `x`",
    ),
    "view_then_write_base": (
        "y = x[1:]\n    x[1] = 2.0 * x[0]\n    return y.sum()",
        "y.sum()",
        "changed in place",
    ),
    "write_into_slice_view": (
        "y = x[1:]\n    y[0] = 2.0\n    return x.sum()",
        "y[0]",
        "would also change `x`",
    ),
    "transpose_view": ("y = x.T\n    x[0, 1] = 0.0\n    return y.sum()", "y.sum()", "changed in place"),
    "reshape_view_write": (
        "y = x.reshape(-1)\n    y[0] = 1.0\n    return x.sum()",
        "y[0]",
        "would also change `x`",
    ),
    "fancy_index_copy": (
        "y = x[np.array([0, 2])]\n    x[0] = 5.0\n    return y.sum()",
        "y.sum()",
        "changed in place",
    ),
    "same_array_twice": ("return both(x, x).sum()", "both(x, x)", "passes the same memory"),
    "container_element": (
        "t = (x, x * 2.0)\n    x[0] = 0.0\n    return t[0].sum()",
        "t[0]",
        "changed in place",
    ),
    "alias_written_in_branch": (
        "y = x\n    if x.shape[0] > 2:\n        x[0] = 0.0\n    return y.sum()",
        "y.sum()",
        "changed in place",
    ),
    "loop_write_reaches_alias": (
        "y = x\n    for i in range(3):\n        x[i] = x[i] * 2.0\n    return y.sum()",
        "x[i]",
        "bound before this loop",
    ),
    # fuzz: the helper's write reached `x`, read first by a loop that rebinds it (it gave
    # NumPy's value without the write: a wrong value)
    "loop_reads_written_argument": (
        "v = halve_first(x, 0.3)\n    for i in range(3):\n        x = x + v\n    return x.sum()",
        "x + v",
        "`x` reads memory that `halve_first(x, 0.3)`",
    ),
    "loop_writes_into_written_argument": (
        "v = halve_first(x, 0.3)\n    for i in range(2):\n        x[i] += 1.0\n    return (x * v).sum()",
        "x[i]",
        "`x` reads memory that `halve_first(x, 0.3)`",
    ),
    "branch_keeps_written_argument": (
        "v = halve_first(x, 0.3)\n    if v[1] > 0:\n        x = v * 2.0\n    return x.sum()",
        "x.sum()",
        "`x` reads memory that `halve_first(x, 0.3)`",
    ),
    "augmented_into_shared_helper_result": (
        "v = fresh(x, x)\n    w = v\n    v += 1.0\n    return (v * w).sum()",
        "v += 1.0",
        "would also change `w`",
    ),
    # fuzz (long run, seed 0): np.flip returns a view under NumPy; it gave the old values
    "flip_view_read_after_write": (
        "y = np.flip(x)\n    x[0] = 5.0\n    return (y * x).sum()",
        "y * x",
        "changed in place",
    ),
    "write_into_flip_view": ("y = np.flip(x)\n    y *= 2.0\n    return (y * x).sum()", "y *= 2.0", "`x`"),
    "loop_helper_writes": (
        "s = 0.0\n    for i in range(2):\n        b = clamp(x)\n        s = s + b.sum()\n    return s",
        "clamp(x)",
        "bound before this loop",
    ),
}

TWO_D = {
    "write_2d_through_alias",
    "row_by_index",
    "transpose_view",
    "reshape_view_write",
    "row_while_iterating",
}


def _function(key, body):
    src = f"{HELPERS.lstrip()}\n\ndef fn(x):\n    {body}\n"
    return make_function(src, "fn", filename=f"/project/alias_{key}.py"), src


def _numpy(fn, x):
    return float(fn(x.copy()))


def _fd_grad(fn, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        g[i] = (_numpy(fn, up) - _numpy(fn, down)) / (2 * eps)
    return g


@pytest.mark.parametrize("key", sorted(REPRODUCED))
def test_reproduces_numpy(key):
    body, x = REPRODUCED[key]
    fn, _ = _function(key, body)
    value, g = value_and_grad(fn)(x.copy())
    assert_close(value, _numpy(fn, x), what=f"{key} value")
    assert_close(g, _fd_grad(fn, x), rtol=1e-6, atol=1e-7, what=f"{key} gradient")


@pytest.mark.parametrize("key", sorted(REFUSED))
def test_refuses_with_located_error(key):
    body, caret_text, phrase = REFUSED[key]
    fn, src = _function(key, body)
    x = M if key in TWO_D else X
    with pytest.raises(UnsupportedSyntaxError) as info:
        value_and_grad(fn)(x.copy())
    err = info.value
    assert phrase in err.msg, err.msg
    assert err.filename == f"/project/alias_{key}.py"
    line = src.splitlines()[err.lineno - 1]
    assert line[err.offset - 1 :].startswith(caret_text), (line, err.offset, caret_text)
    text = str(err)
    assert "how to fix:" in text and "^" in text.splitlines()[-1], text
    inner = library_frames(err)
    assert not inner, inner
    what = err.msg.split("how to fix")[0]
    quoted = {w for q in re.findall(r"`([^`]*)`", what) for w in re.findall(r"[A-Za-z_]\w*", q)}
    assert not {w for w in quoted if w.endswith("_out") or w not in src}, err.msg  # no internal names


def test_numpy_semantics_the_cases_rely_on():
    """The NumPy facts this file's expectations are built on."""
    x = X.copy()
    y = x
    x += 1.0
    assert y is x and y[0] == X[0] + 1.0  # += on an array writes in place
    s = np.float64(2.0)
    t = s
    s += 1.0
    assert t == 2.0  # += on a NumPy scalar makes a new value
    x = X.copy()
    v, c = x[1:], x[np.array([0, 2])]
    x[1] = 9.0
    x[0] = 7.0
    assert v[0] == 9.0 and c[0] == X[0]  # basic slice: a view; integer array: a copy
    m = M.copy()
    for row in m:
        row[0] = 5.0
    assert (m[:, 0] == 5.0).all()  # rows of a loop are views
