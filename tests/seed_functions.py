"""The functions of the seed pages (../shared/seeds), written as a sourcegrad user would."""

import numpy as np

from sourcegrad import no_grad, stop_gradient


def page001_y(a, b, c):
    """Page 001: y = 3a + 2b^2 + log(c), a vector for vector inputs."""
    y = 3 * a + 2 * b * b + np.log(c)
    return y


def page001_z(x):
    """Page 001: z = 2x, then loss = z.sum(dim=1)."""
    z = 2 * x
    return z


def page001_loss(x):
    z = 2 * x
    loss = z.sum(axis=1)
    return loss


def linear_model(x, W, b):
    """Page 000: torch.matmul(x, W) + b."""
    return x @ W + b


def page000_loss(W, b, sample, target):
    output = sample @ W + b
    loss = np.sum((output - target) ** 2)
    return loss


def page003_task1(W, xs, ys):
    """Page 003: two tasks sharing W; their gradients accumulate before one step."""
    pred = np.tanh(xs @ W)
    return np.mean((pred - ys) ** 2)


def page003_task2(W, xs, ys):
    pred = xs @ W
    return np.mean(np.abs(pred - ys) ** 1.5)


def frozen_first_layer(W1, W2, x, y):
    """Pages 002/003: W1 frozen (requires_grad=False): only W2 is in wrt."""
    h = np.tanh(x @ W1)
    out = h @ W2
    return np.mean((out - y) ** 2)


def with_no_grad(x, w):
    """Page 002: values computed under no_grad are constants for the backward pass."""
    with no_grad():
        norm = np.sqrt(np.sum(w**2))
    return np.sum((x @ w) / norm)


def with_stop_gradient(x, w):
    target = stop_gradient(x @ w)
    return np.sum((x @ w - 0.5 * target) ** 2)
