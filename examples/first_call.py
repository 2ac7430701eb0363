"""The first call of a gradient in a fresh process, cold (empty caches) and warm (caches filled by
an earlier process), for sourcegrad and for jax.jit(jax.grad).

sourcegrad is measured three ways: cold (empty caches: transform, trace, compile), warm with JAX's
compilation cache only (``enable_compilation_cache(modules=False)``: the transform still runs), and
warm with JAX's cache and the disk cache of generated modules (``enable_compilation_cache()``: the
generated source is loaded, the transform does not run). Each round runs every process once, side
by side; the table gives the median of the rounds. It also reports how long the transform took in
the cold process and how long loading its result from the module cache took.

Run: python examples/first_call.py [rounds]     (drives the fresh processes, prints the table)
"""

import json
import statistics
import subprocess
import sys
import tempfile
import time

MODEL = """
import numpy as np


def loss(W1, b1, W2, x, y):
    h = np.tanh(x @ W1 + b1)
    for i in range(4):
        h = np.tanh(h * 0.9 + 0.1)
    return np.mean((h @ W2 - y) ** 2)
"""


def child(kind, cache, model_dir):
    start = time.perf_counter()
    sys.path.insert(0, model_dir)
    import jax
    import jax.numpy as jnp
    import numpy as np

    import sourcegrad
    from sourcegrad.deploy import module_cache

    sourcegrad.enable_compilation_cache(cache, modules=kind != "sourcegrad-xla")
    import model

    rng = np.random.default_rng(0)
    args = [
        jnp.asarray(rng.normal(size=s), jnp.float32) for s in ((32, 64), (64,), (64, 8), (128, 32), (128, 8))
    ]
    imported = time.perf_counter()
    if kind.startswith("sourcegrad"):
        g = sourcegrad.grad(model.loss, wrt=("W1", "b1", "W2"))
    else:

        def jloss(W1, b1, W2, x, y):
            h = jnp.tanh(x @ W1 + b1)
            for _ in range(4):
                h = jnp.tanh(h * 0.9 + 0.1)
            return jnp.mean((h @ W2 - y) ** 2)

        g = jax.jit(jax.grad(jloss, argnums=(0, 1, 2)))
    jax.block_until_ready(g(*args))
    done = time.perf_counter()
    stats = module_cache.stats
    print(
        json.dumps(
            {
                "first_call_s": done - imported,
                "with_imports_s": done - start,
                "transform_ms": stats["transform_ms"],
                "load_ms": stats["load_ms"],
                "key_ms": stats["key_ms"],
                "hits": stats["hits"],
            }
        )
    )


def run(kind, cache, model_dir):
    out = subprocess.run(
        [sys.executable, __file__, "child", kind, cache, model_dir],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


ROWS = (
    ("sourcegrad", "cold", "sourcegrad, empty caches"),
    ("sourcegrad-xla", "warm", "sourcegrad, JAX's cache only (the transform runs)"),
    ("sourcegrad", "warm", "sourcegrad, JAX's cache + module cache"),
    ("jax", "cold", "jax.jit(jax.grad), empty cache"),
    ("jax", "warm", "jax.jit(jax.grad), JAX's cache"),
)


def main(rounds=3):
    samples: dict = {}
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            with open(f"{tmp}/model.py", "w") as f:
                f.write(MODEL)
            sg, jx = f"{tmp}/cache-sourcegrad", f"{tmp}/cache-jax"
            for kind, state, cache in (
                ("sourcegrad", "cold", sg),
                ("sourcegrad-xla", "warm", sg),
                ("sourcegrad", "warm", sg),
                ("jax", "cold", jx),
                ("jax", "warm", jx),
            ):
                samples.setdefault((kind, state), []).append(run(kind, cache, tmp))
    med = {key: {k: statistics.median(s[k] for s in runs) for k in runs[0]} for key, runs in samples.items()}
    print(f"first call in a fresh process, median of {rounds} rounds:")
    for kind, state, label in ROWS:
        print(f"  {label:<52} {med[kind, state]['first_call_s'] * 1e3:8.1f} ms")
    base = med["jax", "warm"]["first_call_s"]
    print(
        f"warm first call / jax.jit(jax.grad) warm: JAX's cache only "
        f"{med['sourcegrad-xla', 'warm']['first_call_s'] / base:.2f}x, "
        f"with the module cache {med['sourcegrad', 'warm']['first_call_s'] / base:.2f}x"
    )
    assert all(s["hits"] >= 1 for s in samples["sourcegrad", "warm"]), "the module cache was not used"
    print(
        f"the transform in a cold process: {med['sourcegrad', 'cold']['transform_ms']:.1f} ms; "
        f"loading its result from the module cache: {med['sourcegrad', 'warm']['load_ms']:.1f} ms "
        f"(+ {med['sourcegrad', 'warm']['key_ms']:.1f} ms to make the key)"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        child(*sys.argv[2:5])
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
