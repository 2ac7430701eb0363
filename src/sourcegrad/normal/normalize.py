"""Normalize: the user's function (Python AST) -> the normal form of ``ir``.

* Expressions are flattened into one-operation assignments (``expressions.py``).
* Every name is assigned once: a re-assigned variable gets a new version
  (``y``, ``y_1``, ...), so an old value stays readable by the backward pass;
  ``y[i] = v`` is ``y_1 = y.at[i].set(v)``, a new version too.
* ``for`` loops become ``For`` nodes with explicit loop-carried variables
  (``Carry``: value before the loop, at the start of an iteration, at its end,
  after the loop); ``while`` loops become ``While`` nodes (a counter loop
  ``i = 0; while i < n: ...; i += 1`` becomes a ``For``); ``if`` statements and
  conditional expressions become ``If`` nodes whose outputs merge the
  branches' versions. An ``if`` on a value known while JAX traces (a constant,
  a shape, a static argument) is marked static.
* ``with no_grad():`` becomes a ``NoGrad`` region.

``desugar`` runs before this pass and removes ``break``, ``continue`` and early
``return``; ``fence`` has rejected everything outside the subset.
"""

from __future__ import annotations

import ast
import functools
import inspect

from . import ir

from .. import runtime
from .calls import signature_of
from .expressions import AUGOPS, BINOPS, ExpressionLowering
from .naming import Namer
from ..frontend.parse import ParsedFunction
from ..frontend.resolve import Environment, describe, is_constant_value
from .structs import Struct, leaves, paths, rebuild, same_layout

__all__ = ["normalize", "Normalizer", "assigned_names"]


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


