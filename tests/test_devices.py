"""Data-parallel gradients on 8 simulated CPU devices (XLA_FLAGS set before JAX starts, so in a
subprocess): jit with NamedSharding in Explicit and Auto modes gives what one device gives, and
the contraction over the sharded batch (matmul_adjoint_rhs) no longer fails under Explicit."""

import pathlib
import re
import subprocess
import sys
import textwrap

REPO = pathlib.Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent("""
    import os
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"
    import sys
    sys.path.insert(0, {repo!r})
    import jax, jax.numpy as jnp, numpy as np
    from jax.sharding import AxisType, NamedSharding, PartitionSpec as P
    from sourcegrad import grad
    from tests import jax_functions as F
    assert jax.device_count() == 8
    rng = np.random.default_rng(0)
    W, b, x = (jnp.asarray(rng.normal(size=s), jnp.float32) for s in ((3, 5), (5,), (16, 3)))
    g = grad(F.mlp, wrt=("W", "b"))
    ref = jax.grad(lambda W, b: jnp.sum(jnp.tanh(x @ W + b) ** 2), argnums=(0, 1))(W, b)
    gx = grad(F.mlp, wrt="x")(W, b, x)
    for mode in (AxisType.Explicit, AxisType.Auto):
        mesh = jax.make_mesh((8,), ("batch",), axis_types=(mode,))
        with jax.set_mesh(mesh):
            xs = jax.device_put(x, NamedSharding(mesh, P("batch", None)))
            out = jax.jit(g)(W, b, xs)
            out_x = jax.jit(grad(F.mlp, wrt="x"))(W, b, xs)
        gap = max(float(jnp.max(jnp.abs(u - v))) for u, v in zip(out, ref))
        gap_x = float(jnp.max(jnp.abs(out_x - gx)))
        print(mode.name, gap, gap_x, out_x.sharding.spec)
""")


def test_data_parallel_gradients_on_eight_devices():
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(repo=str(REPO))],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for mode in ("Explicit", "Auto"):
        m = re.search(rf"^{mode} (\S+) (\S+) (.*)$", done.stdout, re.M)
        assert m, done.stdout
        assert float(m.group(1)) < 1e-5 and float(m.group(2)) < 1e-5, done.stdout
    # under Explicit sharding the input's gradient keeps the input's batch sharding
    assert re.search(r"^Explicit .* P\('batch', None\)$", done.stdout, re.M), done.stdout


def test_data_parallel_example():
    done = subprocess.run(
        [sys.executable, str(REPO / "examples" / "data_parallel.py")],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "devices: 8" in done.stdout
    for mode in ("Explicit", "Auto"):
        line = next(s for s in done.stdout.splitlines() if s.startswith(mode))
        assert float(re.search(r"max parameter difference (\S+);", line).group(1)) < 1e-5, line
