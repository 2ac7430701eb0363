"""The wheel must ship every subpackage of src/sourcegrad: a non-editable install (what CI and users
get) only contains the packages pyproject.toml lists, so a new folder that is not listed imports
fine in a dev checkout and fails everywhere else."""

import pathlib

import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_every_subpackage_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    src = ROOT / "src"
    found = {".".join(p.parent.relative_to(src).parts) for p in src.rglob("__init__.py")}
    assert found - listed == set(), f"add these to [tool.setuptools] packages: {sorted(found - listed)}"
    assert "sourcegrad.transforms" in listed
