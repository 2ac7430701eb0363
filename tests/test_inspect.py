"""Inspecting a gradient: show, source map, stages, graph, HTML report, CLI, standalone emit."""

import ast
import contextlib
import io
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

from sourcegrad import cli, grad
from sourcegrad.inspect.graph import GraphvizMissing

from .golden.functions import fan_out_and_versions, frozen_first_layer, sin_recurrence
from .helpers import assert_close

HERE = pathlib.Path(__file__).parent
MODEL = HERE / "data" / "model_file.py"
REPO = HERE.parent


def run_cli(*args, check=True, process=False):
    """The CLI's exit code and output: in this process (``cli.main``, as ``python -m sourcegrad``
    calls it; a process starts JAX again, seconds each), or as a process when ``process``."""
    if process:
        done = subprocess.run(
            [sys.executable, "-m", "sourcegrad", *map(str, args)], capture_output=True, text=True, cwd=REPO
        )
    else:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main([*map(str, args)])
        done = types.SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())
    if check and done.returncode != 0:
        raise AssertionError(done.stderr)
    return done


# ----- show -----


def test_show_plain_when_not_a_terminal_and_ansi_when_asked():
    g = grad(fan_out_and_versions, wrt=("x", "w"))
    out = io.StringIO()
    g.show(file=out)
    assert out.getvalue() == g.source + "\n"
    colored = io.StringIO()
    g.show(file=colored, color=True)
    assert "\033[" in colored.getvalue()
    assert colored.getvalue().replace("\033[0m", "").count("b_x") == g.source.count("b_x")


def test_show_side_by_side_labels_each_generated_line_with_its_user_line():
    g = grad(fan_out_and_versions, wrt=("x", "w"))
    text = io.StringIO()
    g.show(side_by_side=True, file=text)
    rows = text.getvalue().splitlines()
    assert any(r.split("|")[0].strip() == "21 h = x * w" and "# line 21" in r for r in rows)
    assert any("== backward" in r for r in rows)
    assert any("b_h_2 = b_h_2 +" in r for r in rows)


def test_jupyter_html():
    html = grad(fan_out_and_versions, wrt=("x", "w"))._repr_html_()
    assert html.startswith("<style>") and 'class="tok-accumulator">b_x</span>' in html


# ----- source map -----


def test_source_map_both_ways():
    g = grad(fan_out_and_versions, wrt=("x", "w"))
    lines = g.source.split("\n")
    labelled = [(i + 1, line.strip()) for i, line in enumerate(lines) if line.strip().startswith("# line ")]
    assert labelled
    for gen, text in labelled:  # every "# line N:" comment maps back to N
        assert g.line_of(gen) == int(text.split()[2].rstrip(":"))
    both = g.lines_for(22)  # h = h + np.sin(h)
    assert set(both) == {"forward", "backward"}
    for _section, gens in both.items():
        assert all(g.line_of(n) == 22 for n in gens)
        assert any("sin" in lines[n - 1] or "b_sin" in lines[n - 1] for n in gens)
    assert g.line_of(1) is None  # the header is scaffolding


# ----- stages -----


def test_stages_are_python_after_every_pass():
    g = grad(sin_recurrence, wrt=("x", "k"))
    assert list(g.stages) == ["source", "normalized", "activity", "reversed", "simplified"]
    for _name, text in g.stages.items():
        ast.parse(textwrap.dedent(text))
    assert "# active" in g.stages["activity"]
    # the simplifier drops default arguments of helpers: visible between the two stages
    assert "unreduce(b_total, y_3, axis=None, keepdims=False)" in g.stages["reversed"]
    assert "unreduce(b_total, y_3)" in g.stages["simplified"]
    assert g.stages["simplified"] == g.source


def test_debug_environment_variable_prints_stages():
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from tests.golden.functions import seed_page_001; "
            "from sourcegrad import grad; grad(seed_page_001)",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "SOURCEGRAD_DEBUG": "1"},
    )
    assert done.returncode == 0, done.stderr
    for stage in ("source", "normalized", "activity", "reversed", "simplified"):
        assert f"===== sourcegrad stage: {stage}" in done.stderr


# ----- graph -----


def test_graph_marks_inputs_pruned_values_and_fan_out():
    dot = grad(frozen_first_layer, wrt="W2").graph()
    assert dot.startswith("digraph")
    assert '"W2" [label="W2", shape=doubleoctagon' in dot
    assert '"h" [label="h = jnp.tanh(matmul)", fontcolor="#999999"' in dot  # pruned: grey, dashed
    fan = grad(fan_out_and_versions, wrt=("x", "w")).graph()
    assert "b_h_2: 2 contributions" in fan and "style=dashed, constraint=false" in fan


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_graph_as_svg_and_png_with_graphviz():
    g = grad(sin_recurrence, wrt=("x", "k"))
    assert b"<svg" in g.graph("svg")
    assert g.graph("png").startswith(b"\x89PNG")


def test_graph_without_graphviz_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(GraphvizMissing, match="apt-get install graphviz"):
        grad(sin_recurrence, wrt=("x", "k")).graph("svg")


