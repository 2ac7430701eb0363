"""enable_compilation_cache: a fresh process writes the gradient's executable to the cache folder,
and a second fresh process with the same folder computes the same gradient from it."""

import pathlib
import subprocess
import sys
import textwrap

REPO = pathlib.Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import sourcegrad
    folder = sourcegrad.enable_compilation_cache({path})
    sys.path.insert(0, {repo!r})
    from tests import jax_functions as F
    g = sourcegrad.grad(F.recurrence, wrt=("x", "k"))
    gx, gk = g(np.linspace(0.1, 1.0, 5), 0.6)
    print(folder, repr(float(gk)))
""")


def run(path, env=None):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(path=path, repo=str(REPO))],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.split()


def test_a_second_process_reads_the_cache(tmp_path):
    folder, first = run(repr(str(tmp_path / "xla")))
    entries = sorted(p.name for p in pathlib.Path(folder).iterdir())
    assert entries, "nothing was written to the compilation cache"
    _, second = run(repr(str(tmp_path / "xla")))
    assert second == first
    assert sorted(p.name for p in pathlib.Path(folder).iterdir()) == entries  # no new compilation


def test_default_folder_follows_sourcegrad_cache_dir(tmp_path):
    import os

    env = dict(os.environ, SOURCEGRAD_CACHE_DIR=str(tmp_path / "root"))
    folder, _ = run("None", env)
    assert pathlib.Path(folder) == tmp_path / "root" / "xla"
    assert any(pathlib.Path(folder).iterdir())
