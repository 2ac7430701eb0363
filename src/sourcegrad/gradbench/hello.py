"""hello: ``square`` is x * x, ``double`` its derivative."""

import numpy as np

from sourcegrad import grad
from sourcegrad.gradbench import Function


def square(x):
    return x * x


d_square = grad(square)


def _scalar(value):
    return (np.float64(value),)


FUNCTIONS = {
    "square": Function(_scalar, d_square.primal, float),
    "double": Function(_scalar, d_square, float),
}
