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
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
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
    # the README and the docs' front page show the quickstart's gradient function as it is printed
    shown = [
        b
        for page in ("README.md", "docs/index.md")
        for b in _python_blocks(REPO / page)
        if "def grad_f(" in b
    ]
    assert len(shown) == 2
    for block in shown:
        assert _contains(done.stdout, block), f"this excerpt is not what the quickstart prints:\n{block}"


def _python_blocks(page: pathlib.Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(), re.S)


def _without_docstrings(lines: list[str]) -> list[str]:
    """Lines less the docstrings (an excerpt may leave them out)."""
    out, inside, just_closed = [], False, False
    for line in lines:
        quotes = line.count('"""')
        if inside or quotes:
            if quotes == 1:
                inside = not inside
            just_closed = not inside
            continue
        if not (just_closed and not line.strip()):  # and the blank line after one
            out.append(line)
        just_closed = False
    return out


def _contains(text: str, block: str) -> bool:
    """Whether the block's lines stand, contiguous and unchanged, in text (docstrings optional)."""
    want = block.rstrip("\n").splitlines()
    for have in (text.splitlines(), _without_docstrings(text.splitlines())):
        if any(have[i : i + len(want)] == want for i in range(len(have) - len(want) + 1)):
            return True
    return False


GENERATED_MARK = re.compile(r"^\s*# == ", re.M)


def _generated_excerpts():
    for page in sorted((REPO / "docs").glob("*.md")):
        for block in _python_blocks(page):
            if GENERATED_MARK.search(block) and "def grad_f(" not in block:
                yield page.name, block


@pytest.mark.parametrize(
    "page,block", list(_generated_excerpts()), ids=lambda v: v if v.endswith(".md") else ""
)
def test_generated_code_in_the_docs_is_current(page, block):
    """Every excerpt of generated code in docs/ stands, line for line, in a golden file, and the
    golden tests hold those to the generator: the docs cannot show code sourcegrad no longer
    writes. To refresh an excerpt, copy it from tests/golden/ (after SOURCEGRAD_UPDATE_GOLDEN=1)."""
    goldens = sorted((REPO / "tests" / "golden").glob("*.golden.py"))
    assert any(_contains(g.read_text(), block) for g in goldens), (
        f"a generated-code excerpt in docs/{page} matches no file in tests/golden/; it begins:\n"
        + "\n".join(block.splitlines()[:4])
    )
