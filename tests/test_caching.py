"""enable_compilation_cache: a fresh process writes the gradient's executable to the cache folder,
and a second fresh process with the same folder computes the same gradient from it; the disk cache
of generated modules lets that process skip the transform (checked by making the transform raise),
with a key that changes with everything the generated module depends on."""

import importlib.util
import json
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

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


# ----- the disk cache of generated modules -----


MODEL = textwrap.dedent("""
    import numpy as np

    SCALE = 0.5


    def loss(W, b, x, n: int):
        h = x @ W + b
        for _ in range(n):
            h = np.tanh(h) * SCALE + h
        return np.sum(h**2)
""")

JAX_MODEL = textwrap.dedent("""
    import jax.numpy as np

    SCALE = 0.5


    def loss(W, b, x, n: int):
        h = x @ W + b
        for _ in range(n):
            h = np.tanh(h) * SCALE + h
        return np.sum(h**2)
""")

CHILD = textwrap.dedent("""
    import hashlib, json, sys
    import jax
    jax.config.update("jax_enable_x64", True)
    import numpy as np
    import sourcegrad
    from sourcegrad import pipeline
    from sourcegrad.deploy import module_cache
    sys.path.insert(0, {model_dir!r})
    sourcegrad.enable_compilation_cache({cache!r})
    if {forbid}:  # the cache must make the transform unnecessary
        def forbidden(*a, **k):
            raise AssertionError("the transform ran")
        pipeline.transform = forbidden
    import model, jax_model
    g = sourcegrad.grad(model.loss, wrt=("W", "b"))
    rng = np.random.default_rng(0)
    W, b, x = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(5, 3))
    got = g(W, b, x, 3)
    want = jax.grad(jax_model.loss, argnums=(0, 1))(W, b, x, 3)
    err = max(float(np.max(np.abs(np.asarray(a) - np.asarray(w)))) for a, w in zip(got, want))
    print(json.dumps({{"stats": module_cache.stats, "err": err,
                      "source": hashlib.sha256(g.source.encode()).hexdigest(),
                      "cached": type(g._transformed).__name__}}))
""")


