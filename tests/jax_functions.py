"""Functions for test_jax_native.py (in a file, so sourcegrad can read their source)."""

import numpy as np


def mlp(W, b, x):
    h = np.tanh(x @ W + b)
    return np.sum(h**2)


def recurrence(x, k):
    y = x
    for _ in range(6):
        y = np.sin(y) * k + x
    return np.sum(y)


def checkpointed(x, k):
    y = x
    for _ in range(9):  # sourcegrad: checkpoint=sqrt
        y = np.cos(y) * k + x
    return np.sum(y)


def newton(a):
    x = np.ones_like(a) + a
    err = 1.0
    while err > 1e-9:  # sourcegrad: max_iter=40
        x_new = 0.5 * (x + a / x)
        err = np.max(np.abs(x_new - x))
        x = x_new
    return np.sum(x)


def newton_short(a):
    x = np.ones_like(a)
    err = 1.0
    while err > 1e-12:  # sourcegrad: max_iter=3
        x_new = 0.5 * (x + a / x)
        err = np.max(np.abs(x_new - x))
        x = x_new
    return np.sum(x)


def branch(x):
    if np.sum(x) > 0:
        y = x * 0.5
    else:
        y = np.sin(x)
    return np.sum(y * y)


def _inner(x, k):
    return np.exp(x * k)


def calls(x, k):
    return np.sum(_inner(x, k) + np.sin(x))
