"""Golden tests: the generated source of a few functions, byte for byte.

A change to the generator shows up here as a diff of generated code, to be
read and accepted deliberately: rerun with SOURCEGRAD_UPDATE_GOLDEN=1 to
rewrite the files, then review ``git diff tests/golden``.
"""

import os
import pathlib

import pytest

from sourcegrad import grad

from .golden.functions import GOLDEN

HERE = pathlib.Path(__file__).parent / "golden"


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_generated_source_matches_golden(name):
    fn, wrt = GOLDEN[name]
    source = grad(fn, wrt=wrt).source
    path = HERE / f"{name}.golden.py"
    if os.environ.get("SOURCEGRAD_UPDATE_GOLDEN"):
        path.write_text(source)
    assert path.exists(), f"no golden file {path}; run with SOURCEGRAD_UPDATE_GOLDEN=1"
    assert source == path.read_text(), f"generated source of {name} changed; see {path}"