def _model_dir(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir(exist_ok=True)
    (folder / "model.py").write_text(MODEL)
    (folder / "jax_model.py").write_text(JAX_MODEL)
    return folder


def _child(tmp_path, forbid=False):
    script = CHILD.format(model_dir=str(_model_dir(tmp_path)), cache=str(tmp_path / "cache"), forbid=forbid)
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if k != "SOURCEGRAD_MODULE_CACHE"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _entries(tmp_path):
    return sorted((tmp_path / "cache" / "modules").glob("*/*.json"))


def test_a_second_process_loads_the_generated_module_and_does_not_transform(tmp_path):
    first = _child(tmp_path)
    assert first["stats"]["misses"] >= 1 and first["stats"]["hits"] == 0
    assert first["cached"] == "Transformed" and first["err"] < 1e-12
    assert _entries(tmp_path), "nothing was written to the module cache"
    second = _child(tmp_path, forbid=True)  # pipeline.transform raises in this process
    assert second["stats"]["hits"] == first["stats"]["misses"] and second["stats"]["misses"] == 0
    assert second["cached"] == "CachedTransform"
    assert second["err"] < 1e-12  # the same gradient as jax.grad
    assert second["source"] == first["source"]  # .source byte-identical from the cache


def test_a_corrupted_entry_is_a_miss_not_a_crash(tmp_path):
    _child(tmp_path)
    for entry in _entries(tmp_path):
        text = entry.read_text()
        entry.write_text(text[: len(text) // 2])  # a partial write
    again = _child(tmp_path)
    assert again["stats"]["broken"] >= 1 and again["stats"]["hits"] == 0
    assert again["err"] < 1e-12
    for entry in _entries(tmp_path):  # written again, whole
        assert json.loads(entry.read_text())["source"]


KEYS = textwrap.dedent("""
    import importlib, json, pathlib, sys
    import jax
    import numpy as np
    import sourcegrad
    from sourcegrad.deploy import module_key
    sys.path.insert(0, {model_dir!r})
    import model
    kinds = dict(param_kinds={{"W": "array", "b": "array", "x": "array", "n": "static"}})
    def key(wrt=("W", "b"), **options):
        return module_key.key(model.loss, wrt, dict(kinds, **options))
    out = {{"base": key(), "again": key(), "wrt": key(wrt=("W",)), "checkpoint": key(checkpoint="sqrt"),
           "max_iter": key(max_iter=7)}}
    with jax.enable_x64(True):
        out["x64"] = key()
    model.SCALE = 0.25
    out["module value"] = key()
    model.SCALE = 0.5
    out["module value back"] = key()
    def softplus(x):
        return np.logaddexp(x, 0.0)
    sourcegrad.register_rule(softplus, "softplus(x)", x="g / (1 + jnp.exp(-x))")
    out["rule"] = key()
    path = pathlib.Path(model.__file__)
    path.write_text(path.read_text().replace("h**2", "h**3"))
    importlib.reload(model)
    out["source"] = key()
    print(json.dumps(out))
""")


def test_the_key_changes_with_what_changes_the_generated_module(tmp_path):
    script = KEYS.format(model_dir=str(_model_dir(tmp_path)))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    keys = json.loads(done.stdout.strip().splitlines()[-1])
    assert keys["again"] == keys["base"] == keys["module value back"]
    changed = ["wrt", "checkpoint", "max_iter", "x64", "module value", "rule", "source"]
    assert len({keys["base"], *(keys[k] for k in changed)}) == 1 + len(changed)


@pytest.fixture
def module_cache_in(tmp_path, monkeypatch):
    from sourcegrad.deploy import module_cache

    monkeypatch.setitem(module_cache._STATE, "folder", None)
    monkeypatch.setitem(module_cache.stats, "hits", 0)
    monkeypatch.setitem(module_cache.stats, "misses", 0)
    monkeypatch.setitem(module_cache.stats, "uncacheable", 0)
    module_cache.enable(tmp_path / "modules")
    yield module_cache
    module_cache.disable()


def _import(tmp_path, name, text):
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_in_one_process_a_hit_gives_the_same_source_gradient_and_stages(tmp_path, module_cache_in):
    import sourcegrad

    model = _import(tmp_path, "cache_model_a", MODEL)
    rng = np.random.default_rng(1)
    W, b, x = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(5, 3))
    made = sourcegrad.grad(model.loss, wrt=("W", "b"))
    want = made(W, b, x, 2)
    assert module_cache_in.stats["misses"] >= 1 and module_cache_in.stats["hits"] == 0
    loaded = sourcegrad.grad(model.loss, wrt=("W", "b"))
    got = loaded(W, b, x, 2)
    assert module_cache_in.stats["hits"] >= 1
    assert type(loaded._transformed).__name__ == "CachedTransform"
    assert loaded.source == made.source
    for a, w in zip(got, want):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(w))
    assert loaded.stages == made.stages  # inspection transforms on demand
    model.SCALE = 0.25  # a module value rebound after the load: made again, as without the cache
    changed = loaded(W, b, x, 2)
    assert not np.allclose(np.asarray(changed[0]), np.asarray(got[0]))
    np.testing.assert_allclose(
        np.asarray(changed[0]), np.asarray(sourcegrad.grad(model.loss, wrt="W")(W, b, x, 2))
    )


def test_a_function_that_calls_the_users_own_functions_is_not_cached(tmp_path, module_cache_in):
    import sourcegrad

    model = _import(
        tmp_path,
        "cache_model_b",
        "import numpy as np\n\n\ndef layer(x):\n    return np.tanh(x)\n\n\ndef f(x):\n    return np.sum(layer(x))\n",
    )
    g = sourcegrad.grad(model.f)
    np.testing.assert_allclose(g(np.array([0.3, 0.7])), 1 - np.tanh([0.3, 0.7]) ** 2)
    assert module_cache_in.stats["uncacheable"] >= 1 and module_cache_in.stats["misses"] == 0
    assert not list((tmp_path / "modules").glob("*/*.json"))


def test_clear_cache_removes_the_entries(tmp_path, module_cache_in):
    import sourcegrad

    model = _import(tmp_path, "cache_model_c", MODEL)
    sourcegrad.grad(model.loss, wrt="W")
    assert list((tmp_path / "modules").glob("*/*.json"))
    assert sourcegrad.clear_cache() >= 1
    assert not list((tmp_path / "modules").glob("*/*.json"))


def test_writers_and_readers_at_once_never_see_a_partial_entry(tmp_path):
    import threading

    from sourcegrad.deploy import module_cache

    key = "ab" + "0" * 62
    entry = {"format": 1, "key": key, "source": "x = 1\n" * 20000}
    seen, errors = [], []
    module_cache._write(tmp_path, key, entry)

    def write():
        for _ in range(20):
            module_cache._write(tmp_path, key, entry)

    def read():
        for _ in range(200):
            try:
                seen.append(json.loads(module_cache._path(tmp_path, key).read_text()) == entry)
            except ValueError as exc:  # a torn read
                errors.append(exc)

    threads = [threading.Thread(target=f) for f in (write, write, write, read, read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and all(seen) and seen
    assert [p.name for p in (tmp_path / "ab").iterdir()] == [f"{key}.json"]  # no temporary left


RULE_CHILD = textwrap.dedent("""
    import json, sys
    import jax, jax.numpy as jnp
    import numpy as np
    import sourcegrad
    from sourcegrad import pipeline
    from sourcegrad.deploy import module_cache
    sys.path.insert(0, {model_dir!r})
    sourcegrad.enable_compilation_cache({cache!r})
    import ruled
    sourcegrad.register_rule(ruled.softplus, "softplus(x)", x="g / (1 + jnp.exp(-x))")
    if {forbid}:
        def forbidden(*a, **k):
            raise AssertionError("the transform ran")
        pipeline.transform = forbidden
    g = sourcegrad.grad(ruled.f)
    x = np.array([0.3, -1.2, 2.0])
    err = float(np.max(np.abs(np.asarray(g(x)) - np.asarray(jax.grad(ruled.f)(jnp.asarray(x))))))
    try:  # the rule was used (from the cache too): registering it again is refused
        sourcegrad.register_rule(ruled.softplus, "softplus(x)", x="g")
        refused = False
    except sourcegrad.RuleError:
        refused = True
    print(json.dumps({{"hits": module_cache.stats["hits"], "err": err, "refused": refused}}))
""")


def test_a_registered_rule_is_bound_and_marked_used_on_a_hit(tmp_path):
    (tmp_path / "ruled.py").write_text(
        "import jax.numpy as jnp\n\n\ndef softplus(x):\n    return jnp.logaddexp(x, 0.0)\n\n\n"
        "def f(x):\n    return jnp.sum(softplus(x) * x)\n"
    )
    outs = []
    for forbid in (False, True):
        script = RULE_CHILD.format(model_dir=str(tmp_path), cache=str(tmp_path / "cache"), forbid=forbid)
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        outs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    assert outs[0]["hits"] == 0 and outs[1]["hits"] >= 1
    assert all(o["err"] < 1e-6 and o["refused"] for o in outs)
