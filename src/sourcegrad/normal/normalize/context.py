"""The one state object a normalization shares between the modules of this package: ``Context``.

A ``Context`` holds the function being lowered (its parse, its environment, the namer), what has
been emitted so far (the current block), the user's names bound to their current IR versions, and
the side tables later passes read (static names, containers, temporaries, globals). It also has
the few operations every module needs: emit a statement, name a new version, bind a user name,
lower a block of statements or one expression. Those last two dispatch through ``Handlers``, the
table from AST node type to handler function that ``normalize/__init__.py`` builds, so the
construct modules never import each other in a circle: each takes the context and recurses
through it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ... import rules
from .. import ir
from ..structs import Struct
from . import aliasing

__all__ = ["Context", "Handlers", "assigned_names", "leaf_name", "VIEW_OPS", "STATIC_RESULT"]

#: Operations whose NumPy result may share memory with their first argument.
VIEW_OPS = frozenset(
    {
        "getitem",
        "getitem_static",
        "reshape",
        "transpose",
        "ravel",
        "squeeze",
        "expand_dims",
        "asarray",
        "broadcast_to",
        # views too under NumPy (np.diag of a matrix: a read-only view of its diagonal); the
        # fuzzer found np.flip read after its base was written giving the old values
        "flip",
        "fliplr",
        "flipud",
        "rot90",
        "swapaxes",
        "moveaxis",
        "diagonal",
        "diag",
        "atleast_1d",
        "atleast_2d",
        "atleast_3d",
        "real",
        "matrix_transpose",
        "permute_dims",
    }
)

#: Rules whose result is known while tracing even when their argument is not (shapes).
STATIC_RESULT = frozenset(
    {"shape", "ndim", "size", "len", "range_end", "nested_range", "dtype"}
    | {"triu_indices", "tril_indices", "diag_indices"}
)


@dataclass(frozen=True)
class Handlers:
    """AST node type -> handler: ``statements`` handlers ``(cx, node)`` emit into the current block;
    ``expressions`` handlers ``(cx, node)`` return an IR value (or a ``Struct``)."""

    statements: dict
    expressions: dict


def assigned_names(stmts) -> list[str]:
    """User names a block assigns (in order of first assignment), nested blocks included."""
    out: list[str] = []

    def add(name):
        if name not in out:
            out.append(name)

    def target(t):
        if isinstance(t, ast.Name):
            add(t.id)
        elif isinstance(t, (ast.Tuple, ast.List)):
            for e in t.elts:
                target(e)
        elif isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name):
            add(t.value.id)

    for stmt in stmts:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Assign):
                for t in node.targets:
                    target(t)
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For)):
                target(node.target)
    return out


class Context:
    """The state of normalizing one function (the differentiated one, or one callee)."""

    def __init__(
        self,
        parsed,
        env,
        namer,
        handlers: Handlers,
        param_kinds=None,
        max_iter: int | None = None,
        callees=None,
        flat_params: bool = False,
        free: tuple = (),
        checkpoint=None,
    ):
        self.parsed = parsed  # frontend.parse.ParsedFunction: the AST, and locations
        self.env = env  # frontend.resolve.Environment: the function's globals
        self.namer = namer
        self.handlers = handlers
        self.block: list = []  # the statements emitted into the current block
        self.versions: dict[str, str] = {}  # user name -> current IR name
        self.params: list[str] = []
        self.globals_used: dict[str, object] = {}
        self.origin: ir.Origin | None = None  # the user's line being lowered
        self.temporaries: set[str] = set()
        self.views: dict[str, tuple[str, int]] = {}  # IR name -> (array it may share memory with, line)
        self.static: set[str] = set()  # IR names known while JAX traces
        self.param_kinds = dict(param_kinds or {})
        self.structs: dict = {}  # IR name -> Struct: names bound to containers, resolved here
        self.constants: dict = {}  # IR name -> the int or str constant it holds (container keys)
        self.user_names: dict = {}  # IR name -> the user's variable it is a version of
        self.inputs: dict = {}  # parameter -> its leaves (a Name, or a Struct of Names)
        self.max_iter = max_iter
        self.out_of_scope: dict[str, str | tuple[str, str]] = {}  # user name -> why it is not visible here
        self.callees = callees  # the CalleeTable of this transform
        self.flat_params = flat_params  # a callee: container arguments arrive as their leaves
        self.free = tuple(free)  # a lifted nested def: the enclosing variables it reads
        self.local_functions: dict = {}  # nested defs: name -> ast.FunctionDef
        self.data_branches: list[int] = []  # lines of the enclosing ifs on array values (lax.cond)
        self.checkpoint = checkpoint  # grad(checkpoint=...): for loops' default
        self.memory = aliasing.Memory()  # which names share memory under NumPy (aliasing.py)
        self.loop_indices: list[str] = []  # the user's targets of the enclosing rolled loops
        # IR name -> (test, side, line, block[, why]) of a static if that assigns it on one side only
        self.maybe_unbound: dict = {}
        self.binding_time: set[str] = set()  # out-of-scope names that a static argument would define
        self.read_after: dict = {}  # id(ast.For) -> its targets the code after it reads (after_loop.py)

    def error(self, node, what: str, fix: str = "", **kw):
        """A located error (file, line, column) at ``node`` of the user's function."""
        return self.parsed.locate(node).error(what, fix, **kw)

    # ----- lowering, through the handler tables -----
    def statements(self, stmts):
        for node in stmts:
            if self.block and isinstance(self.block[-1], ir.Return):
                raise self.error(
                    node,
                    "this line comes after `return` and never runs",
                    "delete it or move it before the return",
                )
            self.statement(node)

    def statement(self, node):
        self.origin = ir.Origin(self.parsed.file_line(node), self._quote(node))
        handler = self.handlers.statements.get(type(node))
        if handler is None:  # pragma: no cover - the fence rejects everything else
            raise self.error(node, f"unsupported statement {type(node).__name__}")
        handler(self, node)

    def _quote(self, node) -> str:
        text = self.parsed.line_text(node)
        comment = self.parsed.comments.get(self.parsed.file_line(node))
        if comment and text.endswith(comment):
            text = text[: -len(comment)].rstrip()
        if getattr(node, "end_lineno", node.lineno) != node.lineno and not text.endswith(":"):
            text += " ..."
        return text

    def sub_block(self, stmts) -> list:
        """Lower ``stmts`` into a separate block; returns it (versions are left as the block left them)."""
        outer, self.block = self.block, []
        self.statements(stmts)
        inner, self.block = self.block, outer
        return inner

    def value(self, node):
        """The IR value of one expression (its operands lowered to atoms first), or a Struct."""
        handler = self.handlers.expressions.get(type(node))
        if handler is None:
            raise self.error(node, f"the expression `{ast.unparse(node)}` is not supported here")
        return handler(self, node)

    def expr(self, node, target: str | None = None):
        """The atom (or, for a container, the Struct) of an expression; with ``target``, bound to it."""
        value = self.value(node)
        if isinstance(value, Struct):
            if target is not None:
                self.structs[target] = value
                return ir.Name(target)
            return value
        if target is not None:
            self.emit(ir.Assign(target, value, self.origin))
            return ir.Name(target)
        if ir.is_atom(value):
            return value
        name = self.namer.fresh(self.temp_name(value))
        self.temporaries.add(name)
        self.emit(ir.Assign(name, value, self.origin))
        return ir.Name(name)

    struct_or_atom = expr

    def atom(self, node) -> ir.Name | ir.Const:
        """The atom holding an expression's value, which must be an array or a Python value."""
        value = self.expr(node)
        if isinstance(value, Struct):
            raise self.error(
                node,
                f"`{ast.unparse(node)}` is a {value.kind} of arrays, which cannot be used as one array here",
                "index it (t[0], params['W']) or pass its arrays one by one",
            )
        return value

    def atom_of(self, value):
        """``value`` if it is already an atom, else the atom of the AST node."""
        return value if isinstance(value, (ir.Name, ir.Const)) else self.atom(value)

    # ----- emitting -----
    def emit(self, stmt):
        self.block.append(stmt)
        if isinstance(stmt, ir.Assign):
            source = _view_source(stmt.value)
            if source is not None:
                self.views[stmt.target] = (
                    self.views.get(source, (source, 0))[0],
                    self.origin.line if self.origin else 0,
                )
            aliasing.note_assign(self, stmt.target, stmt.value, VIEW_OPS)
            if self.is_static(stmt.value):
                self.static.add(stmt.target)
            if isinstance(stmt.value, ir.Const) and isinstance(stmt.value.value, (int, str)):
                self.constants[stmt.target] = stmt.value.value
        elif isinstance(stmt, ir.Unpack) and self.is_static(stmt.value):
            self.static.update(stmt.targets)

    def emit_temp(self, value) -> ir.Name:
        name = self.namer.fresh(self.temp_name(value))
        self.temporaries.add(name)
        self.emit(ir.Assign(name, value, self.origin))
        return ir.Name(name)

    def temp_name(self, value) -> str:
        if isinstance(value, ir.Prim):
            if value.op in ("getitem", "getitem_static") and isinstance(value.arg("x"), ir.Name):
                return f"{value.arg('x').id}_sub"
            return rules.lookup_key(value.op).temp
        return "t"

    def is_static(self, value) -> bool:
        """Is the value known while JAX traces (a Python value, not an array)?"""
        if isinstance(value, ir.Const):
            return True
        if isinstance(value, ir.Name):
            return value.id in self.static
        if isinstance(value, (ir.Tup, ir.Index)):
            return all(self.is_static(i) for i in value.items)
        if isinstance(value, ir.Slice):
            return all(p is None or self.is_static(p) for p in (value.lower, value.upper, value.step))
        if isinstance(value, ir.Prim):
            if value.op in STATIC_RESULT:
                return True
            rule = rules.lookup_key(value.op)
            return rule.operator is not None and all(self.is_static(a) for _, a in value.args)
        return False

    # ----- user names and their versions -----
    def new_version(self, user_name: str) -> str:
        """The first assignment keeps the user's name (reserved for it); later ones are versions."""
        if (
            user_name not in self.versions
            and user_name not in self.out_of_scope
            and not self.namer.taken_by_ir(user_name)
        ):
            self.namer.claim(user_name)
            return user_name
        return self.namer.fresh(user_name)

    def bind_name(self, user_name: str, ir_name: str):
        self.versions[user_name] = ir_name
        self.user_names.setdefault(ir_name, user_name)
        aliasing.note_bind(self, ir_name)
        self.out_of_scope.pop(user_name, None)

    def bind_value(self, user, value):
        """Bind a user name to a value: an atom's name, or a container of them."""
        if isinstance(value, Struct):
            holder = self.namer.fresh(user)
            self.structs[holder] = value
            self.bind_name(user, holder)
        elif isinstance(value, ir.Name):
            self.bind_name(user, value.id)
        else:
            name = self.new_version(user)
            self.emit(ir.Assign(name, value, self.origin))
            self.bind_name(user, name)

    def check_bound(self, node, version: str) -> None:
        """Reading a name an ``if`` on a static value assigns on one side only: Python's NameError
        when the other side ran, checked while tracing (``defined_check``)."""
        test, side, line, block, *why = self.maybe_unbound[version]
        if not side:
            test = self.emit_temp(ir.Prim("equal", (("x", test), ("y", ir.Const(False)))))
        why = why or [f"the if at line {line} assigns it only when its test is {side}"]
        message = (
            f"{self.parsed.filename}:{self.parsed.file_line(node)}: `{node.id}` is not defined: {why[0]}"
        )
        self.emit_temp(ir.Prim("defined_check", (("ok", test), ("message", ir.Const(message)))))
        if block == id(self.block):  # checked for every later read in this block
            del self.maybe_unbound[version]

    def current_value(self, user):
        """What a user name holds now: the Name of its version, or the Struct bound to it."""
        current = self.versions[user]
        return self.structs.get(current, ir.Name(current))

    def scope_exit(self, saved: dict, why: str):
        """Names first assigned inside a loop or branch are not visible after it."""
        for user in list(self.versions):
            if user not in saved:
                del self.versions[user]
                self.out_of_scope[user] = why
        for user, name in saved.items():
            self.versions.setdefault(user, name)


def leaf_name(user, path) -> str:
    """The IR name of one leaf of a container variable: ``params_W1``, ``state_0``."""
    return "_".join([user, *map(str, path)])


def _view_source(value) -> str | None:
    if isinstance(value, ir.Name):
        return value.id
    if isinstance(value, ir.Prim) and value.op in VIEW_OPS:
        first = value.args[0][1]
        return first.id if isinstance(first, ir.Name) else None
    return None
