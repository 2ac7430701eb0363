"""The loop workloads of the scaling benchmark, written three ways.

``*_numpy``: what a sourcegrad user writes (NumPy, a Python loop); the same
function with ``np`` bound to ``jax.numpy`` is what a JAX user writes and
``jax.grad`` unrolls. ``*_scan``: what a JAX expert writes (``lax.scan``).
"""

import jax.numpy as jnp
import numpy as np
from jax import lax


def sin_recurrence_numpy(x, k, n):
    y = x
    for i in range(n):
        y = np.sin(y) * k + x
    return np.sum(y)


def rk4_numpy(y0, k, n):
    dt = 0.01
    y = y0
    for i in range(n):
        k1 = -k * y + np.sin(y)
        k2 = -k * (y + 0.5 * dt * k1) + np.sin(y + 0.5 * dt * k1)
        k3 = -k * (y + 0.5 * dt * k2) + np.sin(y + 0.5 * dt * k2)
        k4 = -k * (y + dt * k3) + np.sin(y + dt * k3)
        y = y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return np.sum(y)


def sin_recurrence_scan(x, k, n):
    def body(y, _):
        return jnp.sin(y) * k + x, None

    y, _ = lax.scan(body, x, None, length=n)
    return jnp.sum(y)


def rk4_scan(y0, k, n):
    dt = 0.01

    def body(y, _):
        k1 = -k * y + jnp.sin(y)
        k2 = -k * (y + 0.5 * dt * k1) + jnp.sin(y + 0.5 * dt * k1)
        k3 = -k * (y + 0.5 * dt * k2) + jnp.sin(y + 0.5 * dt * k2)
        k4 = -k * (y + dt * k3) + jnp.sin(y + dt * k3)
        return y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4), None

    y, _ = lax.scan(body, y0, None, length=n)
    return jnp.sum(y)


WORKLOADS = {
    "sin_recurrence": (sin_recurrence_numpy, sin_recurrence_scan),
    "rk4": (rk4_numpy, rk4_scan),
}
