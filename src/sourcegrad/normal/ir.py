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
             | For(targets, iter*, carry*, stmt*)  one target per iterator, walked in lockstep
             | While(carry*, stmt*, atom, stmt*)   test block, test, body; at most max_iter times
             | If(atom, stmt*, stmt*, output*)     a static test is a Python if, else a lax.cond
             | CallFn((name, ...), callee, atom*)  a user function, normalized too (``calls``)
    iter    := RangeIter(atom, atom, atom)         range(start, stop, step), all static
             | ArrayIter(atom)                     the leading axis of an array
    carry   := Carry(param, atom, name, out)       value before the loop (atom), in an
                                                   iteration (param), at its end, after it
    output  := (out, atom, atom)                   the value after the if: from body / orelse

    Single assignment: a name is assigned once in a function. The user's
    re-assignments become versions (``y``, ``y_1``, ``y_2``); ``Origin`` keeps
    the user's line for comments and the source map.

    Scopes: a loop's params and targets, and what its body or a branch assigns, are
    visible only inside it; after a loop, its carries' ``out`` names; after an ``If``,
    its outputs.

Later stages add ``Raw`` (any Python expression, the backward's templates),
``Comment``, and ``IfElse`` (a Python-level ``if`` resolved while JAX traces).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .astutil import walk

# ----- atoms -----


@dataclass(frozen=True)
class Name:
    id: str


@dataclass(frozen=True)
class Const:
    value: object  # int, float, complex, bool, str, None, Ellipsis, a dtype, or a tuple of those
    text: str | None = field(default=None, compare=False)  # how it prints, if not repr: jnp.pi


Atom = Name | Const

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


Expr = Name | Const | Tup | Prim | Raw

# ----- statements -----


@dataclass(frozen=True)
class Origin:
    """Where a statement came from: the user's file line and the quoted text."""

    line: int
    text: str
    entry: bool = False  # the function's entry: unpacking container arguments into leaves


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
class Carry:
    """One loop-carried variable: ``init`` before the loop, ``param`` at the start of an iteration,
    ``update`` at its end, ``out`` after the loop."""

    param: str
    init: object  # atom
    update: str
    out: str


@dataclass(frozen=True)
class RangeIter:
    start: object  # atoms, static
    stop: object
    step: object


@dataclass(frozen=True)
class ArrayIter:
    """Iterate over the leading axis of an array."""

    array: object  # atom


@dataclass(frozen=True)
class For:
    """``for targets in iters: body`` as a scan: each target walks one iterator, in lockstep."""

    targets: tuple  # names bound each iteration
    iters: tuple  # RangeIter | ArrayIter, one per target
    carry: tuple  # Carry
    body: tuple
    origin: Origin | None = None
    name: str = "loop"
    tape: tuple = ()  # set by reverse: (body name, stacked name) saved per iteration
    status: tuple = ()  # set by reverse: (stacked flag, any-flag) of while loops inside the body
    checkpoint: str | int | None = None  # "sqrt", a segment length or "binomial[:N]": recompute, no tape
    checkpointed: tuple = ()  # set by reverse when it checkpoints: (segment name, saved name); binomial: (saved,)
    shape_only: tuple = ()  # set by reverse: tape names the backward reads for their shape only
    unrolled: bool = False  # slices' shapes depend on the index: a Python loop while JAX traces
    checkpoint_asked: bool = False  # the loop's own comment asks for it (an error where it cannot)


@dataclass(frozen=True)
class While:
    """``while test: body`` with a data-dependent trip count and a tape of at most max_iter entries."""

    carry: tuple
    test_body: tuple  # statements computing ``test`` from the carry params
    test: object  # atom
    body: tuple
    max_iter: int | None  # None: unbounded (no tape limit)
    origin: Origin | None = None
    name: str = "loop"
    tape: tuple = ()  # set by reverse: (body name, stacked name), at most max_iter entries
    count: str = ""  # set by reverse: the name of the number of iterations run
    overflow: str = ""  # set by reverse: the name of the flag "still running at max_iter"
    shape_only: tuple = ()  # set by reverse: tape names the backward reads for their shape only
    checkpoints: int | None = None  # no max_iter: slots of online checkpointing (None: the default)
    kept: str = ""  # set by reverse when checkpointed: the name of the checkpoints record


@dataclass(frozen=True)
class If:
    """``if test: body else: orelse``; ``outputs`` are (out, value in body, value in orelse).

    ``static``: the test is known while JAX traces, so this is a Python ``if``; otherwise it is a
    ``lax.cond`` and only the taken branch runs, forward and backward.
    """

    test: Expr  # atom
    body: tuple
    orelse: tuple
    outputs: tuple
    static: bool
    origin: Origin | None = None
    name: str = "branch"


@dataclass(frozen=True)
class CallFn:
    """A call of a user function that sourcegrad differentiates too: ``targets = callee(*args)``."""

    targets: tuple
    callee: str  # key in the module's table of callees
    args: tuple  # atoms
    origin: Origin | None = None
    residual: str = ""  # set by reverse: the name holding what the callee's backward reads
    forward: str = ""  # set by reverse: the callee's forward function, which returns it


@dataclass(frozen=True)
class Def:
    """A nested function definition in generated code (loop bodies, branches, their adjoints)."""

    function: Function
    origin: Origin | None = None


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
    decorators: tuple = ()  # source texts of decorators (``static_recursion()`` of a recursive callee)


@dataclass(frozen=True)
class Module:
    header: tuple  # comment lines
    imports: tuple  # import lines
    functions: tuple
    user_globals: dict = field(default_factory=dict, compare=False)  # name -> value
    source_name: str = ""


Stmt = Assign | Unpack | NoGrad | Return | Comment | IfElse | Section | For | While | If | CallFn | Def


# ----- the normal-form checker -----


def is_atom(e) -> bool:
    return isinstance(e, (Name, Const))


def names_read(e) -> list[str]:
    """Names an expression or argument reads, in order of appearance."""
    out: list[str] = []
    _names_read(e, out)
    return out


def _names_read(x, out: list) -> None:
    # a module function, not a closure: a recursive closure is a reference cycle per call
    if isinstance(x, Name):
        out.append(x.id)
    elif isinstance(x, (Tup, Index)):
        for item in x.items:
            _names_read(item, out)
    elif isinstance(x, Slice):
        for part in (x.lower, x.upper, x.step):
            if part is not None:
                _names_read(part, out)
    elif isinstance(x, Prim):
        for _, a in x.args:
            _names_read(a, out)
    elif isinstance(x, Raw):
        out.extend(n.id for n in walk(x.expr) if isinstance(n, ast.Name))


def defined_names(stmts) -> list:
    """Names a block binds at its own level (a loop's or branch's inner names are not included)."""
    out: list = []
    for s in stmts:
        if isinstance(s, Assign):
            out.append(s.target)
        elif isinstance(s, Unpack):
            out.extend(_flat(s.targets))
        elif isinstance(s, NoGrad):
            out.extend(defined_names(s.body))
        elif isinstance(s, For):
            out.extend(c.out for c in s.carry)
            out.extend(s.checkpointed if s.checkpointed else [stacked for _, stacked in s.tape])
            out.extend(flag for _, flag in s.status)
        elif isinstance(s, While):
            out.extend(c.out for c in s.carry)
            out.extend(stacked for _, stacked in s.tape)
            out.extend(n for n in (s.count, s.overflow, s.kept) if n)
        elif isinstance(s, If):
            out.extend(o for o, _, _ in s.outputs)
        elif isinstance(s, CallFn):
            out.extend(s.targets)
            if s.residual:
                out.append(s.residual)
    return out


def _flat(targets) -> list:
    out = []
    for t in targets:
        out.extend(_flat(t) if isinstance(t, tuple) else [t])
    return out
