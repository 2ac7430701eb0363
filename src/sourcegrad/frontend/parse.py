"""Reading a function's source: the only module that touches the parser.

Everything downstream sees a :class:`ParsedFunction`: the ``ast.FunctionDef``,
the file name, a way to turn a node into a located position in the user's file
(line, column, the text of that line), and the comments on each line (where
pragmas such as ``# sourcegrad: max_iter=50`` live).

Why the standard library's ``ast`` and ``tokenize`` rather than libcst: measured
on this project's 2-core machine, libcst 1.9 takes ~60 ms to parse and position
a 100-line function and ~2.8 s for 5000 lines, ``ast`` ~2 ms and ~0.35 s. The
transform-time budget (50 ms for 100 lines, linear growth) cannot be met with
libcst, and sourcegrad never rewrites the user's file, which is what libcst's
lossless tree is for. Swapping the parser touches this file only.
"""

from __future__ import annotations
import __future__

import ast
import functools
import inspect
import io
import linecache
import textwrap
import tokenize
import types
from dataclasses import dataclass, field
from typing import Protocol, cast

from ..errors import SourceChangedError, SourceUnavailableError, UnsupportedSyntaxError

_FUTURE_FLAGS = 0
for _feature in __future__.all_feature_names:
    _FUTURE_FLAGS |= getattr(__future__, _feature).compiler_flag

__all__ = ["ParsedFunction", "Location", "parse_function", "parse_source"]


@dataclass(frozen=True)
class Location:
    """A position in the user's file: 1-based line, 0-based column (characters)."""

    filename: str
    line: int
    col: int
    end_col: int | None
    text: str  # the whole source line

    def error(self, what: str, fix: str = "", cls=UnsupportedSyntaxError):
        return cls(
            what,
            filename=self.filename,
            line=self.line,
            col=self.col,
            text=self.text,
            fix=fix,
            end_col=self.end_col,
        )


class _Located(Protocol):
    """Any ``ast`` node with a position (statements, expressions, arguments, keywords)."""

    lineno: int
    col_offset: int
    end_lineno: int | None
    end_col_offset: int | None


@dataclass
class ParsedFunction:
    """A function definition, parsed, with everything needed to locate its nodes."""

    node: ast.FunctionDef
    filename: str
    first_line: int  # line in the file of the first line of ``text``
    indent: int  # columns removed by dedenting
    lines: list[str]  # the dedented source lines
    comments: dict[int, str] = field(default_factory=dict)  # file line -> comment text

    @property
    def name(self) -> str:
        return self.node.name

    def file_line(self, node: _Located) -> int:
        return self.first_line + node.lineno - 1

    def locate(self, node: _Located) -> Location:
        rel = node.lineno - 1
        text = self.lines[rel] if 0 <= rel < len(self.lines) else ""
        col = _char_col(text, node.col_offset)
        if node.end_lineno == node.lineno and node.end_col_offset is not None:
            end_col = _char_col(text, node.end_col_offset) + self.indent
        else:  # a compound statement: underline its first line
            end_col = len(text.rstrip()) + self.indent
        return Location(
            self.filename,
            self.first_line + rel,
            col + self.indent,
            end_col,
            " " * self.indent + text.rstrip("\n"),
        )

    def line_text(self, node: _Located) -> str:
        """The user's source of a statement, first line only, stripped."""
        rel = node.lineno - 1
        return self.lines[rel].strip() if 0 <= rel < len(self.lines) else ""

    def segment(self, node: ast.AST) -> str:
        """The exact source text of a node (possibly several lines)."""
        return ast.get_source_segment("".join(self.lines), node) or ast.unparse(node)

    def pragma(self, line: int, key: str) -> str | None:
        """The value of ``# sourcegrad: key=value`` on a file line, if present."""
        comment = self.comments.get(line, "")
        if "sourcegrad:" not in comment:
            return None
        for part in comment.split("sourcegrad:", 1)[1].replace(",", " ").split():
            name, _, value = part.partition("=")
            if name.strip() == key:
                return value.strip()
        return None


def _char_col(text: str, byte_offset: int) -> int:
    """ast columns are UTF-8 byte offsets; the user thinks in characters."""
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="replace"))


