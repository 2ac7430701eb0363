"""``return`` inside a loop (Python AST -> Python AST), before ``desugar`` removes jumps.

A compiled loop has a fixed body and a function in normal form returns once, so a ``return``
inside a loop becomes code without one:

* A loop whose body *ends* with ``return`` runs its body at most once: ``for t in xs: body;
  return v`` is ``if <xs is not empty>: t = <first of xs>; body; return v`` (``range`` with a
  literal step, or an array, list or tuple: ``len(xs) > 0`` and ``xs[0]``); ``while c: body;
  return v`` is ``if c: body; return v``. The rest of the function runs when the loop does not.
* Any other ``return`` in a loop (``if i == k: return acc``, or on data) sets a flag and breaks
  out of every loop around it; after the outermost one, ``if flag: return v`` (the rest of the
  function on the other side). ``v`` is evaluated after the loop, where every name keeps the
  value it had at the ``return`` (nothing runs after a break), so ``v`` may read only names
  that exist after the loop: a name first assigned inside it is a located error, and so is the
  loop's own variable, which the compiled loop (it runs every iteration) moves past the
  ``return`` (``normalize/loops.py``).

The ``break`` and the ``if`` this writes are then removed by ``desugar`` as the user's own.
"""

from __future__ import annotations

import ast
import copy

__all__ = ["LoopReturns"]

_LOOPS = (ast.For, ast.While)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def _has(node, kinds) -> bool:
    """Does ``node`` contain a node of ``kinds`` outside nested functions?"""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, kinds):
            return True
        stack.extend(c for c in ast.iter_child_nodes(n) if not isinstance(c, _SCOPES))
    return False


def _has_jump_of_its_own(loop) -> bool:
    """Does this loop's body break or continue (not a nested loop's)?"""
    stack = list(loop.body)
    while stack:
        n = stack.pop()
        if isinstance(n, (ast.Break, ast.Continue)):
            return True
        if not isinstance(n, _LOOPS + _SCOPES):
            stack.extend(ast.iter_child_nodes(n))
    return False


def _at(new, old):
    ast.copy_location(new, old)
    return ast.fix_missing_locations(new)


def _load(name):
    return ast.Name(id=name, ctx=ast.Load())


