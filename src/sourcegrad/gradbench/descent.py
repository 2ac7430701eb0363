"""The gradient-descent solver that GradBench's particle and saddle evals prescribe, in plain
Python: step against the gradient with a step size ``eta`` that starts at 1e-5, doubles after ten
accepted steps in a row and halves on a step that does not lower the objective; stop when the
gradient or the step is at most 1e-5 long. The evals fix this solver (and its constants) so
that every tool's answer is the same number; it is the driver of an outer optimization and is
not differentiated (saddle's inner maximization, which is, is written out in saddle.py)."""

import numpy as np


def argmin(f, gradient, x):
    """The point where gradient descent on ``f`` from ``x`` stops."""
    x = np.asarray(x, dtype=np.float64)
    fx, gx = f(x), np.asarray(gradient(x))
    eta, accepted = 1e-5, 0
    while np.sqrt(np.sum(gx * gx)) > 1e-5:
        if accepted == 10:
            eta, accepted = 2 * eta, 0
            continue
        x_new = x - eta * gx
        if np.sqrt(np.sum((x_new - x) ** 2)) <= 1e-5:
            break
        f_new = f(x_new)
        if f_new < fx:
            x, fx, gx = x_new, f_new, np.asarray(gradient(x_new))
            accepted += 1
        else:
            eta, accepted = eta / 2, 0
    return x


def argmax(f, gradient, x):
    """The point where gradient ascent on ``f`` from ``x`` stops (descent on ``-f``)."""
    return argmin(lambda x: -f(x), lambda x: -np.asarray(gradient(x)), x)
