"""The fuzzer's program model: a tree of statements that renders to a Python file.

A :class:`Program` is a module with ``import numpy as np``, helper functions and one function
``f``, plus the arguments to call it with. Its statements are :class:`Node` s, so the minimizer
can drop any one of them; the final ``return`` is rebuilt from the names the remaining statements
define, so dropping a statement never leaves a dangling name in it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Node", "Program", "literal"]

FUNCTION = "f"


@dataclass
class Node:
    """One statement. ``lines`` is a simple statement (one line) or a compound header
    (``for ...:``, ``if ...:``, ``def ...:``); ``body``/``orelse`` hold the nested statements."""

    lines: list[str]
    body: list[Node] = field(default_factory=list)
    orelse: list[Node] = field(default_factory=list)
    defines: tuple[str, ...] = ()
    feature: str = "straight"

    def render(self, indent: str) -> list[str]:
        out = [indent + line for line in self.lines]
        if self.body:
            for child in self.body:
                out += child.render(indent + "    ")
        if self.orelse:
            out.append(indent + "else:")
            for child in self.orelse:
                out += child.render(indent + "    ")
        return out

    def features(self) -> set[str]:
        found = {self.feature}
        for child in (*self.body, *self.orelse):
            found |= child.features()
        return found

    def all_defines(self) -> list[str]:
        names = list(self.defines)
        for child in (*self.body, *self.orelse):
            names += [n for n in child.all_defines() if n not in names]
        return names


@dataclass
class Program:
    """A generated module: helpers, the body of ``f``, its parameters and arguments.

    ``readouts`` are the expressions of the parameters' leaves (``x0``, ``p[0]``); the return
    adds ``np.sum`` of each of them and of every name the body defines, with distinct weights,
    so that every value the program computes, and every in-place change, reaches the output.
    """

    params: list[str]
    args: dict
    readouts: list[str]
    helpers: list[Node] = field(default_factory=list)
    body: list[Node] = field(default_factory=list)
    seed: str = ""

    @property
    def wrt(self) -> tuple[str, ...]:
        return tuple(self.params)

    def features(self) -> set[str]:
        found = (
            {"container"}
            if any(not isinstance(self.args[p], (np.ndarray, float)) for p in self.params)
            else set()
        )
        for node in (*self.helpers, *self.body):
            found |= node.features()
        return found

    def return_line(self) -> str:
        names = list(self.readouts)
        for node in self.body:
            names += [n for n in node.all_defines() if n not in names]
        terms = [f"{1.0 + 0.25 * k!r} * np.sum({name})" for k, name in enumerate(names)]
        return "return " + " + ".join(terms)

    def source(self) -> str:
        lines = ["import numpy as np", "", ""]
        for helper in self.helpers:
            lines += helper.render("") + ["", ""]
        lines.append(f"def {FUNCTION}({', '.join(self.params)}):")
        for node in self.body:
            lines += node.render("    ")
        lines.append("    " + self.return_line())
        return "\n".join(lines) + "\n"

    def copy(self) -> Program:
        return dataclasses.replace(
            self, helpers=[_deep(n) for n in self.helpers], body=[_deep(n) for n in self.body]
        )


def _deep(node: Node) -> Node:
    return dataclasses.replace(
        node,
        lines=list(node.lines),
        body=[_deep(c) for c in node.body],
        orelse=[_deep(c) for c in node.orelse],
    )


def literal(value) -> str:
    """Python source that rebuilds ``value`` (float64 arrays, numbers, tuples, lists, dicts)."""
    if isinstance(value, np.ndarray):
        return f"np.array({value.tolist()!r})"
    if isinstance(value, (float, np.floating)):
        return f"np.float64({float(value)!r})"
    if isinstance(value, tuple):
        return "(" + "".join(literal(v) + ", " for v in value) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {literal(v)}" for k, v in value.items()) + "}"
    return repr(value)
