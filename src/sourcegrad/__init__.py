"""sourcegrad: reverse-mode automatic differentiation of NumPy-style Python by source transformation.

``grad(f)`` reads ``f``'s source, writes its gradient as plain Python with
explicit accumulators (``.source``), and runs exactly that code, compiled with
JAX/XLA.
"""

from ._version import __version__ as __version__
from .api import (
    CheckResult,
    CompiledGrad,
    GradFunction,
    GradientCheckError,
    Jacobian,
    JVPFunction,
    SecondOrder,
    check,
    grad,
    hessian,
    hvp,
    jacfwd,
    jacrev,
    jvp,
    value_and_grad,
)
from .deploy import clear_cache, custom_vjp, enable_compilation_cache
from .errors import (
    AssertionFailedError,
    InputError,
    InternalError,
    MissingRuleError,
    OptionError,
    RuleError,
    SeedError,
    ShapeError,
    SourceChangedError,
    SourcegradError,
    SourceUnavailableError,
    TapeOverflowError,
    UnboundNameError,
    UnsupportedSyntaxError,
    WrtError,
)
from .rules import register_rule
from .runtime import no_grad, stop_gradient

__all__ = [
    "grad",
    "value_and_grad",
    "GradFunction",
    "CompiledGrad",
    "custom_vjp",
    "enable_compilation_cache",
    "clear_cache",
    "jvp",
    "JVPFunction",
    "jacfwd",
    "jacrev",
    "Jacobian",
    "hessian",
    "hvp",
    "SecondOrder",
    "register_rule",
    "check",
    "CheckResult",
    "GradientCheckError",
    "stop_gradient",
    "no_grad",
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
