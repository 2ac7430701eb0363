"""The catalogue of bad and unusual inputs (issue 9): each gives the gradient NumPy's float64
central differences give, or a located sourcegrad error (the user's line, no library frames).

The cases live in tests/catalogue/cases.py, and those issue 9 listed as wrong in
tests/catalogue/issue9.py.
"""

import inspect
import re

import jax
import numpy as np
import pytest

from sourcegrad import SourcegradError, grad

from .catalogue import cases, issue9
from .catalogue.table import GRAD, GRAD_OR_ERROR
from .helpers import assert_close, fd_vjp, library_frames

ALL = cases.CASES + issue9.CASES
BY_NAME = {c.name: c for c in ALL}


def _copy(tree):
    return jax.tree_util.tree_map(lambda x: x.copy() if isinstance(x, np.ndarray) else x, tree)


def _wrt_names(case):
    params = list(inspect.signature(case.fn).parameters)
    return tuple(params[w] if isinstance(w, int) else w for w in case.wrt)


def _library_frames(err):
    return library_frames(err)


def _marker_line(case):
    lines, first = inspect.getsourcelines(case.fn)
    hits = [first + k for k, line in enumerate(lines) if case.marker in line]
    assert len(hits) == 1, f"marker {case.marker!r} must be on exactly one line of {case.name}"
    return hits[0], lines[hits[0] - first].strip()


def run_case(case):
    """Check one case; returns what happened (used by this test and to triage new cases)."""
    expect_grad = case.expect in (GRAD, GRAD_OR_ERROR)
    try:
        g = grad(case.fn, wrt=case.wrt, **case.grad_kwargs)
        if case.prepare is not None:
            case.prepare(g)
        ours = g(**_copy(case.args), **case.call_kwargs)
    except SourcegradError as err:
        if case.expect == GRAD:
            raise
        if case.expect != GRAD_OR_ERROR:
            assert isinstance(err, case.expect), f"{type(err).__name__}: {err}"
        assert not _library_frames(err), _library_frames(err)
        text = str(err)
        if case.marker is not None:
            line, line_text = _marker_line(case)
            filename = inspect.getsourcefile(case.fn)
            assert f"{filename}:{line}:" in text, f"expected line {line} ({line_text!r}): {text}"
            assert line_text.split("  #")[0] in text, text
        elif case.match is None:
            assert case.expect == GRAD_OR_ERROR or False, "an error case needs a marker or a match"
        if case.match is not None:
            assert re.search(case.match, text), text
        return "error"
    assert expect_grad, f"expected {case.expect.__name__}, got a gradient {ours!r}"
    wrt = _wrt_names(case)

    def numpy_fn(**kw):  # NumPy may change its arguments in place: give it copies
        return case.fn(**_copy(kw))

    _, expected = fd_vjp(
        numpy_fn,
        case.args,
        wrt,
        seed=None
        if case.seed is None
        else np.concatenate([np.ravel(s) for s in case.seed])
        if isinstance(case.seed, tuple)
        else case.seed,
    )
    for name, mine, theirs in zip(wrt, ours, expected):
        assert_close(mine, theirs, rtol=1e-5, atol=1e-7, what=f"{case.name}: d/d{name}")
    return "grad"


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_catalogue(name):
    run_case(BY_NAME[name])


def test_catalogue_size():
    assert len(ALL) == len(BY_NAME), "case names must be unique"
    assert len(ALL) >= 100
