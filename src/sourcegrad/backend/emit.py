"""Emit: IR -> Python source text, with a source map; and loading that text as a module.

The source is built line by line, so every generated line is known to come
from one user line (or from none): that is the source map. The loaded module
is compiled from exactly this text and registered with ``linecache`` under a
``<sourcegrad ...>`` file name, so tracebacks, ``pdb`` and ``inspect`` show the
generated lines.
"""

from __future__ import annotations

import ast
import linecache
import os
import re
import textwrap
import threading
import weakref
from dataclasses import dataclass, field

from .. import runtime
from ..normal import ir
from ..normal.astutil import unparse
from ..normal.pyexpr import to_ast

__all__ = ["SourceMap", "format_function", "format_module", "load", "used_names"]

WIDTH = 100


@dataclass
class SourceMap:
    """Generated line <-> user line. Entries: (generated line, user line, function, section)."""

    entries: list = field(default_factory=list)

    def user_line(self, generated_line: int) -> int | None:
        for gen, user, _, _ in self.entries:
            if gen == generated_line:
                return user
        return None

    def generated_lines(self, user_line: int) -> dict:
        """{section: [generated lines]} for one user line (sections: forward, backward, ...)."""
        out: dict[str, list[int]] = {}
        for gen, user, _, section in self.entries:
            if user == user_line:
                out.setdefault(section, []).append(gen)
        return out


class _Printer:
    def __init__(self, annotate=None):
        self.lines: list[str] = []
        self.map = SourceMap()
        self.function_name = ""
        self.annotate = annotate
        self.texts: dict = {}  # id(value) -> its text: the forward is printed in two functions

    def text(self, value) -> str:
        key = id(value)
        hit = self.texts.get(key)
        if hit is None or hit[0] is not value:
            hit = self.texts[key] = (value, expr_text(value))
        return hit[1]

    def line(self, text: str, indent: int, user_line=None, section=None):
        self.lines.append("    " * indent + text if text else "")
        if user_line is not None:
            self.map.entries.append((len(self.lines), user_line, self.function_name, section))

    def comment(self, text: str, indent: int, user_line=None, section=None):
        width = max(40, WIDTH - 4 * indent - 2)
        parts = [text] if len(text) <= width else (textwrap.wrap(text, width) or [""])
        for i, part in enumerate(parts):
            self.line(("# " if i == 0 else "#   ") + part, indent, user_line, section)

    def pass_if_empty(self, stmts, indent: int):
        """A side of an ``if`` that holds comments only (no adjoint there) still needs a statement."""
        if all(isinstance(x, ir.Comment) for x in stmts):
            self.line("pass", indent)

    def function(self, fn: ir.Function, indent: int = 0):
        if indent == 0:
            self.function_name = fn.name
        defaults = dict(fn.defaults)
        params = ", ".join(f"{p}={defaults[p]}" if p in defaults else p for p in fn.params)
        for decorator in fn.decorators:
            self.line(f"@{decorator}", indent)
        self.line(f"def {fn.name}({params}):", indent)
        if fn.doc:
            doc = []
            for para in fn.doc.strip().replace('"""', "'''").split("\n"):
                doc.extend(textwrap.wrap(para, WIDTH - 4 * (indent + 1) - 6) or [""])
            if len(doc) == 1:
                self.line(f'"""{doc[0]}"""', indent + 1)
            else:
                self.line(f'"""{doc[0]}', indent + 1)
                for d in doc[1:]:
                    self.line(d, indent + 1 if d else 0)
                self.line('"""', indent + 1)
        self.block(fn.body, indent + 1, "forward")

    def block(self, stmts, indent: int, section: str):
        last_origin = None
        for s in stmts:
            if isinstance(s, ir.Section):
                self.line("", 0)
                self.comment(f"== {s.title}", indent)
                self.block(s.body, indent, s.kind)
                last_origin = None
                continue
            origin = getattr(s, "origin", None)
            user_line = origin.line if origin is not None else None
            if (
                origin is not None
                and origin != last_origin
                and section in ("forward", "backward")
                and not isinstance(s, ir.NoGrad)
            ):
                self.comment(f"line {origin.line}: {origin.text}", indent, user_line, section)
            last_origin = origin if origin is not None else last_origin
            self.statement(s, indent, section, user_line)

    def statement(self, s, indent, section, user_line):
        note = self.annotate(s) if self.annotate else None
        suffix = f"  # {note}" if note else ""
        if isinstance(s, ir.Assign):
            self.line(f"{s.target} = {self.text(s.value)}{suffix}", indent, user_line, section)
        elif isinstance(s, ir.Unpack):
            self.line(f"{_targets(s.targets)} = {self.text(s.value)}{suffix}", indent, user_line, section)
        elif isinstance(s, ir.Return):
            text = expr_text(s.value)
            if isinstance(s.value, ir.Raw) and isinstance(s.value.expr, ast.Tuple) and s.value.expr.elts:
                text = ", ".join(unparse(e) for e in s.value.expr.elts)
                if len(s.value.expr.elts) == 1:
                    text += ","
            self.line(f"return {text}", indent, user_line, section)
        elif isinstance(s, ir.Comment):
            self.comment(s.text, indent, _comment_line(s), section)
        elif isinstance(s, ir.NoGrad):
            self.comment(
                f"line {s.origin.line}: {s.origin.text}  (values computed under "
                f"no_grad() are constants for the backward pass)",
                indent,
                user_line,
                section,
            )
            self.block(s.body, indent, section)
        elif isinstance(s, ir.IfElse):
            self.line(f"if {expr_text(s.test)}:", indent, user_line, section)
            self.block(s.body or (ir.Comment("nothing"),), indent + 1, section)
            self.pass_if_empty(s.body, indent + 1)
            if s.orelse:
                self.line("else:", indent, user_line, section)
                self.block(s.orelse, indent + 1, section)
                self.pass_if_empty(s.orelse, indent + 1)
        elif isinstance(s, ir.Def):
            self.function(s.function, indent)
        else:
            raise TypeError(f"cannot print {s!r} (structured statements are lowered first)")


