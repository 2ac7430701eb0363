"""sourcegrad's derivative rules, one module per domain ("most new gradient code goes here").

Each module is a table: one line per primitive, giving how its forward prints
and one adjoint template per differentiable argument (the template language is
described in ``sourcegrad.rules``). Importing this package registers them all.
To add a rule for a NumPy function, add a line to the domain's table; for your
own function, call ``sourcegrad.register_rule`` from your code.
"""

from . import (  # noqa: F401  # noqa: F401
    adjoint_helpers,  # noqa: F401  (second order: the helpers adjoints call)
    arithmetic,
    assembly,
    constants,
    decompositions,
    elementwise,
    fft,
    indexing,
    jax_helpers,  # noqa: F401  (second order: the helpers JAX differentiates)
    linalg,
    nn,
    pymath,
    reductions,
    shapes,
    special,
)
from .methods import ATTRIBUTES, METHODS  # noqa: F401
