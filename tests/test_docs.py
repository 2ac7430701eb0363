"""The documentation: generated reference pages are current, the site builds, the README runs."""

import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location("gen_reference", REPO / "docs" / "gen_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("page", ["errors", "api"])
def test_reference_pages_match_the_docstrings(page):
    text = getattr(_generator(), f"render_{page}")()
    path = REPO / "docs" / f"{page}.md"
    if os.environ.get("SOURCEGRAD_UPDATE_DOCS"):
        path.write_text(text)
    assert path.read_text() == text, f"docs/{page}.md is stale: run python docs/gen_reference.py"


def test_mkdocs_builds_strict(tmp_path):
    pytest.importorskip("mkdocs", reason="mkdocs is in the test extras")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path)],
                          cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "index.html").exists() and (tmp_path / "internals" / "index.html").exists()


def test_readme_quickstart_runs(tmp_path):
    readme = (REPO / "README.md").read_text()
    block = re.search(r"## Quickstart\n\n```python\n(.*?)```", readme, re.S).group(1)
    script = tmp_path / "quickstart.py"
    script.write_text(block)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "def grad_f(a, b, c, seed=None, acc=None):" in done.stdout
    assert "b_b = b_b + b_mul_1 * 2" in done.stdout
