"""Fence: decide, before any transformation, whether a function is in the supported subset.

The first construct outside the subset raises :class:`UnsupportedSyntaxError`
with the user's file, line and column, the line with a caret under the
construct, and what to write instead. Everything after this pass may assume
its input is inside the subset; what this pass cannot see (names that resolve
to functions without rules, say) is reported, with the same error type and
location, by ``normalize``.
"""

from __future__ import annotations

import ast

from .parse import ParsedFunction

__all__ = ["check", "UNSUPPORTED"]

_MOVE_OUT = "compute it outside the differentiated function and pass the result in as an argument"

#: Constructs that are never supported, with what to write instead.
UNSUPPORTED: dict[type, tuple[str, str]] = {
    ast.Try: (
        "`try` statements",
        "remove the try/except: exceptions cannot be differentiated; validate inputs before calling",
    ),
    ast.Raise: ("`raise` statements", "check inputs before calling the differentiated function"),
    ast.Lambda: ("`lambda` expressions", "define a named function with `def` instead"),
    ast.SetComp: ("set comprehensions", _MOVE_OUT),
    ast.Global: ("`global` statements", "pass the value in as an argument and return the new value"),
    ast.Nonlocal: ("`nonlocal` statements", "pass the value in as an argument and return the new value"),
    ast.Yield: ("`yield` (generators)", "return an array (np.stack the values) instead"),
    ast.YieldFrom: ("`yield from` (generators)", "return an array instead"),
    ast.Await: ("`await`", "differentiate a synchronous function"),
    ast.Delete: ("`del` statements", "just stop using the name"),
    ast.Import: ("imports inside the function", "import at the top of the module"),
    ast.ImportFrom: ("imports inside the function", "import at the top of the module"),
    ast.ClassDef: ("class definitions inside the function", "define the class at module level"),
    ast.NamedExpr: ("the walrus operator `:=`", "assign on a line of its own"),
    ast.Set: ("set displays", _MOVE_OUT),
    ast.Starred: ("`*` unpacking", "pass the elements explicitly"),
    ast.AsyncFor: ("`async for`", "use a plain `for` loop"),
    ast.AsyncWith: ("`async with`", "use a plain `with` block"),
    ast.Match: ("`match` statements", "use if/elif"),
}

#: Constructs that later issues support; until then they give this message.
NOT_YET: dict[type, tuple[str, str]] = {}

_ALLOWED_BINOPS = (
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Pow,
    ast.MatMult,
    ast.Mod,
    ast.FloorDiv,
    ast.BitAnd,
    ast.BitOr,
)
_ALLOWED_CMPOPS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq, ast.Is, ast.IsNot)


