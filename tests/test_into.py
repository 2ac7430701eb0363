"""The gradient in the user's own file: `sourcegrad emit --into file.py:fn` and `sourcegrad verify`.

The oracle for the inserted code is jax.grad of the same function written in jax.numpy; the oracle
for the edit is the original file's bytes (everything outside the inserted block is unchanged).
"""

import importlib.util
import itertools
import pathlib
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sourcegrad import __version__

from .helpers import assert_close
from .test_cli import cli_here

# A realistic module: comments everywhere, odd spacing, a constant, a helper, a loop, and code
# after the function that the edit must leave alone byte for byte.
MODEL = """\
# model.py -- a two-layer network   (hand formatted, keep as is)
import numpy as np

SCALE = 0.5   # weight of the data term
DECAY=1e-3


def act(z):
    return np.tanh(z)    # the nonlinearity



def loss(W, b, x, y, n=2):
    # forward
    h = act(x @ W + b)   # hidden layer
    for _ in range(n):
        h = h * 0.9 + 0.1*act(h)   # a few smoothing steps
    r = h - y
    return SCALE * np.sum(r ** 2) + DECAY * np.sum(W*W)
# a comment after loss, at column 0


def predict(W, b, x):   # not differentiated
    return act(x @ W + b)
# end of file comment
"""


def reference_loss(W, b, x, y, n=2, scale=0.5, step=0.1):
    h = jnp.tanh(x @ W + b)
    for _ in range(n):
        h = h * 0.9 + step * jnp.tanh(h)
    return scale * jnp.sum((h - y) ** 2) + 1e-3 * jnp.sum(W * W)


def arrays(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(5, 3)), rng.normal(size=(5, 4))


_counter = itertools.count()


def import_file(path: pathlib.Path):
    name = f"into_model_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.pop(0)
    return module


def inserted(before: bytes, after: bytes) -> tuple[int, bytes]:
    """The one contiguous run of bytes ``after`` has more than ``before`` (asserting that
    everything else is identical), and where it starts."""
    start = next((i for i, (a, b) in enumerate(zip(before, after)) if a != b), len(before))
    added = len(after) - len(before)
    assert added > 0
    assert after[:start] == before[:start]
    # the insertion may be placed anywhere in a run of equal bytes: compare the rest from the end
    assert after[start + added :] == before[start:], "bytes outside the block changed"
    return start, after[start : start + added]


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "model.py"
    path.write_text(MODEL)
    return path


def emit_into(path, *more):
    done = cli_here("emit", "--into", f"{path}:loss", *more)
    assert done.returncode == 0, done.stderr
    return path.read_bytes()


def test_the_block_is_inserted_after_the_function_and_nothing_else_changes(model):
    before = model.read_bytes()
    after = emit_into(model, "--wrt", "W,b")
    start, block = inserted(before, after)
    text = block.decode()
    # just after loss (and the column-0 comment LibCST keeps with the next statement comes after)
    assert before[:start].decode().rstrip().endswith("return SCALE * np.sum(r ** 2) + DECAY * np.sum(W*W)")
    assert text.startswith(
        "\n\n# fmt: off\n# >>> sourcegrad: grad_loss, the gradient of `loss` with respect to W, b."
    )
    assert f"# sourcegrad {__version__} | function loss | wrt W,b | source " in text
    assert text.endswith("grad_loss = _sourcegrad_grad_loss()\n# <<< sourcegrad: grad_loss\n# fmt: on\n")
    assert "def grad_loss(W, b, x, y, n=2, seed=None, acc=None):" in text
    # only the definitions the gradient needs: no normal-form copy of loss or act shadowing the module's
    assert "    def loss(" not in text and "    def act(" not in text
    assert "# line " not in text  # line numbers would go stale with any edit above the function


def test_the_in_file_gradient_runs_in_the_module_and_matches_jax_grad(model):
    emit_into(model, "--wrt", "W,b")
    module = import_file(model)
    W, b, x, y = arrays()
    value, (gW, gb) = module.grad_loss(W, b, x, y)
    assert_close(value, reference_loss(W, b, x, y))
    assert_close((gW, gb), jax.grad(reference_loss, argnums=(0, 1))(W, b, x, y))
    # it reads the module's values when called, as loss does
    module.SCALE = 2.0
    _, (gW2, _) = module.grad_loss(W, b, x, y, n=3)
    assert_close(gW2, jax.grad(reference_loss)(W, b, x, y, 3, 2.0))
    # and the module's own names are untouched: act is still the NumPy function
    assert module.act is module.loss.__globals__["act"] and module.act.__module__ == module.__name__
    assert jax.jit(module.grad_loss, static_argnums=4)(W, b, x, y, 2)[1][0].shape == W.shape


def test_running_it_twice_is_byte_identical(model):
    first = emit_into(model, "--wrt", "W,b")
    done = cli_here("emit", "--into", f"{model}:loss", "--wrt", "W,b")
    assert done.returncode == 0 and "unchanged" in done.stderr
    assert model.read_bytes() == first


