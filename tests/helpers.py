"""Oracles and helpers shared by the tests.

* ``jax_version``: the same function with ``np`` bound to ``jax.numpy``, for ``jax.vjp``.
* ``fd_vjp``: float64 central finite differences of the original NumPy function.
* ``make_function``: define a function from source text, with its source readable by
  ``inspect`` (registered with linecache), as if it lived in a file.
"""

from __future__ import annotations

import itertools
import linecache
import textwrap
import types

import jax
import jax.numpy as jnp
import numpy as np

_counter = itertools.count()


def make_function(source: str, name: str | None = None, namespace: dict | None = None,
                  filename: str | None = None):
    source = textwrap.dedent(source).lstrip("\n")
    filename = filename or f"<test-source-{next(_counter)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    ns = {"np": np, "jnp": jnp, "__name__": "testsource"}
    ns.update(namespace or {})
    exec(compile(source, filename, "exec"), ns)
    if name is None:
        name = next(n for n, v in ns.items() if isinstance(v, types.FunctionType)
                    and v.__code__.co_filename == filename)
    return ns[name]


def jax_version(fn):
    """``fn`` with its globals' numpy replaced by jax.numpy (and sourcegrad markers by JAX's)."""
    g = dict(fn.__globals__)
    for k, v in list(g.items()):
        if v is np:
            g[k] = jnp
    clone = types.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__, fn.__closure__)
    clone.__kwdefaults__ = fn.__kwdefaults__
    return clone


def jax_vjp(fn, args: dict, wrt, seed=None):
    """The reference VJP from jax.vjp of the jax.numpy version of fn."""
    jfn = jax_version(fn)
    names = list(args)

    def f(*w):
        full = dict(args)
        full.update(zip(wrt, w))
        return jfn(**full)

    out, vjp = jax.vjp(f, *[jnp.asarray(args[w]) for w in wrt])
    if seed is None:
        seed = jnp.ones_like(out)
    return out, vjp(seed)


def fd_vjp(fn, args: dict, wrt, seed=None, eps=1e-6):
    """Central finite differences in float64: d <seed, fn(args)> / d args[w], element by element."""
    args = {k: (np.array(v, dtype=np.float64) if k in wrt else v) for k, v in args.items()}
    out = np.asarray(fn(**args), dtype=np.float64)
    seed = np.ones_like(out) if seed is None else np.asarray(seed, dtype=np.float64)
    grads = []
    for w in wrt:
        x = args[w]
        g = np.zeros_like(x)
        flat = g.reshape(-1)
        for i in range(x.size):
            xp = x.copy().reshape(-1)
            xm = x.copy().reshape(-1)
            h = eps * max(1.0, abs(xp[i]))
            xp[i] += h
            xm[i] -= h
            fp = np.asarray(fn(**{**args, w: xp.reshape(x.shape)}), dtype=np.float64)
            fm = np.asarray(fn(**{**args, w: xm.reshape(x.shape)}), dtype=np.float64)
            flat[i] = np.sum(seed * (fp - fm)) / (2 * h)
        grads.append(g)
    return out, grads


def assert_close(actual, expected, rtol=1e-6, atol=1e-8, what=""):
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)
