"""Lowering expressions into the normal form: flattening, name resolution, rule binding.

The half of ``normalize`` that deals with one expression at a time. Every
sub-expression becomes an atom (a name or a constant): operations are emitted
as single-operation assignments to temporaries named after the operation.
Calls resolve to rules (``np.sum``, ``jnp.sum`` and ``x.sum()`` all mean the
rule ``sum``) and their arguments are bound to the rule's parameters.

It also tracks binding time: which names hold values known while JAX traces
(constants, shapes, static parameters, Python arithmetic on those). Those
decide whether an ``if`` is a Python ``if`` or a ``lax.cond``.
"""

from __future__ import annotations

import ast
import inspect
import types

from . import ir

from .. import rules, runtime
from ..errors import MissingRuleError, UnsupportedSyntaxError
from ..frontend.resolve import NOT_FOUND, describe, is_constant_value
from .structs import Struct
from ..transforms.methods import ATTRIBUTES, METHODS

__all__ = ["ExpressionLowering", "BINOPS", "AUGOPS", "VIEW_OPS"]

BINOPS = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "divide",
          ast.Pow: "power", ast.MatMult: "matmul", ast.Mod: "mod", ast.FloorDiv: "floor_divide",
          ast.BitAnd: "bitwise_and", ast.BitOr: "bitwise_or"}
CMPOPS = {ast.Lt: "less", ast.LtE: "less_equal", ast.Gt: "greater", ast.GtE: "greater_equal",
          ast.Eq: "equal", ast.NotEq: "not_equal"}
UNARYOPS = {ast.USub: "negative", ast.UAdd: "positive", ast.Invert: "invert"}
AUGOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
          ast.MatMult: "@", ast.Mod: "%", ast.FloorDiv: "//", ast.BitAnd: "&", ast.BitOr: "|"}

#: Operations whose NumPy result may share memory with their first argument.
VIEW_OPS = frozenset({"getitem", "getitem_static", "reshape", "transpose", "ravel", "squeeze",
                      "expand_dims", "asarray", "broadcast_to"})

#: Rules whose result is known while tracing even when their argument is not (shapes).
STATIC_RESULT = frozenset({"shape", "ndim", "size", "len", "range_end", "dtype"})


