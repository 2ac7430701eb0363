"""The function of the nested-gradient golden file (``nested_vector.nested.golden.py``): its body
calls the gradient of another function. Kept here so that its line numbers do not move."""

import numpy as np

from sourcegrad import grad


def sin_prod(x, y):
    return np.sum(np.sin(x) * y**2)


dx_sin_prod = grad(sin_prod, wrt=0)


def n_vector(x, y):
    return np.sum(np.cos(dx_sin_prod(x, y)) * x)
