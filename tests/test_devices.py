"""Data-parallel gradients on 8 simulated CPU devices (XLA_FLAGS set before JAX starts, so in a
subprocess): jit with NamedSharding in Explicit and Auto modes gives what one device gives, and
the contraction over the sharded batch (matmul_adjoint_rhs) no longer fails under Explicit;
jax.shard_map with grad(..., axis_name=...) gives the whole batch's gradient through the lax.psum
(or lax.pmean) the generated code ends with (golden file), and its options are checked."""

import os
import pathlib
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from sourcegrad import grad, jvp, value_and_grad
from sourcegrad.errors import OptionError

from .golden.sharded import mlp_shard_loss, mlp_shard_mean

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
    for mode in ("Explicit", "Auto", "shard_map pmean", "shard_map psum"):
        line = next(s for s in done.stdout.splitlines() if s.startswith(mode + ":"))
        assert float(re.search(r"max parameter difference (\S+);", line).group(1)) < 1e-5, line


SHARD_MAP = textwrap.dedent("""
    import os
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"
    import sys
    sys.path.insert(0, {repo!r})
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp, numpy as np
    from jax.sharding import NamedSharding, PartitionSpec as P
    from sourcegrad import grad, value_and_grad
    from tests.golden.sharded import mlp_shard_loss, mlp_shard_mean
    assert jax.device_count() == 8
    rng = np.random.default_rng(0)
    W1, b1, W2, x, y = (jnp.asarray(rng.normal(size=s)) for s in ((3, 6), (6,), (6, 2), (32, 3), (32, 2)))
    mesh = jax.make_mesh((8,), ("batch",))
    rep, rows = NamedSharding(mesh, P()), NamedSharding(mesh, P("batch", None))
    args = (*(jax.device_put(a, rep) for a in (W1, b1, W2)), *(jax.device_put(a, rows) for a in (x, y)))
    specs = (P(), P(), P(), P("batch", None), P("batch", None))

    def on_shards(g, out_specs=P()):
        return jax.jit(jax.shard_map(g, mesh=mesh, in_specs=specs, out_specs=out_specs))

    def gap(us, vs):
        return max(float(jnp.max(jnp.abs(u - v))) for u, v in zip(us, vs))

    for reduce, fn in (("psum", mlp_shard_loss), ("pmean", mlp_shard_mean)):
        full = lambda W1, b1, W2: (jnp.sum if reduce == "psum" else jnp.mean)(
            (jnp.tanh(x @ W1 + b1) @ W2 - y) ** 2)
        value, grads = jax.value_and_grad(full, argnums=(0, 1, 2))(W1, b1, W2)
        vg = value_and_grad(fn, wrt=("W1", "b1", "W2"), axis_name="batch", axis_reduce=reduce)
        v8, g8 = on_shards(vg)(*args)
        only = on_shards(grad(fn, wrt=("W1", "b1", "W2"), axis_name=("batch",), axis_reduce=reduce))(*args)
        print(reduce, gap(g8, grads), abs(float(v8 - value)), gap(only, grads), g8[0].dtype, g8[0].sharding.spec)

    # without axis_name each device returns its own shard's gradient: stacked by out_specs P("batch")
    local = on_shards(grad(mlp_shard_loss, wrt=("W1", "b1", "W2")), out_specs=P("batch"))(*args)
    per_shard = [
        jax.grad(lambda W1, b1, W2: jnp.sum((jnp.tanh(xs @ W1 + b1) @ W2 - ys) ** 2), argnums=(0, 1, 2))(W1, b1, W2)
        for xs, ys in zip(jnp.split(x, 8), jnp.split(y, 8))
    ]
    blocks = [np.split(np.asarray(part), 8) for part in local]
    shard_gap = max(gap([blk[d] for blk in blocks], per_shard[d]) for d in range(8))
    total = [sum(blk) for blk in blocks]
    whole = jax.grad(lambda W1, b1, W2: jnp.sum((jnp.tanh(x @ W1 + b1) @ W2 - y) ** 2), argnums=(0, 1, 2))
    print("local", shard_gap, gap(total, whole(W1, b1, W2)), gap(per_shard[0], per_shard[1]))
    # ... and JAX refuses to return it as replicated (out_specs P()): it varies across the devices
    try:
        on_shards(grad(mlp_shard_loss, wrt=("W1", "b1", "W2")))(*args)
        print("replicated accepted")
    except Exception as exc:
        print("replicated refused", type(exc).__name__)
    # ... unless check_vma=False: then it is device 0's shard gradient, unreduced
    unchecked = jax.shard_map(
        grad(mlp_shard_loss, wrt=("W1", "b1", "W2")), mesh=mesh, in_specs=specs, out_specs=P(), check_vma=False
    )
    print("unchecked", gap(jax.jit(unchecked)(*args), per_shard[0]))
""")


