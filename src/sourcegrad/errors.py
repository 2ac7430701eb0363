"""Every error sourcegrad raises, in one place.

Each class's docstring is its documentation: what causes it and how to fix it
(``docs/errors.md`` is generated from these docstrings). Errors that concern the
user's source carry its file, line and column and print the offending line with
a caret under the construct.
"""

from __future__ import annotations

__all__ = [
    "SourcegradError",
    "UnsupportedSyntaxError",
    "MissingRuleError",
    "SourceUnavailableError",
    "WrtError",
    "SeedError",
    "RuleError",
    "TapeOverflowError",
    "InternalError",
    "SourceChangedError",
    "ShapeError",
    "InputError",
    "OptionError",
    "AssertionFailedError",
    "UnboundNameError",
]


class SourcegradError(Exception):
    """Base class of every error raised by sourcegrad.

    Catch this to handle any of them; each subclass below also derives from the
    built-in exception it resembles (SyntaxError, TypeError, ValueError, ...).
    """

    # Set on located errors (as SyntaxError has them): the user's file and line.
    filename: str | None
    lineno: int | None


class UnsupportedSyntaxError(SourcegradError, SyntaxError):
    """The differentiated function uses a construct outside the supported subset.

    Raised when ``grad`` transforms the function (at decoration time), never
    while it runs; a recursion or an unrolled loop decided by shapes is checked
    when JAX first traces the call (``runtime.TraceLimitError``). The message names the construct, shows the line with a caret
    and says what to write instead. It is a ``SyntaxError``, so Python's own
    traceback printer shows the user's file and line.

    Fix: rewrite the construct as the message suggests, or move the code out of
    the differentiated function (compute it before the call and pass the result
    in as an argument).
    """

    def __init__(
        self,
        what: str,
        *,
        filename: str,
        line: int,
        col: int,
        text: str = "",
        fix: str = "",
        end_col: int | None = None,
    ):
        self.what = what
        self.fix = fix
        caret_end = end_col if end_col and end_col > col else col + 1
        msg = what if not fix else f"{what}\n  how to fix: {fix}"
        # SyntaxError's (filename, lineno, offset, text, end_lineno, end_offset): offsets are 1-based.
        super().__init__(msg, (filename, line, col + 1, text, line, caret_end + 1))

    def __str__(self) -> str:
        return format_located(
            self.filename or "",
            self.lineno or 0,
            (self.offset or 1) - 1,
            self.text or "",
            self.msg,
            end_col=(self.end_offset or 0) - 1,
        )


class MissingRuleError(UnsupportedSyntaxError):
    """A function is called for which sourcegrad has no derivative rule.

    The message names the function as the user wrote it and the object it
    resolved to. Fix: use a supported NumPy function, or register a rule for
    yours with :func:`sourcegrad.register_rule` (one call, shown in the message)::

        sourcegrad.register_rule(my_fn, "my_fn(x)", x="g * my_fn_prime(x)")
    """


class SourceUnavailableError(SourcegradError, OSError):
    """The function's source code cannot be read.

    sourcegrad transforms source text, so it needs the file the function was
    defined in. Functions typed at an interactive prompt, built with ``exec``
    from a string, or compiled extension functions have none. Fix: define the
    function in a ``.py`` file (or a notebook cell, whose source Python keeps).
    """


class WrtError(SourcegradError, TypeError):
    """``wrt`` names something that cannot be differentiated.

    Causes: a name that is not a parameter, a position out of range, a
    parameter declared as ``*args``/``**kwargs``, or an argument whose dtype is
    an integer or boolean (its gradient is not defined; sourcegrad refuses to
    return zeros for it). Fix: name float parameters only, or convert the
    argument with ``x.astype(float)`` before the call.
    """


class SeedError(SourcegradError, ValueError):
    """The output is not a scalar and no seed was given, or the seed does not fit.

    Reverse mode computes a vector-Jacobian product ``seed @ J``; for a scalar
    output the seed is 1. For an output of shape ``s`` the caller must pass
    ``seed=`` an array of shape ``s`` (PyTorch's ``y.backward(gradient)``
    argument). Fix: pass ``seed=np.ones(s)`` to sum the outputs, a one-hot
    array to pick one row of the Jacobian, or reduce the output to a scalar.
    """


