"""``sourcegrad emit --into file.py:fn``: the generated gradient kept in the user's own module.

The gradient is written as one marked block just after the function (or refreshed where a
previous block is). The edit goes through LibCST's concrete syntax tree, which prints every byte
it parsed back unchanged, so the file differs from before by the block alone: comments,
formatting and blank lines elsewhere stay as they were. The block::

    # fmt: off
    # >>> sourcegrad: grad_loss, the gradient of `loss` with respect to W, b. Generated: do not edit.
    # sourcegrad 0.1.0 | function loss | wrt W,b | source 3f2a... | body 9c1d...
    # Refresh: sourcegrad emit --into FILE:loss --wrt W,b; `sourcegrad verify FILE` checks it.
    def _sourcegrad_grad_loss():  # imports from jax and sourcegrad.runtime, def fwd_act, ...
        ...  # def grad_loss(W, b, x, y, seed=None, acc=None): the generated gradient
        return grad_loss
    grad_loss = _sourcegrad_grad_loss()
    # <<< sourcegrad: grad_loss
    # fmt: on

The generated definitions live inside a factory function, so only ``grad_loss`` (and the
factory) are added to the module: the normal-form copies of the functions it calls, the helpers
it imports from ``sourcegrad.runtime`` and ``jnp`` never shadow the module's own names. Values
the gradient reads from the module (``SCALE``) are read from it when called, as the function
itself reads them; a value read from another module is imported from there. ``# fmt: off/on``
keeps black and ruff from reformatting the block (which would read as a hand edit). The
generated comments keep the text of the user's lines but not their numbers (``# line 12: h =
...`` becomes ``# h = ...``), so editing the file above the function does not make the block
stale.

``source`` hashes the function's text and ``body`` the block without that fingerprint line:
``sourcegrad verify`` (:func:`stale`) regenerates each block and says why one is out of date.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..backend.standalone import _with_defaults
from ..errors import SourcegradError

if TYPE_CHECKING:
    import pathlib

__all__ = ["InFileError", "Block", "read", "blocks", "place", "stale"]

BEGIN, END = "# >>> sourcegrad: ", "# <<< sourcegrad: "
FMT_OFF, FMT_ON = "# fmt: off", "# fmt: on"
EDITED, GONE = "the block was edited by hand", "is no longer a top-level function of the file"
_FINGERPRINT = re.compile(
    r"# sourcegrad (?P<version>\S+) \| function (?P<function>\w+) \| wrt (?P<wrt>[\w,]+) "
    r"\| source (?P<source>[0-9a-f]{16}) \| body (?P<body>[0-9a-f]{16})$"
)
_LINE_COMMENT = re.compile(r"^(\s*)# line \d+: ", re.M)


class InFileError(SourcegradError, ValueError):
    """``sourcegrad emit --into`` or ``sourcegrad verify`` cannot do what was asked with this file:
    the function is not a top-level ``def`` there, the file does not parse, or a marked block was
    edited by hand (give ``--force`` to overwrite it). The message names the file and line."""


@dataclass
class Block:
    """A marked block: items[start:stop], at ``line``; its fingerprint line's fields; its text."""

    name: str
    line: int
    start: int
    stop: int
    text: str
    fingerprint: dict


def read(path: pathlib.Path):
    """The file's text and its LibCST module; a located InFileError if it is not Python."""
    import libcst as cst

    if path.suffix != ".py":
        raise InFileError(f"{path}: --into edits a Python source file (.py); this is not one")
    try:
        text = path.read_bytes().decode("utf-8")  # as it is: "\r\n" newlines stay
    except (OSError, UnicodeDecodeError) as exc:
        raise InFileError(f"cannot read {path}: {exc}") from None
    try:
        ast.parse(text, str(path))
    except SyntaxError as exc:
        caret = f"\n    {(exc.text or '').rstrip()}\n    {' ' * ((exc.offset or 1) - 1)}^" if exc.text else ""
        raise InFileError(
            f"{path}:{exc.lineno}:{exc.offset}: the file does not parse ({exc.msg}); fix it first{caret}"
        ) from None
    try:
        return text, cst.parse_module(text)
    except cst.ParserSyntaxError as exc:  # Python accepts it but LibCST's grammar does not
        raise InFileError(
            f"{path}:{exc.raw_line}:{exc.raw_column}: LibCST cannot parse it: {exc.message}"
        ) from None


