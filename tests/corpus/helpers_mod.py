"""Functions imported by control_flow.py: a called function that lives in another module."""

import numpy as np


def dense(x, W, b):
    return np.tanh(x @ W + b)


def rk4_step(y, k, dt):
    k1 = -k * y + np.sin(y)
    k2 = -k * (y + 0.5 * dt * k1) + np.sin(y + 0.5 * dt * k1)
    k3 = -k * (y + 0.5 * dt * k2) + np.sin(y + 0.5 * dt * k2)
    k4 = -k * (y + dt * k3) + np.sin(y + dt * k3)
    return y + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
