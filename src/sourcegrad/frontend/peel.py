"""Peel a ``for`` loop's first iteration (Python AST -> Python AST), where a rolled loop cannot
hold what Python's loop leaves behind.

A compiled loop carries each value from one iteration to the next with one shape, and a value
it carries must exist before it. Two ways NumPy code breaks that, both fixed by writing the
first iteration out before the loop over the remaining elements:

* a value *first assigned inside the loop* and read after it (``for i in range(n): last = ...``
  then ``return last``): Python's value is the last iteration's. After the peeled iteration the
  name exists, and the loop carries it.
* a value that *starts as a number* and becomes an array (``res = 0.0; for a in X: res += a``,
  with ``X`` 2-D): after the peeled iteration ``res`` has its final shape. This is done for a
  loop over an array or a list (``for a in X``), whose rows may be arrays; over ``range`` a
  number usually stays a number, and writing every ``acc = 0.0`` loop twice would double the
  generated code (there a shape change is a located error saying how to start the value).

``for t in range(a, b, s)`` (``s`` an int literal) peels into ``t = a; body; for t in
range(a + s, b, s): body``; ``for t in xs`` into ``t = xs[0]; body; for t in xs[1:]: body``.
Where a value the loop first assigns (or its variable, unbound before it) is read after it, the
loop must run at least once: that is an ``assert`` (checked while tracing, as for Python's
NameError of a name a loop that never ran did not assign). Where it is peeled only for a value
that changes shape, the peeled iteration and the rest run under ``if len(xs) > 0:`` (known while
tracing): over no rows every value keeps what it had before the loop, as in NumPy. A loop that
breaks or continues, or walks ``enumerate``/``zip``, is not peeled (the name stays undefined
after it: a located error).

``targets_read_after`` tells the normalizer which loops' variables are read after them
(``normal/normalize/after_loop.py`` binds them to Python's last value only there).
"""

from __future__ import annotations

import ast
import copy