class ExpressionLowering:
    """State shared with ``normalize.Normalizer``: the current block, versions, names."""

    parsed = env = namer = origin = None
    block: list
    versions: dict
    static: set
    temporaries: set
    views: dict
    globals_used: dict
    structs: dict  # IR name -> Struct: names bound to containers, resolved while normalizing
    constants: dict  # IR name -> the int or str constant it holds (container keys)

    def emit(self, stmt):
        self.block.append(stmt)
        if isinstance(stmt, ir.Assign):
            source = _view_source(stmt.value)
            if source is not None:
                self.views[stmt.target] = (self.views.get(source, (source, 0))[0],
                                           self.origin.line if self.origin else 0)
            if self.is_static(stmt.value):
                self.static.add(stmt.target)
            if isinstance(stmt.value, ir.Const) and isinstance(stmt.value.value, (int, str)):
                self.constants[stmt.target] = stmt.value.value
        elif isinstance(stmt, ir.Unpack) and self.is_static(stmt.value):
            self.static.update(stmt.targets)

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

    def atom(self, node) -> ir.Name | ir.Const:
        """The atom holding an expression's value, which must be an array or a Python value."""
        value = self.expr(node)
        if isinstance(value, Struct):
            raise self.parsed.locate(node).error(
                f"`{ast.unparse(node)}` is a {value.kind} of arrays, which cannot be used as one "
                f"array here", "index it (t[0], params['W']) or pass its arrays one by one")
        return value

    struct_or_atom = expr

    def constant_key(self, node):
        """The constant key of ``container[key]`` (a literal, or a name holding one: the target
        of a loop over a container, which is written out element by element)."""
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, str)):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) \
                and isinstance(node.operand, ast.Constant) and isinstance(node.operand.value, int):
            return -node.operand.value
        if isinstance(node, ast.Name) and self.versions.get(node.id) in self.constants:
            return self.constants[self.versions[node.id]]
        raise self.parsed.locate(node).error(
            "a tuple, list or dict of arrays can only be indexed with a constant key here",
            "write the key out (layers[0], params['W1']), or stack the arrays into one array")

    def element(self, struct: Struct, key_node):
        key = self.constant_key(key_node)
        if struct.kind != "dict" and isinstance(key, int) and key < 0:
            key += len(struct.items)
        try:
            return struct.get(key)
        except KeyError:
            raise self.parsed.locate(key_node).error(
                f"the {struct.kind} has no key {key!r} (keys: {struct.keys})") from None

    def temp_name(self, value) -> str:
        if isinstance(value, ir.Prim):
            if value.op in ("getitem", "getitem_static") and isinstance(value.arg("x"), ir.Name):
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
            x = self.struct_or_atom(node.value)
            if isinstance(x, Struct):
                return self.element(x, node.slice)
            idx = self.index(node.slice)
            # a subscript known while tracing has a cheaper adjoint (a pad instead of a scatter)
            op = "getitem_static" if self.is_static(idx) else "getitem"
            return ir.Prim(op, (("x", x), ("idx", idx)))
        if isinstance(node, (ast.Tuple, ast.List)):
            return Struct("list" if isinstance(node, ast.List) else "tuple",
                          tuple((i, self.struct_or_atom(e)) for i, e in enumerate(node.elts)))
        if isinstance(node, ast.Dict):
            items = []
            for k, v in zip(node.keys, node.values):
                if not (isinstance(k, ast.Constant) and isinstance(k.value, str)):
                    raise self.parsed.locate(k if k is not None else v).error(
                        "dict displays need constant string keys", "write {'W': W, ...}")
                items.append((k.value, self.struct_or_atom(v)))
            return Struct("dict", tuple(items))
        if isinstance(node, ast.IfExp):
            return self.if_expression(node)
        raise self.parsed.locate(node).error(
            f"the expression `{ast.unparse(node)}` is not supported here")

    def name(self, node: ast.Name):
        if node.id in self.versions:
            current = self.versions[node.id]
            return self.structs.get(current, ir.Name(current))
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
            if isinstance(value, (int, float, complex, str)):
                self.static.add(node.id)
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
        local = self.local_function(func)
        if local is not None:
            return self.user_call(node, local)
        if isinstance(func, ast.Attribute) and self.is_local(func.value):
            base = self.struct_or_atom(func.value)
            if isinstance(base, Struct):
                return self.container_method(node, base, func.attr)
            entry = METHODS.get(func.attr)
            if entry is None:
                err = self.parsed.locate(func).error(
                    f"the array method `.{func.attr}()` is not supported",
                    f"supported methods: {', '.join('.' + m + '()' for m in METHODS)}; or call "
                    f"the NumPy function")
                # a dict argument's .items() looks like this until the call shows it is a dict
                err.kind_dependent = func.attr in ("items", "keys", "values")
                raise err
            key, packing = entry
            rule = rules.lookup_key(key)
            posargs = list(node.args)
            if packing == "pack" and len(posargs) > 1:
                posargs = [ast.copy_location(ast.Tuple(elts=posargs, ctx=ast.Load()), posargs[0])]
            receiver = self.atom(func.value)
            return self.bind(rule, [receiver, *posargs], node.keywords, node)
        obj = self.resolve_free(func)
        if obj is len and len(node.args) == 1:
            arg = self.struct_or_atom(node.args[0])
            if isinstance(arg, Struct):
                return ir.Const(len(arg.items))
            return ir.Prim("len", (("a", arg),))
        rule = rules.lookup(obj)
        if rule is None:
            if isinstance(obj, types.FunctionType) and not _is_library(obj):
                return self.user_call(node, obj)
            raise self.missing_rule(func, obj)
        return self.bind(rule, list(node.args), node.keywords, node)

    def container_method(self, node, base: Struct, method: str):
        """``params.items()``, ``.keys()``, ``.values()``: resolved now, into a list of its entries."""
        if base.kind == "dict" and method in ("items", "keys", "values") and not node.args:
            entries = {"keys": [ir.Const(k) for k, _ in base.items],
                       "values": [v for _, v in base.items],
                       "items": [Struct("tuple", ((0, ir.Const(k)), (1, v))) for k, v in base.items]}
            return Struct("list", tuple(enumerate(entries[method])))
        raise self.parsed.locate(node).error(
            f"`.{method}()` of a {base.kind} of arrays is not supported",
            "index the container with constant keys, or use .items() / .keys() / .values() of a dict")

    def if_expression(self, node):  # pragma: no cover - provided by normalize.Normalizer
        raise NotImplementedError

    def user_call(self, node, obj):  # pragma: no cover - provided by normalize.Normalizer
        raise NotImplementedError

    def local_function(self, func):  # pragma: no cover - provided by normalize.Normalizer
        return None

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
            struct = None
            if isinstance(value, ast.AST) and p.kind != "index" and not p.varargs:
                struct = self.struct_or_atom(value)
                if not isinstance(struct, Struct):
                    value, struct = struct, None
            if p.kind == "sequence":
                if p.varargs:
                    value = ir.Tup(tuple(self.atom_of(v) for v in value))
                elif struct is not None:
                    value = self.flat_tup(struct, value_node=bound[p.name])
                elif rule.alternate:  # np.array(x) of one array: the rule for that
                    return self.bind(rules.lookup_key(rule.alternate), [value] + list(posargs[1:]),
                                     keywords, node)
                else:
                    raise self.parsed.locate(value).error(
                        f"`{rule.key}` needs its arrays as a list display `[a, b, ...]` so that "
                        f"each one gets its own gradient", "write the list out")
            elif p.kind == "index":
                value = self.index(value)
            elif struct is not None:
                if p.kind == "array":
                    raise self.parsed.locate(bound[p.name]).error(
                        f"`{ast.unparse(bound[p.name])}` is a {struct.kind} of arrays; `{rule.key}` "
                        f"takes one array for `{p.name}`", "stack the arrays first (np.stack)")
                value = self.flat_tup(struct, value_node=bound[p.name])
            else:
                value = self.atom_of(value)
            out.append((p.name, value))
        return ir.Prim(rule.key, tuple(out))

    def flat_tup(self, struct: Struct, value_node) -> ir.Tup:
        items = [v for _, v in struct.items]
        if any(isinstance(v, Struct) for v in items):
            raise self.parsed.locate(value_node).error("a nested container cannot be passed here",
                                                       "pass a flat list of arrays")
        return ir.Tup(tuple(items), struct.kind == "list")

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


def _view_source(value) -> str | None:
    if isinstance(value, ir.Name):
        return value.id
    if isinstance(value, ir.Prim) and value.op in VIEW_OPS:
        first = value.args[0][1]
        return first.id if isinstance(first, ir.Name) else None
    return None


def _param_names(obj) -> list[str]:
    try:
        return [p.name for p in inspect.signature(obj).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][:3]
    except (TypeError, ValueError):
        return []


def _is_library(fn) -> bool:
    """Functions of installed libraries (numpy, jax, scipy, ...) are not the user's to differentiate."""
    module = getattr(fn, "__module__", "") or ""
    return module.split(".")[0] in {"numpy", "jax", "jaxlib", "scipy", "sourcegrad", "builtins"}
