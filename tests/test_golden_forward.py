"""Golden tests for forward mode: the tangent code of the golden functions, byte for byte
(``tests/golden/<name>.tangent.golden.py``; SOURCEGRAD_UPDATE_GOLDEN=1 writes new files)."""

import os
import pathlib

import pytest

from sourcegrad import hessian, jvp

from .golden.forward import SECOND_ORDER_GOLDEN, TANGENT_GOLDEN

HERE = pathlib.Path(__file__).parent / "golden"


@pytest.mark.parametrize("name", sorted(TANGENT_GOLDEN))
def test_tangent_source_matches_golden(name):
    fn, wrt = TANGENT_GOLDEN[name]
    source = jvp(fn, wrt=wrt).source
    path = HERE / f"{name}.tangent.golden.py"
    if os.environ.get("SOURCEGRAD_UPDATE_GOLDEN") and not path.exists():
        path.write_text(source)
    assert path.exists(), f"no golden file {path}; run with SOURCEGRAD_UPDATE_GOLDEN=1"
    assert source == path.read_text(), f"tangent source of {name} changed; see {path}"


def test_tangent_source_is_deterministic():
    fn, wrt = TANGENT_GOLDEN["two_layers"]
    assert jvp(fn, wrt=wrt).source == jvp(fn, wrt=wrt).source


@pytest.mark.parametrize("name", sorted(SECOND_ORDER_GOLDEN))
def test_second_order_source_matches_golden(name):
    fn, wrt = SECOND_ORDER_GOLDEN[name]
    source = hessian(fn, wrt=wrt).source
    path = HERE / f"{name}.second_order.golden.py"
    if os.environ.get("SOURCEGRAD_UPDATE_GOLDEN") and not path.exists():
        path.write_text(source)
    assert path.exists(), f"no golden file {path}; run with SOURCEGRAD_UPDATE_GOLDEN=1"
    assert source == path.read_text(), f"second-order source of {name} changed; see {path}"
