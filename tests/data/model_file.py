import numpy as np

SCALE = 0.5


def loss(W, b, x, y):
    h = np.tanh(x @ W + b)
    return np.mean((h - y) ** 2) * SCALE
