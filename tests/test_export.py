"""Export: a gradient as a jax.export artifact, loaded and called in a fresh process that has
neither sourcegrad nor the user's file. Oracle: the same gradient called in this process, and
0.5/sqrt(a) for Newton's iteration."""

import pathlib
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sourcegrad import ShapeError, grad
from sourcegrad.cli import main
from tests import jax_functions as F

REPO = pathlib.Path(__file__).resolve().parents[1]
f32 = jnp.float32
(B,) = jax.export.symbolic_shape("B")


def call_elsewhere(artifact: pathlib.Path, inputs: pathlib.Path, out: pathlib.Path):
    """Deserialize and call in a new interpreter where importing sourcegrad fails."""
    script = textwrap.dedent(f"""
        import sys
        sys.modules["sourcegrad"] = None  # any import of sourcegrad now fails
        sys.path = [p for p in sys.path if "tests" not in p]
        import jax, numpy as np
        exp = jax.export.deserialize(bytearray(open({str(artifact)!r}, "rb").read()))
        data = np.load({str(inputs)!r})
        out = exp.call(*[data[k] for k in sorted(data.files)])
        leaves = jax.tree_util.tree_leaves(out)
        np.savez({str(out)!r}, **{{f"g{{i}}": np.asarray(v) for i, v in enumerate(leaves)}})
    """)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd="/", timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    got = np.load(out)
    return [got[f"g{i}"] for i in range(len(got.files))]


CASES = {
    "straight": (
        F.mlp,
        ("W", "b"),
        (
            jax.ShapeDtypeStruct((3, 5), f32),
            jax.ShapeDtypeStruct((5,), f32),
            jax.ShapeDtypeStruct((B, 3), f32),
        ),
        lambda n: (
            np.full((3, 5), 0.1, np.float32),
            np.zeros(5, np.float32),
            np.linspace(0, 1, 3 * n, dtype=np.float32).reshape(n, 3),
        ),
    ),
    "loop": (
        F.recurrence,
        ("x", "k"),
        (jax.ShapeDtypeStruct((B,), f32), jax.ShapeDtypeStruct((), f32)),
        lambda n: (np.linspace(0.1, 1, n, dtype=np.float32), np.float32(0.6)),
    ),
    "while": (
        F.newton,
        "a",
        (jax.ShapeDtypeStruct((B,), f32),),
        lambda n: (np.linspace(1, 5, n, dtype=np.float32),),
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_exported_gradient_runs_without_sourcegrad(case, tmp_path):
    fn, wrt, specs, make = CASES[case]
    g = grad(fn, wrt=wrt)
    artifact = tmp_path / "grad.jaxexport"
    artifact.write_bytes(g.export(*specs, platforms=("cpu", "cuda")))
    for n in (2, 5):  # one artifact, any batch size
        args = make(n)
        np.savez(tmp_path / "in.npz", **{f"a{i}": a for i, a in enumerate(args)})
        got = call_elsewhere(artifact, tmp_path / "in.npz", tmp_path / "out.npz")
        want = jax.tree_util.tree_leaves(g(*args))
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-6)
        if case == "while":
            np.testing.assert_allclose(got[0], 0.5 / np.sqrt(args[0]), rtol=1e-5)


def test_cli_export(tmp_path):
    model = tmp_path / "model.py"
    model.write_text(
        "import numpy as np\n\n\ndef loss(W, b, x, y):\n    return np.mean((np.tanh(x @ W + b) - y) ** 2)\n"
    )
    out = tmp_path / "grad_loss.jaxexport"
    code = main(
        [
            "export",
            f"{model}:loss",
            "--wrt",
            "W,b",
            "--shapes",
            "W=f32[4,3] b=f32[3] x=f32[B,4] y=f32[B,3]",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    rng = np.random.default_rng(0)
    args = [rng.normal(size=s).astype(np.float32) for s in ((4, 3), (3,), (6, 4), (6, 3))]
    np.savez(tmp_path / "in.npz", **{f"a{i}": a for i, a in enumerate(args)})
    got = call_elsewhere(out, tmp_path / "in.npz", tmp_path / "out.npz")
    W, b, x, y = map(jnp.asarray, args)
    want = jax.grad(lambda W, b: jnp.mean((jnp.tanh(x @ W + b) - y) ** 2), argnums=(0, 1))(W, b)
    for a, w in zip(got, want, strict=True):
        np.testing.assert_allclose(a, w, rtol=1e-5, atol=1e-7)


def test_export_for_shapes_that_do_not_fit_is_located():
    g = grad(F.mlp, wrt=("W", "b"))
    with pytest.raises(ShapeError, match=r"jax_functions.py:7:.*contracting dimensions"):
        g.export(
            jax.ShapeDtypeStruct((3, 5), f32),
            jax.ShapeDtypeStruct((5,), f32),
            jax.ShapeDtypeStruct((B, 4), f32),
        )


def test_cli_export_usage_errors(tmp_path, capsys):
    model = tmp_path / "model.py"
    model.write_text("import numpy as np\n\n\ndef loss(W, x):\n    return np.sum(x @ W)\n")
    out = str(tmp_path / "g.jaxexport")
    assert main(["export", f"{model}:loss", "--wrt", "W", "--shapes", "W=f32[4,3]", "-o", out]) == 2
    assert "no shape for x" in capsys.readouterr().err
    assert main(["export", f"{model}:loss", "--wrt", "W", "--shapes", "W=q7[4] x=f32[2,4]", "-o", out]) == 2
    assert "unknown dtype 'q7'" in capsys.readouterr().err
    assert (
        main(["export", f"{model}:loss", "--wrt", "W", "--shapes", "W=f32[4,3] x=f32[2,5]", "-o", out]) == 2
    )
    assert "ShapeError" in capsys.readouterr().err


def test_calling_an_artifact_with_other_shapes_is_refused(tmp_path):
    exp = jax.export.deserialize(grad(F.newton).export(jax.ShapeDtypeStruct((3,), f32)))
    with pytest.raises(ValueError, match="shape"):
        exp.call(np.ones(4, np.float32))
