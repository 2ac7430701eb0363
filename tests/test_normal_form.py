"""The normal form (the grammar in the docstring of ``normal/ir.py``): every function of the corpus
normalizes to it, callees included, and ``checker.check_normal_form`` rejects what is not in it."""

import inspect

import pytest

from sourcegrad.errors import InternalError
from sourcegrad.frontend import fence
from sourcegrad.frontend.desugar import desugar
from sourcegrad.frontend.parse import parse_function
from sourcegrad.frontend.resolve import Environment
from sourcegrad.normal import checker, ir, walk
from sourcegrad.normal.calls import CalleeTable
from sourcegrad.normal.naming import Namer, identifiers_in
from sourcegrad.normal.normalize import normalize
from sourcegrad.normal.structs import kind_of

from .corpus import control_flow, helpers_mod, straight_line
from .corpus.registry import CASES

CORPUS_MODULES = (straight_line, control_flow, helpers_mod)


def normal_forms(case):
    """The normal form of a corpus function, as ``grad`` makes it for the case's arguments, and
    those of the callees it calls: (primal, [callee functions], {callee function objects})."""
    bound = inspect.signature(case.fn).bind(**case.make_args())
    bound.apply_defaults()
    kinds = {
        p: "array" if p in case.wrt and kind_of(v) == "static" else kind_of(v)
        for p, v in bound.arguments.items()
    }
    parsed = parse_function(case.fn)
    fence.check(parsed)
    identifiers = identifiers_in(parsed.node)
    parsed = desugar(parsed, identifiers)
    callees = CalleeTable(Namer(), case.options.get("max_iter"))
    callees.enter(case.fn, None)
    primal = normalize(
        parsed, Environment.of(case.fn), Namer(identifiers), kinds, case.options.get("max_iter"), callees
    )
    functions = [c.function for c in callees.entries.values()]
    objects = {identity for identity, _, _ in callees.entries if callable(identity)}
    return primal, functions, objects


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_corpus_function_is_in_normal_form(case):
    primal, callee_functions, _ = normal_forms(case)
    for fn in [primal, *callee_functions]:
        checker.check_normal_form(fn)
        statements = list(walk.statements(fn.body))
        assert isinstance(fn.body[-1], ir.Return)
        assert sum(isinstance(s, ir.Return) for s in statements) == 1, fn.name
        assert all(s.origin is not None for s in statements), fn.name


def test_every_corpus_function_is_normalized():
    """Each function of the corpus modules is a case or a callee of one."""
    covered = {case.fn for case in CASES}
    for case in CASES:
        covered |= normal_forms(case)[2]
    defined = {
        f
        for m in CORPUS_MODULES
        for f in vars(m).values()
        if inspect.isfunction(f) and f.__module__ == m.__name__
    }
    missing = sorted(f.__qualname__ for f in defined - covered)
    assert not missing, f"corpus functions never normalized: {missing}"


def _fn(*body, params=("x",)):
    return ir.Function("f", params, body)


def _mul(x, y):
    return ir.Prim("multiply", (("x", x), ("y", y)))


X, Y = ir.Name("x"), ir.Name("y")


@pytest.mark.parametrize(
    "fn, why",
    [
        (_fn(ir.Assign("y", _mul(X, X)), ir.Assign("y", _mul(Y, X)), ir.Return(Y)), "a second time"),
        (_fn(ir.Assign("y", _mul(_mul(X, X), X)), ir.Return(Y)), "is not an atom"),
        (_fn(ir.Assign("y", _mul(X, ir.Name("z"))), ir.Return(Y)), "reads 'z' where it is not defined"),
        (_fn(ir.Return(X), ir.Assign("y", _mul(X, X))), "return is not the last statement"),
        (_fn(ir.Assign("y", _mul(X, X))), "the normal form ends with a return"),
        (
            _fn(ir.If(X, (ir.Assign("y", _mul(X, X)),), (), (), False), ir.Return(Y)),
            "reads 'y' where it is not defined",
        ),
        (
            _fn(
                ir.For(
                    ("i",),
                    (ir.RangeIter(ir.Const(0), ir.Const(3), ir.Const(1)),),
                    (),
                    (ir.Assign("y", _mul(X, X)),),
                ),
                ir.Return(Y),
            ),
            "reads 'y' where it is not defined",
        ),
    ],
)
def test_checker_rejects_what_is_not_normal_form(fn, why):
    with pytest.raises(InternalError, match=why):
        checker.check_normal_form(fn)


def test_checker_accepts_the_scoped_names():
    loop = ir.For(
        ("i",),
        (ir.RangeIter(ir.Const(0), ir.Const(3), ir.Const(1)),),
        (ir.Carry("acc", X, "acc_1", "acc_2"),),
        (ir.Assign("acc_1", _mul(ir.Name("acc"), X)),),
    )
    branch = ir.If(X, (ir.Assign("a", _mul(X, X)),), (), (("out", ir.Name("a"), X),), False)
    checker.check_normal_form(_fn(loop, branch, ir.Return(ir.Tup((ir.Name("acc_2"), ir.Name("out"))))))
