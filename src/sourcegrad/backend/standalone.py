"""``sourcegrad emit``: the generated gradient as a module that needs only JAX and NumPy.

The generated code imports its helpers from ``sourcegrad.runtime``; here their source is
copied in (with the helpers they call), the user's constants are written out as literals, and
a jitted entry point is added, so the file can be deployed where sourcegrad is not installed.
"""

from __future__ import annotations

import ast
import inspect
import numbers
import textwrap

import numpy as np

from .. import __version__, runtime
from ..errors import SourcegradError

__all__ = ["standalone_module"]

MAX_ARRAY_ELEMENTS = 100_000


def _runtime_dependencies(names) -> list[str]:
    """The runtime definitions ``names`` need, transitively, in the order of runtime's source."""
    module_globals = vars(runtime)
    needed: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        obj = module_globals.get(name)
        if obj is None or inspect.getmodule(obj) is not runtime:
            continue
        needed.add(name)
        tree = ast.parse(textwrap.dedent(inspect.getsource(obj)))
        todo.extend(n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in module_globals)
    source_order = [n for n, _ in sorted(
        ((n, inspect.getsourcelines(module_globals[n])[1]) for n in needed), key=lambda p: p[1])]
    return source_order


def _literal(name: str, value) -> str:
    if isinstance(value, (bool, numbers.Number, str)) or value is None:
        return f"{name} = {value!r}"
    array = np.asarray(value)
    if array.size > MAX_ARRAY_ELEMENTS:
        raise SourcegradError(
            f"`{name}` is an array of {array.size} elements read from your module; emit writes "
            f"constants into the file and refuses arrays above {MAX_ARRAY_ELEMENTS} elements. "
            f"Pass it to the function as an argument instead")
    return f"{name} = np.asarray({array.tolist()!r}, dtype=np.{array.dtype})"


def standalone_module(transformed, static_argnums=()) -> str:
    source = transformed.source
    tree = ast.parse(source)
    lines = source.split("\n")
    helper_names: list[str] = []
    drop: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "sourcegrad.runtime":
            helper_names = [a.name for a in node.names]
            drop.update(range(node.lineno - 1, node.end_lineno))
    body = [line for i, line in enumerate(lines) if i not in drop]
    head_end = next(i for i, line in enumerate(body) if line.startswith("def "))
    header = [line for line in body[:head_end] if line.startswith("#")]
    definitions = "\n".join(body[head_end:]).rstrip() + "\n"

    helpers = []
    for name in _runtime_dependencies(helper_names):
        helpers.append(textwrap.dedent(inspect.getsource(getattr(runtime, name))).rstrip())
    constants = []
    for name, value in sorted(transformed.namespace_globals.items()):
        if callable(value) and not isinstance(value, (np.ndarray, np.generic)):
            try:
                constants.append(textwrap.dedent(inspect.getsource(value)).rstrip())
            except (OSError, TypeError):
                raise SourcegradError(
                    f"`{name}` ({value!r}) is called by the generated code but its source cannot "
                    f"be read, so emit cannot copy it into the module") from None
        else:
            constants.append(_literal(name, value))
    grad_name = transformed.gradient.name
    parts = [
        *header,
        f"# Standalone: written by `sourcegrad emit` ({__version__}); needs only jax and numpy.",
        "import math", "", "import jax", "import jax.numpy as jnp", "import numpy as np",
        "from jax import lax", "", "",
        "# ----- helpers copied from sourcegrad.runtime -----", "",
        "\n\n\n".join(helpers) if helpers else "# (none needed)", "", "",
    ]
    if constants:
        parts += ["# ----- values and functions read from the user's module -----", "",
                  "\n\n".join(constants), "", ""]
    parts += [definitions, "",
              f"#: {grad_name}, compiled: call it like {grad_name}; static arguments: "
              f"{list(static_argnums) or 'none'}",
              f"{grad_name}_jit = jax.jit({grad_name}, static_argnums={tuple(static_argnums)!r})", ""]
    return "\n".join(parts)
