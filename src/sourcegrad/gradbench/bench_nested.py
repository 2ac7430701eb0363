"""``sourcegrad bench gradbench`` for particle and saddle, whose outputs are the end points of
gradient descents with a derivative inside a derivative: per variant, the whole evaluation (the
descent, each of its steps differentiating through a data-dependent ``while`` loop) against
GradBench's expected output, its steady-state time and its first call.

The JAX side exists where JAX can differentiate the same loop: particle's ff and fr (forward mode
through ``lax.while_loop``, the inner gradient by ``jax.jvp`` or ``jax.grad``), the same descent
driver calling jitted functions. JAX's reverse mode refuses ``lax.while_loop`` (rf, rr), and
saddle's inner maximization would have to be rewritten with ``lax.while_loop`` and ``lax.cond``
around every branch, so those rows have no JAX column.
"""

from __future__ import annotations

import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

from sourcegrad import grad, jacfwd, jvp
from sourcegrad.bench.timing import block
from sourcegrad.gradbench import descent, particle, saddle

INPUTS = {"particle": {"w": 0.0}, "saddle": {"start": [1.0, 1.0]}}
EXPECTED = {"particle": 0.2071918746486116, "saddle": [8.246324826140356e-06] * 4}  # the evals' run.py


def _potential(x, w):
    return 1 / jnp.linalg.norm(x - jnp.array([10.0, 10.0 - w])) + 1 / jnp.linalg.norm(
        x - jnp.array([10.0, 0.0])
    )


def _miss_jax(w, inner):
    def force(x):
        if inner == "r":
            return -jax.grad(_potential)(x, w)
        along = [jax.jvp(lambda x: _potential(x, w), (x,), (e,))[1] for e in jnp.eye(2)]
        return -jnp.stack(along)

    def step(state):
        x, v = state
        return x + 0.1 * v, v + 0.1 * force(x)

    x, v = jax.lax.while_loop(
        lambda s: s[0][1] + 0.1 * s[1][1] > 0, step, (jnp.array([0.0, 8.0]), jnp.array([0.75, 0.0]))
    )
    return (x[0] - x[1] / v[1] * v[0]) ** 2


def _particle_jax(inner):
    objective = jax.jit(lambda w: _miss_jax(w, inner))
    derivative = jax.jit(lambda w: jax.jvp(lambda w: _miss_jax(w, inner), (w,), (1.0,))[1])
    return lambda w: descent.argmin(lambda w: float(objective(w)), derivative, w)


def _fresh_transforms(name: str) -> float:
    """Seconds to transform the eval's functions anew (they were transformed at import)."""
    t0 = time.perf_counter()
    if name == "particle":
        grad(particle.potential, wrt="x"), jvp(particle.potential, wrt="x")
        grad(particle.miss, wrt="w"), jvp(particle.miss, wrt="w")
    else:
        grad(saddle.f, wrt="q"), jvp(saddle.f, wrt="q"), jacfwd(saddle.f, wrt="q")
        grad(saddle.max_over_q, wrt="p"), jacfwd(saddle.max_over_q, wrt="p")
    return time.perf_counter() - t0


def _relative_error(got, want) -> float:
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    return float(np.max(np.abs(got - want) / np.maximum(1, np.abs(got) + np.abs(want))))


def _median(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        block(call())
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def workloads():
    return [(module, variant) for module in ("particle", "saddle") for variant in ("ff", "fr", "rf", "rr")]


def measure(module: str, variant: str, tolerance: float, repeats: int = 3) -> dict:
    fn = (particle if module == "particle" else saddle).FUNCTIONS[variant]
    args = fn.prepare(INPUTS[module])
    fresh = _fresh_transforms(module)
    t0 = time.perf_counter()
    out = block(fn.compute(*args))
    first = time.perf_counter() - t0 + fresh
    error = _relative_error(out, EXPECTED[module])
    row: dict = {
        "eval": f"{module}-{variant}",
        "input": "w=0" if module == "particle" else "start=(1,1)",
        "valid": error <= tolerance,
        "max_rel_error": error,
        "sourcegrad_s": _median(lambda: fn.compute(*args), repeats),
        "first_sourcegrad_s": first,
        "jax_s": None,
        "first_jax_s": None,
    }
    if module == "particle" and variant[0] == "f":
        theirs = _particle_jax(variant[1])
        t0 = time.perf_counter()
        block(theirs(*args))
        row["first_jax_s"] = time.perf_counter() - t0
        row["jax_s"] = _median(lambda: theirs(*args), repeats)
    for key, ours, jax_s in (
        ("ratio", "sourcegrad_s", "jax_s"),
        ("first_ratio", "first_sourcegrad_s", "first_jax_s"),
    ):
        row[key] = row[ours] / row[jax_s] if row[jax_s] else None
    return row
