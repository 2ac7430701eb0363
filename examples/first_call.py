"""The first call of a gradient in a fresh process, cold (empty caches) and warm (JAX's persistent
compilation cache filled by an earlier process), for sourcegrad and for jax.jit(jax.grad).

Run: python examples/first_call.py            (drives the fresh processes, prints the table)
"""

import json
import subprocess
import sys
import tempfile
import time

MODEL = '''
import numpy as np


def loss(W1, b1, W2, x, y):
    h = np.tanh(x @ W1 + b1)
    for i in range(4):
        h = np.tanh(h * 0.9 + 0.1)
    return np.mean((h @ W2 - y) ** 2)
'''


def child(kind, cache, model_dir):
    start = time.perf_counter()
    sys.path.insert(0, model_dir)
    import jax
    import jax.numpy as jnp
    import numpy as np

    import sourcegrad
    sourcegrad.enable_compilation_cache(cache)
    import model
    rng = np.random.default_rng(0)
    args = [jnp.asarray(rng.normal(size=s), jnp.float32)
            for s in ((32, 64), (64,), (64, 8), (128, 32), (128, 8))]
    imported = time.perf_counter()
    if kind == "sourcegrad":
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
    print(json.dumps({"first_call_s": done - imported, "with_imports_s": done - start}))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        with open(f"{tmp}/model.py", "w") as f:
            f.write(MODEL)
        rows = {}
        for kind in ("sourcegrad", "jax"):
            cache = f"{tmp}/cache-{kind}"
            for state in ("cold", "warm"):
                out = subprocess.run([sys.executable, __file__, "child", kind, cache, tmp],
                                     capture_output=True, text=True, timeout=600)
                assert out.returncode == 0, out.stderr[-2000:]
                rows[kind, state] = json.loads(out.stdout.strip().splitlines()[-1])["first_call_s"]
        for kind in ("sourcegrad", "jax"):
            print(f"{kind:>10}: first call cold {rows[kind, 'cold'] * 1e3:7.1f} ms, "
                  f"warm {rows[kind, 'warm'] * 1e3:7.1f} ms")
        print(f"warm first call, sourcegrad / jax.jit(jax.grad): "
              f"{rows['sourcegrad', 'warm'] / rows['jax', 'warm']:.2f}x")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        child(*sys.argv[2:5])
    else:
        main()
