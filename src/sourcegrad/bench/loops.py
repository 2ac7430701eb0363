"""The scaling benchmark: compile time and run time of loop gradients as the trip count grows.

For each workload (a sin recurrence and an RK4 integrator over a 1024-vector,
float32) and each trip count it measures, side by side in one run:

* first call: transform + trace + compile (ahead of time, not running it), in a
  fresh process (so no cache helps), for sourcegrad and for ``jax.jit(jax.grad(f))`` of
  the same Python function (JAX unrolls the Python loop while tracing; lengths
  that do not compile within the time limit are reported as such);
* steady state: the median time of one gradient call after warm-up, for
  sourcegrad, for ``jax.jit(jax.grad)`` of the unrolled function where it
  compiled, and for ``jax.jit(jax.grad)`` of the same computation written with
  ``lax.scan`` by hand (the expert baseline).

Run: ``sourcegrad bench scaling`` (``--quick`` for 10/100 steps only).

``run_while`` (``sourcegrad bench while``) compares a data-dependent while
loop's checkpointed gradient with its full tape: XLA temp memory and time at 10, 1,000 and
100,000 iterations; ``run_for`` (``sourcegrad bench for``) does the same for a ``for`` loop with
``checkpoint="sqrt"`` and ``checkpoint="binomial"`` (revolve, 32 slots).
"""

from __future__ import annotations

import json
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from .loop_workloads import WORKLOADS
from .timing import as_jax, block, in_fresh_process, interleaved

SIZE = 1024
LENGTHS = (10, 100, 1000, 10000)


def inputs():
    rng = np.random.default_rng(0)
    return (jnp.asarray(rng.uniform(-1, 1, SIZE), jnp.float32), jnp.asarray(0.7, jnp.float32))


def make(tool: str, workload: str, n: int):
    """A zero-argument callable computing the gradient with respect to both inputs, compiled
    ahead of time (transform + trace + compile happen here, not in the call)."""
    numpy_fn, scan_fn = WORKLOADS[workload]
    x, k = inputs()
    if tool == "sourcegrad":
        from ..api.grad import grad

        g = grad(numpy_fn, wrt=(0, 1))
        compiled = g.compile(x, k, n)
        return lambda: compiled(x, k, n)
    fn = as_jax(numpy_fn) if tool == "jax" else scan_fn
    compiled = jax.jit(jax.grad(fn, argnums=(0, 1)), static_argnums=2).lower(x, k, n).compile()
    return lambda: compiled(x, k)


def first_call(tool: str, workload: str, n: int) -> float:
    """Seconds for transform + trace + compile (the issue's "first call", without running it),
    in this process; imports and device start-up are not counted."""
    inputs()
    block(jnp.ones(3) + 1)
    t0 = time.perf_counter()
    make(tool, workload, n)
    return time.perf_counter() - t0


def run(lengths=LENGTHS, timeout: float = 60.0, out=print) -> list:
    rows = []
    for workload in WORKLOADS:
        for n in lengths:
            row = {"workload": workload, "steps": n}
            for tool in ("sourcegrad", "jax"):
                row[f"{tool}_first_s"] = in_fresh_process(
                    "sourcegrad.bench.loops", ["--first-call", tool, workload, n], timeout
                )
            calls = {"sourcegrad": make("sourcegrad", workload, n), "jax_scan": make("jax-scan", workload, n)}
            if row["jax_first_s"]:
                calls["jax"] = make("jax", workload, n)
            # in alternation, so that the machine's drift hits all tools alike
            medians = interleaved(calls, min_time=1.0)
            row["sourcegrad_steady_s"] = medians["sourcegrad"]
            row["jax_scan_steady_s"] = medians["jax_scan"]
            row["jax_steady_s"] = medians.get("jax")
            rows.append(row)
            out(_line(row))
    return rows


def _fmt(seconds):
    return "did not compile" if seconds is None else f"{seconds * 1e3:9.2f} ms"


def _line(row) -> str:
    ratio = row["sourcegrad_steady_s"] / row["jax_scan_steady_s"]
    return (
        f"{row['workload']:15s} {row['steps']:6d} | first call: sourcegrad {_fmt(row['sourcegrad_first_s'])}"
        f"  jax.jit(jax.grad) {_fmt(row['jax_first_s'])} | steady: sourcegrad "
        f"{_fmt(row['sourcegrad_steady_s'])}  jax unrolled {_fmt(row['jax_steady_s'])}  "
        f"jax lax.scan {_fmt(row['jax_scan_steady_s'])}  ratio {ratio:5.2f}x"
    )


def summary(rows) -> list[str]:
    lines = []
    for workload in WORKLOADS:
        mine = [r for r in rows if r["workload"] == workload]
        first = {r["steps"]: r["sourcegrad_first_s"] for r in mine}
        lo, hi = min(first), max(first)
        lines.append(
            f"{workload}: sourcegrad first call at {hi} steps is "
            f"{first[hi] / first[lo]:.2f}x its first call at {lo} steps (target <= 1.5x)"
        )
        worst = max(r["sourcegrad_steady_s"] / r["jax_scan_steady_s"] for r in mine)
        lines.append(
            f"{workload}: steady state vs hand-written lax.scan, worst length: {worst:.2f}x (target <= 1.2x)"
        )
        failed = [r["steps"] for r in mine if r["jax_first_s"] is None]
        if failed:
            lines.append(
                f"{workload}: jax.jit(jax.grad) of the Python loop did not compile within "
                f"the time limit at {failed} steps"
            )
    return lines


