"""The cases issue 9 listed as giving a wrong gradient or an internal traceback, with the outcome
each must give now: NumPy's gradient or a located error. All are checked by
tests/test_catalogue.py, beside the cases in cases.py.
"""

# flake8: noqa
import atexit
import functools
import importlib.util
import os
import shutil
import tempfile

import numpy as np

from sourcegrad import InputError, SourcegradError

from .table import GRAD, GRAD_OR_ERROR, X3, X4, X23, X33, X234, Y3, case

MODULE_W = 1.0


# ----- 1. mutation the aliasing check misses -----
def clamp(a):
    a[0] = 0.0
    return a


def p_helper_writes_argument(x):
    y = x * 1.0
    z = clamp(y)
    return np.sum(y * x) + np.sum(z)


def p_write_through_original(x):
    x = x * 1.0
    y = x
    x += 1.0
    return np.sum(y * y)


def p_write_rows(x):
    x = x * 1.0
    for row in x:
        row[0] = 5.0
    return np.sum(x * x)


def p_helper_scales_argument(x):
    y = x * 2.0
    s = scale_in_place(y)
    return np.sum(y * x) + s


def scale_in_place(a):
    a *= 1.5
    return np.sum(a)


# ----- 2. writes with repeated indices -----
def p_repeated_index_set(x):
    y = np.zeros(3)
    idx = np.array([0, 2, 0])
    y[idx] = x
    return np.sum(y * np.array([1.0, 2.0, 3.0]))


def p_repeated_index_add(x):
    y = x * 1.0
    idx = np.array([1, 1, 2])
    y[idx] += x
    return np.sum(y * y)


# ----- 3. decorated functions -----
def doubled(fn):
    @functools.wraps(fn)
    def wrapper(x):
        return 2.0 * fn(x)

    return wrapper


@doubled
def p_decorated(x):
    return np.sum(np.sin(x))


