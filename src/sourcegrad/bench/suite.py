"""The workload suite: sourcegrad against jax.grad (as a user and as an expert writes it), PyTorch
eager, and the cheap-gradient limit, measured side by side in one run.

For each workload: the gradient's error against a reference, the first call (transform + trace
+ compile, each in a fresh process), the steady-state time per call (median after warm-up,
``block_until_ready``), the ratio of gradient to primal time, and the temporaries XLA allocates
for the compiled gradient (its memory analysis). Then the transform time of long functions and
the checkpointing trade-off. Run: ``sourcegrad bench suite [--json out.json] [--plot out.png]``.
"""

from __future__ import annotations

import importlib
import json
import linecache
import statistics
import sys
import time
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from . import workloads_expert as expert
from . import workloads_numpy as user
from .report import HEADER, SUBHEAD, _line, verdicts
from .timing import as_jax, block, in_fresh_process, interleaved, steady

LONG_STATEMENTS = 500


@dataclass
class Workload:
    name: str
    kind: str  # "dense", "vector", "loop", "while", "long"
    wrt: tuple  # argument positions
    static: tuple = ()  # positions of static (Python int) arguments
    jax_user: str = "numpy"  # "expert" where jax.numpy cannot run the NumPy code (in-place writes)
    notes: str = ""
    args: object = field(default=None, repr=False)

    @property
    def fn(self):
        return _numpy_function(self.name)

    @property
    def expert(self):
        return getattr(expert, self.name, None)

    @property
    def user_jax(self):
        """The function a JAX user differentiates: the NumPy code with jax.numpy."""
        return self.expert if self.jax_user == "expert" else as_jax(self.fn)


def _numpy_function(name):
    if name == "long_straight_line":
        return long_function(LONG_STATEMENTS)
    return getattr(user, name)


def long_function(n_statements: int):
    """The generated straight-line function, with its source readable (registered with linecache)."""
    source = user.long_source(n_statements)
    filename = f"<sourcegrad-bench long_straight_line {n_statements}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"np": np, "__name__": "sourcegrad.bench.long"}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own generated source
    return namespace["long_straight_line"]