class _Fence(ast.NodeVisitor):
    def __init__(self, parsed: ParsedFunction):
        self.parsed = parsed
        self.message_depth = 0  # inside print(...): f-strings are messages there

    def fail(self, node, what, fix):
        raise self.parsed.locate(node).error(
            f"{what} are not supported in a function differentiated by sourcegrad", fix
        )

    def generic_visit(self, node):
        kind = type(node)
        if kind in UNSUPPORTED:
            self.fail(node, *UNSUPPORTED[kind])
        if kind in NOT_YET:
            self.fail(node, *NOT_YET[kind])
        super().generic_visit(node)

    # ----- statements -----
    def visit_Expr(self, node):
        if isinstance(node.value, (ast.Yield, ast.YieldFrom, ast.Await)):
            return self.generic_visit(node)
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return  # a docstring or a comment-like string
        if (
            isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id == "print"
        ):  # printed at run time (normal/normalize/effects.py); f-strings allowed in its message
            self.message_depth += 1
            self.generic_visit(node.value)
            self.message_depth -= 1
            return
        raise self.parsed.locate(node).error(
            "an expression statement whose value is thrown away has no effect on the result",
            "assign it to a name, or delete the line",
        )

    def visit_Assign(self, node):
        for target in node.targets:
            self._target(target)
        self.visit(node.value)

    def visit_AugAssign(self, node):
        self._target(node.target)
        self._binop(node, node.op)
        self.visit(node.value)

    def visit_AnnAssign(self, node):
        if node.value is None:
            raise self.parsed.locate(node).error(
                "an annotation without a value does nothing here", "write `name = value`"
            )
        self._target(node.target)
        self.visit(node.value)

    def _target(self, target):
        if isinstance(target, ast.Name):
            return
        if isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                if isinstance(elt, ast.Starred):
                    self.fail(elt, "starred assignment targets", "unpack a fixed number of names")
                self._target(elt)
            return
        if isinstance(target, ast.Subscript):
            self.visit(target)
            return
        if isinstance(target, ast.Attribute):
            raise self.parsed.locate(target).error(
                "assigning to an attribute (`obj.x = v`) cannot be differentiated",
                "return the new value instead",
            )
        self.fail(target, "this kind of assignment target", "assign to a plain name")

    def visit_With(self, node):
        for item in node.items:
            call = item.context_expr
            name = call.func if isinstance(call, ast.Call) else call
            label = ast.unparse(name)
            if not (
                isinstance(call, ast.Call)
                and label.split(".")[-1] == "no_grad"
                and not call.args
                and not call.keywords
                and item.optional_vars is None
            ):
                raise self.parsed.locate(item.context_expr).error(
                    f"`with {ast.unparse(call)}:` is not supported; the only context manager "
                    f"is `with no_grad():`",
                    "move the with-block out of the differentiated function",
                )
        for stmt in node.body:
            self.visit(stmt)

    def visit_Return(self, node):
        if node.value is None:
            raise self.parsed.locate(node).error(
                "a bare `return` returns None, which has no gradient", "return the value to differentiate"
            )
        self.visit(node.value)

    def visit_FunctionDef(self, node):
        args = node.args
        if args.vararg or args.kwarg:
            star = args.vararg or args.kwarg
            raise self.parsed.locate(star).error(
                "`*args` / `**kwargs` parameters are not supported: the generated code has one "
                "parameter per array or container, known when it is written",
                "take a tuple or dict instead (`def f(xs):`, called `f((a, b, c))`, and "
                "`for x in xs:` in the body): grad(f, wrt='xs') differentiates every array in it",
            )
        for stmt in node.body:
            self.visit(stmt)

    def visit_JoinedStr(self, node):
        if not self.message_depth:
            self.fail(node, "f-strings", "strings are not differentiable; f-strings work in print(...)")
        self.generic_visit(node)

    # ----- expressions -----
    def visit_BinOp(self, node):
        self._binop(node, node.op)
        self.generic_visit(node)

    def _binop(self, node, op):
        if not isinstance(op, _ALLOWED_BINOPS):
            self.fail(
                node,
                f"the operator `{_OP_TEXT.get(type(op), type(op).__name__)}`",
                "use the NumPy function for it",
            )

    def visit_Compare(self, node):
        for op in node.ops:
            if not isinstance(op, _ALLOWED_CMPOPS):
                self.fail(
                    node,
                    f"the comparison `{_OP_TEXT.get(type(op), '?')}`",
                    "compare with == or != on arrays; test membership outside the function",
                )
        self.generic_visit(node)

    def visit_Subscript(self, node):
        self.visit(node.value)
        self.visit(node.slice)

    def visit_Call(self, node):
        if not isinstance(node.func, (ast.Name, ast.Attribute)):
            self.fail(node, "calls of computed functions", "call a function by its name")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                self.fail(arg, "`*` unpacking in calls", "pass the arguments explicitly")
        for kw in node.keywords:
            if kw.arg is None:
                self.fail(kw.value, "`**` unpacking in calls", "pass the keywords explicitly")
        self.generic_visit(node)

    def visit_Tuple(self, node):
        self.generic_visit(node)

    visit_List = visit_Tuple


_OP_TEXT = {
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitXor: "^",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
}


def check(parsed: ParsedFunction) -> None:
    """Raise UnsupportedSyntaxError at the first construct outside the supported subset."""
    _Fence(parsed).visit(parsed.node)