__all__ = ["peel_loops", "targets_read_after", "walk_tree"]

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def walk_tree(node, skip: tuple = ()):
    """The nodes ``ast.walk`` yields (in another order), several times faster: the fields are
    read directly instead of through ``ast.iter_child_nodes``' generators. Nodes of the types in
    ``skip`` are not entered (nor yielded)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        for field in n._fields:
            child = getattr(n, field, None)
            if isinstance(child, list):
                stack.extend(c for c in child if isinstance(c, ast.AST) and not isinstance(c, skip))
            elif isinstance(child, ast.AST) and not isinstance(child, skip):
                stack.append(child)


def _walk(node):
    """``ast.walk`` that does not enter nested functions."""
    return walk_tree(node, _SCOPES)


def _stored(nodes) -> set:
    out = set()
    for node in nodes:
        for n in _walk(node):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                out.add(n.id)
            elif isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Store):
                base = n.value
                if isinstance(base, ast.Name):
                    out.add(base.id)
    return out


def _at(new, old):
    ast.copy_location(new, old)
    return ast.fix_missing_locations(new)


def _is_number(node) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


class _Peel:
    def __init__(self, fn: ast.FunctionDef, fresh):
        self.fn = fn
        self.fresh = fresh
        args = fn.args
        self.params = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
        self.changed = False

    def block(self, stmts, bound: set, numbers: dict, after: tuple = ()) -> list:
        """``stmts`` with loops peeled; ``bound``: names assigned before them (in source order);
        ``numbers``: names whose latest value before them is a number literal; ``after``: the
        statements that run after them."""
        out: list = []
        for i, s in enumerate(stmts):
            if isinstance(s, (ast.For, ast.While, ast.If, ast.With)):
                rest = (*stmts[i + 1 :], *after)  # only compound statements need it (linear time)
                if isinstance(s, ast.For) and self.wanted(s, bound, numbers, rest):
                    out.extend(self.peel(s, bound, rest))
                    self.changed = True
                else:
                    new = copy.copy(s)
                    new.body = self.block(s.body, set(bound), {}, rest)
                    if not isinstance(new, ast.With):
                        new.orelse = self.block(new.orelse, set(bound), {}, rest)
                    out.append(new)
            else:
                out.append(s)
            stored = _stored([s])
            for name in stored:
                numbers.pop(name, None)
            if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name):
                if _is_number(s.value):
                    numbers[s.targets[0].id] = s
            bound |= stored
        return out

    def wanted(self, loop: ast.For, bound: set, numbers: dict, rest: tuple) -> bool:
        if loop.orelse or not isinstance(loop.target, ast.Name) or _jumps(loop):
            return False
        if isinstance(loop.iter, ast.Call) and isinstance(loop.iter.func, ast.Name):
            if loop.iter.func.id in ("enumerate", "zip"):
                return False
            if loop.iter.func.id == "range" and _literal_step(loop.iter) is None:
                return False
        inside = _stored(loop.body) - {loop.target.id}
        first = inside - bound - self.params
        if any(_read_before_written(rest, name) for name in first):
            return True
        over_rows = not (isinstance(loop.iter, ast.Call) and _func_name(loop.iter) == "range")
        return over_rows and bool(inside & set(numbers))

    def peel(self, loop: ast.For, bound: set, after: tuple) -> list:
        assert isinstance(loop.target, ast.Name)  # wanted() checked it
        target = loop.target.id
        it = loop.iter
        # the loop's variable read after it: Python's is the first iteration's if no other runs
        index_read_after = _read_before_written(list(after), target)
        rest: ast.expr
        pre: list = []
        if isinstance(it, ast.Call) and _func_name(it) == "range":
            args = list(it.args)
            start, stop = (ast.Constant(0), args[0]) if len(args) == 1 else (args[0], args[1])
            step = _literal_step(it)
            assert step is not None  # wanted() checked it
            nonempty = ast.Compare(left=start, ops=[ast.Lt() if step > 0 else ast.Gt()], comparators=[stop])
            first = copy.deepcopy(start)
            later: ast.expr = ast.BinOp(left=copy.deepcopy(start), op=ast.Add(), right=ast.Constant(step))
            if index_read_after and isinstance(start, ast.Constant) and type(start.value) is int:
                later = ast.Constant(start.value + step)  # a constant range: its index after it is one
            rest = ast.Call(func=it.func, args=[later, copy.deepcopy(stop), ast.Constant(step)], keywords=[])
        else:
            if not isinstance(it, ast.Name):
                held = self.fresh("iterated")
                pre.append(_at(ast.Assign(targets=[ast.Name(id=held, ctx=ast.Store())], value=it), it))
                it = _at(ast.Name(id=held, ctx=ast.Load()), it)
            nonempty = ast.Compare(
                left=ast.Call(func=ast.Name(id="len", ctx=ast.Load()), args=[it], keywords=[]),
                ops=[ast.Gt()],
                comparators=[ast.Constant(0)],
            )
            first = ast.Subscript(value=it, slice=ast.Constant(0), ctx=ast.Load())
            rest = ast.Subscript(value=it, slice=ast.Slice(lower=ast.Constant(1)), ctx=ast.Load())
        # a value the loop first assigns read after it: Python's NameError when no iteration runs
        made = _stored(loop.body) - bound - self.params - {target}
        unbound = any(_read_before_written(list(after), n) for n in made)
        unbound = unbound or (index_read_after and target not in bound | self.params)
        # the first iteration's variable has a name of its own: the loop's variable is the loop's
        # (a loop around this one would otherwise carry it)
        own = self.fresh(f"{target}_first")
        bind = _at(ast.Assign(targets=[ast.Name(id=own, ctx=ast.Store())], value=first), loop)
        rolled = copy.copy(loop)
        rolled.iter = _at(rest, loop.iter)
        inner = bound | {own} | _stored([*pre, bind])
        body = self.block([_renamed(s, target, own) for s in loop.body], set(inner), {}, (loop, *after))
        rolled.body = self.block(list(loop.body), inner | _stored(loop.body), {}, after)
        if index_read_after:
            body.append(
                _at(
                    ast.Assign(
                        targets=[ast.Name(id=target, ctx=ast.Store())], value=ast.Name(id=own, ctx=ast.Load())
                    ),
                    loop,
                )
            )
        if unbound:
            why = ast.Constant(
                f"the loop at line {loop.lineno} runs no iteration; sourcegrad writes its first "
                f"iteration out (a value it assigns is read after it)"
            )
            return pre + [_at(ast.Assert(test=nonempty, msg=why), loop), bind] + body + [rolled]
        # only a value that changes shape: no iteration leaves every value as it was before
        return pre + [_at(ast.If(test=nonempty, body=[bind, *body, rolled], orelse=[]), loop)]


def _renamed(stmt, old: str, new: str):
    """A copy of ``stmt`` with the variable ``old`` called ``new`` (nested functions left alone)."""
    stmt = copy.deepcopy(stmt)
    for n in _walk(stmt):
        if isinstance(n, ast.Name) and n.id == old:
            n.id = new
    return stmt


def _read_before_written(stmts, name: str) -> bool:
    """Do ``stmts`` (run in order) read ``name`` before assigning it? (Where a branch or a loop
    may or may not assign it, the statements after count too.)"""
    for s in stmts:
        use = _first_use(s, name)
        if use is not None:
            return use == "read"
    return False


def _first_use(s, name: str) -> str | None:
    """ "read", "write" or None: what statement ``s`` surely does to ``name`` first."""

    def reads(*nodes) -> bool:
        return any(_loads(node, name) for node in nodes if node is not None)

    if isinstance(s, ast.If):
        if reads(s.test):
            return "read"
        sides = [_first_in(s.body, name), _first_in(s.orelse, name)]
        return "read" if "read" in sides else ("write" if sides == ["write", "write"] else None)
    if isinstance(s, (ast.For, ast.While)):
        head = s.iter if isinstance(s, ast.For) else s.test
        if reads(head):
            return "read"
        if isinstance(s, ast.For) and name in _stored([s.target]):
            return None  # each iteration binds it before its body reads it; none may run
        if _first_in(s.body, name) == "read" or _first_in(s.orelse, name) == "read":
            return "read"
        return None  # the loop may run no iteration
    if isinstance(s, ast.With):
        return _first_in(s.body, name)
    if isinstance(s, ast.Assign):
        if reads(s.value) or any(reads(t) for t in s.targets):
            return "read"
        return "write" if name in _stored(s.targets) else None
    if isinstance(s, ast.AugAssign) and name in _stored([s.target]):
        return "read"  # `name += v` reads it first
    if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name) and s.target.id == name:
        return "read" if reads(s.value) else "write"
    return "read" if reads(s) else None


_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


def _loads(node, name: str) -> bool:
    """Does ``node`` read ``name``? (Not a comprehension's own variable of that name: only its
    first iterable is evaluated where the comprehension is.)"""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load):
            return True
        if isinstance(n, _COMPREHENSIONS) and name in _stored([g.target for g in n.generators]):
            stack.append(n.generators[0].iter)
            continue
        stack.extend(ast.iter_child_nodes(n))
    return False


def _first_in(stmts, name: str) -> str | None:
    for s in stmts:
        use = _first_use(s, name)
        if use is not None:
            return use
    return None


def _func_name(call) -> str | None:
    return call.func.id if isinstance(call.func, ast.Name) else None


def _literal_step(call) -> int | None:
    if call.keywords or not 1 <= len(call.args) <= 3:
        return None
    if len(call.args) < 3:
        return 1
    try:
        step = ast.literal_eval(call.args[2])
    except ValueError:
        return None
    return step if type(step) is int and step != 0 else None


def _jumps(loop) -> bool:
    """Does the loop's own body break, continue or return?"""
    stack = list(loop.body)
    while stack:
        n = stack.pop()
        if isinstance(n, (ast.Break, ast.Continue, ast.Return)):
            return True
        if not isinstance(n, (ast.For, ast.While) + _SCOPES):
            stack.extend(ast.iter_child_nodes(n))
    return False