def make_args(name: str):
    rng = np.random.default_rng(0)
    f32 = np.float32
    if name == "mlp":
        x = rng.standard_normal((256, 784)).astype(f32)
        onehot = np.eye(10, dtype=f32)[rng.integers(0, 10, 256)]
        return (
            rng.standard_normal((784, 512)).astype(f32) * 0.05,
            np.zeros(512, f32),
            rng.standard_normal((512, 10)).astype(f32) * 0.05,
            np.zeros(10, f32),
            x,
            onehot,
        )
    if name == "logsumexp":
        return (rng.standard_normal(1_000_000).astype(f32), rng.uniform(0.5, 1.5, 1_000_000).astype(f32))
    if name == "gmm":
        n, d, k = 1000, 10, 25
        rows, cols = np.tril_indices(d, -1)
        return (
            rng.standard_normal(k).astype(f32),
            rng.standard_normal((k, d)).astype(f32),
            (rng.standard_normal((k, d + d * (d - 1) // 2)) * 0.1).astype(f32),
            rng.standard_normal((n, d)).astype(f32),
            rows.astype(np.int32),
            cols.astype(np.int32),
            f32(1.0),
            f32(1.0),
        )
    if name == "lstm":
        d, h, b, t = 32, 64, 16, 100
        return (
            (rng.standard_normal((d, 4 * h)) * 0.1).astype(f32),
            (rng.standard_normal((h, 4 * h)) * 0.1).astype(f32),
            np.zeros(4 * h, f32),
            rng.standard_normal((t, b, d)).astype(f32),
        )
    if name == "rk4":
        return (rng.uniform(-1, 1, 1024).astype(f32), f32(0.7), 1000)
    if name == "mass_spring":
        return (rng.uniform(-0.5, 0.5, 256).astype(f32), f32(2.0), 1000)
    if name == "fixed_point":
        return ((rng.standard_normal((64, 64)) * 0.5 / 8).astype(f32), rng.standard_normal(64).astype(f32))
    if name == "long_straight_line":
        return (rng.uniform(-1, 1, 64).astype(f32), rng.uniform(0.5, 1, 64).astype(f32))
    raise KeyError(name)


WORKLOADS = [
    Workload("mlp", "dense", (0, 1, 2, 3), notes="batch 256, 784-512-10, tanh, softmax cross-entropy"),
    Workload("logsumexp", "vector", (0, 1), notes="weighted logsumexp of 10^6 floats"),
    Workload("gmm", "dense", (0, 1, 2), jax_user="expert", notes="GradBench gmm: n=1000, d=10, k=25"),
    Workload("lstm", "loop", (0, 1, 2), notes="LSTM, 100 steps, batch 16, 32 -> 64"),
    Workload("rk4", "loop", (0, 1), static=(2,), notes="RK4, 1000 steps, 1024-vector"),
    Workload("mass_spring", "loop", (0, 1), static=(2,), notes="256 masses, 1000 steps"),
    Workload("fixed_point", "while", (0, 1), notes="h = tanh(W h + b) to 1e-6, a data-dependent while"),
    Workload("long_straight_line", "long", (0, 1), notes=f"{LONG_STATEMENTS} statements on 64-vectors"),
]
BY_NAME = {w.name: w for w in WORKLOADS}


def _dynamic(w: Workload, args):
    return [a for i, a in enumerate(args) if i not in w.static]


# ----- the tools -----


def sourcegrad_compiled(w: Workload, args):
    from ..api.grad import grad

    g = grad(w.fn, wrt=w.wrt)
    compiled = g.compile(*args)
    return g, compiled


def jax_compiled(fn, w: Workload, args):
    jitted = jax.jit(jax.grad(fn, argnums=w.wrt), static_argnums=w.static)
    return jitted.lower(*args).compile()


def first_call(tool: str, name: str) -> float:
    """Seconds for transform + trace + compile, in this (fresh) process."""
    w = BY_NAME[name]
    args = make_args(name)
    block(jnp.ones(3) + 1)
    t0 = time.perf_counter()
    if tool == "sourcegrad":
        sourcegrad_compiled(w, args)
    else:
        jax_compiled(w.user_jax, w, args)
    return time.perf_counter() - t0


def torch_step(w: Workload, args):
    """A zero-argument callable running PyTorch's forward and backward, or None without torch."""
    try:
        import torch

        tw = importlib.import_module("sourcegrad.bench.workloads_torch")
    except ImportError:
        return None
    torch.set_num_threads(2)
    fn = getattr(tw, w.name)
    tensors = []
    for i, a in enumerate(args):
        if i in w.static:
            tensors.append(a)
        elif isinstance(a, np.ndarray) and a.dtype.kind == "i":
            tensors.append(torch.from_numpy(a.astype(np.int64)))
        else:
            t = torch.tensor(np.asarray(a))
            t.requires_grad_(i in w.wrt)
            tensors.append(t)
    extra = (LONG_STATEMENTS,) if w.name == "long_straight_line" else ()

    def step():
        for t in tensors:
            if hasattr(t, "grad"):
                t.grad = None
        fn(*tensors, *extra).backward()
        return [tensors[i].grad for i in w.wrt]

    return step


def _relative_error(ours, ref) -> float:
    worst = 0.0
    for a, b in zip(ours, ref):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        worst = max(worst, float(np.max(np.abs(a - b)) / max(1e-30, float(np.max(np.abs(b))))))
    return worst


def _directional_fd(w: Workload, args, ours, eps=1e-4) -> float:
    """Relative error of <gradient, v> against a float64 central difference along a random v."""
    rng = np.random.default_rng(1)
    x64 = [np.asarray(a, np.float64) if i in w.wrt else a for i, a in enumerate(args)]
    v = {i: rng.standard_normal(np.shape(args[i])) for i in w.wrt}

    def at(t):
        moved = [x + t * v[i] if i in w.wrt else x for i, x in enumerate(x64)]
        return float(np.asarray(w.fn(*moved), np.float64))

    numeric = (at(eps) - at(-eps)) / (2 * eps)  # the NumPy function, in float64
    analytic = sum(float(np.sum(np.asarray(g, np.float64) * v[i])) for i, g in zip(w.wrt, ours))
    return abs(analytic - numeric) / max(1e-12, abs(numeric))


def measure(w: Workload, timeout: float, out=print, repeat_time: float = 1.0) -> dict:
    # inputs live on the device, as PyTorch's live in its tensors: no call pays a host copy
    host_args = make_args(w.name)
    args = tuple(
        jnp.asarray(a) if isinstance(a, (np.ndarray, np.generic)) and i not in w.static else a
        for i, a in enumerate(host_args)
    )
    row: dict = {"workload": w.name, "kind": w.kind, "notes": w.notes}
    g, ours = sourcegrad_compiled(w, args)
    grads = ours(*args)
    grads = grads if isinstance(grads, tuple) else (grads,)
    row["sourcegrad_temp_bytes"] = ours.memory_analysis().temp_size_in_bytes
    values, static, t = g._bind(args, {})
    primal = jax.jit(t.primal_fn, static_argnums=static).lower(*values).compile()
    calls = {"sourcegrad": lambda: ours(*args), "primal": lambda: primal(*_dynamic(w, values))}
    if w.expert is not None:
        ref = jax_compiled(w.expert, w, args)
        calls["jax_expert"] = lambda: ref(*_dynamic(w, args))
        row["jax_expert_temp_bytes"] = ref.memory_analysis().temp_size_in_bytes
        row["error_vs"] = "jax.grad (expert)"
        row["error"] = _relative_error(grads, ref(*_dynamic(w, args)))
    else:
        row["jax_expert_temp_bytes"] = None
        row["error_vs"] = "float64 finite difference"
        row["error"] = _directional_fd(w, host_args, grads)
    # timed in alternation, three times; the median of the three medians
    rounds = [interleaved(calls, min_time=repeat_time) for _ in range(3)]
    for name in calls:
        row[f"{name}_s"] = statistics.median(r[name] for r in rounds)
    row.setdefault("jax_expert_s", None)
    row["sourcegrad_first_s"] = in_fresh_process(
        "sourcegrad.bench.suite", ["--first-call", "sourcegrad", w.name], timeout
    )
    if w.kind == "while":
        row["jax_user_first_s"] = row["jax_user_s"] = None
        row["jax_user_note"] = "jax.grad cannot reverse-differentiate a while loop"
    else:
        row["jax_user_first_s"] = in_fresh_process(
            "sourcegrad.bench.suite", ["--first-call", "jax", w.name], timeout
        )
        row["jax_user_note"] = "" if row["jax_user_first_s"] else f"did not compile in {timeout:.0f} s"
        if row["jax_user_first_s"] is not None and w.kind != "loop":
            user_compiled = jax_compiled(w.user_jax, w, args)
            row["jax_user_s"] = steady(lambda: user_compiled(*_dynamic(w, args)), min_time=repeat_time)
        elif row["jax_user_first_s"] is not None:
            row["jax_user_s"] = None  # compiled in a fresh process, too slow to compile again here
        else:
            row["jax_user_s"] = None
    step = torch_step(w, host_args)
    row["torch_s"] = steady(step, min_time=1.0, max_repeats=50) if step else None
    out(_line(row))
    return row


def transform_scaling(lengths=(100, 1000, 5000)) -> list:
    from ..pipeline import transform

    rows = []
    for n in lengths:
        fn = long_function(n)
        times = []
        for _ in range(5 if n <= 1000 else 2):  # the least of a few: the transform's own cost
            t0 = time.perf_counter()
            transform(fn, ("x", "w"), param_kinds={})
            times.append(time.perf_counter() - t0)
        rows.append({"statements": n, "transform_s": min(times)})
    return rows


def checkpoint_tradeoff(n=10000) -> dict:
    from ..api.grad import grad

    y0, k = jnp.asarray(make_args("rk4")[0]), jnp.float32(0.7)
    plain = grad(user.rk4, wrt=(0, 1)).compile(y0, k, n)
    ckpt = grad(user.rk4, wrt=(0, 1), checkpoint="sqrt").compile(y0, k, n)
    return {
        "steps": n,
        "plain_s": steady(lambda: plain(y0, k, n)),
        "checkpoint_s": steady(lambda: ckpt(y0, k, n)),
        "plain_temp_bytes": plain.memory_analysis().temp_size_in_bytes,
        "checkpoint_temp_bytes": ckpt.memory_analysis().temp_size_in_bytes,
    }


def run(timeout: float = 60.0, out=print, only=None) -> dict:
    out(
        f"# sourcegrad bench suite: jax {jax.__version__} on {jax.devices()[0].platform}, "
        f"{jax.device_count()} device(s); JAX compile limit {timeout:.0f} s"
    )
    out(HEADER)
    out(SUBHEAD)
    # the transform is timed first, before the process holds eight compiled XLA programs (measured:
    # afterwards the same transform takes ~9% longer, from a larger heap)
    scaling = transform_scaling()
    rows = [measure(w, timeout, out) for w in WORKLOADS if only is None or w.name in only]
    for s in scaling:
        out(f"transform time, {s['statements']:5d} statements: {s['transform_s'] * 1e3:8.1f} ms")
    ckpt = checkpoint_tradeoff()
    out(
        f"checkpointing RK4 at {ckpt['steps']} steps: {ckpt['plain_s'] * 1e3:.1f} ms, "
        f"{ckpt['plain_temp_bytes'] / 1e6:.1f} MB -> {ckpt['checkpoint_s'] * 1e3:.1f} ms, "
        f"{ckpt['checkpoint_temp_bytes'] / 1e6:.2f} MB"
    )
    result = {
        "platform": jax.devices()[0].platform,
        "jax": jax.__version__,
        "workloads": rows,
        "transform_scaling": scaling,
        "checkpoint": ckpt,
    }
    if only is None:
        result["verdicts"] = verdicts(rows, scaling, ckpt)
        for line in result["verdicts"]:
            out(line)
    return result


if __name__ == "__main__":
    if sys.argv[1] == "--first-call":
        print(json.dumps(first_call(sys.argv[2], sys.argv[3])))
