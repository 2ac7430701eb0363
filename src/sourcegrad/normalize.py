"""Normalize: the user's function (Python AST) -> the normal form of ``ir`` (one operation per line).

* Nested expressions are flattened into temporaries named after their
  operation: ``y = np.tanh(x @ W + b)`` becomes ``matmul = x @ W``,
  ``add = matmul + b``, ``y = jnp.tanh(add)``.
* Every name is assigned once: a re-assigned variable gets a new version
  (``y_1``), so the old value stays readable by the backward pass.
* Calls are resolved to rules (``np.sum``, ``jnp.sum`` and ``x.sum()`` are all
  the rule ``sum``) and their arguments bound to the rule's parameters.
* ``with no_grad():`` becomes a ``NoGrad`` region.

Errors found here (an unknown name, a function without a rule, an unsupported
keyword) are located in the user's source like the fence's.
"""

from __future__ import annotations

import ast
import types

from . import ir, rules, runtime
from .errors import MissingRuleError, UnsupportedSyntaxError
from .naming import Namer
from .parse import ParsedFunction
from .resolve import NOT_FOUND, Environment, describe, is_constant_value
from .transforms.methods import ATTRIBUTES, METHODS

__all__ = ["normalize"]

BINOPS = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "divide",
          ast.Pow: "power", ast.MatMult: "matmul", ast.Mod: "mod", ast.FloorDiv: "floor_divide",
          ast.BitAnd: "bitwise_and", ast.BitOr: "bitwise_or"}
CMPOPS = {ast.Lt: "less", ast.LtE: "less_equal", ast.Gt: "greater", ast.GtE: "greater_equal",
          ast.Eq: "equal", ast.NotEq: "not_equal"}
UNARYOPS = {ast.USub: "negative", ast.UAdd: "positive", ast.Invert: "invert"}


