"""``sourcegrad bench gradbench``: per eval, whether sourcegrad's gradient agrees with JAX's within
GradBench's tolerance, its steady-state time against ``jax.jit(jax.grad)`` of the same math, and
its first call (transform, trace, compile, run) against JAX's first call.

The JAX side is the eval's own NumPy function with ``np`` bound to ``jax.numpy``
(``bench.timing.as_jax``) where that runs under JAX; gmm and lstm write into arrays
(``L[:, rows, cols] = lower``, ``cell[i] = ...``), which jax.numpy refuses, so their JAX versions here
use ``.at[...].set`` instead, the only change. det recurses as written under both: JAX unrolls the
recursion and the loop while tracing, as sourcegrad's generated code does.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from sourcegrad import grad
from sourcegrad.bench.timing import as_jax, block, interleaved
from sourcegrad.gradbench import bench_jacobians, bench_nested, det, gmm, llsq, lse, lstm, ode

TOLERANCE = 1e-4  # GradBench's |x - y| / max(1, |x| + |y|)


def _gmm_jax(alpha, mu, q, lower, x, gamma, m, wishart_const, rows, cols):
    n, d = x.shape
    k = alpha.shape[0]
    L = jnp.zeros((k, d, d)).at[:, rows, cols].set(lower)
    Qdiag = jnp.exp(q)
    sum_q = jnp.sum(q, axis=1)
    centered = x[:, None, :] - mu[None, :, :]
    Qx = Qdiag[None, :, :] * centered + jnp.einsum("kij,nkj->nki", L, centered)
    main_term = alpha[None, :] + sum_q[None, :] - 0.5 * jnp.sum(Qx * Qx, axis=2)
    top = jnp.max(main_term, axis=1, keepdims=True)
    slse = jnp.sum(jnp.log(jnp.sum(jnp.exp(main_term - top), axis=1)) + top[:, 0])
    top_alpha = jnp.max(alpha)
    lse_alpha = jnp.log(jnp.sum(jnp.exp(alpha - top_alpha))) + top_alpha
    frobenius = jnp.sum(Qdiag * Qdiag) + jnp.sum(lower * lower)
    prior = 0.5 * gamma * gamma * frobenius - m * jnp.sum(sum_q)
    return -n * d * 0.5 * jnp.log(2 * jnp.pi) + slse - n * lse_alpha - prior + k * wishart_const


def _lstm_jax(main_params, extra_params, state, sequence):
    n_layers, b = main_params.shape[0] // 2, sequence.shape[1]
    hidden, cell = state[0::2], state[1::2]
    total = 0.0
    for t in range(sequence.shape[0] - 1):
        layer_input = sequence[t] * extra_params[0]
        for i in range(n_layers):
            weight, bias = main_params[2 * i], main_params[2 * i + 1]
            forget = jax.nn.sigmoid(layer_input * weight[:b] + bias[:b])
            ingate = jax.nn.sigmoid(hidden[i] * weight[b : 2 * b] + bias[b : 2 * b])
            outgate = jax.nn.sigmoid(layer_input * weight[2 * b : 3 * b] + bias[2 * b : 3 * b])
            change = jnp.tanh(hidden[i] * weight[3 * b :] + bias[3 * b :])
            cell = cell.at[i].set(cell[i] * forget + ingate * change)
            hidden = hidden.at[i].set(outgate * jnp.tanh(cell[i]))
            layer_input = hidden[i]
        prediction = layer_input * extra_params[1] + extra_params[2]
        normalized = prediction - jnp.log(jnp.sum(jnp.exp(prediction)) + 2)
        total = total + jnp.sum(sequence[t + 1] * normalized)
    return -total / ((sequence.shape[0] - 1) * b)


def workloads():
    """(eval, description, NumPy function, JAX function, wrt positions, arguments, static positions)."""
    rng = np.random.default_rng(31337)
    d, k, n = 10, 25, 1000
    cols, rows = np.triu_indices(d, 1)
    gmm_args = (
        rng.normal(size=k),
        rng.uniform(size=(k, d)),
        rng.normal(size=(k, d)),
        rng.normal(size=(k, d * (d - 1) // 2)),
        rng.normal(size=(n, d)),
        1.0,
        0.0,
        gmm.wishart_constant(d, 1.0, 0),
        rows,
        cols,
    )
    layers, b, c = 2, 14, 64
    lstm_args = (
        rng.random((2 * layers, 4 * b)),
        rng.random((3, b)),
        rng.random((2 * layers, b)),
        rng.integers(0, 2, (c, b)).astype(float),
    )
    return [
        ("lse", "n=100000", lse.logsumexp, as_jax(lse.logsumexp), (0,), (rng.random(100_000),), ()),
        ("llsq", "n=1024,m=128", llsq.llsq, as_jax(llsq.llsq), (0,), (rng.random(128), 1024), (1,)),
        ("ode", "n=1000,s=10", ode.runge_kutta, as_jax(ode.runge_kutta), (0,), (rng.random(1000), 10), (1,)),
        ("gmm", "d=10,k=25,n=1000", gmm.gmm_objective, _gmm_jax, (0, 1, 2, 3), gmm_args, ()),
        ("lstm", "l=2,c=64", lstm.lstm_objective, _lstm_jax, (0, 1), lstm_args, ()),
        # expansion in minors is O(ell!): the program unrolled while tracing grows as fast, so the
        # row is the eval's smallest input (docs/performance.md has the larger ones)
        ("det", "ell=5", det.det, as_jax(det.det), (0,), (rng.random((5, 5)),), ()),
    ]


def _seed(fn, args):
    """ode's output is a vector: its gradient is that of the last component."""
    if fn is ode.runge_kutta:
        seed = np.zeros_like(args[0])
        seed[-1] = 1.0
        return seed
    return None


