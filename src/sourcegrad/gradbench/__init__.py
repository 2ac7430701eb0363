"""sourcegrad as a GradBench tool: ``python -m sourcegrad.gradbench`` speaks the tool protocol.

Each eval is a module here whose functions are written as a NumPy user writes them from the
eval's description; gradients come from :func:`sourcegrad.grad`. ``EVALS`` maps an eval's module
name to the module's ``FUNCTIONS``: function name -> :class:`Function`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

NAMES = ("hello", "lse", "llsq", "ode", "gmm", "kmeans", "lstm", "det", "ba", "ht", "particle", "saddle")


@dataclass(frozen=True)
class Function:
    """One protocol function: ``prepare`` turns the JSON input into arguments (not timed),
    ``compute`` is what is timed, ``post`` turns its result into JSON."""

    prepare: Callable[[Any], tuple]
    compute: Callable[..., Any]
    post: Callable[[Any], Any]


def functions(module: str) -> dict[str, Function]:
    """The protocol functions of an eval's module (ImportError for an eval we do not have)."""
    if module not in NAMES:
        raise ImportError(f"sourcegrad has no implementation of the GradBench eval `{module}`")
    return importlib.import_module(f"{__name__}.{module}").FUNCTIONS


def to_list(x) -> Any:
    """A JAX or NumPy array (or scalar) as JSON numbers."""
    import numpy as np

    return np.asarray(x, dtype=np.float64).tolist()
