"""The workloads in PyTorch, run eagerly (the bench imports this only when torch is installed)."""

import math

import torch


def mlp(W1, b1, W2, b2, x, onehot):
    h = torch.tanh(x @ W1 + b1)
    logp = torch.log_softmax(h @ W2 + b2, dim=1)
    return -torch.mean(torch.sum(onehot * logp, dim=1))


def logsumexp(x, w):
    m = torch.max(x).detach()
    return m + torch.log(torch.sum(torch.exp(x - m) * w))


def gmm(alphas, means, icf, x, rows, cols, gamma, wishart_m):
    n, d = x.shape
    log_diag = icf[:, :d]
    q_diag = torch.exp(log_diag)
    sum_qs = torch.sum(log_diag, dim=1)
    L = torch.zeros((alphas.shape[0], d, d), dtype=x.dtype)
    L[:, rows, cols] = icf[:, d:]
    Qs = L + q_diag[:, :, None] * torch.eye(d, dtype=x.dtype)
    centered = x[:, None, :] - means[None, :, :]
    Qx = torch.einsum("kij,nkj->nki", Qs, centered)
    main = alphas[None, :] + sum_qs[None, :] - 0.5 * torch.sum(Qx**2, dim=2)
    prior = 0.5 * gamma * gamma * (torch.sum(q_diag**2) + torch.sum(icf[:, d:] ** 2)) - wishart_m * torch.sum(
        sum_qs
    )
    return (
        -0.5 * n * d * math.log(2 * math.pi)
        + torch.sum(torch.logsumexp(main, dim=1))
        - n * torch.logsumexp(alphas, dim=0)
        + prior
    )


def lstm(Wx, Wh, b, xs):
    hidden = Wh.shape[0]
    h = torch.zeros((xs.shape[1], hidden), dtype=xs.dtype)
    c = torch.zeros_like(h)
    for x in xs:
        gates = x @ Wx + h @ Wh + b
        i, f, o = (torch.sigmoid(gates[:, j * hidden : (j + 1) * hidden]) for j in range(3))
        c = f * c + i * torch.tanh(gates[:, 3 * hidden :])
        h = o * torch.tanh(c)
    return torch.sum(h**2)


def rk4(y0, k, n):
    dt = 0.01
    y = y0
    for _ in range(n):
        k1 = -k * y + torch.sin(y)
        k2 = -k * (y + 0.5 * dt * k1) + torch.sin(y + 0.5 * dt * k1)
        k3 = -k * (y + 0.5 * dt * k2) + torch.sin(y + 0.5 * dt * k2)
        k4 = -k * (y + dt * k3) + torch.sin(y + dt * k3)
        y = y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return torch.sum(y)


def mass_spring(x0, k, n):
    dt = 0.01
    x, v = x0, torch.zeros_like(x0)
    for _ in range(n):
        stretch = torch.roll(x, -1) - 2.0 * x + torch.roll(x, 1)
        v = v * 0.999 + dt * k * stretch - dt * 0.1 * x**3
        x = x + dt * v
    return torch.sum(x**2) + 0.5 * torch.sum(v**2)


def fixed_point(W, b):
    h = torch.zeros_like(b)
    delta = 1.0
    while delta > 1e-6:
        h_new = torch.tanh(W @ h + b)
        delta = torch.max(torch.abs(h_new - h)).item()
        h = h_new
    return torch.sum(h**2)


def long_straight_line(x, w, n_statements):
    v = x * w
    for i in range(1, n_statements):
        if i % 4 == 0:
            v = torch.sin(v) * w
        elif i % 4 == 1:
            v = torch.tanh(v) * 0.5 + x * 0.5
        elif i % 4 == 2:
            v = v * 0.9 - x * 0.1
        else:
            v = torch.exp(-v) * 0.5 + w * 0.25
    return torch.sum(v)