def peel_loops(fn: ast.FunctionDef, body: list, fresh) -> list | None:
    """``body`` (of ``fn``) with the loops that need it peeled (see the module docstring), or None
    if none does. ``fresh(base)`` names a new variable."""
    peel = _Peel(fn, fresh)
    new = peel.block(list(body), set(peel.params), {})
    return new if peel.changed else None


def targets_read_after(fn: ast.FunctionDef) -> dict:
    """``id(loop)`` -> the names among a ``for`` loop's targets that what runs after it may read
    before assigning them (an enclosing loop's next iteration included): where Python's value of
    the loop's variable after the loop is needed (``normalize/after_loop.py``)."""
    out: dict = {}

    def block(stmts, after: tuple) -> None:
        for i, s in enumerate(stmts):
            if not isinstance(s, (ast.For, ast.While, ast.If, ast.With)):
                continue
            rest = (*stmts[i + 1 :], *after)
            if isinstance(s, ast.For):
                out[id(s)] = frozenset(n for n in _stored([s.target]) if _read_before_written(rest, n))
            if isinstance(s, (ast.For, ast.While)):
                block(s.body, (s, *rest))  # the next iteration runs after the body, then the rest
                block(s.orelse, rest)
            elif isinstance(s, (ast.If, ast.With)):
                block(s.body, rest)
                block(getattr(s, "orelse", []), rest)

    block(fn.body, ())
    return out
