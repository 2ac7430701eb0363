"""The demo that ``sourcegrad demo`` runs: a small model's loss, its generated gradient, checked."""

import numpy as np


def loss(W, b, x, y):
    """Mean squared error of a one-layer tanh network."""
    return np.mean((np.tanh(x @ W + b) - y) ** 2)


def run(out=print) -> int:
    import jax
    import jax.numpy as jnp

    from .api.grad import grad

    g = grad(loss, wrt=("W", "b"))
    out(g.source)
    rng = np.random.default_rng(0)
    W, b = rng.standard_normal((4, 3)), rng.standard_normal(3)
    x, y = rng.standard_normal((8, 4)), rng.standard_normal((8, 3))
    gW, gb = g(W, b, x, y)
    out("# ---- the gradient at a random point ----")
    out(f"dloss/dW =\n{np.asarray(gW)}")
    out(f"dloss/db = {np.asarray(gb)}")
    ref = jax.grad(lambda W, b: jnp.mean((jnp.tanh(x @ W + b) - y) ** 2), argnums=(0, 1))(W, b)
    err = max(float(np.max(np.abs(np.asarray(a) - np.asarray(r)))) for a, r in zip((gW, gb), ref))
    out(f"# max |difference| from jax.grad: {err:.2e}")
    return 0 if err < 1e-5 else 1
