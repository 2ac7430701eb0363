"""The intermediate representation: a small, printable subset of Python.

Every stage of the pipeline is a :class:`Module` of :class:`Function` s, and every
stage prints as Python (``emit.format_module``), so a user can read what each
pass did. Nodes are frozen dataclasses; passes build new nodes instead of
editing old ones, and analyses keep their results in side tables keyed by name.

The normal form (what ``normalize`` emits and :func:`check_normal_form` checks)
-------------------------------------------------------------------------------
::

    atom    := Name | Const                       x, 3.0, None, "ij,jk->ik"
    arg     := atom | Tup(atom*) | Index(item*)    (Tup and Index only as Prim arguments)
    item    := atom | Slice(atom?, atom?, atom?)
    expr    := atom | Prim(op, (param, arg)*) | Tup(atom*)
    stmt    := Assign(name, expr)                  one operation per line
             | Unpack((name, ...), atom)           a, b = t   (t holds a static tuple)
             | NoGrad(stmt*)                       with no_grad(): ... (constants for the backward)
             | Return(atom | Tup(atom*))           exactly once, last
             | ...                                 the control-flow statements below

    Single assignment: a name is assigned once in a function. The user's
    re-assignments become versions (``y``, ``y_1``, ``y_2``); ``Origin`` keeps
    the user's line for comments and the source map.

Later stages add ``Raw`` (any Python expression, the backward's templates),
``Comment``, and ``IfElse`` (a Python-level ``if`` resolved while JAX traces).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Union

from .errors import InternalError

# ----- atoms -----


@dataclass(frozen=True)
class Name:
    id: str


@dataclass(frozen=True)
class Const:
    value: object  # int, float, complex, bool, str, None, Ellipsis, a dtype, or a tuple of those
    text: str | None = field(default=None, compare=False)  # how it prints, if not repr: jnp.pi


Atom = Union[Name, Const]

# ----- argument forms -----


@dataclass(frozen=True)
class Tup:
    """A tuple or list display of atoms: ``(a, b)`` / ``[a, b]``."""

    items: tuple
    is_list: bool = False


@dataclass(frozen=True)
class Slice:
    lower: object = None  # Atom | None
    upper: object = None
    step: object = None


@dataclass(frozen=True)
class Index:
    """The subscript of ``x[...]``: items are atoms or slices."""

    items: tuple
    is_tuple: bool = False


@dataclass(frozen=True)
class Prim:
    """One application of a rule: ``op`` is the rule's key, ``args`` are bound by parameter name."""

    op: str
    args: tuple  # ((param name, arg), ...) in the rule's parameter order

    def arg(self, name, default=None):
        for key, value in self.args:
            if key == name:
                return value
        return default

    @property
    def arg_dict(self) -> dict:
        return dict(self.args)


@dataclass(frozen=True)
class Raw:
    """Any Python expression (the backward pass's templates); not normal form."""

    expr: ast.expr


Expr = Union[Name, Const, Tup, Prim, Raw]

# ----- statements -----


@dataclass(frozen=True)
class Origin:
    """Where a statement came from: the user's file line and the quoted text."""

    line: int
    text: str


@dataclass(frozen=True)
class Assign:
    target: str
    value: Expr
    origin: Origin | None = None


@dataclass(frozen=True)
class Unpack:
    targets: tuple
    value: Expr
    origin: Origin | None = None


@dataclass(frozen=True)
class NoGrad:
    body: tuple
    origin: Origin | None = None


@dataclass(frozen=True)
class Return:
    value: Expr
    origin: Origin | None = None


@dataclass(frozen=True)
class Comment:
    text: str


@dataclass(frozen=True)
class IfElse:
    """A Python-level ``if`` in generated code (resolved while JAX traces)."""

    test: Expr
    body: tuple
    orelse: tuple = ()


@dataclass(frozen=True)
class Section:
    """A titled group of statements: ``kind`` is forward, zero, seed, backward or return."""

    kind: str
    title: str
    body: tuple


