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
