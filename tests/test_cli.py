"""The command line and emitted modules: no raw tracebacks, safe constants, defaults kept."""

import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from sourcegrad import grad
from sourcegrad.cli import default_wrt, main

from .helpers import assert_close, make_function

HERE = pathlib.Path(__file__).parent
REPO = HERE.parent
MODEL = HERE / "data" / "model_file.py"


def cli(*args, cwd=REPO, **kw):
    return subprocess.run(
        [sys.executable, "-m", "sourcegrad", *map(str, args)], capture_output=True, text=True, cwd=cwd, **kw
    )


def refused(done, *phrases):
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    for phrase in phrases:
        assert phrase in done.stderr, done.stderr


class Done:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def cli_here(*args):
    """The command in this process (faster than a subprocess; the subprocess tests cover the
    process's exit status and stderr end to end)."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # --help
            code = exc.code
    return Done(code, out.getvalue(), err.getvalue())


def run_python(script):
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


# ----- targets and outputs -----


def test_target_file_without_py_suffix_is_loaded(tmp_path):
    target = tmp_path / "model.txt"
    target.write_text("import numpy as np\n\ndef f(x):\n    return np.sum(np.sin(x))\n")
    done = cli("show", f"{target}:f")
    assert done.returncode == 0, done.stderr
    assert "b_x = b_x + b_sum" in done.stdout or "jnp.cos(x)" in done.stdout


def test_bad_targets_exit_2_without_traceback(tmp_path):
    refused(cli_here("show", f"{tmp_path / 'nope.py'}:f"), "no such file")
    refused(cli_here("show", "no_colon_here"), "expected path/to/file.py:function")
    refused(cli_here("show", f"{MODEL}:missing"), "has no function 'missing'")
    broken = tmp_path / "broken.py"
    broken.write_text("import numpy as np\nVALUE = 1 / 0\n\ndef f(x):\n    return x\n")
    refused(cli("show", f"{broken}:f"), f"{broken}:2", "ZeroDivisionError")


def test_output_into_missing_directory_or_onto_a_directory(tmp_path):
    refused(cli_here("emit", f"{MODEL}:loss", "-o", tmp_path / "missing" / "g.py"), "does not exist")
    refused(cli("emit", f"{MODEL}:loss", "-o", tmp_path), "is a directory")
    refused(cli_here("report", f"{MODEL}:loss", "-o", tmp_path), "is a directory")
    refused(cli_here("graph", f"{MODEL}:loss", "-o", tmp_path / "missing" / "g.dot"), "does not exist")


def test_emit_refuses_to_overwrite_the_input(tmp_path):
    target = tmp_path / "model.py"
    original = MODEL.read_text()
    target.write_text(original)
    refused(cli("emit", f"{target}:loss", "-o", target), "refusing to overwrite your source")
    refused(cli_here("emit", f"{target}:loss", "-o", tmp_path / "." / "model.py"), "refusing to overwrite")
    assert target.read_text() == original


def test_show_into_a_closed_pipe_ends_quietly():
    # `true` exits at once, long before sourcegrad (which imports JAX first) writes a byte
    for reader, args in (("true", f"{MODEL}:loss --stages"), ("head -c 0", f"{MODEL}:loss --wrt W")):
        shell = f"set -o pipefail; {sys.executable} -m sourcegrad show {args} | {reader}"
        done = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, cwd=REPO)
        assert "BrokenPipeError" not in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert done.returncode == 0, done.stderr


def test_show_escapes_terminal_control_characters(tmp_path):
    target = tmp_path / "esc.py"
    target.write_text(
        "import numpy as np\n\ndef f(x):\n    y = np.sum(x)  # \x1b[31mred\x1b[0m\n"
        '    return y * len("\x1b]0;title\x07")\n',
        encoding="utf-8",
    )
    for extra in ((), ("--side-by-side",), ("--stages",)):
        done = cli_here("show", f"{target}:f", *extra)
        assert done.returncode == 0, done.stderr
        assert "\x1b" not in done.stdout and "\x07" not in done.stdout
    assert "\\x1b]0;title\\x07" in done.stdout


def test_help_says_the_target_is_imported_and_bench_suite_has_its_own_help():
    for args in (("--help",), ("show", "--help"), ("emit", "--help")):
        assert "top-level code runs" in " ".join(cli_here(*args).stdout.split())
    suite = cli("bench", "suite", "--help")
    assert suite.returncode == 0 and "usage: sourcegrad bench suite" in suite.stdout
    assert "--only" in suite.stdout and "--quick" not in suite.stdout
    scaling = cli_here("bench", "scaling", "--help").stdout
    assert "usage: sourcegrad bench scaling" in scaling and "--quick" in scaling
    from sourcegrad.cli import build_parser

    parse = build_parser().parse_args
    assert parse(["bench"]).suite is None and parse(["bench"]).timeout == 60.0  # runs the suite
    assert parse(["bench", "scaling", "--quick"]).quick
    assert parse(["bench", "suite", "--only", "mlp"]).only == "mlp"


# ----- which parameters are differentiated without --wrt -----


def test_default_wrt_is_every_float_parameter(tmp_path):
    fn = make_function("""
        def f(W, b, x, n=3, mode="train", scale=0.5, *rest, flag: bool = False, steps: int, **kw):
            for i in range(steps):
                W = W * scale
            return np.sum(x @ W + b)
    """)
    assert default_wrt(fn) == ("W", "b", "x", "scale")
    done = cli_here("emit", f"{MODEL}:loss", "-o", tmp_path / "g.py")
    assert done.returncode == 0, done.stderr
    assert "with respect to W, b, x, y" in done.stderr
    text = (tmp_path / "g.py").read_text()
    assert "def grad_loss(W, b, x, y, seed=None, acc=None):" in text
    assert "cast_like((b_W, b_b, b_x, b_y), (W, b, x, y))" in text


# ----- emitted modules -----


RK4 = """\
import numpy as np