def parse_function(fn) -> ParsedFunction:
    """Find and parse the source of a Python function object."""
    if type(fn).__module__.startswith("sourcegrad."):
        raise SourceUnavailableError(
            f"sourcegrad does not differentiate its own gradient functions ({fn!r}): the "
            f"generated code is not NumPy source. Higher-order gradients are not supported"
        )
    if isinstance(fn, functools.partial):
        raise SourceUnavailableError(
            f"sourcegrad does not differentiate a functools.partial ({fn!r}): apply grad to the "
            f"function itself, grad({getattr(fn.func, '__name__', 'f')}, wrt=...), and pass the "
            f"bound arguments in the call"
        )
    if inspect.ismethod(fn):
        name = getattr(fn.__func__, "__qualname__", "Class.method")
        raise SourceUnavailableError(
            f"sourcegrad does not differentiate a bound method ({name} of an instance): apply "
            f"grad to the function, grad({name}, wrt=...), and pass the instance as the first "
            f"argument (wrt positions count `self`)"
        )
    if not inspect.isfunction(fn):
        what = type(fn).__name__
        raise SourceUnavailableError(
            f"sourcegrad differentiates Python functions defined with `def`; got a {what} "
            f"({fn!r}). Builtins, NumPy ufuncs and compiled callables have no Python source."
        )
    if getattr(fn, "__wrapped__", None) is not None:
        raise _wrapped_error(fn)
    if fn.__name__ == "<lambda>":
        raise _located_in_function(
            fn,
            "a lambda cannot be differentiated by sourcegrad",
            "write it as a `def` function in a .py file",
        )
    try:
        filename = inspect.getsourcefile(fn) or inspect.getfile(fn)
        lines, first_line = inspect.getsourcelines(fn)
    except (OSError, TypeError) as exc:
        raise SourceUnavailableError(
            f"the source of `{fn.__qualname__}` cannot be read ({exc}). sourcegrad transforms "
            f"source text: define the function in a .py file or a notebook cell, not at an "
            f"interactive prompt or with exec() of a string."
        ) from None
    parsed = parse_source("".join(lines), filename=filename, first_line=first_line, name=fn.__name__)
    _check_runs_this_source(fn, parsed)
    return parsed


def parse_source(
    text: str, *, filename: str = "<string>", first_line: int = 1, name: str | None = None
) -> ParsedFunction:
    """Parse source text that contains a function definition (the first, or the one named)."""
    dedented = textwrap.dedent(text)
    indent = _indent_removed(text, dedented)
    try:
        module = ast.parse(dedented, filename=filename)
    except SyntaxError as exc:
        line = first_line + (exc.lineno or 1) - 1
        raise UnsupportedSyntaxError(
            f"the source does not parse: {exc.msg}",
            filename=filename,
            line=line,
            col=max(0, (exc.offset or 1) - 1) + indent,
            text=exc.text or "",
        ) from None
    fdef = None
    for node in module.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (name is None or node.name == name):
            fdef = node
            break
    if fdef is None:
        raise SourceUnavailableError(
            f"no function named {name!r} in {filename}" if name else f"no function definition in {filename}"
        )
    lines = dedented.splitlines(keepends=True)
    # comments (pragmas) are only looked for if there is a '#' at all: tokenizing is slow
    comments = _comments(dedented, first_line) if "#" in dedented else {}
    # an async def is refused just below, once it can be located
    parsed = ParsedFunction(cast(ast.FunctionDef, fdef), filename, first_line, indent, lines, comments)
    if isinstance(fdef, ast.AsyncFunctionDef):
        raise parsed.locate(fdef).error(
            "an `async def` function cannot be differentiated", "use a plain `def`"
        )
    return parsed


def _indent_removed(text: str, dedented: str) -> int:
    for a, b in zip(text.splitlines(), dedented.splitlines()):
        if b.strip():
            return len(a) - len(b)
    return 0


def _comments(text: str, first_line: int) -> dict[int, str]:
    out: dict[int, str] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                out[first_line + tok.start[0] - 1] = tok.string
    except (tokenize.TokenError, IndentationError):
        pass
    return out


def _located_in_function(fn, what: str, fix: str) -> UnsupportedSyntaxError:
    code = fn.__code__
    line = code.co_firstlineno
    text = linecache.getline(code.co_filename, line)
    return UnsupportedSyntaxError(
        what, filename=code.co_filename, line=line, col=len(text) - len(text.lstrip()), text=text, fix=fix
    )


def _wrapped_error(fn) -> UnsupportedSyntaxError:
    """A wrapper made with ``functools.wraps``: its source is the inner function's, its effect is not."""
    inner = inspect.unwrap(fn)
    name = fn.__name__
    where = inner if inspect.isfunction(inner) else fn
    wrapper = getattr(getattr(fn, "__code__", None), "co_qualname", type(fn).__name__)
    return _located_in_function(
        where,
        f"`{name}` is wrapped by another decorator (`{wrapper}`, which sets __wrapped__): "
        f"its source is the inner `{name}`, but calling it runs the wrapper too, so the gradient of "
        f"the inner body would silently drop what the wrapper does",
        f"apply grad to the inner function knowingly: put `@grad` directly above `def {name}` (below "
        f"the other decorator), or pass `{name}.__wrapped__` to grad",
    )


