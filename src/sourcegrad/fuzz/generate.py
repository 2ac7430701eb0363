"""Random NumPy-style programs, deterministic from a seed string.

:func:`generate` builds a :class:`~sourcegrad.fuzz.program.Program` statement by statement. Each
candidate statement is run on placeholder arrays of the current shapes (so every program is
valid NumPy), and the generator follows what NumPy shares: a name bound to a view of another
array, or to the same array, joins that array's *group*; an in-place write into a group with
more than one live name is an aliasing write, used only when the feature ``alias`` is on.

Why this is long: one generator class (see its docstring) and the small table of features it
draws from; the op pools are in ``templates.py`` and the program tree in ``program.py``.
"""

from __future__ import annotations

import itertools
import random
import warnings
from typing import Any

import numpy as np

from .program import Node, Program
from .templates import BINARY, FEATURES, HELPERS_EW, HELPERS_TUPLE, HELPERS_WRITE, LINALG, REDUCE, UNARY

__all__ = ["generate", "FEATURES"]

_SHAPES = ((), (3,), (2, 3))
_MAX_SIZE = 24


def generate(seed: str, features=FEATURES) -> Program:
    """A random program; the same seed and features always give the same program."""
    return _Generator(seed, features).program()


def _dummy(shape):
    return np.full(shape, 0.3) if shape else np.float64(0.3)


