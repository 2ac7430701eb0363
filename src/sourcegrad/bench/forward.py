"""Forward mode and second order against JAX: ``sourcegrad bench forward``.

For each workload of the suite (``suite.WORKLOADS``, the same NumPy functions and inputs):

* **jvp**: ``sourcegrad.jvp(f, wrt=...)`` against ``jax.jit`` of ``jax.jvp`` of the expert JAX
  code, along the same random tangents;
* **hvp**: ``sourcegrad.hvp(f, wrt=...)`` (forward over reverse, by source transformation)
  against ``jax.jit`` of ``jax.jvp(jax.grad(f))``, the standard Hessian-vector product; where
  sourcegrad's second order refuses the function (see docs/limitations.md) the row says so.

Each is measured for its first call (transform + trace + compile + run, in a fresh process, so
no cache helps either side) and its steady state (median per call, the two tools in alternation),
and checked against JAX's answer (largest relative difference).
"""

from __future__ import annotations

import sys
import time

import jax
import numpy as np

from ..errors import SourcegradError
from .suite import BY_NAME, WORKLOADS, Workload, make_args
from .timing import as_jax, block, in_fresh_process, interleaved

__all__ = ["run", "MODES"]

MODES = ("jvp", "hvp")


def _reference_fn(w: Workload):
    return w.expert if w.expert is not None else as_jax(w.fn)


def _directions(w: Workload, args):
    rng = np.random.default_rng(1)
    return tuple(rng.standard_normal(np.shape(args[i])).astype(np.asarray(args[i]).dtype) for i in w.wrt)


def _partial(fn, w: Workload, args):
    """``fn`` as a function of the wrt arguments only (the others fixed)."""

    def of_wrt(*moving):
        full = list(args)
        for i, v in zip(w.wrt, moving):
            full[i] = v
        return fn(*full)

    return of_wrt


def tools(mode: str, w: Workload, args):
    """(sourcegrad's call, JAX's call): zero-argument callables computing the same thing."""
    from .. import hvp, jvp

    names = w.fn.__code__.co_varnames[: w.fn.__code__.co_argcount]
    wrt = tuple(names[i] for i in w.wrt)
    vs = _directions(w, args)
    primals = tuple(args[i] for i in w.wrt)
    reference = _partial(_reference_fn(w), w, args)
    if mode == "jvp":
        ours = jvp(w.fn, wrt=wrt)
        jitted = jax.jit(lambda *p: jax.jvp(reference, p, vs)[1])
        return (lambda: ours(*args, tangents=vs)[1]), (lambda: jitted(*primals))
    ours_h = hvp(w.fn, wrt=wrt)
    argnums = tuple(range(len(wrt)))
    jitted = jax.jit(lambda *p: jax.jvp(jax.grad(reference, argnums=argnums), p, vs)[1])
    return (lambda: ours_h(*args, vectors=vs)), (lambda: jitted(*primals))


def _relative_error(ours, ref) -> float:
    a = jax.tree_util.tree_leaves(ours)
    b = jax.tree_util.tree_leaves(ref)
    worst = 0.0
    for x, y in zip(a, b):
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        worst = max(worst, float(np.max(np.abs(x - y)) / (np.max(np.abs(y)) + 1e-30)))
    return worst


def first_call(mode: str, tool: str, name: str) -> float:
    """Seconds from nothing to the first result, in this (fresh) process."""
    w = BY_NAME[name]
    args = make_args(name)
    block(jax.numpy.ones(3) + 1)
    t0 = time.perf_counter()
    ours, theirs = tools(mode, w, args)
    block((ours if tool == "sourcegrad" else theirs)())
    return time.perf_counter() - t0


def measure(mode: str, w: Workload, timeout: float) -> dict:
    args = make_args(w.name)
    row: dict = {"workload": w.name, "mode": mode}
    try:
        ours, theirs = tools(mode, w, args)
        row["rel_error"] = _relative_error(block(ours()), block(theirs()))
    except SourcegradError as exc:
        row["refused"] = str(exc).splitlines()[0]
        return row
    times = interleaved({"sourcegrad": ours, "jax": theirs})
    row["steady_ms"] = {k: v * 1e3 for k, v in times.items()}
    row["steady_ratio"] = times["sourcegrad"] / times["jax"]
    firsts = {}
    for tool in ("sourcegrad", "jax"):
        out = in_fresh_process("sourcegrad.bench.forward", [mode, tool, w.name], timeout)
        firsts[tool] = None if out is None else out["seconds"] * 1e3
    row["first_ms"] = firsts
    if firsts["sourcegrad"] and firsts["jax"]:
        row["first_ratio"] = firsts["sourcegrad"] / firsts["jax"]
    return row


def _cell(row, key, fmt) -> str:
    value = row.get(key)
    return "-" if value is None else fmt(value)


def run(only=None, modes=MODES, timeout: float = 120.0) -> list:
    rows = []
    print("# sourcegrad bench forward: jvp against jax.jvp, hvp against jax.jvp(jax.grad), both jitted")
    print(
        "| mode | workload | rel. error | first call: sourcegrad / JAX | steady: sourcegrad / JAX | ratio |"
    )
    print("|---|---|---:|---:|---:|---:|")
    for mode in modes:
        for w in WORKLOADS:
            if (only and w.name not in only) or w.kind == "while":
                continue  # jax.jvp of the while workload needs its JAX version, which has none
            row = measure(mode, w, timeout)
            rows.append(row)
            if "refused" in row:
                print(f"| {mode} | {w.name} | - | - | - | refused: {row['refused'][:90]} |")
                continue
            first, steady = row["first_ms"], row["steady_ms"]
            firsts = " / ".join(
                "-" if first[t] is None else f"{first[t]:.0f} ms" for t in ("sourcegrad", "jax")
            )
            print(
                f"| {mode} | {w.name} | {row['rel_error']:.1e} | {firsts} | "
                f"{steady['sourcegrad']:.3f} / {steady['jax']:.3f} ms | "
                f"{row['steady_ratio']:.2f}x (first {_cell(row, 'first_ratio', lambda r: f'{r:.2f}x')}) |",
                flush=True,
            )
    return rows


def _main(argv) -> None:
    import json

    mode, tool, name = argv
    print(json.dumps({"seconds": first_call(mode, tool, name)}))


if __name__ == "__main__":
    _main(sys.argv[1:])
