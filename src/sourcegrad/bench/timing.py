"""Timing helpers: steady-state medians, first calls in fresh processes, the JAX version of a
NumPy-style function."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import types

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["as_jax", "block", "steady", "interleaved", "in_fresh_process"]


def as_jax(fn):
    """The same function with ``np`` bound to ``jax.numpy``: what a JAX user would write."""
    g = dict(fn.__globals__)
    for k, v in list(g.items()):
        if v is np:
            g[k] = jnp
    return types.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__, fn.__closure__)


def block(out):
    jax.tree_util.tree_map(lambda x: x.block_until_ready() if hasattr(x, "block_until_ready") else x, out)
    return out


def steady(call, min_time: float = 1.0, max_repeats: int = 200, warmup: int = 3) -> float:
    """Median seconds per call after warm-up (each call waited for with block_until_ready)."""
    for _ in range(warmup):
        block(call())
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < max_repeats and (len(times) < 5 or time.perf_counter() - start < min_time):
        t0 = time.perf_counter()
        block(call())
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def interleaved(
    calls: dict, min_time: float = 2.0, max_rounds: int = 400, warmup: int = 3, clock=time.perf_counter
) -> dict:
    """Median seconds per call of each callable, measured in alternation (A, B, C, A, B, C, ...),
    so that the machine's drift (another process, frequency changes) hits all of them alike:
    on a shared 2-core machine, separate measurements of the same code differ by 20%. ``clock``:
    ``time.process_time`` counts this process's CPU time alone, steadier under other load for
    work that runs on the calling thread (dispatch overhead)."""
    for call in calls.values():
        for _ in range(warmup):
            block(call())
    times: dict[str, list[float]] = {name: [] for name in calls}
    start = time.perf_counter()
    rounds = 0
    while rounds < max_rounds and (rounds < 7 or time.perf_counter() - start < min_time):
        order = list(calls.items())
        for name, call in order[rounds % len(order) :] + order[: rounds % len(order)]:  # rotated:
            t0 = clock()  # no tool always runs right after the same other one
            block(call())
            times[name].append(clock() - t0)
        rounds += 1
    return {name: statistics.median(t) for name, t in times.items()}


def in_fresh_process(module: str, args: list, timeout: float, env: dict | None = None):
    """Run ``python -m module args`` (in ``env``, else this process's environment) and parse the
    JSON it prints last; None on timeout."""
    env = dict(os.environ if env is None else env)
    try:
        done = subprocess.run(
            [sys.executable, "-m", module, *map(str, args)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        raise RuntimeError(f"{module} {args} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
