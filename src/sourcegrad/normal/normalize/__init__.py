"""Normalize: the user's function (Python AST) -> the normal form of ``ir``.

The normal form is written down in the docstring of ``normal/ir.py`` (a grammar) and checked by
``checker.check_normal_form``, which ``normalize`` runs on every function it returns. In short:

* Expressions are flattened into one-operation assignments (``expressions.py``, ``rule_calls.py``).
* Every name is assigned once: a re-assigned variable gets a new version (``y``, ``y_1``, ...),
  so an old value stays readable by the backward pass; ``y[i] = v`` is ``y_1 = y.at[i].set(v)``,
  a new version too (``statements.py``).
* ``for`` loops become ``For`` nodes with explicit loop-carried variables (``Carry``: value before
  the loop, at the start of an iteration, at its end, after the loop); ``while`` loops become
  ``While`` nodes (a counter loop ``i = 0; while i < n: ...; i += 1`` becomes a ``For``)
  (``loops.py``, ``iterables.py``); two nested ``for`` loops whose inner range follows the outer
  index are one loop over their index pairs (``triangular.py``).
* ``if`` statements and conditional expressions become ``If`` nodes whose outputs merge the
  branches' versions. An ``if`` on a value known while JAX traces (a constant, a shape, a static
  argument) is marked static (``branches.py``).
* ``with no_grad():`` becomes a ``NoGrad`` region (``statements.py``).
* Calls of the user's own functions become ``CallFn`` of a callee normalized too
  (``user_calls.py``); containers are flattened into their leaves (``containers.py``).

``desugar`` runs before this pass and removes ``break``, ``continue`` and early ``return``;
``fence`` has rejected everything outside the subset.

How the modules fit: ``context.py`` holds the one state object (``Context``) every handler takes;
``HANDLERS`` below maps each AST node type to its handler; ``Context.statements`` and
``Context.expr`` dispatch through it, so a handler lowers its sub-statements and operands by
calling the context, never another module's handler directly. ``function.py`` lowers a whole
function (parameters, body, return).
"""

from __future__ import annotations

import ast

from ...frontend.parse import ParsedFunction
from ...frontend.resolve import Environment
from .. import checker, ir
from ..naming import Namer
from . import (
    branches,
    comprehensions,
    concatenators,
    effects,
    expressions,
    logic,
    loops,
    rule_calls,
    statements,
    triangular,
    user_calls,
)
from .context import Context, Handlers, assigned_names
from .function import lower_function

__all__ = ["normalize", "assigned_names", "HANDLERS", "Context"]

#: AST node type -> the function that lowers it: ``handler(cx, node)``.
HANDLERS = Handlers(
    statements={
        ast.Assign: statements.assign_statement,
        ast.AnnAssign: statements.annotated_assign,
        ast.AugAssign: statements.augmented_assign,
        ast.Return: statements.return_statement,
        ast.With: statements.with_statement,
        ast.Pass: statements.nothing,
        ast.Expr: effects.expression_statement,
        ast.Assert: effects.assert_statement,
        ast.For: triangular.for_statement,
        ast.While: loops.while_statement,
        ast.If: branches.if_statement,
        ast.FunctionDef: user_calls.nested_def,
    },
    expressions={
        ast.Constant: expressions.constant,
        ast.Name: expressions.name,
        ast.UnaryOp: logic.unary,
        ast.BinOp: expressions.binary,
        ast.Compare: logic.compare,
        ast.BoolOp: logic.bool_op,
        ast.Attribute: expressions.attribute,
        ast.Subscript: concatenators.subscript,
        ast.Tuple: expressions.sequence,
        ast.List: expressions.sequence,
        ast.Dict: expressions.dict_display,
        ast.Call: rule_calls.call,
        ast.IfExp: branches.if_expression,
        ast.ListComp: comprehensions.list_comprehension,
        ast.GeneratorExp: comprehensions.list_comprehension,
        ast.DictComp: comprehensions.dict_comprehension,
    },
)


def normalize(
    parsed: ParsedFunction,
    env: Environment,
    namer: Namer,
    param_kinds=None,
    max_iter: int | None = None,
    callees=None,
    checkpoint=None,
) -> ir.Function:
    """The normal form of ``parsed`` (whose globals resolve in ``env``), checked.

    ``param_kinds``, ``max_iter``, ``checkpoint``: see ``pipeline.transform``; ``callees``: the
    transform's ``normal.calls.CalleeTable``."""
    cx = Context(parsed, env, namer, HANDLERS, param_kinds, max_iter, callees, checkpoint=checkpoint)
    fn = lower_function(cx)
    checker.check_normal_form(fn)
    return fn
