"""sourcegrad's own differential fuzzer.

Random NumPy-style programs (straight-line code, broadcasting, reductions, linear algebra,
``for`` loops, data-dependent branches, helper functions, containers, in-place writes, writes
through helpers and aliases) are written to files, differentiated by sourcegrad, and judged
against NumPy in float64 with central finite differences and against ``jax.grad``. Run it with
``python -m sourcegrad.fuzz --n 100000 --seed 0 --out fuzz-out`` (see docs/testing.md).
"""

from .generate import FEATURES, generate
from .oracle import Outcome, check_function
from .run import Report, check_program, minimize, run

__all__ = ["FEATURES", "generate", "Outcome", "check_function", "Report", "check_program", "minimize", "run"]
