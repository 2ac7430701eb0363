"""Desugar: remove early ``return``, ``break`` and ``continue`` (Python AST -> Python AST).

A rolled loop runs a fixed body, and a function in normal form returns once,
at its end. So before normalizing:

* ``return`` inside an ``if``: the rest of the function moves into the branch
  that does not return, and every ``return v`` becomes ``returned = v``; the
  function ends with ``return returned``.
* ``continue``: the rest of the iteration moves into the branch that does not
  continue.
* ``break``: a flag ``stopped`` (False before the loop) is set instead, the
  rest of the iteration is skipped the same way, and the whole body runs only
  ``if ~stopped``; a ``while`` loop also stops when ``stopped`` is set. A ``for``
  loop still runs all its iterations, doing nothing after the break (its trip
  count is fixed when it is compiled).

``return`` inside a loop is rewritten first (``loop_returns.py``): into the loop's first iteration
when the body ends with it, else into a flag, a ``break`` and a ``return`` after the loop. Then a
``for`` loop whose first iteration binds a value read after the loop, or turns a number into an
array, has that iteration written out before it (``peel.py``).
"""

from __future__ import annotations

import ast
import copy

from .loop_returns import LoopReturns
from .parse import ParsedFunction
from .peel import peel_loops, walk_tree

__all__ = ["desugar", "FLAG_FUNCTION"]

#: The name through which desugared code reaches ``sourcegrad.runtime.traced_bool``
#: (``Environment.lookup`` resolves it, whatever the user imported).
FLAG_FUNCTION = "__sourcegrad_traced_bool__"

_LOOPS = (ast.For, ast.While)


def _contains(node, kinds) -> bool:
    """Does ``node`` contain a statement of ``kinds`` outside nested loops and functions?"""
    if isinstance(node, kinds):
        return True
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        return False
    for child in ast.iter_child_nodes(node):
        if isinstance(child, _LOOPS):
            if kinds == (ast.Return,) and _contains_any_depth(child, ast.Return):
                return True
            continue
        if _contains(child, kinds):
            return True
    return False


def _contains_any_depth(node, kind) -> bool:
    return any(
        isinstance(n, kind)
        for n in ast.walk(node)
        if not isinstance(n, (ast.FunctionDef, ast.Lambda)) or n is node
    )


def _located(new, old):
    ast.copy_location(new, old)
    return ast.fix_missing_locations(new)


