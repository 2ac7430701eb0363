"""Caches under threads and the lifetime of generated sources (issue 9): one transform and one
compile per signature whatever the number of threads; linecache entries go with the gradient."""

import gc
import importlib
import linecache
import threading
import time

import jax
import numpy as np

import sourcegrad
import sourcegrad.pipeline
from sourcegrad import grad

from .helpers import assert_close, make_function


def counting(monkeypatch):
    """Count transforms (slowed down, to widen any race) and traces of generated code."""
    counts = {"transform": 0, "trace": 0}
    lock = threading.Lock()
    real_transform, real_jit = sourcegrad.pipeline.transform, jax.jit

    def transform(*args, **kwargs):
        with lock:
            counts["transform"] += 1
        time.sleep(0.05)
        return real_transform(*args, **kwargs)

    def jit(fn, **kwargs):
        def traced(*args):
            with lock:
                counts["trace"] += 1
            time.sleep(0.02)
            return fn(*args)

        return real_jit(traced, **kwargs)

    monkeypatch.setattr(sourcegrad.pipeline, "transform", transform)
    # the module, not the function `grad` that sourcegrad.api exports under the same name
    monkeypatch.setattr(importlib.import_module("sourcegrad.api.grad").jax, "jit", jit)
    return counts


def run_together(calls):
    barrier = threading.Barrier(len(calls))
    results, errors = [None] * len(calls), []

    def work(i):
        try:
            barrier.wait()
            results[i] = calls[i]()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def test_sixteen_threads_first_calling_one_function(monkeypatch):
    counts = counting(monkeypatch)
    f = make_function("""
        def f(params, x):
            total = 0.0
            for name, v in params.items():
                total = total + np.sum(np.sin(v * x))
            return total
    """)
    g = grad(f)  # params.items(): the transform waits for the first call's argument kinds
    assert counts["transform"] <= 1
    before = counts["transform"]
    signatures = [
        ({"a": np.ones(3)}, np.full(3, 0.5)),
        ({"a": np.ones(4)}, np.full(4, 0.5)),
        ({"a": np.ones(3), "b": np.ones(3) * 2}, np.full(3, 0.5)),
        ({"a": np.ones(4), "b": np.ones(4) * 2}, np.full(4, 0.5)),
    ]
    calls = [(lambda s=s: g(*s)) for s in signatures for _ in range(4)]
    results = run_together(calls)
    # two argument kinds (one or two dict entries): two transforms; four shapes: four traces
    assert counts["transform"] - before == 2, counts
    assert counts["trace"] == 4, counts
    for (params, x), got in zip([s for s in signatures for _ in range(4)], results):
        for k, v in params.items():
            assert_close(got[k], np.cos(v * x) * x)
    # and AOT compilation: one per signature too
    compiled = run_together([(lambda s=s: g.compile(*s)) for s in signatures for _ in range(4)])
    assert g.compiled_count == 4 and len({id(c) for c in compiled}) == 4


def test_sixteen_threads_one_signature_many_gradient_objects(monkeypatch):
    counts = counting(monkeypatch)

    def f(x):
        return np.sum(np.tanh(x) ** 2)

    g = grad(f)
    x = np.linspace(-1, 1, 5)
    results = run_together([lambda: g(x)] * 16)
    assert counts["trace"] == 1, counts
    for r in results:
        assert_close(r, 2 * np.tanh(x) * (1 - np.tanh(x) ** 2))


def test_linecache_entries_go_with_the_gradient():
    f = make_function("""
        def f(x):
            return np.sum(x ** 3)
    """)
    g = grad(f)
    name = g.filename
    assert "".join(linecache.getlines(name)) == g.source
    h = grad(f, wrt=0)  # the same function: the same file name, two live sources
    assert h.filename == name
    del g
    gc.collect()
    assert "".join(linecache.getlines(name)) == h.source
    assert_close(h(np.array([1.0, 2.0])), [3.0, 12.0])
    del h
    gc.collect()
    assert name not in linecache.cache


def test_memory_stays_bounded_over_many_gradients():
    """10,000 decorated functions are too slow for the default suite; 120 show the trend."""
    import tracemalloc

    f = make_function("""
        def f(x, w):
            y = np.tanh(x * w)
            return np.sum(y * y)
    """)

    def make_many(n):
        for _ in range(n):
            grad(f, wrt=("x", "w"))
        gc.collect()

    make_many(20)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    make_many(120)
    grown = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert grown < 120 * 1024, f"{grown} bytes kept after 120 gradients were dropped"
    assert not [
        k
        for k in linecache.cache
        if k.startswith("<sourcegrad: grad of f from <test-source")
        and k.endswith(f"{f.__code__.co_filename}:1>")
    ]
