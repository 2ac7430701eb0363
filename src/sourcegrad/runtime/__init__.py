"""The helpers that generated adjoint code calls.

Plain JAX functions with no dependency on the rest of sourcegrad, so that a
module written by ``sourcegrad emit`` can carry copies of the ones it uses and
run where sourcegrad is not installed. Every helper here is documented by what
it undoes; all shape logic runs while JAX traces (shapes are static), so a
helper whose work is a no-op for the shapes at hand costs nothing.

The helpers live in one module per kind (``core``, ``reductions``, ``linalg``, ``indexing``,
``assembly``, ``elementwise``, ``loops``, ``forward`` for tangent code); generated code imports them
from here, ``sourcegrad.runtime``.
"""

from __future__ import annotations

from .assembly import c_concatenate, pad_adjoint, r_concatenate, transpose_of
from .core import (
    SeedError,
    cast_like,
    debug_print,
    nested_range,
    no_grad,
    range_end,
    reduced_size,
    seed_like,
    static_check,
    stop_gradient,
    traced_bool,
    unbroadcast,
    unreduce,
    vjp_of,
)
from .elementwise import (
    clip_mask,
    div_or_zero,
    fmax_weight,
    fmin_weight,
    log_or_zero,
    logaddexp_weight,
    scalar_of,
    sinc_derivative,
)
from .forward import broadcast_like, einsum_tangent, jvp_of, pad_tangent
from .indexing import (
    diag_adjoint,
    inplace_add,
    inplace_multiply,
    inplace_set,
    linspace_adjoint,
    roll_adjoint,
    take_written,
    trace_adjoint,
    transpose_adjoint,
    unconcatenate,
    unslice,
)
from .linalg import (
    cholesky_adjoint,
    cholesky_lower,
    dot_adjoint_lhs,
    dot_adjoint_rhs,
    eigvalsh_adjoint,
    einsum_adjoint,
    inner_adjoint_lhs,
    inner_adjoint_rhs,
    matmul_adjoint_lhs,
    matmul_adjoint_rhs,
    mT,
    solve_outer,
)
from .loops import (
    checkpointed_scan,
    checkpointed_scan_adjoint,
    checkpointed_while,
    checkpointed_while_adjoint,
    segment_length,
    taped_while,
)
from .reductions import (
    cumsum_adjoint,
    extremum_adjoint,
    norm_adjoint,
    prod_adjoint,
    sort_adjoint,
    std_adjoint,
    tie_split,
    var_adjoint,
)

__all__ = [
    "SeedError",
    "debug_print",
    "static_check",
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
    "nested_range",
    "taped_while",
    "traced_bool",
    "segment_length",
    "checkpointed_scan",
    "checkpointed_scan_adjoint",
    "checkpointed_while",
    "checkpointed_while_adjoint",
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
    "scalar_of",
    "fmax_weight",
    "fmin_weight",
    "transpose_of",
    "r_concatenate",
    "c_concatenate",
    "pad_adjoint",
    "broadcast_like",
    "einsum_tangent",
    "jvp_of",
    "pad_tangent",
]