class LoopReturns:
    """Rewrites one function's ``return`` statements inside loops (see the module docstring).
    ``fresh(base)`` names new variables; ``flag(name, value, where)`` is the statement that sets a
    traced boolean flag; ``locate(node)`` locates errors."""

    def __init__(self, fresh, flag, locate):
        self.fresh = fresh
        self.flag = flag
        self.locate = locate

    def block(self, stmts, top=False) -> list:
        """``stmts`` without returns in loops; ``top``: the function's own body."""
        out: list = []
        for i, s in enumerate(stmts):
            if isinstance(s, _LOOPS) and _has(s, ast.Return):
                out.extend(self.loop(s, last=top and i == len(stmts) - 1))
            elif isinstance(s, (ast.If, ast.With)) and _has(s, ast.Return):
                part = copy.copy(s)
                part.body = self.block(s.body)
                if isinstance(part, ast.If):
                    part.orelse = self.block(part.orelse)
                out.append(part)
            else:
                out.append(s)
        return out

    def loop(self, node, last=False) -> list:
        if node.orelse:
            raise self.locate(node).error(
                "`return` inside a loop with an `else:` is not supported", "use a flag variable"
            )
        if node.body and isinstance(node.body[-1], ast.Return):
            return self.block(self.once(node, last))
        sites: list = []  # (flag, return value) of each return, in order
        body = self.jumps(node.body, sites)
        new = copy.copy(node)
        new.body = body
        out = [self.flag(f, False, node) for f, _ in sites] + [new]
        for f, ret in sites:
            then = _at(ast.Return(value=ret.value), ret)
            out.append(_at(ast.If(test=_load(f), body=[then], orelse=[]), ret))
        return out

    def jumps(self, stmts, sites) -> list:
        """A loop body with each ``return`` replaced by setting its flag and breaking."""
        out: list = []
        for s in stmts:
            if isinstance(s, ast.Return):
                f = self.fresh("returning")
                sites.append((f, s))
                out += [self.flag(f, True, s), _at(ast.Break(), s)]
            elif isinstance(s, _LOOPS) and _has(s, ast.Return):
                if s.orelse:
                    raise self.locate(s).error(
                        "`return` inside a loop with an `else:` is not supported", "use a flag variable"
                    )
                inner: list = []
                new = copy.copy(s)
                new.body = self.jumps(s.body, inner)
                out.append(new)
                for f, _ in inner:  # out of this loop too
                    out.append(_at(ast.If(test=_load(f), body=[_at(ast.Break(), s)], orelse=[]), s))
                sites.extend(inner)
            elif isinstance(s, (ast.If, ast.With)) and _has(s, ast.Return):
                part = copy.copy(s)
                part.body = self.jumps(s.body, sites)
                if isinstance(part, ast.If):
                    part.orelse = self.jumps(part.orelse, sites)
                out.append(part)
            else:
                out.append(s)
        return out

    def once(self, node, last=False) -> list:
        """A loop whose body ends with ``return``: its first iteration, if there is one. ``last``:
        nothing follows the loop, so there must be one (checked while tracing, as an ``assert``:
        Python would return None, which has no gradient)."""
        if _has_jump_of_its_own(node):
            raise self.locate(node.body[-1]).error(
                "this loop ends with `return` and also breaks or continues",
                "set a flag and `break`, then return after the loop",
            )
        if isinstance(node, ast.While):
            if last:
                return [self.check(node.test, node), *node.body]
            return [_at(ast.If(test=node.test, body=list(node.body), orelse=[]), node)]
        if not isinstance(node.target, ast.Name):
            raise self.locate(node.target).error(
                "this loop ends with `return`, so it runs at most once; sourcegrad writes that "
                "iteration out only for a single loop variable",
                "write the first iteration out without the loop",
            )
        target = node.target.id
        pre: list = []
        it = node.iter
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range":
            test, first = self.range_first(it)
        else:
            if not isinstance(it, ast.Name):
                held = self.fresh("iterated")
                pre.append(_at(ast.Assign(targets=[ast.Name(id=held, ctx=ast.Store())], value=it), it))
                it = _at(_load(held), it)
            length = ast.Call(func=_load("len"), args=[it], keywords=[])
            test = ast.Compare(left=length, ops=[ast.Gt()], comparators=[ast.Constant(0)])
            first = ast.Subscript(value=it, slice=ast.Constant(0), ctx=ast.Load())
        bind = ast.Assign(targets=[ast.Name(id=target, ctx=ast.Store())], value=first)
        body = [_at(bind, node)] + list(node.body)
        if last:
            return pre + [self.check(test, node)] + body
        return pre + [_at(ast.If(test=_at(test, node.iter), body=body, orelse=[]), node)]

    def check(self, test, node):
        """``assert test``: the loop that ends the function runs at least once."""
        why = ast.Constant(
            f"the loop at line {node.lineno} runs no iteration, so the function would return None"
        )
        return _at(ast.Assert(test=_at(test, node), msg=why), node)

    def range_first(self, call):
        """(is the range non-empty, its first element) for ``range`` with a literal step."""
        args = list(call.args)
        if call.keywords or not 1 <= len(args) <= 3:
            raise self.locate(call).error("range() takes 1 to 3 positional arguments")
        start, stop = (ast.Constant(0), args[0]) if len(args) == 1 else (args[0], args[1])
        step = 1
        if len(args) == 3:
            try:
                step = ast.literal_eval(args[2])
            except ValueError:
                step = None
            if type(step) is not int or step == 0:
                raise self.locate(args[2]).error(
                    "this loop ends with `return`, so it runs at most once; sourcegrad writes that "
                    "iteration out for a range whose step is an int literal",
                    "write the first iteration out without the loop",
                )
        op = ast.Lt() if step > 0 else ast.Gt()
        return ast.Compare(left=start, ops=[op], comparators=[stop]), copy.deepcopy(start)
