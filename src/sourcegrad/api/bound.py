"""``grad`` of a ``functools.partial`` or a bound method: the gradient of the function underneath,
called with the bound arguments first.

``grad(functools.partial(loss, data=X), wrt="W")`` transforms ``loss`` itself (its source is the
one that runs) and each call passes ``data=X`` along; ``wrt`` positions count the partial's own
parameters, as ``inspect.signature`` of the partial shows them. A bound method ``model.loss`` is
``partial(Model.loss, model)``: it is differentiated as ``Model.loss`` with ``self=None``, so its
body must not read ``self`` (a located error says so: an instance is not an array, and what the
method read from it would be baked into the compiled program).
"""

from __future__ import annotations

import ast
import functools
import inspect

from ..errors import WrtError

__all__ = ["unwrap_bound", "BoundGradient"]


def unwrap_bound(fn):
    """(function, bound positional args, bound keywords) of a partial or a bound method, or None."""
    if isinstance(fn, functools.partial):
        inner = unwrap_bound(fn.func)
        if inner is not None:  # partial of a partial (or of a bound method)
            func, args, kwargs = inner
            return func, (*args, *fn.args), {**kwargs, **fn.keywords}
        return fn.func, tuple(fn.args), dict(fn.keywords)
    if inspect.ismethod(fn) and inspect.isfunction(fn.__func__):
        _check_self_unused(fn.__func__)
        return fn.__func__, (None,), {}
    return None


def _check_self_unused(func) -> None:
    """A bound method is differentiated as its function with ``self=None``: its body must not
    read ``self`` (an instance is not an array, and its attributes would be baked in)."""
    from ..frontend.parse import parse_function

    parsed = parse_function(func)
    args = parsed.node.args
    first = [*args.posonlyargs, *args.args]
    if not first:
        return
    me = first[0].arg
    for node in ast.walk(parsed.node):
        if isinstance(node, ast.Name) and node.id == me and isinstance(node.ctx, ast.Load):
            raise parsed.locate(node).error(
                f"a bound method that reads `{me}` cannot be differentiated: an instance is not an "
                f"array, and the values read from it would be constants of the compiled program",
                f"pass what `{me}` holds as parameters (def {func.__name__}({me}, W, ...)), or "
                f"make it a @staticmethod or a function",
            )


def wrt_names(fn, wrt) -> tuple | str:
    """``wrt`` (positions of the partial's own parameters, or names) as parameter names."""
    params = list(inspect.signature(fn).parameters.values())
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]

    def name(item):
        if isinstance(item, int) and not isinstance(item, bool):
            if not -len(positional) <= item < len(positional):
                raise WrtError(
                    f"wrt={item} is out of range: {fn!r} takes {len(positional)} positional "
                    f"parameters ({', '.join(positional)})"
                )
            return positional[item]
        return item

    if isinstance(wrt, (tuple, list)):
        return tuple(name(i) for i in wrt)
    return name(wrt)


class BoundGradient:
    """The gradient of a partial or a bound method: a :class:`GradFunction` of the function
    underneath, called with the bound arguments first; its attributes (``source``, ``compile``,
    ...) are the inner one's."""

    def __init__(self, fn, bound, inner):
        self._fn = fn
        _, self._args, self._kwargs = bound
        self._inner = inner
        functools.update_wrapper(self, bound[0])

    def __call__(self, *args, **kwargs):
        return self._inner(*self._args, *args, **{**self._kwargs, **kwargs})

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def __repr__(self) -> str:
        return f"<sourcegrad gradient of {self._fn!r}>"