class Normalizer:
    def __init__(self, parsed: ParsedFunction, env: Environment, namer: Namer):
        self.parsed = parsed
        self.env = env
        self.namer = namer
        self.block: list = []
        self.versions: dict[str, str] = {}   # user name -> current IR name
        self.params: list[str] = []
        self.globals_used: dict[str, object] = {}
        self.origin: ir.Origin | None = None
        self.temporaries: set[str] = set()
        self.views: dict[str, tuple[str, int]] = {}  # IR name -> (array it may share memory with, line)

    # ----- entry -----
    def function(self) -> ir.Function:
        fdef = self.parsed.node
        args = fdef.args
        for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            self.params.append(a.arg)
            self.versions[a.arg] = a.arg
        body = list(fdef.body)
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:]  # the docstring
        self.statements(body, top=True)
        if not self.block or not isinstance(self.block[-1], ir.Return):
            raise self.parsed.locate(fdef).error(
                f"`{fdef.name}` does not end with a `return`; there is nothing to differentiate",
                "return the value whose gradient you want")
        doc = "The primal, in normal form: one operation per line, each name assigned once."
        return ir.Function(fdef.name, tuple(self.params), tuple(self.block), doc=doc,
                           globals_used=tuple(self.globals_used),
                           temporaries=frozenset(self.temporaries),
                           meta={"globals": dict(self.globals_used)})

    # ----- statements -----
    def statements(self, stmts, top=False):
        for i, node in enumerate(stmts):
            if self.block and isinstance(self.block[-1], ir.Return):
                raise self.parsed.locate(node).error("this line comes after `return` and never runs",
                                                     "delete it or move it before the return")
            self.statement(node, top and i == len(stmts) - 1)

    def statement(self, node, last):
        self.origin = ir.Origin(self.parsed.file_line(node), self._quote(node))
        if isinstance(node, ast.Assign):
            first, *others = node.targets
            self.assign(first, node.value)
            for other in others:  # a = b = value
                self.assign(other, first)
        elif isinstance(node, ast.AnnAssign):
            self.assign(node.target, node.value)
        elif isinstance(node, ast.AugAssign):
            self.check_not_a_view(node)
            op = BINOPS[type(node.op)]
            old = self.atom(node.target)
            rhs = self.atom(node.value)
            target = self.new_version(node.target.id)
            self.emit(ir.Assign(target, ir.Prim(op, (("x", old), ("y", rhs))), self.origin))
            self.versions[node.target.id] = target
        elif isinstance(node, ast.Return):
            if isinstance(node.value, ast.Tuple):
                value = ir.Tup(tuple(self.atom(e) for e in node.value.elts))
            else:
                value = self.atom(node.value)
            self.emit(ir.Return(value, self.origin))
        elif isinstance(node, ast.With):  # the fence admits only `with no_grad():`
            self.check_no_grad(node)
            outer, self.block = self.block, []
            origin = self.origin
            self.statements(node.body)
            inner, self.block = self.block, outer
            self.emit(ir.NoGrad(tuple(inner), origin))
        elif isinstance(node, (ast.Pass, ast.Expr)):
            pass  # docstrings and pass; the fence rejects other expression statements
        else:  # pragma: no cover - the fence rejects everything else
            raise self.parsed.locate(node).error(f"unsupported statement {type(node).__name__}")

    def _quote(self, node) -> str:
        text = self.parsed.line_text(node)
        if getattr(node, "end_lineno", node.lineno) != node.lineno:
            text += " ..."
        return text

    def check_not_a_view(self, node: ast.AugAssign):
        """``y = x; y += 1`` changes ``x`` too under NumPy but not under JAX: refuse to guess."""
        current = self.versions.get(node.target.id)
        if current not in self.views:
            return
        base, line = self.views[current]
        user_base = next((u for u, v in self.versions.items() if v == base), base)
        op = _AUGOPS.get(type(node.op), "+")
        raise self.parsed.locate(node).error(
            f"`{node.target.id} {op}= ...` would also change `{user_base}` under NumPy "
            f"(`{node.target.id}` shares its memory since line {line}), but not under JAX, "
            f"whose semantics sourcegrad follows",
            f"write `{node.target.id} = {node.target.id} {op} ...` for a new array, or make a "
            f"copy first: `{node.target.id} = {user_base}.copy()`")

    def check_no_grad(self, node):
        for item in node.items:
            obj = self.resolve_free(item.context_expr.func)
            if obj is not runtime.no_grad:
                raise self.parsed.locate(item.context_expr).error(
                    f"`{ast.unparse(item.context_expr.func)}` is {describe(obj)}, not "
                    f"sourcegrad.no_grad", "import it: from sourcegrad import no_grad")

    def assign(self, target, value_node):
        if isinstance(target, ast.Name):
            name = self.new_version(target.id)
            self.expr(value_node, name)
            self.versions[target.id] = name
            return
        # tuple / list target
        names = [t.id for t in target.elts] if all(isinstance(t, ast.Name) for t in target.elts) \
            else None
        if names is None:
            raise self.parsed.locate(target).error("nested unpacking targets are not supported",
                                                   "unpack one level at a time")
        new = [self.new_version(n) for n in names]
        if isinstance(value_node, (ast.Tuple, ast.List)):
            if len(value_node.elts) != len(names):
                raise self.parsed.locate(value_node).error(
                    f"{len(names)} names but {len(value_node.elts)} values")
            # evaluate every value before binding any name: a, b = b, a swaps
            for elt, name in zip(value_node.elts, new):
                self.expr(elt, name)
        else:
            source = self.atom(value_node)
            self.emit(ir.Unpack(tuple(new), source, self.origin))
        for user, name in zip(names, new):
            self.versions[user] = name

    def new_version(self, user_name: str) -> str:
        """The first assignment keeps the user's name (reserved for it); later ones are versions."""
        if user_name not in self.versions:
            return user_name
        return self.namer.fresh(user_name)

    # ----- expressions -----
    def emit(self, stmt):
        self.block.append(stmt)
        if isinstance(stmt, ir.Assign):
            source = _view_source(stmt.value)
            if source is not None:
                self.views[stmt.target] = (self.views.get(source, (source, 0))[0],
                                           self.origin.line if self.origin else 0)

    def expr(self, node, target: str | None = None) -> ir.Name | ir.Const:
        value = self.value(node)
        if target is not None:
            self.emit(ir.Assign(target, value, self.origin))
            return ir.Name(target)
        if ir.is_atom(value):
            return value
        name = self.namer.fresh(self.temp_name(value))
        self.temporaries.add(name)
        self.emit(ir.Assign(name, value, self.origin))
        return ir.Name(name)

    atom = expr

    def temp_name(self, value) -> str:
        if isinstance(value, ir.Prim):
            if value.op == "getitem" and isinstance(value.arg("x"), ir.Name):
                return f"{value.arg('x').id}_sub"
            return rules.lookup_key(value.op).temp
        return "t"

    def value(self, node):
        if isinstance(node, ast.Constant):
            return ir.Const(node.value)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
                    and isinstance(node.operand.value, (int, float, complex)):
                return ir.Const(-node.operand.value)
            return ir.Prim(UNARYOPS[type(node.op)], (("x", self.atom(node.operand)),))
        if isinstance(node, ast.BinOp):
            x = self.atom(node.left)
            y = self.atom(node.right)
            return ir.Prim(BINOPS[type(node.op)], (("x", x), ("y", y)))
        if isinstance(node, ast.Compare):
            x = self.atom(node.left)
            y = self.atom(node.comparators[0])
            return ir.Prim(CMPOPS[type(node.ops[0])], (("x", x), ("y", y)))
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Attribute):
            return self.attribute(node)
        if isinstance(node, ast.Subscript):
            x = self.atom(node.value)
            return ir.Prim("getitem", (("x", x), ("idx", self.index(node.slice))))
        if isinstance(node, (ast.Tuple, ast.List)):
            return ir.Tup(tuple(self.atom(e) for e in node.elts), isinstance(node, ast.List))
        raise self.parsed.locate(node).error(
            f"the expression `{ast.unparse(node)}` is not supported here")

    def name(self, node: ast.Name):
        if node.id in self.versions:
            return ir.Name(self.versions[node.id])
        value = self.env.lookup(node.id)
        if value is NOT_FOUND:
            raise self.parsed.locate(node).error(
                f"the name `{node.id}` is not defined (not a parameter, not assigned before this "
                f"line, not a global)", "define it before use")
        if value is None or isinstance(value, bool):
            return ir.Const(value)
        if is_constant_value(value):
            self.globals_used[node.id] = value
            self.namer.reserve(node.id)
            return ir.Name(node.id)
        raise self.parsed.locate(node).error(
            f"`{node.id}` is {describe(value)}, which cannot be used as a value here",
            "call it, or pass the value in as an argument")

    # ----- attributes, calls -----
    def is_local(self, node) -> bool:
        """Is the expression a value (not a dotted name of a module or function)?"""
        while isinstance(node, ast.Attribute):
            node = node.value
        if isinstance(node, ast.Name):
            if node.id in self.versions:
                return True
            return is_constant_value(self.env.lookup(node.id))
        return True

    def resolve_free(self, node):
        """The object a dotted free name (``np.linalg.norm``) refers to."""
        if isinstance(node, ast.Name):
            value = self.env.lookup(node.id)
            if value is NOT_FOUND:
                raise self.parsed.locate(node).error(f"the name `{node.id}` is not defined")
            return value
        if isinstance(node, ast.Attribute):
            base = self.resolve_free(node.value)
            if not hasattr(base, node.attr):
                raise self.parsed.locate(node).error(
                    f"`{ast.unparse(node.value)}` ({describe(base)}) has no attribute `{node.attr}`")
            return getattr(base, node.attr)
        raise self.parsed.locate(node).error(f"`{ast.unparse(node)}` cannot be resolved")

    def attribute(self, node: ast.Attribute):
        if self.is_local(node.value):
            key = ATTRIBUTES.get(node.attr)
            if key is None:
                raise self.parsed.locate(node).error(
                    f"the attribute `.{node.attr}` of an array is not supported",
                    f"supported attributes: {', '.join('.' + a for a in ATTRIBUTES)}")
            return ir.Prim(key, ((rules.lookup_key(key).params[0].name, self.atom(node.value)),))
        value = self.resolve_free(node)
        if isinstance(value, bool) or value is None:
            return ir.Const(value)
        if is_constant_value(value):
            return ir.Const(value, text=self.constant_text(node, value))
        raise self.parsed.locate(node).error(
            f"`{ast.unparse(node)}` is {describe(value)}, which cannot be used as a value here",
            "call it, or pass the value in as an argument")

    def constant_text(self, node: ast.Attribute, value) -> str | None:
        """``np.pi`` prints as ``jnp.pi``; other module constants print as their value."""
        import jax.numpy as jnp

        root = self.resolve_free(node.value)
        if isinstance(root, types.ModuleType) and root.__name__ in ("numpy", "jax.numpy") \
                and hasattr(jnp, node.attr):
            return f"jnp.{node.attr}"
        if isinstance(value, (int, float, complex)):
            return repr(value)
        raise self.parsed.locate(node).error(
            f"`{ast.unparse(node)}` is {describe(value)}; only numbers and numpy constants can be "
            f"read from modules", "pass the value in as an argument")

    def call(self, node: ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and self.is_local(func.value):
            entry = METHODS.get(func.attr)
            if entry is None:
                raise self.parsed.locate(func).error(
                    f"the array method `.{func.attr}()` is not supported",
                    f"supported methods: {', '.join('.' + m + '()' for m in METHODS)}; or call "
                    f"the NumPy function")
            key, packing = entry
            rule = rules.lookup_key(key)
            posargs = list(node.args)
            if packing == "pack" and len(posargs) > 1:
                posargs = [ast.copy_location(ast.Tuple(elts=posargs, ctx=ast.Load()), posargs[0])]
            receiver = self.atom(func.value)
            return self.bind(rule, [receiver, *posargs], node.keywords, node)
        obj = self.resolve_free(func)
        rule = rules.lookup(obj)
        if rule is None:
            raise self.missing_rule(func, obj)
        return self.bind(rule, list(node.args), node.keywords, node)

    def missing_rule(self, func, obj) -> UnsupportedSyntaxError:
        written = ast.unparse(func)
        if obj in (float, int, complex, bool):
            return self.parsed.locate(func).error(
                f"`{written}()` converts an array to a Python number, which cannot be traced "
                f"or differentiated", "keep it an array (use x.astype(...) or a 0-d array)")
        if isinstance(obj, type) or not callable(obj):
            return self.parsed.locate(func).error(f"`{written}` is {describe(obj)}, not a function")
        if obj is runtime.no_grad:
            return self.parsed.locate(func).error("no_grad() is a context manager",
                                                  "write `with no_grad():` and indent the block")
        params = ", ".join(_param_names(obj)) or "x"
        first = _param_names(obj)[0] if _param_names(obj) else "x"
        return self.parsed.locate(func).error(
            f"no derivative rule for `{written}` ({describe(obj)})",
            f"use a supported function, or register a rule once, before grad():\n"
            f"      sourcegrad.register_rule({written}, \"{written.split('.')[-1]}({params})\", "
            f"{first}=\"g * <d {written.split('.')[-1]} / d {first}>\")",
            cls=MissingRuleError)

    # ----- binding call arguments to a rule's parameters -----
    def bind(self, rule, posargs, keywords, node) -> ir.Prim:
        params = rule.params
        by_name = {p.name: p for p in params}
        bound: dict[str, object] = {}
        positional = [p for p in params]
        i = 0
        for arg in posargs:
            if i >= len(positional):
                raise self.parsed.locate(node).error(
                    f"`{rule.key}` takes at most {len(positional)} positional arguments here")
            p = positional[i]
            if p.varargs:
                bound.setdefault(p.name, []).append(arg)
                continue
            bound[p.name] = arg
            i += 1
        if rule.max_positional is not None and len(posargs) > rule.max_positional:
            later = ", ".join(p.name for p in params[rule.max_positional:])
            raise self.parsed.locate(node).error(
                f"`{rule.key}` takes at most {rule.max_positional} positional arguments",
                f"pass {later} by keyword")
        for kw in keywords:
            if kw.arg not in by_name or by_name[kw.arg].varargs:
                supported = ", ".join(p.name for p in params if p.default is not rules.REQUIRED)
                raise self.parsed.locate(kw.value).error(
                    f"the keyword `{kw.arg}=` of `{rule.key}` is not supported by sourcegrad",
                    f"supported keywords: {supported or 'none'}")
            if kw.arg in bound:
                raise self.parsed.locate(kw.value).error(f"`{kw.arg}` is given twice")
            bound[kw.arg] = kw.value
        missing = [p.name for p in params if p.required and not p.varargs and p.name not in bound]
        if missing:
            raise self.parsed.locate(node).error(
                f"`{rule.key}` needs the argument(s) {', '.join(missing)}")
        out = []
        for p in params:
            if p.name not in bound:
                continue
            value = bound[p.name]
            if p.kind == "sequence":
                if p.varargs:
                    value = ir.Tup(tuple(self.atom_of(v) for v in value))
                elif isinstance(value, (ast.List, ast.Tuple)):
                    value = ir.Tup(tuple(self.atom(e) for e in value.elts), isinstance(value, ast.List))
                elif rule.alternate:
                    return self.bind(rules.lookup_key(rule.alternate), posargs, keywords, node)
                else:
                    raise self.parsed.locate(value).error(
                        f"`{rule.key}` needs its arrays as a list display `[a, b, ...]` so that "
                        f"each one gets its own gradient", "write the list out")
            elif p.kind == "index":
                value = self.index(value)
            elif isinstance(value, (ast.Tuple, ast.List)) and p.kind in ("static", "nondiff"):
                value = ir.Tup(tuple(self.atom(e) for e in value.elts), isinstance(value, ast.List))
            else:
                value = self.atom_of(value)
            out.append((p.name, value))
        return ir.Prim(rule.key, tuple(out))

    def atom_of(self, value):
        return value if isinstance(value, (ir.Name, ir.Const)) else self.atom(value)

    def index(self, node) -> ir.Index:
        if isinstance(node, ast.Tuple):
            return ir.Index(tuple(self.index_item(e) for e in node.elts), True)
        return ir.Index((self.index_item(node),), False)

    def index_item(self, node):
        if isinstance(node, ast.Slice):
            return ir.Slice(*(None if part is None else self.atom(part)
                              for part in (node.lower, node.upper, node.step)))
        return self.atom(node)


_AUGOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
           ast.MatMult: "@", ast.Mod: "%", ast.FloorDiv: "//", ast.BitAnd: "&", ast.BitOr: "|"}

#: Operations whose NumPy result may share memory with their first argument.
VIEW_OPS = frozenset({"getitem", "reshape", "transpose", "ravel", "squeeze", "expand_dims",
                      "asarray", "broadcast_to"})


def _view_source(value) -> str | None:
    if isinstance(value, ir.Name):
        return value.id
    if isinstance(value, ir.Prim) and value.op in VIEW_OPS:
        first = value.args[0][1]
        return first.id if isinstance(first, ir.Name) else None
    return None


def _param_names(obj) -> list[str]:
    import inspect

    try:
        return [p.name for p in inspect.signature(obj).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][:3]
    except (TypeError, ValueError):
        return []


def normalize(parsed: ParsedFunction, env: Environment, namer: Namer) -> ir.Function:
    """The normal form of ``parsed`` (see ``ir``), checked."""
    fn = Normalizer(parsed, env, namer).function()
    ir.check_normal_form(fn)
    return fn