class Normalizer(ExpressionLowering):
    def __init__(self, parsed: ParsedFunction, env: Environment, namer: Namer,
                 param_kinds=None, max_iter: int | None = None, callees=None,
                 flat_params: bool = False, free: tuple = (), checkpoint=None):
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
        self.static: set[str] = set()
        self.param_kinds = dict(param_kinds or {})
        self.structs: dict = {}
        self.constants: dict = {}
        self.user_names: dict = {}  # IR name -> the user's variable it is a version of
        self.inputs: dict = {}  # parameter -> its leaves (a Name, or a Struct of Names)
        self.max_iter = max_iter
        self.out_of_scope: dict[str, str] = {}  # user name -> why it is not visible here
        self.callees = callees          # the CalleeTable of this transform
        self.flat_params = flat_params  # a callee: container arguments arrive as their leaves
        self.free = tuple(free)         # a lifted nested def: the enclosing variables it reads
        self.local_functions: dict = {}  # nested defs: name -> ast.FunctionDef
        self.checkpoint = checkpoint  # grad(checkpoint=...): for loops' default

    # ----- entry -----
    def function(self) -> ir.Function:
        fdef = self.parsed.node
        args = fdef.args
        self.origin = ir.Origin(self.parsed.file_line(fdef), self.parsed.line_text(fdef), entry=True)
        names = [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]] + list(self.free)
        for p in names:
            kind = self.param_kinds.get(p, "array")
            if isinstance(kind, tuple) and self.flat_params:  # a callee: one parameter per leaf
                leaf_kinds = _leaf_kinds(kind)
                leaf_names = [self.namer.fresh(self.leaf_name(p, path)) for path in _kind_paths(kind)]
                self.params.extend(leaf_names)
                self.static.update(n for n, k in zip(leaf_names, leaf_kinds) if k == "static")
                self.bind_value(p, _struct_of_kind(kind, iter(leaf_names)))
                continue
            self.params.append(p)
            self.versions[p] = self.namer.claim(p)
            self.inputs[p] = ir.Name(p)
            if kind == "static":
                self.static.add(p)
            if isinstance(kind, tuple):  # a container argument is unpacked into its leaves on entry
                struct = self.unpack_container(ir.Name(p), kind, p)
                self.bind_value(p, struct)
                self.inputs[p] = struct
        body = list(fdef.body)
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:]  # the docstring
        self.statements(body)
        if not self.block or not isinstance(self.block[-1], ir.Return):
            raise self.parsed.locate(fdef).error(
                f"`{fdef.name}` does not end with a `return`; there is nothing to differentiate",
                "return the value whose gradient you want")
        doc = "The primal, in normal form: one operation per line, each name assigned once."
        return ir.Function(fdef.name, tuple(self.params), tuple(self.block), doc=doc,
                           globals_used=tuple(self.globals_used),
                           temporaries=frozenset(self.temporaries),
                           meta={"globals": dict(self.globals_used),
                                 "static": frozenset(self.static), "inputs": dict(self.inputs),
                                 "user_names": dict(self.user_names)})

    def unpack_container(self, base: ir.Name, kind, prefix: str) -> Struct:
        items = []
        for key, sub in kind[1]:
            leaf = self.namer.fresh(f"{prefix}_{key}")
            self.emit(ir.Assign(leaf, ir.Prim("getitem", (("x", base), ("idx", ir.Index((ir.Const(key),))))),
                                self.origin))
            items.append((key, self.unpack_container(ir.Name(leaf), sub, leaf)
                          if isinstance(sub, tuple) else ir.Name(leaf)))
        return Struct(kind[0], tuple(items))

    # ----- statements -----
    def statements(self, stmts):
        for node in stmts:
            if self.block and isinstance(self.block[-1], ir.Return):
                raise self.parsed.locate(node).error("this line comes after `return` and never runs",
                                                     "delete it or move it before the return")
            self.statement(node)

    def statement(self, node):
        self.origin = ir.Origin(self.parsed.file_line(node), self._quote(node))
        if isinstance(node, ast.Assign):
            first, *others = node.targets
            self.assign(first, node.value)
            for other in others:  # a = b = value
                self.assign(other, first)
        elif isinstance(node, ast.AnnAssign):
            self.assign(node.target, node.value)
        elif isinstance(node, ast.AugAssign):
            self.augmented(node)
        elif isinstance(node, ast.Return):
            value = self.struct_or_atom(node.value)
            if isinstance(value, Struct):
                if value.kind == "dict" or any(isinstance(v, Struct) for _, v in value.items):
                    raise self.parsed.locate(node.value).error(
                        "a function differentiated by sourcegrad returns an array or a flat tuple "
                        "of arrays", "return the arrays as a tuple: return a, b")
                value = ir.Tup(tuple(v for _, v in value.items))
            self.emit(ir.Return(value, self.origin))
        elif isinstance(node, ast.With):  # the fence admits only `with no_grad():`
            self.check_no_grad(node)
            outer, self.block = self.block, []
            origin = self.origin
            self.statements(node.body)
            inner, self.block = self.block, outer
            self.emit(ir.NoGrad(tuple(inner), origin))
        elif isinstance(node, ast.For):
            self.for_statement(node)
        elif isinstance(node, ast.While):
            self.while_statement(node)
        elif isinstance(node, ast.If):
            self.if_statement(node)
        elif isinstance(node, ast.FunctionDef):
            self.nested_def(node)
        elif isinstance(node, (ast.Pass, ast.Expr)):
            pass  # docstrings and pass; the fence rejects other expression statements
        else:  # pragma: no cover - the fence rejects everything else
            raise self.parsed.locate(node).error(f"unsupported statement {type(node).__name__}")

    def _quote(self, node) -> str:
        text = self.parsed.line_text(node)
        comment = self.parsed.comments.get(self.parsed.file_line(node))
        if comment and text.endswith(comment):
            text = text[: -len(comment)].rstrip()
        if getattr(node, "end_lineno", node.lineno) != node.lineno and not text.endswith(":"):
            text += " ..."
        return text

    def check_no_grad(self, node):
        for item in node.items:
            obj = self.resolve_free(item.context_expr.func)
            if obj is not runtime.no_grad:
                raise self.parsed.locate(item.context_expr).error(
                    f"`{ast.unparse(item.context_expr.func)}` is {describe(obj)}, not "
                    f"sourcegrad.no_grad", "import it: from sourcegrad import no_grad")

    def check_not_a_view(self, node, name: str, op: str):
        """``y = x; y += 1`` changes ``x`` too under NumPy but not under JAX: refuse to guess."""
        current = self.versions.get(name)
        if current not in self.views:
            return
        base, line = self.views[current]
        user_base = next((u for u, v in self.versions.items() if v == base), base)
        if user_base == name:
            return
        raise self.parsed.locate(node).error(
            f"`{ast.unparse(node).split(chr(10))[0]}` would also change `{user_base}` under NumPy "
            f"(`{name}` shares its memory since line {line}), but not under JAX, whose semantics "
            f"sourcegrad follows",
            f"write `{name} = {name} {op} ...` for a new array, or make a copy first: "
            f"`{name} = {user_base}.copy()`")

    def assign(self, target, value_node):
        if isinstance(target, ast.Name):
            name = self.new_version(target.id)
            self.expr(value_node, name)
            self.bind_name(target.id, name)
            return
        if isinstance(target, ast.Subscript):
            self.write_subscript(target, value_node, None)
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
            source = self.struct_or_atom(value_node)
            if isinstance(source, Struct):
                if len(source.items) != len(names):
                    raise self.parsed.locate(value_node).error(
                        f"{len(names)} names but the {source.kind} has {len(source.items)} items")
                for (_, element), name in zip(source.items, new):
                    if isinstance(element, Struct):
                        self.structs[name] = element
                    else:
                        self.emit(ir.Assign(name, element, self.origin))
            elif self.is_static(source):
                self.emit(ir.Unpack(tuple(new), source, self.origin))
            else:  # unpacking an array walks its leading axis, as NumPy does
                for i, name in enumerate(new):
                    self.emit(ir.Assign(name, ir.Prim("getitem_static", (("x", source), (
                        "idx", ir.Index((ir.Const(i),))))), self.origin))
        for user, name in zip(names, new):
            self.bind_name(user, name)

    def augmented(self, node: ast.AugAssign):
        op = AUGOPS.get(type(node.op), "+")
        if isinstance(node.target, ast.Subscript):
            self.write_subscript(node.target, node.value, node.op)
            return
        self.check_not_a_view(node, node.target.id, op)
        old = self.atom(node.target)
        rhs = self.atom(node.value)
        target = self.new_version(node.target.id)
        self.emit(ir.Assign(target, ir.Prim(BINOPS[type(node.op)], (("x", old), ("y", rhs))),
                            self.origin))
        self.bind_name(node.target.id, target)

    def write_subscript(self, target: ast.Subscript, value_node, op):
        """``y[idx] = v`` / ``y[idx] += v``: a new version of ``y`` (``y.at[idx].set(v)``)."""
        if not isinstance(target.value, ast.Name) or target.value.id not in self.versions:
            raise self.parsed.locate(target).error(
                "only a local array variable can be written into (`y[i] = v`)",
                "assign the array to a name first")
        name = target.value.id
        self.check_not_a_view(target, name, "+")
        x = self.atom(target.value)
        idx = self.index(target.slice)
        v = self.atom(value_node)
        if op is None:
            key = "at_set"
        elif isinstance(op, ast.Add):
            key = "at_add"
        elif isinstance(op, ast.Sub):
            key = "at_add"
            v = self.emit_temp(ir.Prim("negative", (("x", v),)))
        elif isinstance(op, ast.Mult):
            key = "at_multiply"
        else:
            raise self.parsed.locate(target).error(
                f"`y[i] {AUGOPS.get(type(op), '?')}= v` is not supported",
                "write y[i] = y[i] <op> v")
        new = self.new_version(name)
        self.emit(ir.Assign(new, ir.Prim(key, (("x", x), ("idx", idx), ("v", v))), self.origin))
        self.bind_name(name, new)

    def emit_temp(self, value) -> ir.Name:
        name = self.namer.fresh(self.temp_name(value))
        self.temporaries.add(name)
        self.emit(ir.Assign(name, value, self.origin))
        return ir.Name(name)

    def new_version(self, user_name: str) -> str:
        """The first assignment keeps the user's name (reserved for it); later ones are versions."""
        if user_name not in self.versions and user_name not in self.out_of_scope \
                and not self.namer.taken_by_ir(user_name):
            self.namer.claim(user_name)
            return user_name
        return self.namer.fresh(user_name)

    def bind_name(self, user_name: str, ir_name: str):
        self.versions[user_name] = ir_name
        self.user_names.setdefault(ir_name, user_name)
        self.out_of_scope.pop(user_name, None)

    def name(self, node: ast.Name):
        if node.id not in self.versions and node.id in self.out_of_scope:
            raise self.parsed.locate(node).error(
                f"`{node.id}` is not defined here: {self.out_of_scope[node.id]}",
                f"assign `{node.id}` before the loop or the `if`, so that it has a value on "
                f"every path")
        return super().name(node)

    # ----- blocks with their own scope -----
    def sub_block(self, stmts):
        """Lower ``stmts`` into a separate block; returns it (versions are left as the block left them)."""
        outer, self.block = self.block, []
        self.statements(stmts)
        inner, self.block = self.block, outer
        return inner

    def _scope_exit(self, saved: dict, why: str):
        """Names first assigned inside a loop or branch are not visible after it."""
        for user in list(self.versions):
            if user not in saved:
                del self.versions[user]
                self.out_of_scope[user] = why
        for user, name in saved.items():
            self.versions.setdefault(user, name)

    # ----- loops -----
    def for_statement(self, node: ast.For):
        if node.orelse:
            raise self.parsed.locate(node).error("`for ... else` is not supported",
                                                 "use a flag variable")
        targets, iters = self.loop_iterables(node.target, node.iter)
        self.lower_for(node, targets, iters, node.body)

    def loop_iterables(self, target, iterable):
        """(user target names, iterators) of ``for target in iterable``."""
        func = iterable.func if isinstance(iterable, ast.Call) else None
        obj = self.resolve_free(func) if func is not None and not self.is_local(func) else None
        if obj in (map, filter, iter, reversed, sorted, list, tuple, set, dict) or \
                (isinstance(iterable, ast.Name) and iterable.id not in self.versions
                 and not is_constant_value(self.env.lookup(iterable.id))):
            raise self.parsed.locate(iterable).error(
                f"a loop over `{ast.unparse(iterable)}`: a Python iterable whose length is not "
                f"known when the loop is compiled", "loop over range(n), an array, or a list or "
                "tuple of arrays passed as an argument")
        if obj is range:
            args = [self.atom(a) for a in iterable.args]
            if iterable.keywords or not 1 <= len(args) <= 3:
                raise self.parsed.locate(iterable).error("range() takes 1 to 3 positional arguments")
            start, stop, step = ([ir.Const(0)] + args + [ir.Const(1)])[:3] if len(args) == 1 \
                else (args + [ir.Const(1)])[:3]
            for part, text in zip((start, stop, step), ("start", "stop", "step")):
                if not self.is_static(part):
                    raise self.binding_time_error(
                        iterable,
                        f"the {text} of this range depends on a value computed by JAX (`{part.id}`), "
                        f"so the loop's trip count is not known when the loop is compiled",
                        "use a Python int or an array's shape (x.shape[0]); for a data-dependent "
                        "trip count write a while loop with a max_iter bound")
            return [self.target_name(target)], [ir.RangeIter(start, stop, step)]
        if obj is enumerate:
            if not (isinstance(target, ast.Tuple) and len(target.elts) == 2) or len(iterable.args) != 1:
                raise self.parsed.locate(target).error("write `for i, item in enumerate(xs):`")
            inner_targets, inner_iters = self.loop_iterables(target.elts[1], iterable.args[0])
            first = inner_iters[0]
            length = ir.Const(len(first.items)) if isinstance(first, Struct) else \
                self.emit_temp(ir.Prim("len", (("a", self.array_of(first)),)))
            return ([self.target_name(target.elts[0])] + inner_targets,
                    [ir.RangeIter(ir.Const(0), length, ir.Const(1))] + inner_iters)
        if obj is zip:
            if not isinstance(target, ast.Tuple) or len(target.elts) != len(iterable.args):
                raise self.parsed.locate(target).error(
                    "unpack one name per zipped sequence: `for a, b in zip(xs, ys):`")
            names, iters = [], []
            for t, arg in zip(target.elts, iterable.args):
                n, i = self.loop_iterables(t, arg)
                names += n
                iters += i
            return names, iters
        value = self.struct_or_atom(iterable)
        if isinstance(value, Struct):  # a Python list of arrays: written out, element by element
            if value.kind == "dict":  # iterating a dict gives its keys
                value = Struct("list", tuple(enumerate(ir.Const(k) for k, _ in value.items)))
            if isinstance(target, ast.Tuple):  # for k, v in params.items()
                return self.unpacked_targets(target, value)
            return [self.target_name(target)], [value]
        return [self.target_name(target)], [ir.ArrayIter(value)]

    def binding_time_error(self, node, what, fix):
        err = self.parsed.locate(node).error(what, fix)
        err.binding_time = True  # the API retries with every non-differentiated argument static
        return err

    def unpacked_targets(self, target: ast.Tuple, value: Struct):
        """``for k, v in pairs`` over a container of pairs: one container per position."""
        n = len(target.elts)
        columns = []
        for j in range(n):
            column = []
            for _, item in value.items:
                if not isinstance(item, Struct) or len(item.items) != n:
                    raise self.parsed.locate(target).error(
                        f"each element must unpack into {n} names")
                column.append(item.items[j][1])
            columns.append(Struct("list", tuple(enumerate(column))))
        return [self.target_name(t) for t in target.elts], columns

    def array_of(self, it):
        if isinstance(it, ir.ArrayIter):
            return it.array
        raise self.parsed.locate(self.parsed.node).error("enumerate() needs an array")

    def target_name(self, target) -> str:
        if not isinstance(target, ast.Name):
            raise self.parsed.locate(target).error(
                "this loop target is not supported", "use a single name, or enumerate()/zip() "
                "with one name per sequence")
        return target.id

    def lower_for(self, node, user_targets, iters, body_nodes, loop_name="for"):
        if any(isinstance(it, Struct) for it in iters):
            return self.unrolled_for(node, user_targets, iters, body_nodes)
        origin = self.origin
        carried = [v for v in assigned_names(body_nodes) if v in self.versions and v not in user_targets]
        saved = dict(self.versions)
        entries = self.begin_carries(carried)
        targets = []
        for t in user_targets:
            name = self.namer.fresh(t) if (t in self.versions or self.namer.taken_by_ir(t)) \
                else self.namer.claim(t)
            targets.append(name)
            self.bind_name(t, name)
        body = self.sub_block(body_nodes)
        carries, results = self.end_carries(entries, body, origin)
        self.origin = origin
        self._scope_exit(saved, f"it is assigned only inside the loop at line {origin.line}")
        self.bind_results(results)
        name = self.namer.fresh(f"{loop_name}_{origin.line}")
        self.emit(ir.For(tuple(targets), tuple(iters), tuple(carries), tuple(body), origin, name,
                         checkpoint=self.checkpoint_of(node, origin)))

    def checkpoint_of(self, node, origin):
        """``# sourcegrad: checkpoint=sqrt`` (or a segment length) on the loop, or grad()'s option."""
        spec = self.parsed.pragma(origin.line, "checkpoint") if hasattr(node, "lineno") else None
        spec = spec if spec is not None else self.checkpoint
        if spec in (None, "none", "off", False):
            return None
        if spec in ("sqrt", True):
            return "sqrt"
        try:
            return int(spec)
        except ValueError:
            raise self.parsed.locate(node).error(f"checkpoint={spec!r} is not 'sqrt' or an int") from None

    def unrolled_for(self, node, user_targets, iters, body_nodes):
        """A loop over a Python list or tuple of arrays runs once per element, written out."""
        lengths = {len(it.items) for it in iters if isinstance(it, Struct)}
        if len(lengths) != 1:
            raise self.parsed.locate(node).error("the zipped containers have different lengths")
        origin = self.origin
        for k in range(lengths.pop()):
            self.origin = origin
            for t, it in zip(user_targets, iters):
                if isinstance(it, Struct):
                    element = it.items[k][1]
                elif isinstance(it, ir.RangeIter) and all(isinstance(p, ir.Const)
                                                          for p in (it.start, it.step)):
                    element = ir.Const(it.start.value + k * it.step.value)
                elif isinstance(it, ir.ArrayIter):
                    element = self.emit_temp(ir.Prim("getitem_static", (("x", it.array),
                                                                 ("idx", ir.Index((ir.Const(k),))))))
                else:
                    raise self.parsed.locate(node).error("cannot write this loop out element by element")
                name = self.new_version(t)
                if isinstance(element, Struct):
                    self.structs[name] = element
                else:
                    self.emit(ir.Assign(name, element, origin))
                    if self.is_static(element):
                        self.static.add(name)
                self.bind_name(t, name)
            self.statements(body_nodes)
        self.origin = origin

    # ----- loop-carried variables, leaf by leaf -----
    def begin_carries(self, users):
        """Give each loop-carried variable (each leaf of a container) a fresh in-loop name."""
        entries = []
        for user in users:
            current = self.versions[user]
            value = self.structs.get(current, ir.Name(current))
            inits = leaves(value)
            leaf_paths = paths(value)
            params = [self.namer.fresh(self.leaf_name(user, path)) for path in leaf_paths]
            entries.append((user, value, list(zip(params, inits, leaf_paths))))
            self.bind_value(user, rebuild(value, [ir.Name(p) for p in params]))
        return entries

    def leaf_name(self, user, path) -> str:
        return "_".join([user, *map(str, path)])

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

    def end_carries(self, entries, body, origin):
        """The Carry of each leaf (its update copied into the body if the body did not compute it)."""
        defined = set(ir.defined_names(body))
        carries, results = [], []
        for user, layout, pairs in entries:
            current = self.versions[user]
            value = self.structs.get(current, ir.Name(current))
            if not same_layout(layout, value):
                raise self.parsed.locate(self.parsed.node).error(
                    f"the loop at line {origin.line} changes what kind of value `{user}` holds "
                    f"(an array or a container, and its keys)", "keep it the same in every iteration")
            outs = []
            for (param, init, path), update in zip(pairs, leaves(value)):
                if not (isinstance(update, ir.Name) and (update.id == param or update.id in defined)):
                    copy = self.namer.fresh(user)
                    body.append(ir.Assign(copy, update, origin))
                    update = ir.Name(copy)
                out = self.namer.fresh(self.leaf_name(user, path))
                carries.append(ir.Carry(param, init, update.id, out))
                outs.append(ir.Name(out))
            results.append((user, rebuild(layout, outs)))
        return carries, results

    def bind_results(self, results):
        for user, value in results:
            self.bind_value(user, value)

    def while_statement(self, node: ast.While):
        if node.orelse:
            raise self.parsed.locate(node).error("`while ... else` is not supported",
                                                 "use a flag variable")
        if self.counter_loop(node):
            return
        origin = self.origin
        max_iter = self.parsed.pragma(origin.line, "max_iter") or self.max_iter
        if max_iter is None:
            raise self.parsed.locate(node).error(
                "this while loop's trip count depends on data, so its tape needs a bound",
                "give the most iterations it may run: a comment `# sourcegrad: max_iter=100` "
                "on the while line, or grad(..., max_iter=100); exceeding it is reported")
        try:
            max_iter = int(max_iter)
        except ValueError:
            raise self.parsed.locate(node).error(f"max_iter={max_iter!r} is not an int") from None
        carried = [v for v in assigned_names(node.body) if v in self.versions]
        saved = dict(self.versions)
        entries = self.begin_carries(carried)
        outer, self.block = self.block, []
        test = self.atom(node.test)
        test_body, self.block = self.block, outer
        body = self.sub_block(node.body)
        carries, results = self.end_carries(entries, body, origin)
        self.origin = origin
        self._scope_exit(saved, f"it is assigned only inside the loop at line {origin.line}")
        self.bind_results(results)
        name = self.namer.fresh(f"while_{origin.line}")
        self.emit(ir.While(tuple(carries), tuple(test_body), test, tuple(body), max_iter, origin, name))

    def counter_loop(self, node: ast.While) -> bool:
        """``i = 0; while i < n: ...; i += step`` with static i, n and step is a ``for`` over a range."""
        test = node.test
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1
                and isinstance(test.ops[0], (ast.Lt, ast.LtE)) and isinstance(test.left, ast.Name)
                and node.body):
            return False
        i = test.left.id
        last = node.body[-1]
        step = None
        if isinstance(last, ast.AugAssign) and isinstance(last.op, ast.Add) \
                and isinstance(last.target, ast.Name) and last.target.id == i:
            step = last.value
        elif isinstance(last, ast.Assign) and len(last.targets) == 1 \
                and isinstance(last.targets[0], ast.Name) and last.targets[0].id == i \
                and isinstance(last.value, ast.BinOp) and isinstance(last.value.op, ast.Add) \
                and isinstance(last.value.left, ast.Name) and last.value.left.id == i:
            step = last.value.right
        if not (isinstance(step, ast.Constant) and type(step.value) is int and step.value > 0):
            return False
        rest = node.body[:-1]
        bound_names = {n.id for n in ast.walk(test.comparators[0]) if isinstance(n, ast.Name)}
        if i in assigned_names(rest) or bound_names & set(assigned_names(node.body)) \
                or i not in self.versions or self.versions[i] not in self.static:
            return False
        stop = self.atom(test.comparators[0])
        if not self.is_static(stop):
            return False
        if isinstance(test.ops[0], ast.LtE):
            stop = self.emit_temp(ir.Prim("add", (("x", stop), ("y", ir.Const(1)))))
        start = ir.Name(self.versions[i])
        self.lower_for(node, [i], [ir.RangeIter(start, stop, ir.Const(step.value))], rest, "while")
        end = self.new_version(i)
        self.emit(ir.Assign(end, ir.Prim("range_end", (("start", start), ("stop", stop),
                                                        ("step", ir.Const(step.value)))), self.origin))
        self.bind_name(i, end)
        return True

    # ----- calls of the user's own functions -----
    def nested_def(self, node: ast.FunctionDef):
        if node.decorator_list:
            raise self.parsed.locate(node).error("decorated nested functions are not supported",
                                                 "define it without decorators")
        self.local_functions[node.name] = node
        self.versions.pop(node.name, None)

    def local_function(self, func):
        if isinstance(func, ast.Name) and func.id in self.local_functions \
                and func.id not in self.versions:
            return self.local_functions[func.id]
        return None

    def user_call(self, node, target):
        """``layer(x, W)``: the callee is transformed too (see ``calls.py``)."""
        if self.callees is None:  # pragma: no cover - the pipeline always passes a table
            raise self.missing_rule(node.func, target)
        nested = isinstance(target, ast.FunctionDef)
        key_target = (self.parsed, target) if nested else target
        label = target.name if nested else target.__qualname__
        sig = signature_of(key_target)
        try:
            bound = sig.bind(*node.args, **{kw.arg: kw.value for kw in node.keywords})
        except TypeError as exc:
            raise self.parsed.locate(node).error(f"this call of `{label}` does not match its "
                                                 f"signature: {exc}") from None
        values, kinds = {}, {}
        for p in sig.parameters.values():
            if p.name in bound.arguments:
                value = self.struct_or_atom(bound.arguments[p.name])
            else:
                value = self.default_value(p, node, label)
            values[p.name] = value
            kinds[p.name] = self.kind_of_value(value)
        free = self.free_variables(target) if nested else ()
        for name in free:
            values[name] = self.name(ast.Name(id=name, ctx=ast.Load()))
            kinds[name] = self.kind_of_value(values[name])
        identity = self.callees.identity(key_target)
        err = self.parsed.locate(node).error(
            f"`{label}` calls itself (directly or through other functions): recursion cannot be "
            f"compiled into a rolled loop", "write the recursion as a for or while loop")
        self.callees.enter(identity, err)
        try:
            callee = self.callees.get(key_target, kinds, free,
                                      functools.partial(self.normalize_callee, nested), self.env)
        finally:
            self.callees.leave()
        self.namer.reserve(callee.name)
        args = tuple(leaf for p in [*sig.parameters, *free] for leaf in leaves(values[p]))
        base = f"{callee.name}_out"
        targets = tuple(self.namer.fresh(base) for _ in range(callee.n_outputs))
        self.temporaries.update(targets)
        self.emit(ir.CallFn(targets, callee.name, args, self.origin))
        if isinstance(callee.function.body[-1].value, ir.Tup):
            return Struct("tuple", tuple((i, ir.Name(t)) for i, t in enumerate(targets)))
        return ir.Name(targets[0])

    def default_value(self, p, node, label):
        d = p.default
        if d is inspect.Parameter.empty:
            raise self.parsed.locate(node).error(f"`{label}` needs the argument `{p.name}`")
        if isinstance(d, ast.AST):
            return self.struct_or_atom(d)
        if d is None or isinstance(d, (bool, int, float, complex, str)):
            return ir.Const(d)
        if is_constant_value(d):
            holder = self.namer.fresh(f"{label}_{p.name}_default")
            self.globals_used[holder] = d
            return ir.Name(holder)
        raise self.parsed.locate(node).error(
            f"the default of `{p.name}` in `{label}` is {describe(d)}", "pass it explicitly")

    def kind_of_value(self, value):
        if isinstance(value, Struct):
            return (value.kind, tuple((k, self.kind_of_value(v)) for k, v in value.items))
        return "static" if self.is_static(value) else "array"

    def free_variables(self, node: ast.FunctionDef) -> tuple:
        """Enclosing variables a nested def reads (not its parameters, not names it assigns)."""
        a = node.args
        own = {x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs]} | set(assigned_names(node.body))
        reads = []
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in own \
                    and n.id in self.versions and n.id not in reads:
                reads.append(n.id)
        return tuple(reads)

    def normalize_callee(self, nested, parsed, env, namer, kinds, free):
        callee = Normalizer(parsed, env, namer, kinds, self.max_iter, self.callees,
                            flat_params=True, free=free, checkpoint=None)
        if nested:  # a nested def may call its sibling nested defs
            callee.local_functions = dict(self.local_functions)
        fn = callee.function()
        ir.check_normal_form(fn)
        return fn

    # ----- branches -----
    def if_statement(self, node: ast.If):
        test = self.atom(node.test)
        origin = self.origin
        saved = dict(self.versions)
        body = self.sub_block(node.body)
        after_body = dict(self.versions)
        self.versions = dict(saved)
        orelse = self.sub_block(node.orelse)
        after_else = dict(self.versions)
        self.versions = dict(saved)
        self.origin = origin
        outputs, merged = [], []
        for user in assigned_names(node.body + node.orelse):
            a, b = after_body.get(user), after_else.get(user)
            if a is None or b is None:
                self.out_of_scope[user] = f"it is assigned on only one branch of the if at line {origin.line}"
                self.versions.pop(user, None)
                continue
            if a == b:
                continue
            va, vb = self.structs.get(a, ir.Name(a)), self.structs.get(b, ir.Name(b))
            if not same_layout(va, vb):
                raise self.parsed.locate(node).error(
                    f"the two branches give `{user}` different kinds of value (an array or a "
                    f"container, and its keys)", "make both branches assign the same kind")
            outs = []
            for path, la, lb in zip(paths(va), leaves(va), leaves(vb)):
                if la == lb:
                    outs.append(la)
                    continue
                out = self.namer.fresh(self.leaf_name(user, path))
                outputs.append((out, la, lb))
                outs.append(ir.Name(out))
            merged.append((user, rebuild(va, outs)))
        self.emit_if(test, body, orelse, outputs, origin)
        for user, value in merged:
            self.bind_value(user, value)

    def emit_if(self, test, body, orelse, outputs, origin):
        static = self.is_static(test)
        name = self.namer.fresh(f"branch_{origin.line}")
        self.emit(ir.If(test, tuple(body), tuple(orelse), tuple(outputs), static, origin, name))
        if static:
            for out, a, b in outputs:
                if self.is_static(a) and self.is_static(b):
                    self.static.add(out)

    def if_expression(self, node: ast.IfExp):
        test = self.atom(node.test)
        origin = self.origin
        outer, self.block = self.block, []
        a = self.atom(node.body)
        body, self.block = self.block, []
        b = self.atom(node.orelse)
        orelse, self.block = self.block, outer
        out = self.namer.fresh("chosen")
        self.temporaries.add(out)
        self.emit_if(test, body, orelse, [(out, a, b)], origin)
        return ir.Name(out)


def _kind_paths(kind, prefix=()) -> list:
    if isinstance(kind, tuple):
        return [p for k, sub in kind[1] for p in _kind_paths(sub, prefix + (k,))]
    return [prefix]


def _leaf_kinds(kind) -> list:
    if isinstance(kind, tuple):
        return [k for _, sub in kind[1] for k in _leaf_kinds(sub)]
    return [kind]


def _struct_of_kind(kind, names) -> Struct:
    return Struct(kind[0], tuple((k, _struct_of_kind(sub, names) if isinstance(sub, tuple)
                                  else ir.Name(next(names))) for k, sub in kind[1]))


def normalize(parsed: ParsedFunction, env: Environment, namer: Namer, param_kinds=None,
              max_iter: int | None = None, callees=None, checkpoint=None) -> ir.Function:
    """The normal form of ``parsed`` (see ``ir``), checked."""
    fn = Normalizer(parsed, env, namer, param_kinds, max_iter, callees,
                    checkpoint=checkpoint).function()
    ir.check_normal_form(fn)
    return fn
