"""The shared corpus, each function's gradient against jax.vjp and float64 finite differences."""

import numpy as np
import pytest

from sourcegrad import grad

from .corpus import control_flow, straight_line  # noqa: F401  (registers the cases)
from .corpus.registry import CASES
from .helpers import assert_close, fd_vjp, jax_vjp


def test_corpus_is_large_enough():
    straight = [c for c in CASES if c.fn.__module__.endswith("straight_line")]
    flow = [c for c in CASES if c.fn.__module__.endswith("control_flow")]
    assert len(straight) >= 60 and len(flow) >= 50, (len(straight), len(flow))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_gradient_matches_jax_and_finite_differences(case):
    args = case.make_args()
    g = grad(case.fn, wrt=case.wrt, **case.options)
    out = np.asarray(case.fn(**args))
    seed = case.make_seed(out.shape) if case.seed else None
    if not case.seed:
        assert out.shape == (), f"{case.name} returns shape {out.shape}: mark it seed=True"
    ours = g(**args, seed=seed)
    ours = ours if isinstance(ours, tuple) else (ours,)
    _, fd = fd_vjp(case.fn, args, case.wrt, seed)
    ref = jax_vjp(case.fn, args, case.wrt, seed)[1] if case.jax else fd
    for name, mine, theirs, numeric in zip(case.wrt, ours, ref, fd):
        assert_close(mine, theirs, rtol=case.rtol, atol=1e-9, what=f"{case.name}: d/d{name} vs jax")
        assert_close(mine, numeric, rtol=1e-5, atol=1e-6, what=f"{case.name}: d/d{name} vs FD")
