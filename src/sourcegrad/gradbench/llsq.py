"""llsq: linear least squares of a polynomial fit to sign(t) on n points in [-1, 1]."""

import numpy as np

from sourcegrad import grad
from sourcegrad.gradbench import Function, to_list


def llsq(x, n):
    t = -1 + np.arange(n) * 2 / (n - 1)
    residual = np.sign(t)
    power = np.ones(n)
    for j in range(x.shape[0]):
        residual = residual - x[j] * power
        power = power * t
    return np.sum(residual * residual) / 2


d_llsq = grad(llsq)


def _x_n(data):
    return np.asarray(data["x"], dtype=np.float64), int(data["n"])


FUNCTIONS = {
    "primal": Function(_x_n, d_llsq.primal, float),
    "gradient": Function(_x_n, d_llsq, to_list),
}
