"""The catalogue's declarative table: one :class:`Case` per bad or unusual input.

``expect`` is ``GRAD`` (the gradient NumPy's float64 central differences give), an error class
(a located sourcegrad error: its message names the line of the case's function that contains
``marker``, shows that line, and its traceback holds no frames from inside sourcegrad), or
``GRAD_OR_ERROR`` where either is a correct answer (the fix may support or refuse the input).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

GRAD = "grad"
GRAD_OR_ERROR = "grad-or-error"

X3 = np.array([0.3, -0.7, 1.1])
Y3 = np.array([0.8, 0.25, -0.45])
X4 = np.array([0.5, -1.2, 0.9, 1.7])
X23 = np.array([[0.2, -0.4, 0.9], [1.3, 0.6, -0.8]])
X33 = np.array([[1.5, 0.2, -0.3], [0.1, 1.2, 0.4], [-0.2, 0.3, 1.8]])
X234 = np.arange(24.0).reshape(2, 3, 4) * 0.1 - 1.13


@dataclass
class Case:
    name: str
    fn: Callable
    args: dict
    wrt: tuple = ("x",)
    expect: Any = GRAD
    marker: str | None = None  # text on the line an error must name
    match: str | None = None  # a regex the error message must contain
    seed: Any = None  # the output's gradient for non-scalar outputs
    call_kwargs: dict = field(default_factory=dict)  # seed=/accumulate= and such
    grad_kwargs: dict = field(default_factory=dict)  # grad(..., max_iter=, checkpoint=)
    prepare: Callable | None = None  # run after grad() and before the call (the GradFunction)
    note: str = ""


def case(name, fn, args, wrt=("x",), expect=GRAD, marker=None, **kw) -> Case:
    return Case(name, fn, args, tuple(wrt), expect, marker, **kw)
