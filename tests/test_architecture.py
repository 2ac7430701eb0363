"""The shape of the code base: imports between sourcegrad's modules form no circle, and modules
and classes stay small enough to read (or say at their top why they are not).

These are the checks the architecture issue asked for, run on every CI build so the structure
does not erode: a new circle or a 900-line module fails here with the path to look at.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"sourcegrad": ROOT / "src" / "sourcegrad", "sourcegrad.transforms": ROOT / "transforms"}

MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 300
#: A module or class longer than the limits must say why, in its docstring, with this phrase.
REASON = "Why this is long:"

#: Imports that are circular on purpose, each with its reason. Keep this short.
ALLOWED_CYCLE_EDGES = {
    # the registry loads the built-in rule tables on first lookup; the tables register through it
    ("sourcegrad.rules", "sourcegrad.transforms"),
}


def _modules() -> dict[str, Path]:
    out = {}
    for pkg, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            rel = path.relative_to(folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            out[".".join([pkg, *parts])] = path
    return out


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _resolve(module: str, path: Path, node: ast.ImportFrom, modules) -> list[str]:
    """The sourcegrad modules a ``from ... import`` statement depends on: ``from p import m`` of
    a submodule ``p.m`` depends on ``p.m``; ``from p import name`` of anything else depends on the
    module ``p`` itself (for a package, its ``__init__``)."""
    if node.level:
        base = module.split(".")
        if not _is_package(path):
            base = base[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    out = []
    for alias in node.names:
        sub = f"{target}.{alias.name}"
        out.append(sub if sub in modules else target)
    return out


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom):
                names = _resolve(module, path, node, modules)
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for n in names:
                while n and n not in modules:  # "from .ir import Name": the module sourcegrad.normal.ir
                    n = n.rpartition(".")[0]
                if n and n != module and n.startswith("sourcegrad"):
                    graph[module].add(n)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if (m, n) in ALLOWED_CYCLE_EDGES:
                continue
            if state.get(n) == 1:
                return stack[stack.index(n) :] + [n]
            if n not in state:
                found = visit(n)
                if found:
                    return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_no_import_circles():
    """Module-level and function-level imports alike: a lazy import inside a function that closes
    a circle is still a circle (it only moves the failure to run time)."""
    cycle = _cycle(_imports(_modules()))
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def _docstring_has_reason(node) -> bool:
    doc = ast.get_docstring(node) or ""
    return REASON in doc


@pytest.mark.parametrize("module", sorted(_modules()))
def test_module_and_class_sizes(module):
    path = _modules()[module]
    text = path.read_text()
    tree = ast.parse(text)
    lines = len(text.splitlines())
    if lines > MAX_MODULE_LINES:
        assert _docstring_has_reason(tree), (
            f"{path.relative_to(ROOT)} has {lines} lines (limit {MAX_MODULE_LINES}): split it by "
            f"concern, or say in its docstring why not ('{REASON} ...')"
        )
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            size = (node.end_lineno or node.lineno) - node.lineno + 1
            if size > MAX_CLASS_LINES:
                assert _docstring_has_reason(node), (
                    f"class {node.name} in {path.relative_to(ROOT)} has {size} lines (limit "
                    f"{MAX_CLASS_LINES}): split it, or say in its docstring why not ('{REASON} ...')"
                )


def test_the_checks_see_the_whole_package():
    modules = _modules()
    for name in (
        "sourcegrad.api.grad",
        "sourcegrad.normal.ir",
        "sourcegrad.ad.activity",
        "sourcegrad.backend.emit",
        "sourcegrad.transforms.elementwise",
    ):
        assert name in modules
    graph = _imports(modules)
    assert "sourcegrad.normal.ir" in graph["sourcegrad.ad.activity"]
    # a circle made on purpose is found
    graph["sourcegrad.normal.ir"].add("sourcegrad.ad.activity")
    assert _cycle(graph) is not None
