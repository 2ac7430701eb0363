"""Data-parallel training over a mesh of 8 devices (simulated on CPU here): the batch is sharded,
the parameters replicated. Two ways, with the same parameters after the same steps as one device:

* `jax.jit` with NamedSharding turns the gradient's contraction over the batch into a
  cross-device sum (both of JAX's sharding modes: Explicit, the default of jax.make_mesh, and Auto);
* `jax.shard_map` runs the gradient on each device's shard, and `grad(..., axis_name="batch")`
  writes the cross-device reduction into the generated code: `lax.pmean` of the per-shard mean
  loss's gradient, or `lax.psum` of the per-shard parts of the global mean.

The median step times are printed (one device, then each way on all devices); the ways take
turns step by step, so a busy machine slows them alike.

Run: python examples/data_parallel.py [--steps N]
"""

import os

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")  # before JAX starts

import argparse  # noqa: E402
import contextlib  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import AxisType, NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P

from sourcegrad import grad  # noqa: E402


def loss(W1, b1, W2, x, y):
    h = np.tanh(x @ W1 + b1)
    return np.mean((h @ W2 - y) ** 2)


def loss_part(W1, b1, W2, x, y, n: int):
    """One shard's part of the global mean: its sum, divided by the global count (y.size)."""
    h = np.tanh(x @ W1 + b1)
    return np.sum((h @ W2 - y) ** 2) / n


g = grad(loss, wrt=("W1", "b1", "W2"))
g_mean = grad(loss, wrt=("W1", "b1", "W2"), axis_name="batch", axis_reduce="pmean")
g_sum = grad(loss_part, wrt=("W1", "b1", "W2"), axis_name="batch")


def sgd(params, grads):
    return tuple(p - 0.1 * d for p, d in zip(params, grads))


def jit_step():
    return jax.jit(lambda params, x, y: sgd(params, g(*params, x, y)))


def shard_map_step(mesh, gradient, *extra):
    def local(params, x, y):  # on one device: its shard of x and y, all of the parameters
        return sgd(params, gradient(*params, x, y, *extra))

    rows = P("batch", None)
    return jax.jit(jax.shard_map(local, mesh=mesh, in_specs=(P(), rows, rows), out_specs=P()))


def timed(step, state, mesh):
    """One step (under the mesh, if any): the new parameters and the seconds it took."""
    with jax.set_mesh(mesh) if mesh is not None else contextlib.nullcontext():
        start = time.perf_counter()
        params = jax.block_until_ready(step(*state))
        return params, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    steps = parser.parse_args().steps
    rng = np.random.default_rng(0)
    params = (
        jnp.asarray(rng.normal(size=(32, 256)) * 0.1, jnp.float32),
        jnp.zeros(256, jnp.float32),
        jnp.asarray(rng.normal(size=(256, 4)) * 0.1, jnp.float32),
    )
    x = jnp.asarray(rng.normal(size=(2048, 32)), jnp.float32)
    y = jnp.asarray(rng.normal(size=(2048, 4)), jnp.float32)
    n = jax.device_count()
    runs = [("one device", jit_step(), (params, x, y), None)]  # (label, step, (params, x, y), mesh)
    for mode in (AxisType.Explicit, AxisType.Auto):
        mesh = jax.make_mesh((n,), ("batch",), axis_types=(mode,))
        rows, rep = NamedSharding(mesh, P("batch", None)), NamedSharding(mesh, P())
        state = (tuple(jax.device_put(p, rep) for p in params), *(jax.device_put(a, rows) for a in (x, y)))
        runs.append((mode.name, jit_step(), state, mesh))
        if mode == AxisType.Explicit:
            runs.append(("shard_map pmean", shard_map_step(mesh, g_mean), state, mesh))
            runs.append(("shard_map psum", shard_map_step(mesh, g_sum, y.size), state, mesh))
    # the ways take turns, one step each, so a change in the machine's load touches them alike
    times: dict = {label: [] for label, *_ in runs}
    states = {label: state for label, _, state, _ in runs}
    for i in range(steps + 1):  # the first step compiles
        for label, step, _, mesh in runs:
            p, x_, y_ = states[label]
            p, seconds = timed(step, (p, x_, y_), mesh)
            states[label] = (p, x_, y_)
            if i:
                times[label].append(seconds)
    single = states["one device"][0]
    t_one = statistics.median(times["one device"])
    print(f"devices: {n}")
    print(f"one device: step {t_one * 1e3:.2f} ms (median of {steps})")
    for label, *_ in runs[1:]:
        sharded, t_many = states[label][0], statistics.median(times[label])
        gap = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(sharded, single))
        print(
            f"{label}: step {t_many * 1e3:.2f} ms on {n} devices, "
            f"{t_one * 1e3:.2f} ms on one; max parameter difference {gap:.1e}; "
            f"W1 sharding {sharded[0].sharding.spec}"
        )


if __name__ == "__main__":
    main()
