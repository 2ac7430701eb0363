"""Data-parallel training over a mesh of 8 devices (simulated on CPU here): the batch is sharded,
the parameters replicated, and `jax.jit` turns the gradient's contraction over the batch into a
cross-device sum. Both of JAX's sharding modes: Explicit (the default of jax.make_mesh) and Auto.
The same steps on one device give the same parameters; the step times are printed.

Run: python examples/data_parallel.py
"""

import os

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")  # before JAX starts

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


g = grad(loss, wrt=("W1", "b1", "W2"))


def make_step():
    @jax.jit
    def step(params, x, y):
        grads = g(*params, x, y)
        return tuple(p - 0.1 * d for p, d in zip(params, grads))
    return step


def train(params, x, y, steps=20):
    step = make_step()
    params = step(params, x, y)  # compile
    jax.block_until_ready(params)
    start = time.perf_counter()
    for _ in range(steps):
        params = step(params, x, y)
    jax.block_until_ready(params)
    return params, (time.perf_counter() - start) / steps


def main():
    rng = np.random.default_rng(0)
    params = (jnp.asarray(rng.normal(size=(32, 256)) * 0.1, jnp.float32),
              jnp.zeros(256, jnp.float32),
              jnp.asarray(rng.normal(size=(256, 4)) * 0.1, jnp.float32))
    x = jnp.asarray(rng.normal(size=(2048, 32)), jnp.float32)
    y = jnp.asarray(rng.normal(size=(2048, 4)), jnp.float32)
    single, t_one = train(params, x, y)
    print(f"devices: {jax.device_count()}")
    for mode in (AxisType.Explicit, AxisType.Auto):
        mesh = jax.make_mesh((jax.device_count(),), ("batch",), axis_types=(mode,))
        with jax.set_mesh(mesh):
            xs = jax.device_put(x, NamedSharding(mesh, P("batch", None)))
            ys = jax.device_put(y, NamedSharding(mesh, P("batch", None)))
            ps = tuple(jax.device_put(p, NamedSharding(mesh, P())) for p in params)
            sharded, t_many = train(ps, xs, ys)
        gap = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(sharded, single))
        print(f"{mode.name}: step {t_many * 1e3:.2f} ms on {jax.device_count()} devices, "
              f"{t_one * 1e3:.2f} ms on one; max parameter difference {gap:.1e}; "
              f"W1 sharding {sharded[0].sharding.spec}")


if __name__ == "__main__":
    main()