def _check_runs_this_source(fn, parsed: ParsedFunction) -> None:
    """The text just read is the code that runs: compile it where it was defined and compare the
    bytecode with ``fn.__code__`` (a file edited after import fails here)."""
    code = fn.__code__
    delta = parsed.first_line - 1
    names = _global_names(code, fn.__globals__)
    modules = [n for n in names if isinstance(fn.__globals__[n], types.ModuleType)]
    # CPython compiles `np.f(x)` apart if `np` is imported. Which variant matches decides only how
    # many compiles this takes (each costs about a parse): without an import in the file (exec'd
    # source), the one without imports is tried first
    variants: tuple = (modules, (), names)
    if not any("import" in line for line in linecache.getlines(code.co_filename)):
        variants = ((), modules, names)
    for imported in variants:
        try:
            compiled = _compile_like(fn, parsed, imported)
        except (SyntaxError, ValueError):
            return  # the parser accepted the text; a context we cannot rebuild is not a mismatch
        if compiled is not None and _same_code(compiled, code, delta):
            return
    raise SourceChangedError(
        f"{code.co_filename}:{code.co_firstlineno}: the source of `{fn.__qualname__}` in this file "
        f"is not the code that runs: the file was edited after its module was imported (Python "
        f"runs the old code, sourcegrad would read the new text). Reload the module "
        f"(importlib.reload, or restart the interpreter or kernel) and apply grad again."
    )


def _global_names(code: types.CodeType, globals_: dict) -> list[str]:
    out = [n for n in code.co_names if n in globals_]
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            out += [n for n in _global_names(c, globals_) if n not in out]
    return out


def _compile_like(fn, parsed: ParsedFunction, imported=()):
    """The code object of the parsed definition, compiled inside a function that owns the
    original's free variables (so closures compile to the same instructions)."""
    free = fn.__code__.co_freevars
    outer = parsed.node
    if free:  # a closure: its free variables must be cells of an enclosing function
        body: list[ast.stmt] = [
            ast.Assign(
                [ast.Tuple([ast.Name(v, ast.Store()) for v in free], ast.Store())],
                ast.Tuple([ast.Constant(None) for _ in free], ast.Load()),
            ),
            parsed.node,
            ast.Return(ast.Tuple([ast.Name(v, ast.Load()) for v in free], ast.Load())),
        ]
        for stmt in (body[0], body[2]):
            ast.fix_missing_locations(stmt)
        outer = ast.FunctionDef(
            "__sourcegrad_outer__",
            ast.arguments([], [], None, [], [], None, []),
            body,
            [],
            None,
            lineno=1,
            col_offset=0,
            end_lineno=1,
            end_col_offset=0,
        )
    # the new nodes get the locations ast.fix_missing_locations would give them (line 1); the
    # parsed definition has all of its own, and walking it again costs as much as a parse
    imports = [ast.fix_missing_locations(ast.Import([ast.alias("sys", n)])) for n in imported]
    module = ast.Module([*imports, outer], [])
    flags = fn.__code__.co_flags & _FUTURE_FLAGS  # e.g. `from __future__ import annotations`
    code = compile(module, parsed.filename, "exec", flags=flags, dont_inherit=True)
    if free:
        code = next(
            c for c in code.co_consts if isinstance(c, types.CodeType) and c.co_name == "__sourcegrad_outer__"
        )
    return next(
        (c for c in code.co_consts if isinstance(c, types.CodeType) and c.co_name == fn.__code__.co_name),
        None,
    )


def _same_code(a: types.CodeType, b: types.CodeType, delta: int) -> bool:
    if (
        a.co_code != b.co_code
        or a.co_names != b.co_names
        or a.co_varnames != b.co_varnames
        or a.co_freevars != b.co_freevars
        or a.co_cellvars != b.co_cellvars
        or a.co_firstlineno + delta != b.co_firstlineno
        or [(s, e, None if n is None else n + delta) for s, e, n in a.co_lines()] != list(b.co_lines())
        or len(a.co_consts) != len(b.co_consts)
    ):
        return False
    for x, y in zip(a.co_consts, b.co_consts):
        if isinstance(x, types.CodeType) and isinstance(y, types.CodeType):
            if not _same_code(x, y, delta):
                return False
        elif type(x) is not type(y) or (x != y and not (x != x and y != y)):
            return False
    return True