# ----- data-dependent while loops: online checkpointing against a full tape -----
WHILE_LENGTHS = (10, 1000, 100000)


def decay_while(x, k, n):
    """A while loop whose trip count is data (``n`` is a traced array): no static bound."""
    t = 0.0 * k
    while t < n:
        x = np.sin(k * x) + 0.1 * x
        t = t + 1.0
    return np.sum(x)


def run_while(lengths=WHILE_LENGTHS, slots: int = 32, out=print) -> list:
    """XLA temp memory (the compiled gradient's memory analysis) and the median time of one
    gradient call, for the checkpointed loop (``slots`` checkpoints, no max_iter) and for the
    full tape (``max_iter`` = the trip count), over a 1024-vector in float32."""
    from ..api.grad import grad

    x, k = inputs()
    rows = []
    for n in lengths:
        steps = jnp.asarray(float(n), jnp.float32)
        calls, row = {}, {"steps": n, "slots": slots}
        for tool, g in (
            ("checkpointed", grad(decay_while, wrt=(0, 1), while_checkpoints=slots)),
            ("full_tape", grad(decay_while, wrt=(0, 1), max_iter=n)),
        ):
            compiled = g.compile(x, k, steps)
            row[f"{tool}_temp_bytes"] = compiled.memory_analysis().temp_size_in_bytes
            calls[tool] = (lambda c, n_steps: lambda: c(x, k, n_steps))(compiled, steps)
            row[f"{tool}_grad"] = np.asarray(calls[tool]()[0])
        difference = row.pop("checkpointed_grad") - row.pop("full_tape_grad")
        row["max_abs_diff"] = float(np.max(np.abs(difference)))
        medians = interleaved(calls, min_time=1.0)
        row.update({f"{tool}_steady_s": t for tool, t in medians.items()})
        rows.append(row)
        out(
            f"{n:7d} steps | temp memory: checkpointed {row['checkpointed_temp_bytes'] / 2**20:9.2f} MiB"
            f"  full tape {row['full_tape_temp_bytes'] / 2**20:9.2f} MiB | time: checkpointed "
            f"{_fmt(row['checkpointed_steady_s'])}  full tape {_fmt(row['full_tape_steady_s'])}"
            f" | max |difference| {row['max_abs_diff']:.2e}"
        )
    return rows


# ----- for loops: sqrt and binomial (revolve) checkpointing against a full tape -----


def recurrence_for(x, k, n):
    """A ``for`` loop whose trip count is known while tracing (``n`` is a Python int)."""
    for _i in range(n):
        x = np.sin(k * x) + 0.1 * x
    return np.sum(x)


FOR_TOOLS = (("full_tape", None), ("sqrt", "sqrt"), ("binomial", "binomial"))


def run_for(lengths=WHILE_LENGTHS, out=print) -> list:
    """XLA temp memory (the compiled gradient's memory analysis) and the median time of one
    gradient call of a ``for`` loop over a 1024-vector in float32: full tape, ``checkpoint="sqrt"``
    and ``checkpoint="binomial"`` (32 slots), with the largest difference from the full tape's
    gradient."""
    from ..api.grad import grad

    x, k = inputs()
    rows = []
    for n in lengths:
        calls, grads, row = {}, {}, {"steps": n}
        for tool, checkpoint in FOR_TOOLS:
            compiled = grad(recurrence_for, wrt=(0, 1), checkpoint=checkpoint).compile(x, k, n)
            row[f"{tool}_temp_bytes"] = compiled.memory_analysis().temp_size_in_bytes
            calls[tool] = (lambda c, n_steps: lambda: c(x, k, n_steps))(compiled, n)
            grads[tool] = np.asarray(calls[tool]()[0])
        for tool in ("sqrt", "binomial"):
            row[f"{tool}_max_abs_diff"] = float(np.max(np.abs(grads[tool] - grads["full_tape"])))
        medians = interleaved(calls, min_time=1.0, warmup=1)
        row.update({f"{tool}_steady_s": t for tool, t in medians.items()})
        rows.append(row)
        out(
            f"{n:7d} steps | temp memory: "
            + "  ".join(f"{tool} {row[f'{tool}_temp_bytes'] / 2**20:9.3f} MiB" for tool, _ in FOR_TOOLS)
            + " | time: "
            + "  ".join(f"{tool} {_fmt(row[f'{tool}_steady_s'])}" for tool, _ in FOR_TOOLS)
            + f" | max |difference|: sqrt {row['sqrt_max_abs_diff']:.1e}"
            + f"  binomial {row['binomial_max_abs_diff']:.1e}"
        )
    return rows


if __name__ == "__main__":
    if sys.argv[1] == "--while":
        run_while()
    elif sys.argv[1] == "--first-call":
        tool, workload, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
        print(json.dumps(first_call(tool, workload, n)))