# ----- HTML report -----


def test_report_is_self_contained(tmp_path):
    page = grad(sin_recurrence, wrt=("x", "k")).report(tmp_path / "r.html")
    assert (tmp_path / "r.html").read_text() == page
    assert 'id="primal"' in page and 'id="adjoint"' in page and "<svg" in page
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.mark.skipif(
    _chromium() is None,
    reason="headless Chromium is not installed "
    "(Debian: apt-get install chromium chromium-driver; .ci/run installs it)",
)
def test_report_renders_in_headless_chromium(tmp_path):
    g = grad(sin_recurrence, wrt=("x", "k"))
    page = tmp_path / "report.html"
    g.report(page)
    done = subprocess.run(
        [
            _chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            page.as_uri() + "#select=src-4",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    dom = done.stdout
    assert '<div id="status">ready</div>' in dom, done.stderr[-2000:]  # the script ran to the end
    assert '<div id="errors"></div>' in dom  # and raised nothing
    assert 'id="primal"' in dom and 'id="adjoint"' in dom and "<svg" in dom
    assert 'class="line hit"' in dom and "hit-fwd" in dom and "hit-bwd" in dom  # line links work
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            _chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile2'}",
            "--window-size=1500,1000",
            "--hide-scrollbars",
            f"--screenshot={shot}",
            page.as_uri() + "#select=src-4",
        ],
        capture_output=True,
        timeout=120,
    )
    assert shot.read_bytes().startswith(b"\x89PNG")
    if os.environ.get("SOURCEGRAD_UPDATE_SCREENSHOT"):
        shutil.copy(shot, REPO / "docs" / "report-screenshot.png")


# ----- command line -----


def test_cli_show_emit_graph_report(tmp_path):
    shown = run_cli("show", f"{MODEL}:loss", "--wrt", "W,b", process=True).stdout
    assert "def grad_loss(W, b, x, y, seed=None, acc=None):" in shown
    assert "===== stage: normalized" in run_cli("show", f"{MODEL}:loss", "--stages").stdout
    assert "| generated: grad_loss" in run_cli("show", f"{MODEL}:loss", "--side-by-side").stdout
    run_cli("emit", f"{MODEL}:loss", "--wrt", "W,b", "-o", tmp_path / "grad_loss.py")
    run_cli("graph", f"{MODEL}:loss", "-o", tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    run_cli("report", f"{MODEL}:loss", "-o", tmp_path / "r.html")
    assert "<svg" in (tmp_path / "r.html").read_text()


def test_cli_errors_are_located_without_traceback():
    done = run_cli("show", f"{HERE / 'data' / 'bad_file.py'}:loss", check=False)
    assert done.returncode == 2
    assert "bad_file.py:5:5: `try` statements are not supported" in done.stderr
    assert "Traceback" not in done.stderr and "^^^" in done.stderr
    missing = run_cli("show", f"{HERE / 'data' / 'nope.py'}:loss", check=False)
    assert missing.returncode != 0 and "no such file" in missing.stderr


# ----- standalone emit -----


def test_emitted_module_runs_without_sourcegrad(tmp_path):
    out = tmp_path / "grad_loss.py"
    run_cli("emit", f"{MODEL}:loss", "--wrt", "W,b", "-o", out)
    script = textwrap.dedent(f"""
        import sys, json
        sys.modules["sourcegrad"] = None  # any import of sourcegrad now fails
        sys.path.insert(0, {str(tmp_path)!r})
        import numpy as np
        import grad_loss
        rng = np.random.default_rng(0)
        W, b = rng.standard_normal((4, 3)), rng.standard_normal(3)
        x, y = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
        value, (gW, gb) = grad_loss.grad_loss_jit(W, b, x, y)
        print(json.dumps([float(value), np.asarray(gW).tolist(), np.asarray(gb).tolist()]))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    import json

    value, gW, gb = json.loads(done.stdout)
    sys.path.insert(0, str(MODEL.parent))
    try:
        from model_file import loss
    finally:
        sys.path.pop(0)
    rng = np.random.default_rng(0)
    W, b = rng.standard_normal((4, 3)), rng.standard_normal(3)
    x, y = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    rW, rb = grad(loss, wrt=("W", "b"))(W, b, x, y)
    assert_close(np.asarray(gW), rW, rtol=1e-5)
    assert_close(np.asarray(gb), rb, rtol=1e-5)
    assert "sourcegrad" not in "".join(
        line for line in out.read_text().splitlines() if line.startswith(("import", "from"))
    )


def test_emit_refuses_huge_module_arrays(tmp_path):
    from sourcegrad.backend.standalone import MAX_ARRAY_ELEMENTS
    from sourcegrad.errors import SourcegradError

    ns = {"BIG": np.zeros(MAX_ARRAY_ELEMENTS + 1)}
    from .helpers import make_function

    fn = make_function("def f(x):\n    return np.sum(x * BIG[0])\n", "f", namespace=ns)
    with pytest.raises(SourcegradError, match="Pass it to the function as an argument"):
        grad(fn).emit()