@dataclass(frozen=True)
class Function:
    name: str
    params: tuple  # parameter names, in order
    body: tuple
    doc: str | None = None
    defaults: tuple = ()  # ((name, source text of default), ...) for generated-only parameters
    globals_used: tuple = ()  # names the body reads from the user's module
    temporaries: frozenset = frozenset()  # names normalize introduced (not the user's variables)
    meta: dict = field(default_factory=dict, compare=False)  # facts later passes leave for others


@dataclass(frozen=True)
class Module:
    header: tuple  # comment lines
    imports: tuple  # import lines
    functions: tuple
    user_globals: dict = field(default_factory=dict, compare=False)  # name -> value
    source_name: str = ""


Stmt = Union[Assign, Unpack, NoGrad, Return, Comment, IfElse, Section]


# ----- the normal-form checker -----


def is_atom(e) -> bool:
    return isinstance(e, (Name, Const))


def _check_arg(arg, where: str):
    if is_atom(arg):
        return
    if isinstance(arg, Tup):
        for item in arg.items:
            if not is_atom(item):
                raise InternalError(f"{where}: tuple argument holds a non-atom {item!r}")
        return
    if isinstance(arg, Index):
        for item in arg.items:
            if isinstance(item, Slice):
                for part in (item.lower, item.upper, item.step):
                    if part is not None and not is_atom(part):
                        raise InternalError(f"{where}: slice bound {part!r} is not an atom")
            elif not is_atom(item):
                raise InternalError(f"{where}: index item {item!r} is not an atom")
        return
    raise InternalError(f"{where}: argument {arg!r} is not an atom, tuple or index")


def names_read(e) -> list[str]:
    """Names an expression or argument reads, in order of appearance."""
    out: list[str] = []

    def visit(x):
        if isinstance(x, Name):
            out.append(x.id)
        elif isinstance(x, (Tup, Index)):
            for item in x.items:
                visit(item)
        elif isinstance(x, Slice):
            for part in (x.lower, x.upper, x.step):
                if part is not None:
                    visit(part)
        elif isinstance(x, Prim):
            for _, a in x.args:
                visit(a)
        elif isinstance(x, Raw):
            out.extend(n.id for n in ast.walk(x.expr) if isinstance(n, ast.Name))

    visit(e)
    return out


def check_normal_form(fn: Function, known_globals=()) -> None:
    """Raise InternalError unless ``fn`` is in the normal form described above."""
    defined = set(fn.params) | set(known_globals) | set(fn.globals_used)

    def use(name, where):
        if name not in defined:
            raise InternalError(f"{fn.name}: {where} reads {name!r} before it is assigned")

    def define(name, where):
        if name in defined:
            raise InternalError(f"{fn.name}: {where} assigns {name!r} a second time "
                                f"(the normal form assigns each name once)")
        defined.add(name)

    def block(stmts, top):
        for i, s in enumerate(stmts):
            where = f"statement {i} ({type(s).__name__})"
            if isinstance(s, Assign):
                if isinstance(s.value, Prim):
                    for _, a in s.value.args:
                        _check_arg(a, where)
                elif isinstance(s.value, Tup):
                    _check_arg(s.value, where)
                elif not is_atom(s.value):
                    raise InternalError(f"{fn.name}: {where} is not one operation: {s.value!r}")
                for n in names_read(s.value):
                    use(n, where)
                define(s.target, where)
            elif isinstance(s, Unpack):
                if not is_atom(s.value):
                    raise InternalError(f"{fn.name}: {where} unpacks a non-atom")
                for n in names_read(s.value):
                    use(n, where)
                for t in s.targets:
                    define(t, where)
            elif isinstance(s, NoGrad):
                block(s.body, False)
            elif isinstance(s, Return):
                if not top or i != len(stmts) - 1:
                    raise InternalError(f"{fn.name}: return is not the last statement")
                if not (is_atom(s.value) or isinstance(s.value, Tup)):
                    raise InternalError(f"{fn.name}: return value is not an atom or tuple of atoms")
                _check_arg(s.value, where)
                for n in names_read(s.value):
                    use(n, where)
            elif isinstance(s, Comment):
                pass
            else:
                raise InternalError(f"{fn.name}: {where} is not a normal-form statement")

    block(fn.body, True)
    if not fn.body or not isinstance(fn.body[-1], Return):
        raise InternalError(f"{fn.name}: the normal form ends with a return")
