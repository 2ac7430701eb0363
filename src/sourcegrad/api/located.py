"""Errors raised while generated code runs, located on the user's line.

A mistake in the user's code that only shows for the shapes of a call (``x + y`` with shapes
(3,) and (4,), a failed ``assert`` on shapes, a name Python would not have assigned) surfaces
while JAX traces the generated code, as a JAX ``TypeError``/``ValueError`` or as one of the
runtime's check errors. Each entry point (``grad``, ``jvp``, the Jacobians, second order, AOT
compile, export) turns it into a sourcegrad error on the user's line: the generated line that
raised maps back through the source map; a check's message names its line itself.
"""

from __future__ import annotations

import linecache
import traceback

from .. import runtime
from ..errors import (
    AssertionFailedError,
    InternalError,
    ShapeError,
    SourcegradError,
    UnboundNameError,
    UnsupportedSyntaxError,
    format_located,
)

__all__ = ["RUNTIME_ERRORS", "relocated", "located_by_primal", "located_runtime_error"]

#: What a check that runs while JAX traces raises (runtime.core), and the error the user sees.
_TRACE_CHECKS = (
    (
        runtime.StaticCheckError,
        AssertionFailedError,
        "the original function fails this assert for these arguments too: pass arguments that satisfy it",
    ),
    (runtime.UnboundNameError, UnboundNameError, "assign it before the `if` or the loop that may skip it"),
)


#: What generated code raises, while JAX traces it, for a mistake on a line of the user's code.
RUNTIME_ERRORS = (TypeError, ValueError, runtime.StaticCheckError, runtime.UnboundNameError)


def _trace_check_error(exc: BaseException, transformed):
    """A failed ``static_check``/``defined_check``: its message starts with the user's file and
    line (``file:line: what``), where Python would have raised."""
    found = next(((cls, fix) for raised, cls, fix in _TRACE_CHECKS if isinstance(exc, raised)), None)
    if found is None:
        return None
    cls, fix = found
    where, _, what = str(exc).partition(": ")
    filename, _, line = where.rpartition(":")  # the function's own file: a callee's may differ
    if not filename or not line.isdigit():
        return None
    text = linecache.getline(filename, int(line)).rstrip("\n")
    col = len(text) - len(text.lstrip())
    msg = f"{what}\n  how to fix: {fix}" if "how to fix" not in what else what
    err = cls(format_located(filename, int(line), col, text, msg, end_col=len(text.rstrip())))
    err.filename, err.lineno = filename, int(line)
    return err


def relocated(exc: BaseException, transformed) -> BaseException:
    """``exc``, raised while a generated function ran, as the located error of the user's line
    it maps to (see :func:`located_runtime_error`); ``exc`` itself when it maps to none."""
    if isinstance(exc, (SourcegradError, runtime.SeedError)):
        return exc
    located = located_runtime_error(exc, transformed)
    return exc if located is None else located.with_traceback(None)


def located_by_primal(exc: BaseException, primal, args, kwargs) -> BaseException:
    """The error of a compound call (a Hessian, a Jacobian: generated code run under vmap, or
    the tangent of a regenerated gradient) located by running the function's own primal, whose
    source map points at the user's lines: a shape mismatch or a failed assert fails there too.
    ``exc`` itself when the primal runs. A located error already on a user's line stands; one
    on a line of generated code (the regenerated gradient that second order differentiates
    again) is located again this way."""
    in_generated = str(getattr(exc, "filename", None) or "").startswith("<sourcegrad")
    if isinstance(exc, runtime.SeedError) or isinstance(exc, SourcegradError) and not in_generated:
        return exc
    try:
        primal(*args, **kwargs)
    except SourcegradError as located:
        return located.with_traceback(None)
    except Exception:  # noqa: BLE001 - the primal failed some other way: the first error stands
        return exc
    return exc


def located_runtime_error(exc: BaseException, transformed):
    """A TypeError/ValueError raised while the generated code ran, on the user's line it maps to;
    a failed check of a value known while tracing (an ``assert``, a name Python would not have
    assigned) on the line its message names."""
    checked = _trace_check_error(exc, transformed)
    if checked is not None:
        return checked
    frames = [
        f for f, _ in traceback.walk_tb(exc.__traceback__) if f.f_code.co_filename == transformed.filename
    ]
    for frame in reversed(frames):
        entry = next((e for e in transformed.source_map.entries if e[0] == frame.f_lineno), None)
        if entry is None:
            continue
        user_line, section = entry[1], entry[3]
        filename = transformed.parsed.filename
        text = linecache.getline(filename, user_line).rstrip("\n")
        col = len(text) - len(text.lstrip())
        why = str(exc).strip().split("\n")[0]
        generated = linecache.getline(transformed.filename, frame.f_lineno).strip()
        where = f"in the generated code (line {frame.f_lineno} of .source): {generated}"
        cls: type[SourcegradError]
        if isinstance(exc, runtime.TraceLimitError):  # a recursion or unrolled loop too long
            what, fix = exc.args
            return UnsupportedSyntaxError(
                f"{what}\n  {where}",
                filename=filename,
                line=user_line,
                col=col,
                text=text,
                fix=fix,
                end_col=len(text.rstrip()),
            )
        if isinstance(exc, runtime.NoDerivativeError):  # a derivative refused for these shapes
            what, fix = exc.args
            cls, msg = ShapeError, f"{what}\n  {where}\n  how to fix: {fix}"
        elif section != "backward" and "carry input and carry output must have equal types" in str(exc):
            cls, msg = (
                ShapeError,
                (
                    f"a value this loop carries changes its shape or dtype in the first iteration "
                    f"(a number that becomes an array, say `acc = 0.0` then `acc += X[i]`); a "
                    f"compiled loop carries one shape\n  {where}\n  how to fix: start it with its "
                    f"final shape (`acc = np.zeros_like(X[0])`), or loop over the rows (`for row in "
                    f"X:`), whose first iteration sourcegrad writes out"
                ),
            )
        elif section != "backward":
            cls, msg = (
                ShapeError,
                (
                    f"this line fails for the shapes (and dtypes) of the call's arguments, as it "
                    f"would in NumPy: {why}\n  {where}\n  how to fix: pass arrays whose shapes fit "
                    f"this line"
                ),
            )
        else:  # the forward pass ran: the backward code sourcegrad wrote is at fault
            cls, msg = (
                InternalError,
                (
                    f"the backward pass of this line failed although its forward pass ran: {why}\n  "
                    f"{where}\n  this is a bug in sourcegrad: please report it with this function"
                ),
            )
        err = cls(format_located(filename, user_line, col, text, msg, end_col=len(text.rstrip())))
        err.filename, err.lineno = filename, user_line
        return err
    return None
