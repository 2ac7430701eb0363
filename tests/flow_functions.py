"""Functions for test_control_flow.py (in a file, so sourcegrad can read their source)."""

import numpy as np

from sourcegrad import no_grad


def recurrence(x, k, n):
    y = x
    for _i in range(n):
        y = np.sin(y) * k + x
    return np.sum(y)


def newton(a):
    x = np.ones_like(a)
    err = 1.0
    while err > 1e-12:  # sourcegrad: max_iter=3
        x_new = 0.5 * (x + a / x)
        err = np.max(np.abs(x_new - x))
        x = x_new
    return np.sum(x)


def newton_unbounded(a, tol):
    x = np.ones_like(a)
    err = 1.0
    while err > tol:
        x_new = 0.5 * (x + a / x)
        err = np.max(np.abs(x_new - x))
        x = x_new
    return np.sum(x)


def mode_switch(x, mode):
    if mode == "train":
        y = x * 0.5
    else:
        y = np.sin(x)
    return np.sum(y)


def data_switch(x):
    if np.sum(x) > 0:
        y = x * 0.5
    else:
        y = np.sin(x)
    return np.sum(y)


def sqrt_or_negate(x):
    if x > 0:
        y = np.sqrt(x)
    else:
        y = -x
    return y


def version_counter(x):
    """Page 002: PyTorch raises "modified by an inplace operation" for this; here it is fine."""
    y = x * 1.0
    z = y * y
    y[0] = 5.0
    return np.sum(z) + np.sum(y * x)


def rows_with_remainder(W, X):
    h = np.zeros(3)
    for t, row in enumerate(X):
        h = np.tanh(W @ h + row) * (1.0 + 0.01 * t)
    return np.sum(h**2)


def pragma_checkpoint(x, n):
    y = x
    for _i in range(n):  # sourcegrad: checkpoint=7
        y = np.sin(y) * 0.9 + x * 0.1
    return np.sum(y)


def euler_with_invariants(y, k, n):
    for _i in range(n):
        y = y + 0.1 * (-k * y + np.sin(y))
    return np.sum(y)


def nested_invariant(x, w):
    total = 0.0
    for i in range(3):
        a = x * w[i]
        for j in range(4):
            s = np.sin(a) * np.exp(-np.sum(w))
            total = total + np.sum(s * x) * j
    return total


def polynomial(x, c, n):
    acc = np.zeros_like(x)
    for i in range(n):
        acc = acc + c[i] * x**i
    return np.sum(acc)


def static_branch_in_loop(x, k, mode):
    for _i in range(3):
        if mode == "a":
            x = np.sin(x) * k
        else:
            x = x * k
    return np.sum(x)


def _static_branch_helper(x, k, mode):
    if mode == "a":
        y = np.sin(x) * k
    else:
        y = x * k
    return y


def static_branch_in_callee(x, k, mode):
    return np.sum(_static_branch_helper(x, k, mode) ** 2)


def _checkpointed_helper(x, k):
    for _i in range(8):  # sourcegrad: checkpoint=2
        x = np.sin(x) * k
    return x


def checkpoint_in_callee(x, k):
    return np.sum(_checkpointed_helper(x, k))


def static_value_in_no_grad_in_loop(x, k):
    m = x.shape[0]
    for _i in range(3):
        with no_grad():
            h = m * 2
        x = np.sin(x) * k * h
    return np.sum(x)
