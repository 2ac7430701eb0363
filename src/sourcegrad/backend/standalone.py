"""``sourcegrad emit``: the generated gradient as a module that needs only JAX and NumPy.

The generated code imports its helpers from ``sourcegrad.runtime``; here their source is
copied in (with the helpers they call), the user's constants are written out as literals, and
a jitted entry point is added, so the file can be deployed where sourcegrad is not installed.
"""

from __future__ import annotations

import ast
import inspect
import math
import os
import sys
import textwrap
from typing import NoReturn

import jax
import numpy as np

from .. import runtime
from .._version import __version__
from ..errors import SourcegradError

__all__ = ["standalone_module"]

MAX_ARRAY_ELEMENTS = 100_000


def _runtime_dependencies(names) -> tuple[list[str], dict]:
    """The runtime definitions ``names`` need, transitively, in the order of runtime's source,
    and every definition of the runtime's modules by name."""
    modules = [
        m
        for m in vars(runtime).values()
        if inspect.ismodule(m) and m.__name__.startswith("sourcegrad.runtime.")
    ]
    module_globals = {
        k: v
        for m in modules
        for k, v in vars(m).items()
        if not inspect.ismodule(v) and getattr(inspect.getmodule(v), "__name__", "") == m.__name__
    }
    needed: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        obj = module_globals.get(name)
        if obj is None:
            continue
        needed.add(name)
        tree = ast.parse(textwrap.dedent(inspect.getsource(obj)))
        todo.extend(n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in module_globals)
    module_order = [m.__name__ for m in modules]

    def place(n):  # the order of runtime's modules, then of the lines in each
        obj = module_globals[n]
        return module_order.index(inspect.getmodule(obj).__name__), inspect.getsourcelines(obj)[1]

    return sorted(needed, key=place), module_globals


def _literal(name: str, value) -> str:
    return f"{name} = {_value_text(name, value)}"


def _refuse(name, value, why="") -> NoReturn:
    raise SourcegradError(
        f"`{name}` (a {type(value).__name__}) is read from your module by the generated code; "
        f"emit writes such values into the file as literals and only writes numbers, arrays of "
        f"numbers, strings and None{why}. Pass it to the function as an argument, or make it one "
        f"of those"
    )


def _value_text(name: str, value) -> str:
    """Python text for a number, an array of numbers, a string or None, built from the value
    itself (never from its ``repr``, so the written file runs no code of the value's class)."""
    if value is None:
        return "None"
    if isinstance(value, str):
        return str.__repr__(str(value))
    if isinstance(value, (bool, int, float)) and not isinstance(value, np.generic):
        kind = bool if isinstance(value, bool) else int if isinstance(value, int) else float
        return _element(kind(value))
    if isinstance(value, (np.ndarray, np.generic, jax.Array)):
        array = np.asarray(value)
        if array.dtype.kind not in "biuf" or array.dtype.name not in _DTYPES:
            _refuse(name, value, f" (its dtype {array.dtype} is not a real number type)")
        if array.size > MAX_ARRAY_ELEMENTS:
            raise SourcegradError(
                f"`{name}` is an array of {array.size} elements read from your module; emit "
                f"writes constants into the file and refuses arrays above {MAX_ARRAY_ELEMENTS} "
                f"elements. Pass it to the function as an argument instead"
            )
        dtype = array.dtype.name
        if isinstance(value, np.generic):
            return f'np.dtype("{dtype}").type({_element(array.item())})'
        return f'np.asarray({_nested(array.tolist())}, dtype="{dtype}")'
    _refuse(name, value)


_DTYPES = {
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
}


def _element(x) -> str:
    if isinstance(x, bool):
        return "True" if x else "False"
    if isinstance(x, int):
        return int.__repr__(x)
    if math.isnan(x):
        return "math.nan"
    if math.isinf(x):
        return "math.inf" if x > 0 else "-math.inf"
    return float.__repr__(x)


def _nested(items) -> str:
    if isinstance(items, list):
        return "[" + ", ".join(_nested(i) for i in items) + "]"
    return _element(items)


def _defaults(transformed) -> dict:
    """Parameter -> default text, for the trailing parameters of the user's function whose
    defaults emit can write (numbers, arrays, strings, None; tuples of them are left out)."""
    args = transformed.parsed.node.args
    positional = [*args.posonlyargs, *args.args]
    names = [a.arg for a in positional[len(positional) - len(args.defaults) :]]
    values = _default_values(transformed.parsed, names, args.defaults)
    out = {}
    for name in reversed(names):
        try:
            out[name] = _value_text(name, values[name])
        except (KeyError, SourcegradError):
            break
    return out