def test_refresh_after_editing_the_function_changes_only_the_function_and_the_block(model):
    emit_into(model, "--wrt", "W,b")
    edited = model.read_text().replace("0.1*act(h)", "0.2*act(h)", 1)
    model.write_text(edited)
    stale = cli_here("verify", model)
    assert stale.returncode == 1
    assert f"{model}:23: grad_loss (the gradient of `loss`) is stale: `loss`'s source changed" in stale.stderr
    after = emit_into(model, "--wrt", "W,b")
    # the file is the edited one with its block replaced: the same bytes before and after the block
    old, new = edited.encode(), after
    head = old.index(b"# fmt: off")
    assert new[:head] == old[:head]
    assert new[new.index(b"# fmt: on") :] == old[old.index(b"# fmt: on") :]
    assert b"# h = h * 0.9 + 0.2*act(h)" in new[head:] and b"0.1*act(h)" not in new[head:]
    module = import_file(model)
    W, b, x, y = arrays(1)
    expected = jax.grad(reference_loss, argnums=(0, 1))(W, b, x, y, 2, 0.5, 0.2)
    assert_close(module.grad_loss(W, b, x, y)[1], expected)
    assert cli_here("verify", model).returncode == 0


def test_verify_is_0_when_current_and_1_naming_the_line_when_stale(model):
    assert cli_here("verify", model).returncode == 0  # no block yet: nothing is stale
    emit_into(model, "--wrt", "W,b")
    fresh = cli_here("verify", model)
    assert fresh.returncode == 0, fresh.stderr
    lines = model.read_text().splitlines()
    line = lines.index(next(t for t in lines if t.startswith("# >>> sourcegrad: grad_loss"))) + 1
    model.write_text(model.read_text().replace("DECAY * np.sum(W*W)", "DECAY * np.sum(W*W*W)", 1))
    done = cli_here("verify", model)
    assert done.returncode == 1
    assert f"{model}:{line}: grad_loss (the gradient of `loss`) is stale" in done.stderr
    assert "`loss`'s source changed" in done.stderr and "emit --into" in done.stderr
    fixed = cli_here("verify", "--fix", model)
    assert fixed.returncode == 0 and "refreshed" in fixed.stderr
    assert cli_here("verify", model).returncode == 0


def test_a_change_in_a_called_function_makes_it_stale_too(model):
    emit_into(model, "--wrt", "W,b")
    model.write_text(model.read_text().replace("return np.tanh(z)", "return np.sin(z)", 1))
    done = cli_here("verify", model)
    assert done.returncode == 1
    assert "the generated code differs" in done.stderr


def test_a_block_whose_function_is_gone_is_named_and_not_fixed(model):
    emit_into(model, "--wrt", "W,b")
    text = model.read_text().replace("def loss(W, b, x, y, n=2):", "def renamed(W, b, x, y, n=2):", 1)
    model.write_text(text)
    for args in (("verify",), ("verify", "--fix")):
        done = cli_here(*args, model)
        assert done.returncode == 1, done.stderr
        assert "`loss` is no longer a top-level function of the file" in done.stderr
        assert "delete the block" in done.stderr
    assert model.read_text() == text


def test_a_version_change_is_named(model):
    emit_into(model, "--wrt", "W,b")
    text = model.read_text().replace(f"# sourcegrad {__version__} |", "# sourcegrad 0.0.1 |")
    model.write_text(text)
    done = cli_here("verify", model)
    assert done.returncode == 1
    assert f"written by sourcegrad 0.0.1, this is {__version__}" in done.stderr
    assert "edited by hand" not in done.stderr  # the fingerprint line is outside the body's hash


def test_a_hand_edited_block_is_refused_unless_forced(model):
    first = emit_into(model, "--wrt", "W,b")
    model.write_bytes(first.replace(b"b_W = jnp.zeros_like(W)", b"b_W = 0 * W"))
    edited = model.read_bytes()
    done = cli_here("emit", "--into", f"{model}:loss", "--wrt", "W,b")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "was edited by hand" in done.stderr and "--force" in done.stderr
    assert model.read_bytes() == edited
    stale = cli_here("verify", model)
    assert stale.returncode == 1 and "the block was edited by hand" in stale.stderr
    assert cli_here("verify", "--fix", model).returncode == 1  # --fix does not overwrite it either
    assert emit_into(model, "--wrt", "W,b", "--force") == first