DT = 0.05
LIMITS = np.array([np.inf, -np.inf, np.nan, 2.0], dtype=np.float32)


class Sneaky(float):
    def __repr__(self):
        return "__import__('pathlib').Path({marker!r}).write_text('ran')"


SCALE = Sneaky(0.5)


def rk4(p, z0, n=100, h=DT):
    z = z0
    for i in range(n):
        k = -p * z * SCALE + LIMITS[3]
        z = z + h * k
    return np.sum(np.minimum(z, LIMITS[0]))
"""


def test_emitted_module_keeps_defaults_and_writes_inf_nan_and_safe_constants(tmp_path):
    marker = tmp_path / "ran.txt"
    target = tmp_path / "dyn.py"
    target.write_text(RK4.format(marker=str(marker)))
    out = tmp_path / "grad_rk4.py"
    done = cli("emit", f"{target}:rk4", "--wrt", "p,z0", "-o", out)
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "def grad_rk4(p, z0, n=100, h=0.05, seed=None, acc=None):" in text
    assert "SCALE = 0.5" in text and "__import__" not in text
    assert 'LIMITS = np.asarray([math.inf, -math.inf, math.nan, 2.0], dtype="float32")' in text
    got = run_python(f"""
        import sys, json
        sys.modules["sourcegrad"] = None
        sys.path.insert(0, {str(tmp_path)!r})
        import numpy as np
        import grad_rk4
        value, (gp, gz) = grad_rk4.grad_rk4_jit(np.float32(0.3), np.array([1.0, 2.0], np.float32))
        print(json.dumps([float(gp), np.asarray(gz).tolist()]))
    """)
    assert not marker.exists()
    import json

    gp, gz = json.loads(got)
    sys.path.insert(0, str(tmp_path))
    try:
        import dyn
    finally:
        sys.path.pop(0)
    rp, rz = grad(dyn.rk4, wrt=("p", "z0"))(np.float32(0.3), np.array([1.0, 2.0], np.float32))
    assert_close(np.asarray(gp), np.asarray(rp), rtol=1e-4)
    assert_close(np.asarray(gz), np.asarray(rz), rtol=1e-4)


@pytest.mark.parametrize(
    "value, phrase",
    [
        (1 + 2j, "a complex"),
        (np.array(["a", "b"]), "is not a real number type"),
        (np.array([1 + 1j]), "is not a real number type"),
    ],
)
def test_emit_refuses_values_it_cannot_write_as_literals(value, phrase):
    from sourcegrad.backend.standalone import _literal
    from sourcegrad.errors import SourcegradError

    with pytest.raises(SourcegradError, match=phrase):
        _literal("C", value)


def test_emit_literals_round_trip_their_dtype():
    import math

    from sourcegrad.backend.standalone import _literal

    values = {
        "A": np.array([[1.5, -np.inf], [np.nan, 1e-300]]),
        "B": np.arange(4, dtype=np.int16),
        "C": np.float32(0.1),
        "D": np.array([True, False]),
        "E": 7,
        "F": -0.0,
        "G": None,
        "H": "mode",
        "I": np.uint8(255),
        "J": float("nan"),
    }
    ns = {"np": np, "math": math}
    exec("\n".join(_literal(k, v) for k, v in values.items()), ns)
    for k, v in values.items():
        if isinstance(v, (np.ndarray, np.generic)):
            assert ns[k].dtype == v.dtype and np.array_equal(ns[k], v, equal_nan=True), k
        elif isinstance(v, float) and math.isnan(v):
            assert math.isnan(ns[k])
        else:
            assert ns[k] == v and type(ns[k]) is type(v), k
    assert math.copysign(1, ns["F"]) == -1


def test_emit_from_python_keeps_literal_defaults():
    fn = make_function("""
        def f(x, n=2, scale=-0.5):
            for i in range(n):
                x = np.sin(x) * scale
            return np.sum(x)
    """)
    text = grad(fn).emit()
    assert "def grad_f(x, n=2, scale=-0.5, seed=None, acc=None):" in text
    ns = {}
    exec(compile(text, "<emitted>", "exec"), ns)
    x = np.array([0.2, 0.4])
    assert_close(np.asarray(ns["grad_f_jit"](x)[1][0]), grad(fn)(x), rtol=1e-6)


def test_readme_tells_about_imports_graphviz_and_default_wrt():
    readme = " ".join((REPO / "README.md").read_text().split())
    assert "runs its top-level code" in readme
    assert "Graphviz" in readme and "`dot`" in readme
    assert "every parameter that can hold floats" in readme
    assert "sourcegrad.check" in readme
    assert os.path.exists(REPO / "docs" / "troubleshooting.md")
