"""ode: fourth-order Runge-Kutta for y' = f(x, y), f(x, y)_0 = x_0, f(x, y)_i = x_i y_(i-1),
from y = 0 over [0, 2] in s steps; the gradient is that of the last component of y (the
vector-Jacobian product with the last unit vector as seed)."""

import numpy as np

from sourcegrad import grad
from sourcegrad.gradbench import Function, to_list


def runge_kutta(x, s):
    def f(y):
        return x * np.concatenate([np.ones(1), y[:-1]])

    h = 2.0 / s
    y = np.zeros_like(x)
    for _ in range(s):
        k1 = f(y)
        k2 = f(y + h / 2 * k1)
        k3 = f(y + h / 2 * k2)
        k4 = f(y + h * k3)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return y


d_runge_kutta = grad(runge_kutta)


def _x_s(data):
    return np.asarray(data["x"], dtype=np.float64), int(data["s"])


def _last_seed(data):
    x, s = _x_s(data)
    seed = np.zeros_like(x)
    seed[-1] = 1.0
    return x, s, seed


def _gradient(x, s, seed):
    return d_runge_kutta(x, s, seed=seed)


FUNCTIONS = {
    "primal": Function(_x_s, d_runge_kutta.primal, to_list),
    "gradient": Function(_last_seed, _gradient, to_list),
}