def _relative_error(ours, theirs) -> float:
    worst = 0.0
    for a, b in zip(jax.tree_util.tree_leaves(ours), jax.tree_util.tree_leaves(theirs)):
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        worst = max(worst, float(np.max(np.abs(a - b) / np.maximum(1, np.abs(a) + np.abs(b)))))
    return worst


def measure(name, desc, fn, jax_fn, wrt, args, static):
    seed = _seed(fn, args)
    jax_target = (lambda *a: jax_fn(*a)[-1]) if seed is not None else jax_fn
    # both tools get the same device arrays (as the GradBench tool's prepare step makes them)
    jax_args = tuple(
        a if i in static or not isinstance(a, np.ndarray) else jnp.asarray(a) for i, a in enumerate(args)
    )
    t0 = time.perf_counter()
    ours = grad(fn, wrt=wrt)
    out = block(ours(*jax_args, seed=seed))
    first_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    theirs = jax.jit(jax.grad(jax_target, argnums=wrt), static_argnums=static)
    ref = block(theirs(*jax_args))
    first_jax = time.perf_counter() - t0
    error = _relative_error(out if isinstance(out, tuple) else (out,), ref)
    times = interleaved({"sourcegrad": lambda: ours(*jax_args, seed=seed), "jax": lambda: theirs(*jax_args)})
    return {
        "eval": name,
        "input": desc,
        "valid": error <= TOLERANCE,
        "max_rel_error": error,
        "sourcegrad_s": times["sourcegrad"],
        "jax_s": times["jax"],
        "ratio": times["sourcegrad"] / times["jax"],
        "first_sourcegrad_s": first_ours,
        "first_jax_s": first_jax,
        "first_ratio": first_ours / first_jax,
    }