class RuleError(SourcegradError, ValueError):
    """A derivative rule is malformed (raised when it is registered).

    Causes: a template that does not parse, a name in a template that is
    neither a parameter, ``g``, ``ans``, ``acc`` nor a known helper, or a
    differentiable parameter without an adjoint. The message names the rule and
    the template. Fix the template.
    """


class TapeOverflowError(SourcegradError, RuntimeError):
    """A data-dependent ``while`` loop ran longer than its declared bound.

    The compiled adjoint stores each iteration on a tape of fixed length (the
    bound you gave with ``max_iter=`` or a ``# sourcegrad: max_iter=N``
    comment). The loop was not finished when the tape was full, so the
    gradient would be wrong; sourcegrad reports it instead of truncating.
    Fix: raise the bound.
    """


class InternalError(SourcegradError, AssertionError):
    """An invariant inside sourcegrad failed: this is a bug in sourcegrad.

    The message names the stage and shows the source produced so far. Please
    report it with the function that triggered it.
    """


class SourceChangedError(SourceUnavailableError):
    """The function's file was edited after its module was imported.

    Python runs the code it compiled at import; sourcegrad reads the file as it
    is now. Before transforming, sourcegrad compiles the text it read and
    compares it with the function's bytecode; when they differ it refuses,
    rather than differentiate code that does not run. Fix: reload the module
    (``importlib.reload(module)``, or restart the interpreter or notebook
    kernel) and apply ``grad`` again.
    """


class ShapeError(SourcegradError, TypeError):
    """Arrays of incompatible shapes met on a line of the differentiated function.

    Raised while the gradient runs (JAX traces the generated code for the
    shapes of the call's arguments): an ``x + y`` with shapes ``(3,)`` and
    ``(4,)``, a matrix product whose inner dimensions differ, a reshape to a
    different size. The message names the line of your file (through the
    source map of the generated code), shows it, and quotes the shapes that
    met. Fix: the same call of the original NumPy function fails too; pass
    arguments of compatible shapes.
    """


class InputError(SourcegradError, TypeError):
    """An argument of the call cannot be used the way the gradient needs it.

    Causes: ``None``, a string or another non-numeric object passed where an
    array is differentiated; a complex array or number (sourcegrad
    differentiates real functions only; complex inputs are refused rather than
    given a conjugation convention); an ``accumulate=`` whose structure,
    shapes or dtypes differ from the gradients'; a function whose output is an
    integer, a boolean or a shape (its gradient is not defined; located at the
    ``return``). The message names the argument. Fix: pass real floating-point
    arrays, or split a complex input into real and imaginary parts.
    """


class OptionError(SourcegradError, ValueError):
    """An option of :func:`grad` has a value it does not take.

    ``checkpoint=`` takes ``"sqrt"``, ``"binomial"`` or ``"binomial:N"``
    (revolve, 32 or N >= 2 slots), a positive int (the segment length) or
    ``None``; ``max_iter=`` a positive int or ``None``. Raised when ``grad``
    is applied, naming the valid values.
    """


def format_located(
    filename: str, line: int, col: int, text: str, msg: str, end_col: int | None = None
) -> str:
    """``file:line:col: msg`` followed by the source line and a caret under the construct."""
    text = text.rstrip("\n")
    width = max(1, (end_col - col) if end_col and end_col > col else 1)
    stripped = text.lstrip()
    indent = len(text) - len(stripped)
    caret = " " * (4 + max(0, col - indent)) + "^" * width
    return f"{filename}:{line}:{col + 1}: {msg}\n    {stripped}\n{caret}"


class AssertionFailedError(SourcegradError, AssertionError):
    """An ``assert`` in the differentiated function failed.

    An ``assert`` on shapes or static arguments is checked while JAX traces the
    generated code for the call's arguments, as Python checks it when the
    function runs; it is an ``AssertionError``, so ``except AssertionError``
    catches it as it would catch Python's. The message shows your line with a
    caret and your assert's message. Fix: the same call of the original
    function fails its assert too; pass arguments that satisfy it.
    """


class UnboundNameError(SourcegradError, NameError):
    """A name is read where Python would not have assigned it.

    A name that an ``if`` on a static value assigns on one side only, or that
    a loop assigns when it may run no iteration, is defined for some calls and
    not for others; where it was not assigned Python raises ``NameError``, and
    so does the gradient (checked while JAX traces the call). The message
    shows the line that reads it and why it is not defined. Fix: assign the
    name before the ``if`` or the loop.
    """
