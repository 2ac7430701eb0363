"""``sourcegrad bench small-loops``: loops with small bodies on the CPU, under XLA's threshold for
compiling a whole while loop as one function.

XLA's CPU runtime runs a program as a sequence of *thunks*, one per fused operation. A
``while`` loop (what ``lax.scan`` and ``lax.while_loop`` become) runs its body's thunks one by
one on every iteration, unless the loop moves fewer bytes per iteration than a threshold (1024
by default, XLA's ``xla_cpu_small_while_loop_byte_threshold``): then the whole loop is compiled
into one function and runs without per-operation dispatch. The threshold is an XLA flag, read
once when JAX starts its backend, so it cannot be chosen per function from Python; each
setting here runs in a process of its own, and each prints sourcegrad's gradient, JAX's
(``jax.grad`` of the expert ``lax.scan`` code) and the primal side by side, so the ratios
within one setting are measured as the other suites measure them.

Run ``python -m sourcegrad.bench.small_loops BYTES`` for one setting (JSON on the last line).
"""

from __future__ import annotations

import json
import os
import sys

__all__ = ["THRESHOLDS", "WORKLOADS", "run", "measure"]

#: XLA's default first, then two larger settings.
THRESHOLDS = (1024, 65536, 1048576)
#: The suite's loop workloads (``lax.scan`` loops) and GradBench's nested while loops.
WORKLOADS = ("mass_spring", "rk4", "lstm", "particle-fr", "particle-rr", "saddle-rr")


def measure(names) -> dict:
    """Median milliseconds per call of each workload in this process, as its XLA flags are."""
    from . import suite, timing

    out = {}
    for name in names:
        calls = _suite_calls(name) if name in suite.BY_NAME else _gradbench_calls(name)
        medians = timing.interleaved(calls, min_time=2.0, max_rounds=60)
        out[name] = {k: v * 1e3 for k, v in medians.items()}
    return out


def _suite_calls(name: str) -> dict:
    """As ``sourcegrad bench suite`` measures a workload: float32, x64 off, inputs on device."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from . import suite

    jax.config.update("jax_enable_x64", False)
    w = suite.BY_NAME[name]
    args = tuple(
        jnp.asarray(a) if isinstance(a, np.ndarray) and i not in w.static else a
        for i, a in enumerate(suite.make_args(name))
    )
    g, ours = suite.sourcegrad_compiled(w, args)
    values, static, t = g._bind(args, {})
    primal = jax.jit(t.primal_fn, static_argnums=static).lower(*values).compile()
    expert = suite.jax_compiled(w.expert, w, args)
    dynamic, primal_args = suite._dynamic(w, args), suite._dynamic(w, values)
    return {
        "ours": lambda: ours(*args),
        "jax": lambda: expert(*dynamic),
        "primal": lambda: primal(*primal_args),
    }


def _gradbench_calls(name: str) -> dict:
    """A GradBench eval's whole computation (the descent and its nested derivatives), float64;
    JAX's side where JAX can differentiate the same loop (particle's forward outer variants)."""
    import jax

    from ..gradbench import bench_nested, particle, saddle

    jax.config.update("jax_enable_x64", True)
    module, variant = name.split("-")
    fn = (particle if module == "particle" else saddle).FUNCTIONS[variant]
    inputs = fn.prepare(bench_nested.INPUTS[module])
    calls = {"ours": lambda: fn.compute(*inputs)}
    if module == "particle" and variant[0] == "f":
        theirs = bench_nested._particle_jax(variant[1])
        calls["jax"] = lambda: theirs(*inputs)
    return calls


def run(only=None, thresholds=THRESHOLDS, timeout: float = 900.0) -> list:
    """Each threshold in a fresh process; prints one table row per workload and setting."""
    from .timing import in_fresh_process

    names = list(only or WORKLOADS)
    print("# sourcegrad bench small-loops: XLA's CPU small-while-loop threshold, per process")
    print(
        f"{'workload':<13} {'bytes':>8} {'ours ms':>10} {'jax ms':>10} {'primal ms':>10} {'/jax':>6} {'/primal':>8}"
    )
    rows = []
    for threshold in thresholds:
        flag = f"--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold={threshold}"
        env = {**os.environ, "XLA_FLAGS": f"{os.environ.get('XLA_FLAGS', '')} {flag}".strip()}
        got = in_fresh_process(__name__, [",".join(names)], timeout, env=env) or {}
        for name in names:
            m = got.get(name, {})
            ours, jax_ms, primal = m.get("ours"), m.get("jax"), m.get("primal")
            rows.append({"workload": name, "threshold": threshold, **m})
            cells = [f"{v:10.3f}" if v is not None else f"{'-':>10}" for v in (ours, jax_ms, primal)]
            by_jax = f"{ours / jax_ms:6.2f}" if ours and jax_ms else f"{'-':>6}"
            by_primal = f"{ours / primal:8.2f}" if ours and primal else f"{'-':>8}"
            print(f"{name:<13} {threshold:>8} {' '.join(cells)} {by_jax} {by_primal}", flush=True)
    return rows


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1].split(","))))
