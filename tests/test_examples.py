"""Every script in examples/ runs, and prints the numbers its seed page is about."""

import pathlib
import re
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]


def run(script, *args):
    done = subprocess.run(
        [sys.executable, str(REPO / "examples" / script), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_zero_grad():
    out = run("zero_grad.py")
    assert "if acc is None:" in out and "b_W, b_b = acc" in out
    for name in ("gradient descent", "Adam"):
        line = next(text for text in out.splitlines() if text.startswith(name))
        zeroed, kept = map(float, re.findall(r"(\d+\.\d+)", line))
        assert zeroed * 10 < kept, line  # without zeroing, stale gradients keep pushing
    diff = float(re.search(r"max difference (\S+)", out).group(1))
    assert diff < 1e-3


def test_backward_gradient():
    out = run("backward_gradient.py")
    assert "a.grad = [3.e-01 3.e+00 3.e-04]" in out
    assert "b.grad = [1.2e+00 1.6e+01 2.0e-03]" in out
    assert "c.grad = [1.6667e-02 1.4286e-01 1.2500e-05]" in out
    assert "grads = [6.0, 8.0, 2.0]" in out
    assert "picks Jacobian row 2: [0. 0. 2. 0.]" in out
    assert "b_y = seed_like(y, seed)" in out


def test_requires_grad():
    out = run("requires_grad.py")
    frozen = out.split("---- backward with both")[0]
    assert "b_W1" not in frozen and "no adjoint: `h` is constant with respect to W2" in frozen
    assert "b_W1 = b_W1 +" in out.split("---- backward with both")[1]
    assert "same either way: True" in out
    assert "no_grad" in out.split("---- no_grad and stop_gradient")[1]


def test_multitask():
    out = run("multitask.py")
    assert out.count("accumulated == grad of the sum: True") == 5
    assert "bwd_task1(" in out and "bwd_task2(" in out


def test_train_digits(tmp_path):
    pytest.importorskip("sklearn", reason="scikit-learn is in the test extras")
    out = run("train_digits.py", "--epochs", 8, "--out", tmp_path)
    accuracy = float(re.search(r"test accuracy (\S+);", out).group(1))
    assert accuracy > 0.9, out
    assert (tmp_path / "digits_loss.png").read_bytes().startswith(b"\x89PNG")


def test_forward_seeds():
    out = run("forward_seeds.py")
    assert "d_log = d_c / c" in out and "d_y = d_add + d_log" in out
    assert "the same Jacobian: True" in out
    assert "and it is [3I | diag(4b) | diag(1/c)]: True" in out
