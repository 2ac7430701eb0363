"""Resolving the names a function reads but does not assign: its globals, closure and builtins.

``np.sin`` is found by looking ``np`` up in the function's globals and following
the attributes; the object found (``numpy.sin``) is what selects a rule, so
``np.sin``, ``jnp.sin`` and ``from numpy import sin`` all mean the same.
"""

from __future__ import annotations

import builtins
import inspect
import numbers
import types

import numpy as np

from .desugar import FLAG_FUNCTION

__all__ = ["Environment", "NOT_FOUND", "is_constant_value"]


class _NotFound:
    def __repr__(self):
        return "NOT_FOUND"


NOT_FOUND = _NotFound()


class Environment:
    """The free names of one function: closure cells first, then globals, then builtins."""

    def __init__(self, globals_: dict, closure: dict | None = None):
        self.globals = globals_
        self.closure = dict(closure or {})

    @classmethod
    def of(cls, fn) -> Environment:
        closure = {}
        if fn.__closure__:
            for name, cell in zip(fn.__code__.co_freevars, fn.__closure__):
                try:
                    closure[name] = cell.cell_contents
                except ValueError:  # an empty cell: the variable is assigned later
                    closure[name] = NOT_FOUND
        return cls(fn.__globals__, closure)

    def lookup(self, name: str):
        if name == FLAG_FUNCTION:  # written by desugar, whatever the user imported
            from ..runtime import traced_bool

            return traced_bool
        if name in self.closure:
            return self.closure[name]
        if name in self.globals:
            return self.globals[name]
        if hasattr(builtins, name):
            return getattr(builtins, name)
        return NOT_FOUND

    def is_closure(self, name: str) -> bool:
        return name in self.closure


def is_constant_value(value) -> bool:
    """Values a generated function may read as constants: numbers, arrays, strings, None, dtypes."""
    if value is None or isinstance(value, (numbers.Number, str, np.ndarray, np.generic, np.dtype)):
        return True
    if isinstance(value, type) and issubclass(value, np.generic):
        return True
    if isinstance(value, tuple):
        return all(is_constant_value(v) for v in value)
    return type(value).__module__.startswith("jax") and hasattr(value, "shape")


def describe(value) -> str:
    if isinstance(value, types.ModuleType):
        return f"the module {value.__name__}"
    if inspect.isfunction(value) or inspect.isbuiltin(value) or callable(value):
        mod = getattr(value, "__module__", None) or ""
        name = getattr(value, "__qualname__", getattr(value, "__name__", repr(value)))
        return f"{mod + '.' if mod else ''}{name}"
    return f"a {type(value).__name__}"