def measure_jacobian(name, desc, ours, theirs, args, jax_args, fresh_transforms):
    """ba and ht: the eval's jitted Jacobian against the JAX one (see bench_jacobians)."""
    t0 = time.perf_counter()
    out = block(ours(*args))
    first_ours = time.perf_counter() - t0 + fresh_transforms
    t0 = time.perf_counter()
    ref = block(theirs(*jax_args))
    first_jax = time.perf_counter() - t0
    error = _relative_error(out, ref)
    times = interleaved({"sourcegrad": lambda: ours(*args), "jax": lambda: theirs(*jax_args)})
    return {
        "eval": name,
        "input": desc,
        "valid": error <= TOLERANCE,
        "max_rel_error": error,
        "sourcegrad_s": times["sourcegrad"],
        "jax_s": times["jax"],
        "ratio": times["sourcegrad"] / times["jax"],
        "first_sourcegrad_s": first_ours,
        "first_jax_s": first_jax,
        "first_ratio": first_ours / first_jax,
    }


def _kmeans_workload():
    """kmeans' Newton direction (gradient / Hessian diagonal, forward over reverse) against the
    same with jax.grad and jax.jvp(jax.grad) of the cost under jax.numpy."""
    from sourcegrad import hvp
    from sourcegrad.gradbench import kmeans

    rng = np.random.default_rng(17)
    k, n, d = 10, 4000, 8
    args = (rng.normal(size=(k, d)), rng.normal(size=(n, d)), np.ones((k, d)))
    t0 = time.perf_counter()
    grad(kmeans.cost), hvp(kmeans.cost)  # the transforms kmeans' module made when imported
    fresh = time.perf_counter() - t0
    cost = as_jax(kmeans.cost)

    def direction(centroids, points, ones):
        gradient = jax.grad(cost)(centroids, points)
        return gradient / jax.jvp(lambda c: jax.grad(cost)(c, points), (centroids,), (ones,))[1]

    jax_args = tuple(jnp.asarray(a) for a in args)
    ours = kmeans.FUNCTIONS["dir"].compute  # what the tool times: the direction, jitted whole
    return ("kmeans", f"k={k},n={n},d={d}", ours, jax.jit(direction), jax_args, jax_args, fresh)


def _row_text(r) -> str:
    """One printed row; a row without a JAX side (particle's and saddle's reverse variants) shows -."""

    def number(value, scale, unit, width):
        return (
            f"{value * scale:{width - len(unit)}.{3 if unit == 'ms' else 2}f}{unit}"
            if value
            else f"{'-':>{width}s}"
        )

    return (
        f"{r['eval']:11s} {r['input']:24s} {str(r['valid']):6s} {number(r['sourcegrad_s'], 1e3, 'ms', 10)} "
        f"{number(r['jax_s'], 1e3, 'ms', 10)} {number(r['ratio'], 1, '', 6)} "
        f"{number(r['first_sourcegrad_s'], 1, 's', 8)} {number(r['first_jax_s'], 1, 's', 9)} "
        f"{number(r['first_ratio'], 1, '', 6)}"
    )


def run(only=None) -> list[dict]:
    jax.config.update("jax_enable_x64", True)
    rows = []
    print(
        f"{'eval':11s} {'input':24s} {'valid':6s} {'steady':>10s} {'jax':>10s} {'ratio':>6s} "
        f"{'first':>8s} {'jax first':>9s} {'ratio':>6s}"
    )

    def wanted(name):
        return not only or name.split("-")[0] in only  # ht-c: ht's complicated variant

    def measured():  # one at a time, each row printed as soon as it is measured
        yield from (measure(*w) for w in workloads() if wanted(w[0]))
        if wanted("kmeans"):
            yield measure_jacobian(*_kmeans_workload())
        for w in bench_jacobians.workloads():
            if wanted(w[0]):
                yield measure_jacobian(*w, bench_jacobians.fresh_transforms(w[0]))
        for module, variant in bench_nested.workloads():
            if wanted(module):
                yield bench_nested.measure(module, variant, TOLERANCE)

    for r in measured():
        rows.append(r)
        print(_row_text(r), flush=True)
    return rows
