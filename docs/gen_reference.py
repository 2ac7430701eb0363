"""Writes docs/errors.md and docs/api.md from the docstrings (tests/test_docs.py checks them).

Run: python docs/gen_reference.py
"""

import inspect
import pathlib
import textwrap

import sourcegrad
from sourcegrad import errors
from sourcegrad.inspect.graph import GraphvizMissing

HERE = pathlib.Path(__file__).parent


def _doc(obj) -> str:
    return textwrap.dedent(inspect.getdoc(obj) or "").strip()


def render_errors() -> str:
    out = ["# Errors", "",
           "Every error sourcegrad raises derives from `sourcegrad.SourcegradError` and from the",
           "built-in exception it resembles. Errors about your source name the file, line and column",
           "and show the line with a caret. This page is generated from the error classes' docstrings",
           "(`docs/gen_reference.py`).", ""]
    classes = [getattr(errors, name) for name in errors.__all__] + [GraphvizMissing]
    for cls in classes:
        bases = ", ".join(b.__name__ for b in cls.__bases__)
        out += [f"## {cls.__name__}", "", f"*Derives from: {bases}.*", "", _doc(cls), ""]
    return "\n".join(out)


def _signature(fn) -> str:
    try:
        return str(inspect.signature(fn))
    except (TypeError, ValueError):
        return "(...)"


def render_api() -> str:
    out = ["# API reference", "",
           "Generated from the docstrings (`docs/gen_reference.py`). Everything here is importable",
           "from `sourcegrad`.", ""]
    for name in ("grad", "value_and_grad", "jvp", "jacfwd", "jacrev", "hessian", "hvp", "register_rule",
                 "stop_gradient", "check"):
        fn = getattr(sourcegrad, name)
        out += [f"## `{name}{_signature(fn)}`", "", _doc(fn), ""]
    out += ["## `no_grad`", "", _doc(sourcegrad.no_grad), ""]
    for cls in (sourcegrad.GradFunction, sourcegrad.CompiledGrad, sourcegrad.CheckResult):
        out += [f"## `{cls.__name__}`", "", _doc(cls), ""]
        for attr, member in inspect.getmembers(cls):
            if attr.startswith("_") and attr != "__call__":
                continue
            target = member.fget if isinstance(member, property) else member
            if not callable(target) or not _doc(target):
                continue
            label = f"{attr}" if isinstance(member, property) else f"{attr}{_signature(target)}"
            out += [f"### `{cls.__name__}.{label}`", "", _doc(target), ""]
    return "\n".join(out)


def main():
    (HERE / "errors.md").write_text(render_errors())
    (HERE / "api.md").write_text(render_api())


if __name__ == "__main__":
    main()
