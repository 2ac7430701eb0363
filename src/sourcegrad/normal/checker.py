"""The normal-form checker: ``check_normal_form`` raises ``InternalError`` unless a function is
in the normal form written down in ``ir.py``'s docstring (each name assigned once and defined
before it is read, one operation per statement, atoms as arguments, one final return).
``normalize`` runs it on every function it returns; tests run it on the whole corpus."""

from __future__ import annotations

from ..errors import InternalError
from .ir import (
    Assign,
    CallFn,
    Comment,
    For,
    Function,
    If,
    Index,
    NoGrad,
    Prim,
    RangeIter,
    Return,
    Slice,
    Tup,
    Unpack,
    While,
    _flat,
    is_atom,
    names_read,
)

__all__ = ["check_normal_form"]


def _check_arg(arg, where: str):
    if is_atom(arg):
        return
    if isinstance(arg, Tup):
        for item in arg.items:
            if not is_atom(item):
                raise InternalError(f"{where}: tuple argument holds a non-atom {item!r}")
        return
    if isinstance(arg, Index):
        for item in arg.items:
            if isinstance(item, Slice):
                for part in (item.lower, item.upper, item.step):
                    if part is not None and not is_atom(part):
                        raise InternalError(f"{where}: slice bound {part!r} is not an atom")
            elif not is_atom(item):
                raise InternalError(f"{where}: index item {item!r} is not an atom")
        return
    raise InternalError(f"{where}: argument {arg!r} is not an atom, tuple or index")


def check_normal_form(fn: Function, known_globals=()) -> None:
    """Raise InternalError unless ``fn`` is in the normal form described above."""
    seen: set = set()

    def fail(msg):
        raise InternalError(f"{fn.name}: {msg}")

    def define(name, defined, where):
        if name in seen:
            fail(f"{where} assigns {name!r} a second time (the normal form assigns each name once)")
        seen.add(name)
        defined.add(name)

    def use(names, defined, where):
        for n in names:
            if n not in defined:
                fail(f"{where} reads {n!r} where it is not defined")

    def block(stmts, defined, top):
        for i, s in enumerate(stmts):
            where = f"statement {i} ({type(s).__name__})"
            if isinstance(s, Assign):
                if isinstance(s.value, Prim):
                    for _, a in s.value.args:
                        _check_arg(a, where)
                elif isinstance(s.value, Tup):
                    _check_arg(s.value, where)
                elif not is_atom(s.value):
                    fail(f"{where} is not one operation: {s.value!r}")
                use(names_read(s.value), defined, where)
                define(s.target, defined, where)
            elif isinstance(s, Unpack):
                if not is_atom(s.value):
                    fail(f"{where} unpacks a non-atom")
                use(names_read(s.value), defined, where)
                for t in _flat(s.targets):
                    define(t, defined, where)
            elif isinstance(s, NoGrad):
                block(s.body, defined, False)
            elif isinstance(s, For):
                for it in s.iters:
                    parts = (it.start, it.stop, it.step) if isinstance(it, RangeIter) else (it.array,)
                    for p in parts:
                        _check_arg(p, where)
                        use(names_read(p), defined, where)
                inner = set(defined)
                for c in s.carry:
                    use(names_read(c.init), defined, where)
                    define(c.param, inner, where)
                for t in s.targets:
                    define(t, inner, where)
                block(s.body, inner, False)
                for c in s.carry:
                    use([c.update], inner, where + " (loop update)")
                    define(c.out, defined, where)
            elif isinstance(s, While):
                inner = set(defined)
                for c in s.carry:
                    use(names_read(c.init), defined, where)
                    define(c.param, inner, where)
                test_scope = set(inner)
                block(s.test_body, test_scope, False)
                use(names_read(s.test), test_scope, where + " (test)")
                block(s.body, inner, False)
                for c in s.carry:
                    use([c.update], inner, where + " (loop update)")
                    define(c.out, defined, where)
            elif isinstance(s, If):
                use(names_read(s.test), defined, where)
                then_scope, else_scope = set(defined), set(defined)
                block(s.body, then_scope, False)
                block(s.orelse, else_scope, False)
                for out, a, b in s.outputs:
                    use(names_read(a), then_scope, where + " (then value)")
                    use(names_read(b), else_scope, where + " (else value)")
                    define(out, defined, where)
            elif isinstance(s, CallFn):
                for a in s.args:
                    _check_arg(a, where)
                    use(names_read(a), defined, where)
                for t in s.targets:
                    define(t, defined, where)
            elif isinstance(s, Return):
                if not top or i != len(stmts) - 1:
                    fail("return is not the last statement")
                if not (is_atom(s.value) or isinstance(s.value, Tup)):
                    fail("return value is not an atom or tuple of atoms")
                _check_arg(s.value, where)
                use(names_read(s.value), defined, where)
            elif isinstance(s, Comment):
                pass
            else:
                fail(f"{where} is not a normal-form statement")

    block(fn.body, set(fn.params) | set(known_globals) | set(fn.globals_used), True)
    if not fn.body or not isinstance(fn.body[-1], Return):
        fail("the normal form ends with a return")
