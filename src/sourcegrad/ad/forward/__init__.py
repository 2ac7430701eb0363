"""Forward: the normal-form primal -> its tangent function (forward mode, ``sourcegrad.jvp``).

A sibling of ``ad/reverse`` over the same normal form and the same activity analysis. Where
reverse mode writes one adjoint line per primal line, last line first, forward mode writes one
*tangent* line right after each primal line::

    y = jnp.sin(x)            # line 3: y = np.sin(x)
    d_y = d_x * jnp.cos(x)

``d_y`` is how ``y`` moves when the inputs move along their tangents (``jax.jvp``'s contract:
primals and tangents in, the output and its tangent out). It comes from the rule's tangent
template (``rules.py``: ``tangent=``), summing the contributions of the active arguments only:
a value that does not depend on a ``wrt`` input, or that the output does not read, gets no
tangent. Control flow needs no tape:

* a ``for`` loop carries the tangents in its ``lax.scan`` carry (``loops.py``);
* a data-dependent ``while`` loop carries them in its ``lax.while_loop`` state, with no bound;
* a branch on traced data computes its outputs' tangents inside its ``lax.cond`` (``branches.py``);
* a call of the user's own function calls its ``jvp_`` function (``calls.py``).

The result is again a primal-shaped program (loops with a longer carry, branches with more
outputs), so ``backend/lower.py`` lowers it with the templates it uses for the primal.

The modules, one per construct, each a set of functions taking the shared ``Context``:

* ``block.py``       the table from statement type to handler, and a block's transformation;
* ``statements.py``  straight-line assignments: the rules' tangent contributions;
* ``loops.py``, ``branches.py``, ``calls.py``: the constructs above;
* ``function.py``    the tangent function's sections: inputs' tangents, body, return.
"""

from __future__ import annotations

from ...normal import ir
from ...normal.naming import Namer
from ..activity import Activity
from .block import block
from .context import Context
from .function import tangent_function

__all__ = ["forward", "tangent_function", "Context"]


def forward(
    fn: ir.Function, wrt, activity: Activity, namer: Namer, filename: str = "", callees=None
) -> ir.Function:
    """``jvp_<name>``: the tangent function of a normal-form function (see the module docstring)."""
    return tangent_function(Context(fn, wrt, activity, namer, filename, callees, block), f"jvp_{fn.name}")