# ----- 4. the source changed on disk after import -----
def _stale_function():
    folder = tempfile.mkdtemp(prefix="sourcegrad-catalogue-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = os.path.join(folder, "stale_model.py")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("import numpy as np\n\n\ndef stale(x):\n    return np.sum(x * 2.0)\n")
    spec = importlib.util.spec_from_file_location("sourcegrad_catalogue_stale", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("import numpy as np\n\n\ndef stale(x):\n    return np.sum(x * x * 3.0)\n")
    return module.stale


# ----- 5. module-level values read at call time -----
def p_module_value(x):
    return np.sum(x * MODULE_W)


def _rebind_module_value(g):
    global MODULE_W
    MODULE_W = 1.0
    g(X3.copy())
    MODULE_W = 2.5


# ----- 7. numerics -----
def p_hypot_zero(x, y):
    return np.sum(np.hypot(x, y))


# ----- 8. slots a rule declares constant -----
def p_linspace_start(x):
    return np.sum(np.linspace(x, 3.4, 5))


def p_arange_start(x):
    return np.sum(np.arange(x, 5.0))


# ----- 9. shape rules with 3+ dimensions -----
def p_trace_3d(x):
    return np.sum(np.trace(x) * np.array([1.0, 2.0, 3.0, 4.0]))


# ----- 10. complex inputs -----
def p_complex(x):
    return np.sum(np.abs(x) ** 2)


# ----- 11. a function returning an int or a shape -----
def p_returns_shape(x):
    return x.shape[0]


def p_returns_argmax(x):
    return np.argmax(x)


# ----- internal tracebacks that must become located errors -----
def p_shape_mismatch(x, y):
    z = x + y
    return np.sum(z)


def p_matmul_mismatch(x):
    z = x @ x
    return np.sum(z)


def p_plain(x):
    return np.sum(np.sin(x) * x)


def p_einsum_ellipsis(x):
    return np.sum(np.einsum("...j,j->...", x, Y3))


def p_norm_ord3(x):
    return np.linalg.norm(x, ord=3)


def p_norm_nuc(x):
    return np.linalg.norm(x, ord="nuc")


CASES = [
    case(
        "helper_writes_argument",
        p_helper_writes_argument,
        {"x": X3},
        expect=GRAD_OR_ERROR,
        marker="z = clamp(y)",
        note="issue 9.1: clamp(y) changes y under NumPy",
    ),
    case(
        "write_through_original",
        p_write_through_original,
        {"x": X3},
        expect=GRAD_OR_ERROR,
        marker="return np.sum(y * y)",
        note="issue 9.1: y = x; x += 1 changes y (refused where y is read)",
    ),
    case(
        "write_rows",
        p_write_rows,
        {"x": X23},
        expect=GRAD_OR_ERROR,
        marker="row[0] = 5.0",
        note="issue 9.1: rows are views of x",
    ),
    case(
        "helper_scales_argument",
        p_helper_scales_argument,
        {"x": X3},
        expect=GRAD_OR_ERROR,
        marker="return np.sum(y * x) + s",
        note="issue 9.1: a *= 1.5 inside the helper changes y (refused where y is read)",
    ),
    case(
        "repeated_index_set",
        p_repeated_index_set,
        {"x": X3},
        expect=GRAD_OR_ERROR,
        marker="y[idx] = x",
        note="issue 9.2: NumPy keeps the last write",
    ),
    case(
        "repeated_index_add",
        p_repeated_index_add,
        {"x": X3},
        expect=GRAD_OR_ERROR,
        marker="y[idx] += x",
        note="issue 9.2: += applies once per distinct index",
    ),
    case(
        "decorated_wrapper",
        p_decorated,
        {"x": X3},
        expect=GRAD_OR_ERROR,
        note="issue 9.3: the wrapper doubles the output",
    ),
    case(
        "source_changed_on_disk",
        _stale_function(),
        {"x": X3},
        expect=GRAD_OR_ERROR,
        note="issue 9.4: the file was edited after import; the code that runs is x * 2",
    ),
    case(
        "module_value_rebound",
        p_module_value,
        {"x": X3},
        prepare=_rebind_module_value,
        note="issue 9.5: MODULE_W is 2.5 when the gradient is asked for",
    ),
    case(
        "hypot_zero",
        p_hypot_zero,
        {"x": np.array([0.0, 1.0, 2.0]), "y": np.array([0.0, 1.0, 1.0])},
        wrt=("x", "y"),
        note="issue 9.7: hypot(0, 0) must not give NaN",
    ),
    case("linspace_start", p_linspace_start, {"x": 0.3}, note="issue 9.8: start is differentiable"),
    case(
        "arange_start", p_arange_start, {"x": 0.3}, expect=GRAD_OR_ERROR, marker="np.arange", note="issue 9.8"
    ),
    case("trace_3d", p_trace_3d, {"x": X234[:, :2, :]}, note="issue 9.9: NumPy traces axes 0, 1"),
    case(
        "complex_input",
        p_complex,
        {"x": X3 + 1j * Y3},
        expect=SourcegradError,
        match="complex",
        note="issue 9.10: refuse complex inputs (or support them with a documented convention "
        "and move this case to a gradient check)",
    ),
    case(
        "returns_shape",
        p_returns_shape,
        {"x": X3},
        expect=SourcegradError,
        marker="return x.shape[0]",
        note="issue 9.11",
    ),
    case(
        "returns_argmax",
        p_returns_argmax,
        {"x": X3},
        expect=SourcegradError,
        marker="return np.argmax(x)",
        note="issue 9.11",
    ),
    case(
        "shape_mismatch",
        p_shape_mismatch,
        {"x": X3, "y": X4},
        wrt=("x", "y"),
        expect=SourcegradError,
        marker="z = x + y",
        note="issue 9: shapes (3,) and (4,)",
    ),
    case("matmul_mismatch", p_matmul_mismatch, {"x": X23}, expect=SourcegradError, marker="z = x @ x"),
    case(
        "accumulate_wrong_structure",
        p_plain,
        {"x": X3},
        expect=SourcegradError,
        match="accumulate",
        call_kwargs={"accumulate": {"x": np.zeros(3)}},
    ),
    case("none_differentiated", p_plain, {"x": None}, expect=InputError, match="None"),
    case("string_differentiated", p_plain, {"x": "abc"}, expect=InputError, match="str"),
    case("einsum_ellipsis", p_einsum_ellipsis, {"x": X23}, expect=GRAD_OR_ERROR, marker="np.einsum"),
    case("norm_ord3", p_norm_ord3, {"x": X3}, expect=GRAD_OR_ERROR, marker="ord=3"),
    case("norm_nuc", p_norm_nuc, {"x": X23}, expect=GRAD_OR_ERROR, marker='ord="nuc"'),
]


# ----- static ifs: a constant test, a name one side assigns merged by a later static if -----
FLAG_OFF = False


def p_constant_if_never_assigns(x):
    if FLAG_OFF:
        y = x * 2.0
    if not FLAG_OFF:
        z = x + 1.0
    return np.sum(y * z)  # Python: NameError


def p_static_if_merges_one_sided(x, flag=False):
    if flag:
        y = x * 2.0
    if not flag:
        y = np.sin(x)
    if not FLAG_OFF:
        y = y * x
    return np.sum(y)


CASES += [
    case(
        "constant_if_never_assigns",
        p_constant_if_never_assigns,
        {"x": X3},
        expect=SourcegradError,
        marker="return np.sum(y * z)",
        match="`y` is not defined",
        note="issue 9: was a ShapeError about NoneType",
    ),
    case("static_if_merges_one_sided", p_static_if_merges_one_sided, {"x": X3, "flag": False}),
]


# ----- lstsq's residuals, which NumPy leaves empty when a's rank is low -----
A63 = np.array(
    [[1.0, 0.5, 2.0], [0.2, -1.0, 2.2], [-0.7, 0.3, -1.3], [1.5, 1.1, 0.4], [0.0, -0.4, 0.8], [0.9, 0.6, 0.3]]
)
A63_LOW = A63.copy()
A63_LOW[:, 2] = A63_LOW[:, 0] - 2.0 * A63_LOW[:, 1]
B6 = np.array([0.4, -1.1, 0.7, 0.2, 1.3, -0.5])


def p_lstsq_residuals(a, b):
    x, res, rank, s = np.linalg.lstsq(a, b, rcond=None)  # residuals read
    return np.sum(res) + np.sum(x)


CASES += [
    case("lstsq_residuals_full_rank", p_lstsq_residuals, {"a": A63, "b": B6}, wrt=("a", "b")),
    case(
        "lstsq_residuals_low_rank",
        p_lstsq_residuals,
        {"a": A63_LOW, "b": B6},
        wrt=("a", "b"),
        expect=SourcegradError,
        marker="# residuals read",
        match="empty array",
        note="issue 9: NumPy's residuals are empty; they were NaN",
    ),
]