def _items(module) -> list:
    """The module body flattened into its statements and the comment/blank lines before them,
    in file order (the header before the first statement is left out: no block is there)."""
    out: list = []
    for stmt in module.body:
        out.extend(stmt.leading_lines)
        out.append(stmt.with_changes(leading_lines=()))
    out.extend(module.footer)
    return out


def _rebuild(module, items):
    import libcst as cst

    pending: list = []
    body = []
    for item in items:
        if isinstance(item, cst.EmptyLine):
            pending.append(item)
        else:
            body.append(item.with_changes(leading_lines=pending))
            pending = []
    return module.with_changes(body=body, footer=pending)


def _comment(item) -> str:
    comment = getattr(item, "comment", None)
    return comment.value if comment is not None and not hasattr(item, "body") else ""


def _text(module, items) -> str:
    return "".join(module.code_for_node(item) for item in items).replace("\r\n", "\n")


def _digest(text: str) -> str:
    return hashlib.sha256(text.replace("\r\n", "\n").encode()).hexdigest()[:16]


def _body_digest(region: str) -> str:
    """The hash of a block's text without its fingerprint line (which holds this hash)."""
    lines = region.splitlines(True)
    return _digest("".join(t for t in lines if not (t.startswith("# sourcegrad ") and " | body " in t)))


def function_def(module, items, name: str, path) -> tuple[int, Any]:
    """The index in ``items`` of the top-level ``def name`` and its node."""
    import libcst as cst

    found = [(i, s) for i, s in enumerate(items) if isinstance(s, cst.FunctionDef) and s.name.value == name]
    if not found:
        raise InFileError(
            f"{path} has no top-level `def {name}`; --into writes the gradient of a function "
            f"defined at the top level of the file"
        )
    return found[-1]  # the one the module binds when it runs


def blocks(module, items, path) -> list[Block]:
    """Every marked block in the file, in order."""
    header_lines = module.code_for_node(module.with_changes(body=(), footer=())).count("\n")
    line = header_lines + 1
    starts = []
    for i, item in enumerate(items):
        if _comment(item).startswith(BEGIN):
            starts.append((i, line))
        line += module.code_for_node(item).count("\n")
    out = []
    for i, line in starts:
        name = _comment(items[i])[len(BEGIN) :].split(",")[0].strip()
        end = next((j for j in range(i + 1, len(items)) if _comment(items[j]) == END + name), None)
        if end is None:
            raise InFileError(
                f"{path}:{line}: the sourcegrad block `{name}` has no end line `{END}{name}`: "
                f"restore it, or delete the block and run `sourcegrad emit --into` again"
            )
        start = i - 1 if i and _comment(items[i - 1]) == FMT_OFF else i
        stop = end + 2 if end + 1 < len(items) and _comment(items[end + 1]) == FMT_ON else end + 1
        fingerprint = _FINGERPRINT.match(_comment(items[i + 1])) if i + 1 < end else None
        if fingerprint is None:
            raise InFileError(
                f"{path}:{line + 1}: the sourcegrad block `{name}` has lost its fingerprint line "
                f"(`# sourcegrad VERSION | function ... | wrt ... | source ... | body ...`); "
                f"delete the block and run `sourcegrad emit --into` again"
            )
        out.append(Block(name, line, start, stop, _text(module, items[start:stop]), fingerprint.groupdict()))
    return out


# ----- the block's text -----


