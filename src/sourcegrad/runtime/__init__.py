"""The helpers that generated adjoint code calls.

Plain JAX functions with no dependency on the rest of sourcegrad, so that a
module written by ``sourcegrad emit`` can carry copies of the ones it uses and
run where sourcegrad is not installed. Every helper here is documented by what
it undoes; all shape logic runs while JAX traces (shapes are static), so a
helper whose work is a no-op for the shapes at hand costs nothing.

The helpers live in one module per kind (``core``, ``reductions``, ``linalg``, ``indexing``,
``assembly``, ``elementwise``, ``loops``); generated code imports them from here, ``sourcegrad.runtime``.
"""

from __future__ import annotations

from .core import (
    SeedError,
    seed_like,
    cast_like,
    unbroadcast,
    unreduce,
    reduced_size,
    traced_bool,
    range_end,
    stop_gradient,
    no_grad,
    vjp_of,
)
from .reductions import (
    tie_split,
    extremum_adjoint,
    prod_adjoint,
    var_adjoint,
    std_adjoint,
    norm_adjoint,
    cumsum_adjoint,
    sort_adjoint,
)
from .linalg import (
    mT,
    solve_outer,
    matmul_adjoint_lhs,
    matmul_adjoint_rhs,
    dot_adjoint_lhs,
    dot_adjoint_rhs,
    inner_adjoint_lhs,
    inner_adjoint_rhs,
    einsum_adjoint,
    cholesky_adjoint,
    cholesky_lower,
    eigvalsh_adjoint,
)
from .indexing import (
    unslice,
    inplace_set,
    inplace_add,
    inplace_multiply,
    take_written,
    transpose_adjoint,
    unconcatenate,
    roll_adjoint,
    diag_adjoint,
    linspace_adjoint,
    trace_adjoint,
)
from .elementwise import (
    clip_mask,
    div_or_zero,
    logaddexp_weight,
    log_or_zero,
    sinc_derivative,
    fmax_weight,
    fmin_weight,
)
from .assembly import (
    transpose_of,
    pad_adjoint,
)
from .loops import (
    taped_while,
    segment_length,
    checkpointed_scan,
    checkpointed_scan_adjoint,
)

__all__ = [
    "SeedError",
    "seed_like",
    "cast_like",
    "unbroadcast",
    "unreduce",
    "reduced_size",
    "tie_split",
    "extremum_adjoint",
    "prod_adjoint",
    "var_adjoint",
    "std_adjoint",
    "norm_adjoint",
    "cumsum_adjoint",
    "sort_adjoint",
    "matmul_adjoint_lhs",
    "matmul_adjoint_rhs",
    "dot_adjoint_lhs",
    "dot_adjoint_rhs",
    "inner_adjoint_lhs",
    "inner_adjoint_rhs",
    "einsum_adjoint",
    "transpose_adjoint",
    "unconcatenate",
    "roll_adjoint",
    "diag_adjoint",
    "trace_adjoint",
    "linspace_adjoint",
    "clip_mask",
    "log_or_zero",
    "div_or_zero",
    "logaddexp_weight",
    "mT",
    "solve_outer",
    "stop_gradient",
    "no_grad",
    "range_end",
    "taped_while",
    "traced_bool",
    "segment_length",
    "checkpointed_scan",
    "checkpointed_scan_adjoint",
    "unslice",
    "inplace_set",
    "inplace_add",
    "inplace_multiply",
    "take_written",
    "vjp_of",
    "cholesky_adjoint",
    "cholesky_lower",
    "eigvalsh_adjoint",
    "sinc_derivative",
    "fmax_weight",
    "fmin_weight",
    "transpose_of",
    "pad_adjoint",
]
