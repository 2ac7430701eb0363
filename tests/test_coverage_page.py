"""docs/coverage.md is generated from the rule registry and lists every rule."""

import importlib.util
import os
import pathlib

from sourcegrad.rules import all_rules

REPO = pathlib.Path(__file__).resolve().parents[1]


def _render() -> str:
    spec = importlib.util.spec_from_file_location("gen_reference", REPO / "docs" / "gen_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.render_coverage()


def test_coverage_page_is_current():
    text = _render()
    path = REPO / "docs" / "coverage.md"
    if os.environ.get("SOURCEGRAD_UPDATE_DOCS"):
        path.write_text(text)
    assert path.read_text() == text, "docs/coverage.md is stale: run python docs/gen_reference.py"


def test_coverage_page_lists_every_rule():
    text = (REPO / "docs" / "coverage.md").read_text()
    # rules a transform made for one call's keywords (`vjp_of[axis:static]`, rule_jax) are not the
    # registry's: which exist depends on what ran before in this process
    builtin = [key for key, rule in all_rules().items() if rule.user_object is None and "[" not in key]
    missing = [key for key in builtin if f"| `{key}` |" not in text]
    assert not missing, missing
    assert f"{len(builtin)} rules in all." in text
