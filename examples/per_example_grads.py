"""Per-example gradients (the differential-privacy use): jax.vmap over a sourcegrad gradient,
against a Python loop of single gradients, and clipped-and-noised (DP-SGD style) aggregation.

Run: python examples/per_example_grads.py
"""

import time

import jax
import jax.numpy as jnp
import numpy as np

from sourcegrad import grad


def loss(W1, b1, W2, x, y):
    h = np.tanh(x @ W1 + b1)
    return np.sum((h @ W2 - y) ** 2)


def main(batch=128):
    rng = np.random.default_rng(0)
    W1 = jnp.asarray(rng.normal(size=(64, 128)) * 0.1, jnp.float32)
    b1 = jnp.zeros(128, jnp.float32)
    W2 = jnp.asarray(rng.normal(size=(128, 10)) * 0.1, jnp.float32)
    xs = jnp.asarray(rng.normal(size=(batch, 64)), jnp.float32)
    ys = jnp.asarray(rng.normal(size=(batch, 10)), jnp.float32)
    g = grad(loss, wrt=("W1", "b1", "W2"))
    per_example = jax.jit(jax.vmap(g, in_axes=(None, None, None, 0, 0)))

    def looped():
        return [g(W1, b1, W2, xs[i], ys[i]) for i in range(batch)]

    def timed(fn, repeat=5):
        jax.block_until_ready(fn())  # compile
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            jax.block_until_ready(fn())
            best = min(best, time.perf_counter() - start)
        return best

    vmapped = per_example(W1, b1, W2, xs, ys)
    singles = looped()
    gap = max(float(jnp.max(jnp.abs(v[i] - s[k])))
              for k, v in enumerate(vmapped) for i, s in enumerate(singles))
    t_vmap, t_loop = timed(lambda: per_example(W1, b1, W2, xs, ys)), timed(looped, 2)
    print(f"per-example gradients of {batch} examples: vmap {t_vmap * 1e3:.2f} ms, "
          f"loop of single gradients {t_loop * 1e3:.1f} ms, ratio {t_loop / t_vmap:.0f}x")
    print(f"max difference vmap vs loop: {gap:.1e}")
    # DP-SGD: clip each example's gradient to norm 1, sum, add noise
    norms = jnp.sqrt(sum(jnp.sum(v.reshape(batch, -1) ** 2, axis=1) for v in vmapped))
    scale = jnp.minimum(1.0, 1.0 / norms)
    clipped = [jnp.tensordot(scale, v, axes=1) for v in vmapped]
    noised = [c + 0.1 * jax.random.normal(jax.random.PRNGKey(i), c.shape) for i, c in enumerate(clipped)]
    print(f"clipped per-example norms <= 1: {bool(jnp.all(norms * scale <= 1.0 + 1e-6))}, "
          f"noised update shapes: {[tuple(n.shape) for n in noised]}")


if __name__ == "__main__":
    main()
