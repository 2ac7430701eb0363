"""Functions whose generated source is pinned by golden files (``<name>.golden.py``).

Do not move these functions: the generated header names this file and the line.
"""

import numpy as np

from sourcegrad import no_grad, stop_gradient


def seed_page_001(a, b, c):
    y = 3 * a + 2 * b * b + np.log(c)
    return y


def brief_loss(W, b, x, y):
    return np.mean((np.tanh(x @ W + b) - y) ** 2)


def fan_out_and_versions(x, w):
    h = x * w
    h = h + np.sin(h)
    h += x
    return np.sum(h * h)


def frozen_first_layer(W1, W2, x, y):
    h = np.tanh(x @ W1)
    out = h @ W2
    return np.mean((out - y) ** 2)


def regions(x, w):
    with no_grad():
        scale = np.sqrt(np.sum(w ** 2))
    z = stop_gradient(x * w)
    return np.sum(x[1:] * w[:-1] / scale + z)


# name -> (function, wrt)
GOLDEN = {
    "seed_page_001": (seed_page_001, ("a", "b", "c")),
    "brief_loss": (brief_loss, ("W", "b")),
    "fan_out_and_versions": (fan_out_and_versions, ("x", "w")),
    "frozen_first_layer": (frozen_first_layer, ("W2",)),
    "regions": (regions, ("w",)),
}


# ----- control flow (issue: loops, while, branches, calls, in-place writes) -----


def sin_recurrence(x, k, n=50):
    y = x
    for i in range(n):
        y = np.sin(y) * k + x
    return np.sum(y)


def newton_sqrt(a):
    x = np.ones_like(a)
    err = 1.0
    while err > 1e-12:  # sourcegrad: max_iter=60
        x_new = 0.5 * (x + a / x)
        err = np.max(np.abs(x_new - x))
        x = x_new
    return np.sum(x)


def branch_on_data(x, w):
    if np.sum(x) > 0:
        y = np.sin(x) * w
    else:
        y = x * x
    return np.sum(y)


def dense(x, W, b):
    return np.tanh(x @ W + b)


def two_layers(W1, W2, x):
    h = dense(x, W1, 0.0)
    return np.sum(dense(h, W2, 1.0))


def fill_buffer(x):
    y = np.zeros(4)
    for i in range(4):
        y[i] = x[i] ** 2 + x[(i + 1) % 4]
    return np.sum(y * y)


GOLDEN.update({
    "sin_recurrence": (sin_recurrence, ("x", "k")),
    "newton_sqrt": (newton_sqrt, ("a",)),
    "branch_on_data": (branch_on_data, ("x", "w")),
    "two_layers": (two_layers, ("W1", "W2")),
    "fill_buffer": (fill_buffer, ("x",)),
})


def newton_sqrt_checkpointed(a):
    """No max_iter: the while loop's gradient keeps checkpoints and recomputes (online schedule)."""
    x = np.ones_like(a)
    err = 1.0
    while err > 1e-9:  # sourcegrad: checkpoints=8
        x_new = 0.5 * (x + a / x)
        err = np.max(np.abs(x_new - x))
        x = x_new
    return np.sum(x)


GOLDEN["newton_sqrt_checkpointed"] = (newton_sqrt_checkpointed, ("a",))


def comprehensions(x, w):
    """A comprehension written out (three elements) and one compiled rolled (length x.shape[0])."""
    n = x.shape[0]
    rows = np.stack([x[i] * w for i in range(3)])
    return np.sum(rows ** 2) + sum(w[i] * x[i] for i in range(n))


GOLDEN["comprehensions"] = (comprehensions, ("x", "w"))


def det_by_minors(A):
    """Recursion on the matrix's size, resolved while tracing; the loop's slices depend on j, so it
    is unrolled while tracing."""

    def det_of(M):
        n = M.shape[0]
        if n == 1:
            return M[0, 0]
        total = 0.0
        sign = 1.0
        for j in range(n):
            minor = np.concatenate([M[1:, :j], M[1:, j + 1 :]], axis=1)
            total = total + sign * M[0, j] * det_of(minor)
            sign = -sign
        return total

    return det_of(A)


GOLDEN["det_by_minors"] = (det_by_minors, ("A",))


def gaussian_loglik(theta, x):
    """Functions that return several arrays: split's two parts both flow back; slogdet's sign is
    unpacked but unused, so it gets no accumulator."""
    L, mu = np.split(theta, [9])
    A = np.reshape(L, (3, 3))
    S = A @ A.T + np.eye(3)
    sign, logdet = np.linalg.slogdet(S)
    r = x - mu
    return -0.5 * (logdet + r @ np.linalg.solve(S, r))


GOLDEN["gaussian_loglik"] = (gaussian_loglik, ("theta",))


def triangular_fill(icf, q, d: int):
    """GMM's lower-triangular fill: the inner loop's start follows the outer index, so the two
    loops run as one rolled loop over their (c, r) pairs."""
    L = np.diag(np.exp(q))
    k = 0
    for c in range(d):
        for r in range(c + 1, d):
            L[r, c] = icf[k]
            k += 1
    return np.sum((L @ q) ** 2)


GOLDEN["triangular_fill"] = (triangular_fill, ("icf", "q"))


def rows_binomial(X, w):
    """Binomial checkpointing (revolve) of a loop over X's rows: the forward keeps 8 carries, the
    backward recomputes each iteration's tape from the nearest and stacks each row's gradient."""
    h = w
    for row in X:  # sourcegrad: checkpoint=binomial:8
        h = np.tanh(row * h) + 0.5 * h
    return np.sum(h * h)


GOLDEN["rows_binomial"] = (rows_binomial, ("X", "w"))