def _targets(targets) -> str:
    """Unpacking targets: names, or nested tuples of them (a loop's carry and its tape)."""
    if isinstance(targets, str):
        return targets
    parts = [t if isinstance(t, str) else f"({_targets(t)})" for t in targets]
    return ", ".join(parts) + ("," if len(parts) == 1 else "")


def _comment_line(c: ir.Comment):
    text = c.text
    if text.startswith("line "):
        head = text[5:].split(":", 1)[0]
        if head.isdigit():
            return int(head)
    return None


def expr_text(value) -> str:
    return unparse(to_ast(value))


def format_function(fn: ir.Function, annotate=None) -> str:
    p = _Printer(annotate)
    p.function(fn)
    return "\n".join(p.lines) + "\n"


_IDENTIFIER = re.compile(r"(?<![.\w])[A-Za-z_][A-Za-z0-9_]*")  # not an attribute (.name)


def used_names(module: ir.Module, text: str) -> set[str]:
    """Identifiers the generated code mentions outside comments (decides imports and bindings).

    A regular expression, not a parse: the module can be thousands of lines long. A name that
    only occurs in a string is counted too, which at worst imports a helper that is not used."""
    return set(_IDENTIFIER.findall(_COMMENT.sub("", text)))


_COMMENT = re.compile(r"#[^\n]*")  # from a line's first '#' to its end


def format_module(module: ir.Module) -> tuple[str, SourceMap]:
    """The module's source text and its source map."""
    body = _Printer()
    for fn in module.functions:
        body.function(fn)
        body.line("", 0)
        body.line("", 0)
    while body.lines and not body.lines[-1]:
        body.lines.pop()
    text = "\n".join(body.lines) + "\n"
    names = used_names(module, text)
    head = [f"# {part}" for line in module.header for part in textwrap.wrap(line, WIDTH - 2)]
    imports = []
    if "jax" in names:
        imports.append("import jax")
    if "jnp" in names:
        imports.append("import jax.numpy as jnp")
    if "lax" in names:
        imports.append("from jax import lax")
    helpers = sorted(n for n in names if n in runtime.__all__)
    if helpers:
        imports.append(_wrap_import("sourcegrad.runtime", helpers))
    user = sorted(n for n in module.user_globals if n in names)
    if user:
        head.append("#")
        head.append(f"# Bound from {module.source_name}'s module when this code is loaded: {', '.join(user)}")
    prefix = head + imports + ["", ""]
    offset = "\n".join(prefix).count("\n") + 1  # an import may span several lines
    smap = SourceMap([(g + offset, u, f, s) for g, u, f, s in body.map.entries])
    return "\n".join(prefix) + "\n" + text, smap


def _wrap_import(module: str, names: list[str]) -> str:
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= WIDTH:
        return line
    inner = textwrap.wrap(", ".join(names) + ",", WIDTH - 4)
    return f"from {module} import (\n" + "\n".join("    " + part for part in inner) + "\n)"


def load(source: str, filename: str, user_globals: dict, module_name: str) -> dict:
    """Compile and run the generated source; return its namespace. Registers it with linecache
    (until :func:`release_with`'s owner is collected)."""
    lines = source.splitlines(keepends=True)
    with _LINECACHE_LOCK:
        _REGISTERED.setdefault(filename, []).append(lines)
        linecache.cache[filename] = (len(source), None, lines, filename)
    namespace = {"__name__": module_name, "__file__": filename}
    namespace.update(user_globals)
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own generated code
    return namespace


_LINECACHE_LOCK = threading.Lock()
_REGISTERED: dict = {}  # file name -> the line lists loaded under it that are alive, latest last


def release_with(owner, filename: str) -> None:
    """Remove the latest source loaded under ``filename`` from linecache when ``owner`` is
    collected (another live source under the same name takes its place)."""
    with _LINECACHE_LOCK:
        lines = _REGISTERED[filename][-1]
    weakref.finalize(owner, _release, filename, lines)


def _release(filename: str, lines: list) -> None:
    with _LINECACHE_LOCK:
        alive = [x for x in _REGISTERED.get(filename, []) if x is not lines]
        if alive:
            _REGISTERED[filename] = alive
            linecache.cache[filename] = (sum(map(len, alive[-1])), None, alive[-1], filename)
        else:
            _REGISTERED.pop(filename, None)
            linecache.cache.pop(filename, None)


def generated_filename(fn_name: str, user_file: str, line: int) -> str:
    return f"<sourcegrad: grad of {fn_name} from {os.path.basename(user_file)}:{line}>"