def render(transformed, fn, source_digest: str) -> str:
    """The block (``# fmt: off`` .. ``# fmt: on``, each line ending in a newline)."""
    grad_name, name = transformed.gradient.name, transformed.parsed.name
    wrt = ",".join(transformed.wrt)
    factory = f"_sourcegrad_{grad_name}"
    code = _factory(transformed, fn, factory)
    lines = [
        FMT_OFF,
        f"{BEGIN}{grad_name}, the gradient of `{name}` with respect to {', '.join(transformed.wrt)}. "
        "Generated: do not edit.",
        f"# sourcegrad {__version__} | function {name} | wrt {wrt} | source {source_digest} | body BODY",
        f"# Refresh: sourcegrad emit --into FILE:{name} --wrt {wrt}; `sourcegrad verify FILE` checks it.",
        code.rstrip("\n"),
        "",
        "",
        f"{grad_name} = {factory}()",
        END + grad_name,
        FMT_ON,
    ]
    text = "\n".join(lines) + "\n"
    return text.replace("| body BODY", f"| body {_body_digest(text)}", 1)


def _factory(transformed, fn, factory: str) -> str:
    """``def factory(): <imports> <the definitions the gradient needs> return grad``."""
    source = transformed.source
    tree = ast.parse(source)
    lines = source.split("\n")
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    uses = {d.name: {n.id for n in ast.walk(d) if isinstance(n, ast.Name)} for d in defs}
    keep, todo = set(), [transformed.gradient.name]
    while todo:  # the definitions the gradient calls, transitively (not the normal-form primal)
        name = todo.pop()
        if name in uses and name not in keep:
            keep.add(name)
            todo.extend(uses[name])
    ends = [d.lineno - 1 for d in defs[1:]] + [len(lines)]
    texts = ["\n".join(lines[d.lineno - 1 : end]).strip("\n") for d, end in zip(defs, ends) if d.name in keep]
    used = set().union(*(uses[n] for n in keep)) - keep
    imports = [
        f"from {n.module} import " + ", ".join(a.name for a in n.names if a.name in used)
        if isinstance(n, ast.ImportFrom)
        else f"import {n.names[0].name}" + (f" as {n.names[0].asname}" if n.names[0].asname else "")
        for n in tree.body
        if isinstance(n, (ast.Import, ast.ImportFrom))
        and any((a.asname or a.name).split(".")[0] in used for a in n.names)
    ]
    imports = [_wrap(line) for line in imports] + _bindings(transformed, fn, used)
    body = "\n".join(imports) + "\n\n" + "\n\n".join(texts)
    body = _with_defaults(_LINE_COMMENT.sub(r"\1# ", body), transformed.gradient, _defaults(transformed))
    return (
        f"def {factory}():\n"
        f'    """Define `{transformed.gradient.name}` and what it calls, local to this function."""\n'
        + textwrap.indent(body, "    ", lambda line: bool(line.strip()))
        + f"\n\n    return {transformed.gradient.name}\n"
    )