def _default_values(parsed, names, nodes) -> dict:
    """The default values: from the function object in its loaded module (any expression),
    else the literal ones from the source."""
    target = os.path.realpath(parsed.filename)
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if path and os.path.realpath(path) == target:
            fn = inspect.unwrap(getattr(module, parsed.name, None) or (lambda: None))
            if (
                inspect.isfunction(fn)
                and fn.__code__.co_firstlineno <= parsed.first_line + len(parsed.lines)
                and fn.__defaults__ is not None
                and len(fn.__defaults__) == len(names)
            ):
                return dict(zip(names, fn.__defaults__))
    out = {}
    for name, node in zip(names, nodes):
        try:
            out[name] = ast.literal_eval(node)
        except ValueError:
            pass
    return out


def _with_defaults(definitions: str, fn, defaults: dict) -> str:
    """Give the user's parameters of the printed ``def fn(...)`` line their default values."""
    own = dict(fn.defaults)
    old = f"def {fn.name}(" + ", ".join(f"{p}={own[p]}" if p in own else p for p in fn.params) + "):"
    missing = [p for p in fn.params if p not in own and p not in defaults]
    last_required = max((fn.params.index(p) for p in missing), default=-1)
    if any(fn.params.index(p) < last_required for p in defaults if p in fn.params):
        return definitions  # the generated signature orders parameters differently
    merged = {**defaults, **own}
    new = f"def {fn.name}(" + ", ".join(f"{p}={merged[p]}" if p in merged else p for p in fn.params) + "):"
    return "\n".join(new if line == old else line for line in definitions.split("\n"))


def standalone_module(transformed, static_argnums=()) -> str:
    source = transformed.source
    tree = ast.parse(source)
    lines = source.split("\n")
    helper_names: list[str] = []
    drop: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "sourcegrad.runtime":
            helper_names = [a.name for a in node.names]
            drop.update(range(node.lineno - 1, node.end_lineno or node.lineno))
    body = [line for i, line in enumerate(lines) if i not in drop]
    head_end = next(i for i, line in enumerate(body) if line.startswith(("def ", "@")))
    header = [line for line in body[:head_end] if line.startswith("#")]
    definitions = "\n".join(body[head_end:]).rstrip() + "\n"
    defaults = _defaults(transformed)
    for fn in (transformed.primal, transformed.gradient):
        definitions = _with_defaults(definitions, fn, defaults)

    helpers = []
    names, definitions_by_name = _runtime_dependencies(helper_names)
    for name in names:
        helpers.append(textwrap.dedent(inspect.getsource(definitions_by_name[name])).rstrip())
    constants = []
    for name, value in sorted(transformed.namespace_globals.items()):
        if callable(value) and not isinstance(value, (np.ndarray, np.generic)):
            try:
                constants.append(textwrap.dedent(inspect.getsource(value)).rstrip())
            except (OSError, TypeError):
                raise SourcegradError(
                    f"`{name}` ({value!r}) is called by the generated code but its source cannot "
                    f"be read, so emit cannot copy it into the module"
                ) from None
        else:
            constants.append(_literal(name, value))
    grad_name = transformed.gradient.name
    parts = [
        *header,
        f"# Standalone: written by `sourcegrad emit` ({__version__}); needs only jax and numpy.",
        "import math",
        "import string",
        "",
        "import jax",
        "import jax.numpy as jnp",
        "import numpy as np",
        "from jax import lax",
        "",
        "",
        "# ----- helpers copied from sourcegrad.runtime -----",
        "",
        "\n\n\n".join(helpers) if helpers else "# (none needed)",
        "",
        "",
    ]
    if constants:
        parts += [
            "# ----- values and functions read from the user's module -----",
            "",
            "\n\n".join(constants),
            "",
            "",
        ]
    parts += [
        definitions,
        "",
        f"#: {grad_name}, compiled: call it like {grad_name}; static arguments: "
        f"{list(static_argnums) or 'none'}",
        f"{grad_name}_jit = jax.jit({grad_name}, static_argnums={tuple(static_argnums)!r})",
        "",
    ]
    return "\n".join(parts)