class _Generator:
    """Builds one random program, statement by statement, tracking which names share memory.

    Why this is long: one small method per fuzz feature (loops, branches, helpers, containers,
    in-place writes, aliases), all drawing from the same random stream and the same table of
    names; split apart they would pass that state around instead of sharing it.
    """

    def __init__(self, seed: str, features):
        unknown = set(features) - set(FEATURES)
        if unknown:
            raise ValueError(f"unknown fuzz features: {sorted(unknown)} (known: {FEATURES})")
        self.seed = seed
        self.rng = random.Random(seed)
        self.on = set(features) | {"straight"}
        self.shapes: dict[str, tuple] = {}  # atom (a name or a container read) -> shape
        self.group: dict[str, str] = {}  # atom -> the array it shares memory with
        self.ndarray: dict[str, bool] = {}  # atom -> an np.ndarray (can be written in place)
        self.params: list[str] = []
        self.args: dict = {}
        self.readouts: list[str] = []
        self.helpers: list[Node] = []
        self.helper_kinds: list[tuple] = []  # (name, kind, returns_argument)
        self.counter = 0
        self.groups = itertools.count()

    # ----- placeholders -----
    def namespace(self) -> dict:
        ns: dict[str, Any] = {"np": np}
        for node in self.helpers:
            exec("\n".join(node.render("")), ns)
        for name in self.params:
            value = self.args[name]
            if isinstance(value, dict):
                ns[name] = {k: _dummy(np.shape(v)) for k, v in value.items()}
            elif isinstance(value, (tuple, list)):
                ns[name] = type(value)(_dummy(np.shape(v)) for v in value)
            else:
                ns[name] = _dummy(np.shape(value))
        for atom, shape in self.shapes.items():
            if atom.isidentifier() and atom not in self.params:
                ns[atom] = 1 if atom == "i" else _dummy(shape)
        return ns

    def try_lines(self, lines: list[str], result: str | None = None):
        """Run the lines on placeholders; (the value of ``result``, namespace) or None."""
        ns = self.namespace()
        before = {k: v for k, v in ns.items() if isinstance(v, np.ndarray)}
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                exec("\n".join(lines), ns)
                value = None if result is None else ns[result]
        except Exception:
            return None
        if value is not None:
            if not isinstance(value, (np.ndarray, np.floating)) or value.dtype != np.float64:
                return None
            if value.size > _MAX_SIZE or value.ndim > 3:
                return None
        return value, before

    # ----- choosing -----
    def pick(self, cond=lambda atom: True):
        atoms = [a for a in self.shapes if cond(a)]
        return self.rng.choice(atoms) if atoms else None

    def fresh_name(self) -> str:
        self.counter += 1
        return f"v{self.counter}"

    def writable(self, atom) -> bool:
        if not atom.isidentifier() or not self.ndarray.get(atom) or not self.shapes[atom]:
            return False
        shared = [a for a in self.shapes if self.group.get(a) == self.group[atom]]
        return len(shared) == 1 or "alias" in self.on

    def aliased(self, atom) -> bool:
        return sum(1 for a in self.shapes if self.group.get(a) == self.group[atom]) > 1

    def bind(self, name, value, before, operands=()):
        """Record ``name``'s shape and the group of the array it shares memory with."""
        self.shapes[name] = np.shape(value)
        self.ndarray[name] = isinstance(value, np.ndarray)
        self.group[name] = f"g{next(self.groups)}"  # a new array, until shown to share memory
        if isinstance(value, np.ndarray):
            for atom in operands:
                dummy = before.get(atom)
                if dummy is not None and np.shares_memory(value, dummy):
                    self.group[name] = self.group[atom]

    def assign(self, expr, operands, feature, name=None):
        """``name = expr`` as a node (a new name unless given), or None if it does not run."""
        name = name or self.fresh_name()
        got = self.try_lines([f"{name} = {expr}"], name)
        if got is None:
            return None
        new = name not in self.shapes
        self.bind(name, got[0], got[1], operands)
        return Node([f"{name} = {expr}"], defines=(name,) if new else (), feature=feature)

    # ----- statements -----
    def unary(self, a=None):
        a = a or self.pick()
        return self.assign(self.rng.choice(UNARY).format(a=a), [a], "straight")

    def binary(self):
        a = self.pick()
        same = "broadcast" in self.on
        b = self.pick(
            lambda x: same or not self.shapes[x] or not self.shapes[a] or self.shapes[x] == self.shapes[a]
        )
        differ = self.shapes[a] and self.shapes[b] and self.shapes[a] != self.shapes[b]
        return self.assign(
            self.rng.choice(BINARY).format(a=a, b=b), [a, b], "broadcast" if differ else "straight"
        )

    def reduce(self):
        a = self.pick(lambda x: bool(self.shapes[x]))
        return a and self.assign(self.rng.choice(REDUCE).format(a=a), [a], "reduce")

    def linalg(self):
        a = self.pick(lambda x: bool(self.shapes[x]))
        b = self.pick(lambda x: bool(self.shapes[x]))
        return a and self.assign(self.rng.choice(LINALG).format(a=a, b=b), [a, b], "linalg")

    def reassign(self):
        a = self.pick(lambda x: x.isidentifier())
        expr = self.rng.choice(UNARY).format(a=a)
        got = self.try_lines([f"{a} = {expr}"], a)
        if got is None or np.shape(got[0]) != self.shapes[a]:
            return None
        self.bind(a, got[0], got[1])
        return Node([f"{a} = {expr}"], feature="straight")

    def augassign(self, target=None, feature=None):
        """``t += e``: rebinding for a NumPy scalar, an in-place write for an array."""
        t = target or self.pick(lambda x: x.isidentifier())
        if self.ndarray.get(t) and not self.writable(t):
            return None
        b = self.pick()
        op = self.rng.choice(("+=", "-=", "*="))
        expr = self.rng.choice(UNARY).format(a=b)
        got = self.try_lines([f"{t} {op} {expr}"], t)
        if got is None or np.shape(got[0]) != self.shapes[t]:
            return None
        if feature is None:
            feature = "straight"
            if self.ndarray.get(t):
                feature = "alias" if self.aliased(t) else ("inplace" if t in self.params else "straight")
        return Node([f"{t} {op} {expr}"], feature=feature)

    def index_write(self, target=None, index=None):
        """``T[k] = e``, ``T[a:b] += e``, ``T[:, k] = e``, ``T *= c`` into an array."""
        t = target or self.pick(self.writable)
        if t is None:
            return None
        shape = self.shapes[t]
        if index is None and (not shape or shape[0] == 0):  # nothing to index (an empty slice)
            return None
        k = index if index is not None else str(self.rng.randrange(-shape[0], shape[0]))
        e = self.rng.choice(UNARY).format(a=self.pick())
        forms = [f"{t}[{k}] = {e}", f"{t}[{k}] += {e}"]
        if "squeeze_write" in self.on:
            forms.append(f"{t}[{k}] = np.sum({self.pick()}, keepdims=True)")
        if index is None:
            forms += [f"{t}[0:2] += {e}", f"{t}[1:] = {e}", f"{t} *= 2.0"]
            if len(shape) == 2:
                forms.append(f"{t}[:, {self.rng.randrange(shape[1])}] = {e}")
        line = self.rng.choice(forms)
        if self.try_lines([line]) is None:
            return None
        target, _, value = line.partition(" = " if " = " in line else " += ")
        shapes = self.try_lines([f"_slot = {target}", f"_value = {value or '2.0'}"], "_value")
        slot = self.try_lines([f"_slot = {target}"], "_slot")
        if shapes and slot and np.ndim(shapes[0]) > np.ndim(slot[0]):
            # NumPy drops the value's size-1 axes to fit the slot: its own feature
            if "squeeze_write" not in self.on:
                return None
            return Node([line], feature="squeeze_write")
        return Node([line], feature="alias" if self.aliased(t) else "inplace")

    def buffer(self):
        a = self.pick(lambda x: bool(self.shapes[x]))
        if a is None:
            return None
        form = self.rng.choice(("np.zeros({s})", "{a} * 1.0", "{a}.copy()", "np.zeros_like({a})"))
        return self.assign(form.format(a=a, s=self.shapes[a]), [a], "inplace")

    def alias(self):
        a = self.pick(lambda x: x.isidentifier() and self.ndarray.get(x) and bool(self.shapes[x]))
        if a is None:
            return None
        if len(self.shapes[a]) == 2 and self.rng.random() < 0.4:
            e = self.rng.choice(UNARY).format(a=self.pick(lambda x: not self.shapes[x]) or "0.3")
            line = self.rng.choice(("row[0] = {e}", "row *= 0.5", "row += {e}")).format(e=e)
            if self.try_lines([f"for row in {a}:", "    " + line]) is None:
                return None
            return Node([f"for row in {a}:"], body=[Node([line], feature="alias")], feature="alias")
        name = self.fresh_name()
        got = self.try_lines([f"{name} = {a}"], name)
        self.bind(name, got[0], got[1])
        self.group[name] = self.group[a]
        return Node([f"{name} = {a}"], defines=(name,), feature="alias")

    def call_helper(self):
        kinds = [h for h in self.helper_kinds]
        if not kinds:
            return None
        name, kind, returns_arg = self.rng.choice(kinds)
        if kind == "write":
            a = self.pick(lambda x: x.isidentifier() and self.ndarray.get(x) and bool(self.shapes[x]))
            s = self.pick(lambda x: not self.shapes[x]) or "0.3"
            if a is None:
                return None
            node = self.assign(f"{name}({a}, {s})", [a], "helper_write")
            if node is not None and returns_arg:
                self.group[node.defines[0]] = self.group[a]
            return node
        a, b = self.pick(), self.pick()
        call = f"{name}(({a}, {b}))" if kind == "tuple" else f"{name}({a}, {b})"
        return self.assign(call, [a, b], "container" if kind == "tuple" else "helper")

    def loop(self):
        """``for i in range(n):`` updating names defined before it (loop-carried values)."""
        targets = [a for a in self.shapes if a.isidentifier()]
        n = self.rng.randint(1, 4)
        body = []
        buffers = [a for a in targets if self.writable(a)] if "inplace" in self.on else []
        self.shapes["i"], self.ndarray["i"], self.group["i"] = (), False, "i"
        if buffers and self.rng.random() < 0.4:
            t = self.rng.choice(buffers)
            n = self.shapes[t][0]
            w = self.index_write(t, index="i")
            if w is not None:
                body.append(w)
        try:
            for _ in range(self.rng.randint(1, 2)):
                v = self.rng.choice(targets)
                w = self.pick(lambda x: x != "i")
                rhs = self.rng.choice(
                    (
                        f"{v} * 0.9 + 0.1 * " + self.rng.choice(UNARY).format(a=w),
                        self.rng.choice(BINARY).format(a=v, b=w),
                        self.rng.choice(UNARY).format(a=v),
                        f"{v} + 0.05 * i",
                    )
                )
                got = self.try_lines(["i = 1", f"{v} = {rhs}"], v)
                if got is not None and np.shape(got[0]) == self.shapes[v]:
                    body.append(Node([f"{v} = {rhs}"], feature="loop"))
                    self.bind(v, got[0], got[1])
            if "branch" in self.on and self.rng.random() < 0.3:
                inner = self.branch(targets)
                if inner is not None:
                    body.append(inner)
        finally:
            for table in (self.shapes, self.ndarray, self.group):
                table.pop("i", None)
        if not body:
            return None
        return Node([f"for i in range({n}):"], body=body, feature="loop")

    def branch(self, existing=None):
        """``if <data>: t = e1 else: t = e2``: both branches bind the same name and shape."""
        c = self.pick(lambda x: x != "i")
        cond = (
            f"{c} > {self.rng.uniform(-1, 1):.2f}"
            if not self.shapes[c]
            else f"np.{self.rng.choice(('sum', 'max', 'mean'))}({c}) > {self.rng.uniform(-1, 1):.2f}"
        )
        if existing:
            t = self.rng.choice(existing)
            a = t
        else:
            t = self.fresh_name()
            a = self.pick(lambda x: x != "i")
        shape = self.shapes[a]
        then = self.rng.choice(UNARY).format(a=a)
        other = self.rng.choice(UNARY).format(a=a)
        got = self.try_lines([f"{t} = {other}"], t)
        first = self.try_lines([f"{t} = {then}"], t)
        if got is None or first is None or np.shape(got[0]) != shape or np.shape(first[0]) != shape:
            return None
        new = t not in self.shapes
        self.bind(t, got[0], got[1])
        return Node(
            [f"if {cond}:"],
            body=[Node([f"{t} = {then}"], feature="branch")],
            orelse=[Node([f"{t} = {other}"], feature="branch")],
            defines=(t,) if new else (),
            feature="branch",
        )

    # ----- the program -----
    def make_helpers(self):
        plans = []
        if "helper" in self.on:
            plans += [("ew", HELPERS_EW)] * self.rng.randint(1, 2)
        if "helper" in self.on and "container" in self.on and self.rng.random() < 0.5:
            plans.append(("tuple", HELPERS_TUPLE))
        if "helper_write" in self.on and self.rng.random() < 0.7:
            plans.append(("write", HELPERS_WRITE))
        for k, (kind, table) in enumerate(plans):
            entry = self.rng.choice(table)
            name = f"h{k}"
            params = {"ew": "a, b", "tuple": "t", "write": "a, s"}[kind]
            body = [Node([line], feature="helper") for line in entry[0]]
            body.append(Node([f"return {entry[1]}"], feature="helper"))
            feature = {"ew": "helper", "tuple": "container", "write": "helper_write"}[kind]
            self.helpers.append(Node([f"def {name}({params}):"], body=body, feature=feature))
            self.helper_kinds.append((name, kind, kind == "write" and entry[2]))

    def make_params(self):
        n_in = self.rng.randint(1, 3)
        shapes = [self.rng.choice(_SHAPES) for _ in range(n_in)]
        if not any(shapes):
            shapes[0] = (3,)
        for k, shape in enumerate(shapes):
            name = f"x{k}"
            self.params.append(name)
            self.args[name] = self.value(shape)
            self.readouts.append(name)
        if "container" in self.on and self.rng.random() < 0.5:
            kind = self.rng.choice(("tuple", "list", "dict"))
            keys = ["w", "b"] if kind == "dict" else [0, 1]
            leaves = [self.value(self.rng.choice(_SHAPES)) for _ in keys]
            self.params.append("p")
            self.args["p"] = (
                dict(zip(keys, leaves))
                if kind == "dict"
                else tuple(leaves)
                if kind == "tuple"
                else list(leaves)
            )
            self.readouts += [f"p[{k!r}]" for k in keys]
        for atom in self.readouts:
            value = self.args[atom] if atom.isidentifier() else eval(atom, {}, dict(self.args))
            self.shapes[atom] = np.shape(value)
            self.ndarray[atom] = isinstance(value, np.ndarray)
            self.group[atom] = f"param {atom}"

    def value(self, shape):
        data = np.array([self.rng.uniform(-1.5, 1.5) for _ in range(int(np.prod(shape)))])
        return data.reshape(shape) if shape else np.float64(data[0])

    def statement(self):
        makers = [(self.unary, 3), (self.binary, 4), (self.reassign, 1), (self.augassign, 1)]
        optional = {
            "reduce": [(self.reduce, 2)],
            "linalg": [(self.linalg, 2)],
            "loop": [(self.loop, 2)],
            "branch": [(self.branch, 2)],
            "helper": [(self.call_helper, 2)],
            "helper_write": [(self.call_helper, 2)],
            "inplace": [(self.index_write, 2), (self.buffer, 1)],
            "alias": [(self.alias, 2), (self.index_write, 1)],
        }
        for feature, entries in optional.items():
            if feature in self.on:
                makers += entries
        fns, weights = zip(*makers)
        for _ in range(20):
            node = self.rng.choices(fns, weights)[0]()
            if node is not None:
                return node
        return self.unary()

    def program(self) -> Program:
        self.make_params()
        self.make_helpers()
        body = [self.statement() for _ in range(self.rng.randint(2, 7))]
        return Program(
            params=self.params,
            args=self.args,
            readouts=self.readouts,
            helpers=self.helpers,
            body=[n for n in body if n is not None],
            seed=self.seed,
        )
