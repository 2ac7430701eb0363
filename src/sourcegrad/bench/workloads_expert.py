"""The workloads as a JAX expert writes them: ``lax.scan`` / ``fori_loop`` instead of Python loops.

Differentiated with ``jax.jit(jax.grad(...))``; the data-dependent fixed-point solver has no
version here, because ``jax.grad`` cannot reverse-differentiate ``lax.while_loop``.
"""

import jax
import jax.numpy as jnp
from jax import lax


def mlp(W1, b1, W2, b2, x, onehot):
    h = jnp.tanh(x @ W1 + b1)
    logp = jax.nn.log_softmax(h @ W2 + b2, axis=1)
    return -jnp.mean(jnp.sum(onehot * logp, axis=1))


def logsumexp(x, w):
    return jax.scipy.special.logsumexp(x, b=w)


def gmm(alphas, means, icf, x, rows, cols, gamma, wishart_m):
    n, d = x.shape
    log_diag = icf[:, :d]
    q_diag = jnp.exp(log_diag)
    sum_qs = jnp.sum(log_diag, axis=1)
    L = jnp.zeros((alphas.shape[0], d, d)).at[:, rows, cols].set(icf[:, d:])
    Qs = L + q_diag[:, :, None] * jnp.eye(d)
    centered = x[:, None, :] - means[None, :, :]
    Qx = jnp.einsum("kij,nkj->nki", Qs, centered)
    main = alphas[None, :] + sum_qs[None, :] - 0.5 * jnp.sum(Qx**2, axis=2)
    lse = jax.scipy.special.logsumexp(main, axis=1)
    prior = 0.5 * gamma * gamma * (jnp.sum(q_diag**2) + jnp.sum(icf[:, d:] ** 2)) - wishart_m * jnp.sum(
        sum_qs
    )
    return -0.5 * n * d * jnp.log(2 * jnp.pi) + jnp.sum(lse) - n * jax.scipy.special.logsumexp(alphas) + prior


def lstm(Wx, Wh, b, xs):
    hidden = Wh.shape[0]

    def step(carry, x):
        h, c = carry
        gates = x @ Wx + h @ Wh + b
        i, f, o = (jax.nn.sigmoid(gates[:, j * hidden : (j + 1) * hidden]) for j in range(3))
        g = jnp.tanh(gates[:, 3 * hidden :])
        c = f * c + i * g
        return (o * jnp.tanh(c), c), None

    zeros = jnp.zeros((xs.shape[1], hidden))
    (h, _), _ = lax.scan(step, (zeros, zeros), xs)
    return jnp.sum(h**2)


def rk4(y0, k, n):
    dt = 0.01

    def step(y, _):
        k1 = -k * y + jnp.sin(y)
        k2 = -k * (y + 0.5 * dt * k1) + jnp.sin(y + 0.5 * dt * k1)
        k3 = -k * (y + 0.5 * dt * k2) + jnp.sin(y + 0.5 * dt * k2)
        k4 = -k * (y + dt * k3) + jnp.sin(y + dt * k3)
        return y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4), None

    y, _ = lax.scan(step, y0, None, length=n)
    return jnp.sum(y)


def mass_spring(x0, k, n):
    dt = 0.01

    def step(state, _):
        x, v = state
        stretch = jnp.roll(x, -1) - 2.0 * x + jnp.roll(x, 1)
        v = v * 0.999 + dt * k * stretch - dt * 0.1 * x**3
        return (x + dt * v, v), None

    (x, v), _ = lax.scan(step, (x0, jnp.zeros_like(x0)), None, length=n)
    return jnp.sum(x**2) + 0.5 * jnp.sum(v**2)