def _defaults(transformed) -> dict:
    """Parameter -> its default as the user wrote it (``n=2``, ``h=DT``: it means that here)."""
    args = transformed.parsed.node.args
    positional = [*args.posonlyargs, *args.args]
    pairs = zip(positional[len(positional) - len(args.defaults) :], args.defaults)
    kwonly = [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
    return {a.arg: ast.unparse(d) for a, d in [*pairs, *kwonly]}


def _wrap(line: str) -> str:
    if len(line) <= 96 or " import " not in line:
        return line
    head, _, names = line.partition(" import ")
    inner = textwrap.wrap(names + ",", 92)
    return f"{head} import (\n" + "\n".join("    " + part for part in inner) + "\n)"


def _bindings(transformed, fn, used: set) -> list[str]:
    """Imports for the values the gradient reads that the user's module does not hold itself."""
    module_globals = getattr(fn, "__globals__", {})
    owners = {name: owner for owner, name, _ in transformed.module_reads}
    out = []
    for name, value in sorted(transformed.namespace_globals.items()):
        if name not in used or module_globals.get(name, _MISSING) is value:
            continue
        source = _importable(getattr(owners.get(name), "__module__", None), name, value)
        source = source or _importable(
            getattr(value, "__module__", None), getattr(value, "__qualname__", ""), value
        )
        if source is None:
            raise InFileError(
                f"the gradient of `{transformed.parsed.name}` reads `{name}`, which "
                f"{transformed.parsed.filename} does not hold at its top level and which cannot "
                f"be imported from a module; import it into that file, or pass it as an argument"
            )
        module, attr = source
        out.append(f"from {module} import {attr}" + (f" as {name}" if attr != name else ""))
    return out


_MISSING = object()


def _importable(module: str | None, attr: str, value) -> tuple[str, str] | None:
    if not module or not attr or "." in attr or "<" in attr or module == "__main__":
        return None
    try:
        found = getattr(importlib.import_module(module), attr, _MISSING)
    except ImportError:
        return None
    return (module, attr) if found is value else None


# ----- editing and verifying -----

#: (function name, "W,b" or None for the CLI's default) -> (the function, its Transformed)
Maker = Callable[[str, Any], tuple]


def place(path, name: str, wrt, make: Maker, force: bool = False) -> tuple[str, str]:
    """The file's new text with the gradient of ``name`` inserted or refreshed, and what was done:
    "inserted", "refreshed" or "unchanged". Raises InFileError for a block edited by hand
    (unless ``force``) and when the result would bind the gradient's name twice."""
    import libcst

    text, module = read(path)
    items = _items(module)
    index, node = function_def(module, items, name, path)
    fn, transformed = make(name, wrt)
    region = render(transformed, fn, _digest(module.code_for_node(node)))
    parsed = libcst.parse_module(region.replace("\n", module.default_newline))  # docstrings too
    new_items = [*parsed.header, *_items(parsed)]  # the marker lines parse as the module's header
    existing = [b for b in blocks(module, items, path) if b.name == transformed.gradient.name]
    if existing:
        block = existing[-1]
        if not force and _body_digest(block.text) != block.fingerprint["body"]:
            raise InFileError(
                f"{path}:{block.line}: the block `{block.name}` was edited by hand (its text no "
                f"longer matches its hash); move your changes into `{name}`, or give --force to "
                f"overwrite the block"
            )
        items[block.start : block.stop] = new_items
        done = "refreshed"
    else:
        items[index + 1 : index + 1] = [libcst.EmptyLine(), libcst.EmptyLine(), *new_items]
        done = "inserted"
    out = _rebuild(module, items).code
    if out == text:
        return out, "unchanged"
    grad_name = transformed.gradient.name
    ours = f"{grad_name} = _sourcegrad_{grad_name}()"
    lines = out.splitlines()
    bound = [n.lineno for n in ast.parse(out).body if grad_name in _bound_names(n)]
    bound = [n for n in bound if lines[n - 1] != ours]
    if bound:
        raise InFileError(
            f"{path}:{bound[0]}: the file already binds `{grad_name}` outside the sourcegrad "
            f"block; rename it, or the gradient would replace it"
        )
    return out, done


def _bound_names(node) -> set:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return {n.id for t in targets if t is not None for n in ast.walk(t) if isinstance(n, ast.Name)}


def stale(path, make: Maker) -> list[tuple[Block, list[str]]]:
    """Each block of the file with the reasons it is out of date (an empty list: it is current)."""
    try:
        if BEGIN not in path.read_bytes().decode("utf-8", "replace"):
            return []  # no block: not even parsed (a pre-commit hook runs this on every file)
    except OSError:
        pass  # read() says why
    _, module = read(path)
    items = _items(module)
    out = []
    for block in blocks(module, items, path):
        fp = block.fingerprint
        why = []
        if _body_digest(block.text) != fp["body"]:
            why.append(EDITED)
        if fp["version"] != __version__:
            why.append(f"it was written by sourcegrad {fp['version']}, this is {__version__}")
        try:
            _, node = function_def(module, items, fp["function"], path)
        except InFileError:
            out.append((block, [*why, f"`{fp['function']}` {GONE}"]))
            continue
        digest = _digest(module.code_for_node(node))
        if digest != fp["source"]:
            why.append(f"`{fp['function']}`'s source changed")
        fn, transformed = make(fp["function"], fp["wrt"])
        fresh = render(transformed, fn, digest)
        if not why and _body_digest(fresh) != _body_digest(block.text):
            why.append(
                f"the generated code differs (a function `{fp['function']}` calls, or a rule, changed)"
            )
        out.append((block, why))
    return out