def test_shard_map_with_axis_name_gives_the_whole_batch_gradient():
    """grad(..., axis_name="batch") inside jax.shard_map: psum of per-shard sums and pmean of
    per-shard means both equal jax.grad of the whole batch's loss (float64); without axis_name
    each device gets its shard's gradient."""
    done = subprocess.run(
        [sys.executable, "-c", SHARD_MAP.format(repo=str(REPO))],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for reduce in ("psum", "pmean"):
        m = re.search(rf"^{reduce} (\S+) (\S+) (\S+) float64 (.*)$", done.stdout, re.M)
        assert m, done.stdout
        assert all(float(m.group(i)) < 1e-12 for i in (1, 2, 3)), done.stdout
    m = re.search(r"^local (\S+) (\S+) (\S+)$", done.stdout, re.M)
    assert m, done.stdout
    assert float(m.group(1)) < 1e-12 and float(m.group(2)) < 1e-12, done.stdout
    assert float(m.group(3)) > 1e-3, done.stdout  # the shards' gradients do differ
    assert "replicated refused" in done.stdout, done.stdout
    m = re.search(r"^unchecked (\S+)$", done.stdout, re.M)
    assert m and float(m.group(1)) < 1e-12, done.stdout


GOLDEN = REPO / "tests" / "golden" / "mlp_shard.axis_name.golden.py"


def test_axis_name_golden_source():
    """The generated gradient with axis_name, byte for byte: it ends with one lax.psum per
    accumulator and the value's, after a comment saying why (SOURCEGRAD_UPDATE_GOLDEN=1 rewrites)."""
    source = grad(mlp_shard_loss, wrt=("W1", "b1", "W2"), axis_name="batch").source
    if os.environ.get("SOURCEGRAD_UPDATE_GOLDEN"):
        GOLDEN.write_text(source)
    assert source == GOLDEN.read_text()
    tail = source[source.index("# == across devices") :].splitlines()
    assert [s.strip() for s in tail if "lax.psum(" in s] == [
        "b_W1 = lax.psum(b_W1, 'batch')",
        "b_b1 = lax.psum(b_b1, 'batch')",
        "b_W2 = lax.psum(b_W2, 'batch')",
        "return lax.psum(total, 'batch'), cast_like((b_W1, b_b1, b_W2), (W1, b1, W2))",
    ]
    # the same function without axis_name generates no collective, and a fresh/`acc` choice
    plain = grad(mlp_shard_loss, wrt=("W1", "b1", "W2")).source
    assert "lax." not in plain and "acc is None" in plain and "acc is None" not in source


def test_axis_name_pmean_and_several_axes():
    source = grad(mlp_shard_mean, wrt="W2", axis_name=("data", "replica"), axis_reduce="pmean").source
    assert "b_W2 = lax.pmean(b_W2, ('data', 'replica'))" in source
    assert 'averages the parts over the mesh axes "data", "replica"' in source.replace("\n    #   ", " ")
    assert "return lax.pmean(mean, ('data', 'replica')), cast_like((b_W2,), (W2,))" in source


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(axis_name=3), "axis_name=3 is not a valid value"),
        (dict(axis_name=""), "axis_name='' is not a valid value"),
        (dict(axis_name=()), "axis_name=() is not a valid value"),
        (dict(axis_name=("batch", 1)), "axis_name=('batch', 1) is not a valid value"),
        (dict(axis_name=["batch"]), "axis_name=['batch'] is not a valid value"),
        (dict(axis_name="batch", axis_reduce="max"), "axis_reduce='max' is not a valid value"),
        (dict(axis_reduce="pmean"), "axis_reduce='pmean' needs axis_name="),
    ],
)
def test_axis_name_options_are_checked(options, message):
    for make in (grad, value_and_grad):
        with pytest.raises(OptionError, match=re.escape(message)):
            make(mlp_shard_loss, wrt="W1", **options)


def test_axis_name_refusals():
    with pytest.raises(OptionError, match="jvp does not take axis_name='batch'"):
        jvp(mlp_shard_loss, wrt="W1", axis_name="batch")
    g = grad(mlp_shard_loss, wrt=("W1", "b1", "W2"), axis_name="batch")
    rng = np.random.default_rng(0)
    args = [rng.normal(size=s) for s in ((3, 6), (6,), (6, 2), (4, 3), (4, 2))]
    # outside shard_map the axis is unbound: said so, not JAX's NameError from inside the library
    with pytest.raises(OptionError, match="runs inside jax.shard_map over a mesh with that axis"):
        g(*args)
    with pytest.raises(OptionError, match="accumulate= is not taken with axis_name='batch'"):
        g(*args, accumulate=tuple(np.zeros_like(a) for a in args[:3]))
