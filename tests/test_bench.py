"""The benchmark workloads compute the right gradients, and the suite's machinery runs.

Speed is not asserted here (timings belong in the benchmark's printed ratios, measured side by
side); correctness and the structure of the report are.
"""

import json
import os
import pathlib
import subprocess
import sys

import pytest

from sourcegrad.bench import report, suite

REPO = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def float32_like_the_benchmark():
    """The workloads are float32 programs; the rest of the suite runs with x64 enabled."""
    import jax

    jax.config.update("jax_enable_x64", False)
    yield
    jax.config.update("jax_enable_x64", True)


@pytest.mark.parametrize("name", [w.name for w in suite.WORKLOADS])
def test_workload_gradient_matches_its_reference(name):
    w = suite.BY_NAME[name]
    args = suite.make_args(name)
    if name == "long_straight_line":  # 500 statements compile for seconds: check 60 here
        fn = suite.long_function(60)
        w = suite.Workload("long_60", "long", (0, 1))
        w.__class__ = type("W", (suite.Workload,), {"fn": property(lambda self: fn)})
    g, compiled = suite.sourcegrad_compiled(w, args)
    grads = compiled(*args)
    if w.expert is not None:
        ref = suite.jax_compiled(w.expert, w, args)(*[a for i, a in enumerate(args) if i not in w.static])
        assert suite._relative_error(grads, ref) < 1e-4
    else:
        assert suite._directional_fd(w, args, grads) < 1e-4


def test_verdicts_state_every_target():
    rows = [
        dict(
            workload="a",
            kind="loop",
            sourcegrad_s=1.0,
            jax_expert_s=1.0,
            primal_s=0.5,
            torch_s=5.0,
            sourcegrad_first_s=0.2,
            jax_user_first_s=None,
            jax_user_note="did not compile in 60 s",
        ),
        dict(
            workload="b",
            kind="long",
            sourcegrad_s=1.0,
            jax_expert_s=None,
            primal_s=0.4,
            torch_s=2.0,
            sourcegrad_first_s=0.2,
            jax_user_first_s=1.0,
            jax_user_note="",
        ),
    ]
    scaling = [{"statements": 100, "transform_s": 0.04}, {"statements": 1000, "transform_s": 0.5}]
    ckpt = {
        "steps": 10000,
        "plain_s": 1.0,
        "checkpoint_s": 1.5,
        "plain_temp_bytes": 100,
        "checkpoint_temp_bytes": 5,
    }
    lines = report.verdicts(rows, scaling, ckpt)
    text = "\n".join(lines)
    assert "every workload <= 1.05x: worst 1.00x (a) -> met" in text
    assert "faster than PyTorch eager on small and loop workloads, >= 3x: least 2.0x (b) -> NOT MET" in text
    assert "checkpointing at 10000 steps (RK4): tape memory 20x smaller for 1.50x" in text
    assert (
        "gradient / primal time, every workload <= 3x: worst 2.50x (b; jax.grad (expert): -) -> met" in text
    )


def test_plot_without_pytorch_or_expert_columns(tmp_path):
    """PyTorch is optional: a run without it still plots, saying what is missing."""
    row = dict(workload="a", sourcegrad_s=1.0, jax_expert_s=None, primal_s=0.5, torch_s=None)
    report.plot({"workloads": [row], "platform": "cpu"}, tmp_path / "p.png")
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow  # two minutes of a benchmark run in a fresh process: `pytest -m slow`
def test_bench_command_runs_one_workload(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sourcegrad",
            "bench",
            "suite",
            "--only",
            "logsumexp",
            "--timeout",
            "60",
            "--json",
            str(out),
            "--plot",
            str(tmp_path / "bench.png"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "logsumexp" in done.stdout and "transform time," in done.stdout
    data = json.loads(out.read_text())
    row = data["workloads"][0]
    assert row["error"] < 1e-5 and row["sourcegrad_s"] > 0 and row["jax_expert_s"] > 0
    assert (tmp_path / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("mode", ["jvp", "hvp"])
def test_forward_bench_tools_agree_with_jax(mode):
    """``sourcegrad bench forward`` compares like with like: on small inputs, sourcegrad's jvp and
    hvp of a workload give what jax.jvp / jax.jvp(jax.grad) of its expert version give."""
    import numpy as np

    from sourcegrad.bench import forward

    rng = np.random.default_rng(3)
    w = suite.BY_NAME["logsumexp"]
    args = (rng.standard_normal(50).astype(np.float32), rng.uniform(0.5, 1.5, 50).astype(np.float32))
    ours, theirs = forward.tools(mode, w, args)
    assert forward._relative_error(ours(), theirs()) < 1e-5


def test_xlas_small_loop_threshold_is_the_flag_small_loops_sets():
    # `bench small-loops` and the GradBench tool rely on this XLA option: a loop whose
    # iterations move more bytes than the threshold is dispatched op by op, a smaller one is
    # compiled whole (XLA marks it `xla_cpu_small_call`); if XLA renames the option, this fails
    import jax
    import jax.numpy as jnp

    probe = (
        "import jax, jax.numpy as jnp\n"
        "f = jax.jit(lambda x: jax.lax.fori_loop(0, 9, lambda i, c: jnp.sin(c) * c + 1.0, x))\n"
        "print('xla_cpu_small_call' in f.lower(jnp.ones(512)).compile().as_text())\n"
    )
    flag = "--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=1048576"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={**os.environ, "XLA_FLAGS": flag, "JAX_PLATFORMS": "cpu"},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "True"  # 512 floats, 2 KiB a step: under 1 MiB
    if "xla_backend_extra_options" not in os.environ.get("XLA_FLAGS", ""):  # XLA's default, 1 KiB
        f = jax.jit(lambda x: jax.lax.fori_loop(0, 9, lambda i, c: jnp.sin(c) * c + 1.0, x))
        assert "xla_cpu_small_call" not in f.lower(jnp.ones(512, jnp.float32)).compile().as_text()
