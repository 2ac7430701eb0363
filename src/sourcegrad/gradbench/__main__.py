"""The GradBench tool protocol: one JSON message a line on stdin, one response a line on stdout."""

from __future__ import annotations

import json
import os
import sys
import time
import traceback

import jax
import numpy as np

from sourcegrad import gradbench
from sourcegrad.errors import SourcegradError

jax.config.update("jax_enable_x64", True)  # GradBench's inputs and references are float64


def timed_runs(fn: gradbench.Function, data: dict) -> dict:
    """Run ``fn`` at least ``min_runs`` times and for at least ``min_seconds``, timing each run
    up to the moment its result is ready on the device."""
    # float arrays go to the device while preparing (not timed), as GradBench's JAX tool does
    # in its prepare step: a NumPy array would be copied to the device on every timed run
    args = tuple(
        jax.device_put(a) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
        for a in fn.prepare(data)
    )
    runs = data if isinstance(data, dict) else {}  # hello's inputs are bare numbers: one run
    min_runs, min_seconds = int(runs.get("min_runs", 1)), float(runs.get("min_seconds", 0))
    timings: list[dict] = []
    elapsed, out = 0.0, None
    while len(timings) < min_runs or elapsed < min_seconds:
        start = time.perf_counter_ns()
        out = jax.block_until_ready(fn.compute(*args))
        ns = time.perf_counter_ns() - start
        timings.append({"name": "evaluate", "nanoseconds": ns})
        elapsed += ns / 1e9
    return {"success": True, "output": fn.post(out), "timings": timings}


def respond(message: dict) -> dict:
    """The response to one protocol message."""
    response = {"id": message["id"]}
    kind = message.get("kind")
    try:
        if kind == "start":
            response["tool"] = "sourcegrad"
        elif kind == "define":
            start = time.perf_counter_ns()
            gradbench.functions(message["module"])
            response["success"] = True
            response["timings"] = [{"name": "define", "nanoseconds": time.perf_counter_ns() - start}]
        elif kind == "evaluate":
            fn = gradbench.functions(message["module"])[message["function"]]
            response |= timed_runs(fn, message["input"])
    except Exception as exc:  # the protocol's answer to any failure is success: false
        response["success"] = False
        located = isinstance(exc, SourcegradError)  # the located message says it all
        response["error"] = str(exc) if located else "".join(traceback.format_exception(exc))
    return response


#: XLA's CPU runtime compiles a while loop into one function only when an iteration moves less
#: than this many bytes (XLA's default: 1024); above that, each operation of the body is
#: dispatched on its own, every iteration. particle and saddle iterate tiny states through
#: bodies just over 1 KiB and run 3x to 10x faster with 64 KiB (docs/performance.md, "Small
#: loops on CPU"); JAX's own code gains as much under the same flag.
SMALL_LOOP_BYTES = 65536


def with_small_loops(environ) -> dict | None:
    """The environment to run the tool in, or None when ``environ`` is already it: XLA_FLAGS
    with the small-loop threshold, unless it names ``xla_backend_extra_options`` itself (the
    user's choice wins)."""
    flags = environ.get("XLA_FLAGS", "")
    if "xla_backend_extra_options" in flags:
        return None
    option = f"--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold={SMALL_LOOP_BYTES}"
    return {**environ, "XLA_FLAGS": f"{flags} {option}".strip()}


def main() -> None:
    environ = with_small_loops(os.environ)
    if environ is not None and os.name == "posix":  # XLA reads its flags once, when JAX starts
        # its backend, which importing sourcegrad already did: start again with them
        os.execve(sys.executable, [sys.executable, "-m", "sourcegrad.gradbench", *sys.argv[1:]], environ)
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(respond(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
