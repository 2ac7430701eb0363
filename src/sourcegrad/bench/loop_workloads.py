"""The loop workloads of the scaling benchmark, written three ways.

``*_numpy``: what a sourcegrad user writes (NumPy, a Python loop); the same
function with ``np`` bound to ``jax.numpy`` is what a JAX user writes and
``jax.grad`` unrolls. ``*_scan``: what a JAX expert writes (``lax.scan``).
RK4 is the same integrator the workload suite runs (``workloads_numpy`` and
``workloads_expert``).
"""

import jax.numpy as jnp
import numpy as np
from jax import lax

from . import workloads_expert, workloads_numpy


def sin_recurrence_numpy(x, k, n):
    y = x
    for _i in range(n):
        y = np.sin(y) * k + x
    return np.sum(y)


def sin_recurrence_scan(x, k, n):
    def body(y, _):
        return jnp.sin(y) * k + x, None

    y, _ = lax.scan(body, x, None, length=n)
    return jnp.sum(y)


WORKLOADS = {
    "sin_recurrence": (sin_recurrence_numpy, sin_recurrence_scan),
    "rk4": (workloads_numpy.rk4, workloads_expert.rk4),
}