def test_errors_exit_2_with_a_located_message_and_no_traceback(tmp_path, model):
    missing = cli_here("emit", "--into", f"{model}:nothing")
    assert missing.returncode == 2 and "has no top-level `def nothing`" in missing.stderr
    text = tmp_path / "model.txt"
    text.write_text(MODEL)
    assert "not one" in cli_here("emit", "--into", f"{text}:loss").stderr
    broken = tmp_path / "broken.py"
    broken.write_text(MODEL.replace("def predict(W, b, x):", "def predict(W, b, x)"))
    done = cli_here("emit", "--into", f"{broken}:loss")
    assert done.returncode == 2 and f"{broken}:23:" in done.stderr and "does not parse" in done.stderr
    assert broken.read_text() == MODEL.replace("def predict(W, b, x):", "def predict(W, b, x)")
    # verify parses a file with a block (a file without one it leaves alone: 0)
    assert cli_here("verify", broken).returncode == 0
    with_block = emit_into(model, "--wrt", "W,b").decode()
    broken.write_text(with_block.replace("def predict(W, b, x):", "def predict(W, b, x)"))
    done = cli_here("verify", broken)
    line = with_block.splitlines().index("def predict(W, b, x):   # not differentiated") + 1
    assert done.returncode == 2 and f"{broken}:{line}:" in done.stderr and "does not parse" in done.stderr
    model.write_text(MODEL)
    with_o = cli_here("emit", "--into", f"{model}:loss", "-o", tmp_path / "g.py")
    assert with_o.returncode == 2 and "give no -o" in with_o.stderr
    for done in (missing, with_o):
        assert "Traceback" not in done.stderr
    # a name the file already binds is not overwritten
    taken = tmp_path / "taken.py"
    taken.write_text(MODEL + "\n\ngrad_loss = None\n")
    clash = cli_here("emit", "--into", f"{taken}:loss", "--wrt", "W,b")
    assert clash.returncode == 2 and "already binds `grad_loss`" in clash.stderr
    # a block whose end marker was deleted is named, not guessed at
    emit_into(model, "--wrt", "W,b")
    model.write_text(model.read_text().replace("# <<< sourcegrad: grad_loss\n", ""))
    lost = cli_here("verify", model)
    assert lost.returncode == 2 and "has no end line" in lost.stderr


def test_end_to_end_in_a_process(model):
    """The installed command: exit statuses and stderr as CI sees them."""

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "sourcegrad", *map(str, args)], capture_output=True, text=True
        )

    assert run("emit", "--into", f"{model}:loss", "--wrt", "W,b").returncode == 0
    assert cli_here("verify", model).returncode == 0
    model.write_text(model.read_text().replace("SCALE * np.sum", "SCALE * 3 * np.sum", 1))
    done = run("verify", model)
    assert done.returncode == 1 and "stale" in done.stderr and "Traceback" not in done.stderr
    bad = cli_here("emit", "--into", f"{model}:nothing")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    script = "import sourcegrad, sys; print('libcst' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", script], capture_output=True, text=True).stdout == "False\n"


def test_values_from_another_module_are_imported_and_crlf_is_kept(tmp_path):
    (tmp_path / "mylib.py").write_text(
        "import numpy as np\n\nALPHA = 0.3\n\n\ndef leaky(z):\n    return ALPHA * z + np.tanh(z)\n"
    )
    path = tmp_path / "net.py"
    source = "import numpy as np\r\nfrom mylib import leaky\r\n\r\n\r\ndef loss(w, x):\r\n    return np.sum(leaky(x * w))\r\n"
    path.write_bytes(source.encode())
    done = cli_here("emit", "--into", f"{path}:loss", "--wrt", "w")
    assert done.returncode == 0, done.stderr
    after = path.read_bytes()
    _, block = inserted(source.encode(), after)
    assert b"\n" not in block.replace(b"\r\n", b"")  # the file's own line endings
    assert b"from mylib import ALPHA" in block
    module = import_file(path)
    w, x = np.array([0.5, -1.0, 2.0]), np.array([1.0, 2.0, -0.5])
    expected = jax.grad(lambda w: jnp.sum(0.3 * x * w + jnp.tanh(x * w)))(w)
    assert_close(module.grad_loss(w, x)[1], (expected,))  # a tuple of one, as emit writes it
    assert cli_here("verify", path).returncode == 0


def test_the_docs_example_runs_and_shows_the_block_emit_writes(tmp_path):
    import re

    page = (pathlib.Path(__file__).parents[1] / "docs" / "deploying.md").read_text()
    section = page[page.index("## The gradient in your own file") :]
    model_py, usage = re.findall(r"```python\n(.*?)```", section, re.S)[:2]
    shown = re.search(r"```text\n(.*?)```", section, re.S).group(1)
    (tmp_path / "model.py").write_text(model_py)
    emit_into(tmp_path / "model.py", "--wrt", "W,b")
    written = (tmp_path / "model.py").read_text().splitlines()
    for line in shown.splitlines():
        if " ...  " in line or line.endswith("): ..."):  # the excerpt elides the generated functions
            continue
        if line.startswith("# sourcegrad "):  # the fingerprint: its hashes change with the version
            line = line[: line.index(" | source ")]
            assert any(w.startswith(line) for w in written), line
            continue
        assert line in written, f"docs/deploying.md shows a line emit --into does not write: {line!r}"
    sys.path.insert(0, str(tmp_path))
    try:
        sys.modules.pop("model", None)
        namespace: dict = {}
        exec(usage, namespace)  # noqa: S102 - the documentation's own snippet
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("model", None)
    W, b, x, y = (namespace[k] for k in "Wbxy")
    expected = jax.grad(lambda W, b: 0.5 * jnp.sum((jnp.tanh(x @ W + b) - y) ** 2), argnums=(0, 1))(W, b)
    assert_close((namespace["gW"], namespace["gb"]), expected)
