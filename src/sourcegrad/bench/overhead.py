"""Per-call overhead: what a gradient call costs beyond the compiled computation.

Small evals and per-sample loops call a gradient many times on tiny inputs, so the time between
the call and XLA's dispatch decides their speed. Measured here on 16-element inputs, where the
computation itself takes well under a microsecond: ``g(x, w)`` (sourcegrad's call protocol),
``g.compile(x, w)``'s callable (an AOT executable), and ``jax.jit(jax.grad)`` of the same code
written with ``jax.numpy`` (JAX's C++ dispatch), side by side in alternation, each timed over
batches of calls as the process's CPU time (steady on a machine loaded by other work, where
wall-clock time is not). ``sourcegrad bench overhead`` prints them and the ratios.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from .. import grad
from .timing import interleaved

__all__ = ["run"]

BATCH = 500  # calls per timed sample: a single call is below the timer's useful resolution


def loss(x, w):
    return np.sum(np.tanh(x * w) ** 2)


def loss_jax(x, w):
    return jnp.sum(jnp.tanh(x * w) ** 2)


def _batched(call, x, w):
    def run():
        out = None
        for _ in range(BATCH):
            out = call(x, w)
        return out

    return run


def run(size: int = 16, dtype=np.float32, min_time: float = 3.0) -> dict:
    """Microseconds per call of each way to call the gradient, and the ratios to JAX."""
    x = np.linspace(-1.0, 1.0, size).astype(dtype)
    w = np.full(size, 0.5, dtype=dtype)
    g = grad(loss)
    compiled = g.compile(x, w)
    jitted = jax.jit(jax.grad(loss_jax))
    np.testing.assert_allclose(np.asarray(g(x, w)), np.asarray(jitted(x, w)), rtol=1e-5)
    calls = {
        "sourcegrad g(x, w)": _batched(g, x, w),
        "sourcegrad g.compile(x, w)(x, w)": _batched(compiled, x, w),
        "jax.jit(jax.grad)(x, w)": _batched(jitted, x, w),
    }
    start = time.perf_counter()
    medians = interleaved(calls, min_time=min_time, clock=time.process_time)
    micro = {name: seconds / BATCH * 1e6 for name, seconds in medians.items()}
    base = micro["jax.jit(jax.grad)(x, w)"]
    print(
        f"# per-call overhead: {size}-element {np.dtype(dtype).name} inputs, {BATCH} calls a sample, "
        f"CPU time of this process"
    )
    print("| call | µs per call | / jax.jit(jax.grad) |")
    print("|---|---:|---:|")
    for name, us in micro.items():
        print(f"| {name} | {us:.1f} | {us / base:.2f}x |")
    target = micro["sourcegrad g(x, w)"] / base
    verdict = "met" if target <= 1.2 else "not met"
    print(f"target: g(x, w) within 1.2x of jax.jit dispatch: {target:.2f}x ({verdict})")
    print(f"({time.perf_counter() - start:.1f} s)")
    return {"size": size, "dtype": np.dtype(dtype).name, "microseconds": micro, "ratio": target}
