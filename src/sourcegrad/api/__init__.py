"""The user-facing callables, one module each: ``grad``/``value_and_grad`` (grad.py), ``jvp``
(forward.py), ``jacfwd``/``jacrev`` (jacobians.py), ``hessian``/``hvp`` (second_order.py) and
``check`` (check.py); ``grad(f)``/``jvp(f)`` called inside a differentiated function
(nested.py) and generated code as plain functions again, for second order (regenerate.py); what
every call checks at the boundary between the user's values and the generated code (boundary.py),
errors raised while generated code runs, located on the user's line (located.py), an ahead-of-time compiled gradient (compiled.py), the read-only views of a gradient object
(views.py) and a while loop's tape overflow under JAX transformations (overflow.py)."""

from .check import CheckResult, GradientCheckError, check
from .compiled import CompiledGrad
from .forward import JVPFunction, jvp
from .grad import GradFunction, grad, value_and_grad
from .jacobians import Jacobian, jacfwd, jacrev
from .nested import gradient_callee as _gradient_callee  # noqa: F401 - registers nested calls
from .second_order import SecondOrder, hessian, hvp

__all__ = [
    "grad",
    "value_and_grad",
    "GradFunction",
    "CompiledGrad",
    "jvp",
    "JVPFunction",
    "jacfwd",
    "jacrev",
    "Jacobian",
    "hessian",
    "hvp",
    "SecondOrder",
    "check",
    "CheckResult",
    "GradientCheckError",
]
