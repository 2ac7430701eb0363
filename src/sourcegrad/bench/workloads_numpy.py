"""The benchmark workloads as a sourcegrad user writes them: NumPy, Python loops.

The same functions with ``np`` bound to ``jax.numpy`` are what a JAX user writes (``jax.grad``
then unrolls the loops while tracing). NumPy has no sigmoid: the LSTM calls ``jax.nn.sigmoid``,
as the JAX and PyTorch versions do, so that all tools compute the same thing (written as
``1 / (1 + np.exp(-x))`` it is 1.11x slower, in sourcegrad and in ``jax.grad`` alike: measured
in docs/performance.md).
"""

import jax
import numpy as np

from sourcegrad import stop_gradient


def mlp(W1, b1, W2, b2, x, onehot):
    h = np.tanh(x @ W1 + b1)
    z = h @ W2 + b2
    m = stop_gradient(np.max(z, axis=1, keepdims=True))
    logp = z - m - np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))
    return -np.mean(np.sum(onehot * logp, axis=1))


def logsumexp(x, w):
    m = stop_gradient(np.max(x))
    return m + np.log(np.sum(np.exp(x - m) * w))


def gmm(alphas, means, icf, x, rows, cols, gamma, wishart_m):
    """GradBench's gmm objective: the log-likelihood of a Gaussian mixture whose precision
    matrices are parametrized by their Cholesky factors, plus a Wishart prior."""
    n, d = x.shape
    log_diag = icf[:, :d]
    q_diag = np.exp(log_diag)
    sum_qs = np.sum(log_diag, axis=1)
    L = np.zeros((alphas.shape[0], d, d), dtype=icf.dtype)
    L[:, rows, cols] = icf[:, d:]
    Qs = L + q_diag[:, :, None] * np.eye(d)
    centered = x[:, None, :] - means[None, :, :]
    Qx = np.einsum("kij,nkj->nki", Qs, centered)
    main = alphas[None, :] + sum_qs[None, :] - 0.5 * np.sum(Qx**2, axis=2)
    m = stop_gradient(np.max(main, axis=1, keepdims=True))
    lse = m[:, 0] + np.log(np.sum(np.exp(main - m), axis=1))
    a = stop_gradient(np.max(alphas))
    lse_alphas = a + np.log(np.sum(np.exp(alphas - a)))
    prior = 0.5 * gamma * gamma * (np.sum(q_diag**2) + np.sum(icf[:, d:] ** 2)) - wishart_m * np.sum(sum_qs)
    return -0.5 * n * d * np.log(2 * np.pi) + np.sum(lse) - n * lse_alphas + prior


def lstm(Wx, Wh, b, xs):
    hidden = Wh.shape[0]
    h = np.zeros((xs.shape[1], hidden))
    c = np.zeros((xs.shape[1], hidden))
    for x in xs:
        gates = x @ Wx + h @ Wh + b
        i = jax.nn.sigmoid(gates[:, :hidden])
        f = jax.nn.sigmoid(gates[:, hidden : 2 * hidden])
        o = jax.nn.sigmoid(gates[:, 2 * hidden : 3 * hidden])
        g = np.tanh(gates[:, 3 * hidden :])
        c = f * c + i * g
        h = o * np.tanh(c)
    return np.sum(h**2)


def rk4(y0, k, n):
    dt = 0.01
    y = y0
    for _i in range(n):
        k1 = -k * y + np.sin(y)
        k2 = -k * (y + 0.5 * dt * k1) + np.sin(y + 0.5 * dt * k1)
        k3 = -k * (y + 0.5 * dt * k2) + np.sin(y + 0.5 * dt * k2)
        k4 = -k * (y + dt * k3) + np.sin(y + dt * k3)
        y = y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return np.sum(y)


def mass_spring(x0, k, n):
    """A chain of masses joined by springs, integrated with symplectic Euler."""
    dt = 0.01
    x = x0
    v = np.zeros_like(x0)
    for _i in range(n):
        stretch = np.roll(x, -1) - 2.0 * x + np.roll(x, 1)
        v = v * 0.999 + dt * k * stretch - dt * 0.1 * x**3
        x = x + dt * v
    return np.sum(x**2) + 0.5 * np.sum(v**2)


def fixed_point(W, b):
    """h = tanh(W h + b) iterated until it stops moving: a data-dependent while loop."""
    h = np.zeros_like(b)
    delta = 1.0
    while delta > 1e-6:  # sourcegrad: max_iter=200
        h_new = np.tanh(W @ h + b)
        delta = np.max(np.abs(h_new - h))
        h = h_new
    return np.sum(h**2)


def long_source(n_statements: int) -> str:
    """A straight-line function of ``n_statements`` statements (the long-function workload)."""
    lines = ["def long_straight_line(x, w):", "    v0 = x * w"]
    # Each statement reads the previous value once, with derivatives of at most 1: values stay
    # bounded, and XLA (measured: jax.grad too) does not fall off the cliff it hits on 460-
    # statement chains whose values each feed two consumers (2.5 ms at 400, 120 s at 460).
    ops = [
        "np.sin(v{j}) * w",
        "np.tanh(v{j}) * 0.5 + x * 0.5",
        "v{j} * 0.9 - x * 0.1",
        "np.exp(-v{j}) * 0.5 + w * 0.25",
    ]
    for i in range(1, n_statements):
        lines.append(f"    v{i} = " + ops[i % 4].format(j=i - 1, k=max(0, i - 3)))
    lines.append(f"    return np.sum(v{n_statements - 1})")
    return "\n".join(lines) + "\n"