class _Desugar:
    def __init__(self, parsed: ParsedFunction, taken: set):
        self.parsed = parsed
        self.taken = taken
        self.counter = 0

    def fresh(self, base: str) -> str:
        name = base
        while name in self.taken:
            self.counter += 1
            name = f"{base}_{self.counter}"
        self.taken.add(name)
        return name

    # ----- early return -----
    def function(self, node: ast.FunctionDef) -> ast.FunctionDef:
        for before, after in zip(node.body, node.body[1:]):
            if isinstance(before, ast.Return):
                raise self.parsed.locate(after).error(
                    "this line comes after `return` and never runs", "delete it or move it before the return"
                )
        body = LoopReturns(self.fresh, self.set_flag, self.parsed.locate).block(node.body, top=True)
        body = peel_loops(node, body, self.fresh) or body
        body = self.block(body)
        if any(isinstance(s, ast.If) and _contains(s, (ast.Return,)) for s in body):
            result = self.fresh("returned")
            body = self.returns_to_assignments(body, result)
            body.append(_located(ast.Return(value=ast.Name(id=result, ctx=ast.Load())), body[-1]))
        new = copy.copy(node)
        new.body = body
        return new

    def block(self, stmts) -> list:
        """Statements with loops' jumps removed, and the rest of the block moved into the branch
        that does not return."""
        out: list = []
        stmts = _flatten([self.loops(s) for s in stmts])
        for i, s in enumerate(stmts):
            if isinstance(s, ast.Return):
                out.append(s)
                return out
            if isinstance(s, ast.If) and _contains(s, (ast.Return,)):
                rest = list(stmts[i + 1 :])
                new = copy.copy(s)
                new.body = self.block(list(s.body) + rest)
                new.orelse = self.block(list(s.orelse) + rest)
                out.append(new)
                return out
            out.append(s)
        return out

    def returns_to_assignments(self, stmts, result) -> list:
        out = []
        for s in stmts:
            if isinstance(s, ast.Return):
                out.append(
                    _located(
                        ast.Assign(
                            targets=[ast.Name(id=result, ctx=ast.Store())],
                            value=s.value or ast.Constant(None),
                        ),
                        s,
                    )
                )
            elif isinstance(s, ast.If):
                new = copy.copy(s)
                new.body = self.returns_to_assignments(s.body, result)
                new.orelse = self.returns_to_assignments(s.orelse, result) or [_located(ast.Pass(), s)]
                out.append(new)
            else:
                out.append(s)
        return out

    # ----- break and continue -----
    def loops(self, s):
        """A statement with every loop inside it freed of break/continue."""
        if isinstance(s, _LOOPS):
            return self.loop(s)
        if isinstance(s, ast.If):
            new = copy.copy(s)
            new.body = _flatten([self.loops(x) for x in s.body])
            new.orelse = _flatten([self.loops(x) for x in s.orelse])
            return new
        if isinstance(s, ast.With):
            new = copy.copy(s)
            new.body = _flatten([self.loops(x) for x in s.body])
            return new
        return s

    def loop(self, node):
        body = _flatten([self.loops(x) for x in node.body])
        has_break = any(_contains(x, (ast.Break,)) for x in body)
        has_continue = any(_contains(x, (ast.Continue,)) for x in body)
        if not has_break and not has_continue:
            new = copy.copy(node)
            new.body = body
            return new
        flag = self.fresh("stopped") if has_break else None
        body = self.jumps(body, flag) or [_located(ast.Pass(), node)]
        new = copy.copy(node)
        # the loop now runs every iteration: its variable after it is not the one at the break
        new.sg_stops_early = has_break
        if flag:
            running = _located(ast.UnaryOp(op=ast.Invert(), operand=ast.Name(id=flag, ctx=ast.Load())), node)
            body = [_located(ast.If(test=running, body=body, orelse=[]), node)]
            if isinstance(node, ast.While):
                new.test = _located(
                    ast.BinOp(left=node.test, op=ast.BitAnd(), right=copy.copy(running)), node.test
                )
            init = self.set_flag(flag, False, node)
            new.body = body
            return [init, new]
        new.body = body
        return new

    def set_flag(self, flag, value, where):
        call = ast.Call(
            func=ast.Name(id=FLAG_FUNCTION, ctx=ast.Load()), args=[ast.Constant(value)], keywords=[]
        )
        return _located(ast.Assign(targets=[ast.Name(id=flag, ctx=ast.Store())], value=call), where)

    def jumps(self, stmts, flag) -> list:
        """A loop body with break/continue replaced: the rest of an iteration moves into the
        branch that does not jump; break also sets the flag."""
        out: list = []
        for i, s in enumerate(stmts):
            if isinstance(s, ast.Continue):
                return out
            if isinstance(s, ast.Break):
                out.append(self.set_flag(flag, True, s))
                return out
            if isinstance(s, ast.If) and _contains(s, (ast.Break, ast.Continue)):
                rest = list(stmts[i + 1 :])
                new = copy.copy(s)
                new.body = self.jumps(list(s.body) + rest, flag) or [_located(ast.Pass(), s)]
                new.orelse = self.jumps(list(s.orelse) + rest, flag)
                out.append(new)
                return out
            if isinstance(s, ast.With) and _contains(s, (ast.Break, ast.Continue)):
                raise self.parsed.locate(s).error(
                    "break/continue inside `with no_grad():`", "move it out of the with block"
                )
            out.append(s)
        return out


def _flatten(stmts) -> list:
    out = []
    for s in stmts:
        out.extend(s if isinstance(s, list) else [s])
    return out


def desugar(parsed: ParsedFunction, taken: set) -> ParsedFunction:
    """``parsed`` with early returns, breaks and continues removed (see the module docstring)."""
    node = parsed.node
    if (
        not any(isinstance(n, (ast.Break, ast.Continue)) for n in walk_tree(node))
        and not _early_return(node)
        and peel_loops(node, node.body, lambda base: base) is None
    ):
        return parsed
    new = _Desugar(parsed, set(taken)).function(node)
    new.body = _deep_flatten(new.body)
    return ParsedFunction(
        new, parsed.filename, parsed.first_line, parsed.indent, parsed.lines, parsed.comments
    )


def _deep_flatten(stmts) -> list:
    out = []
    for s in _flatten(stmts):
        for field in ("body", "orelse"):
            if isinstance(getattr(s, field, None), list) and not isinstance(s, ast.FunctionDef):
                setattr(s, field, _deep_flatten(getattr(s, field)))
        out.append(s)
    return out


def _early_return(node: ast.FunctionDef) -> bool:
    # one return: the order of the walk does not matter
    returns = [n for n in walk_tree(node) if isinstance(n, ast.Return)]
    return len(returns) > 1 or bool(returns and node.body and returns[0] is not node.body[-1])
