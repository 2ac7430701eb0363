import numpy as np


def loss(x):
    try:
        y = np.sin(x)
    except ValueError:
        y = x
    return np.sum(y)
