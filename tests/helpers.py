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


def make_function(
    source: str, name: str | None = None, namespace: dict | None = None, filename: str | None = None
):
    source = textwrap.dedent(source).lstrip("\n")
    filename = filename or f"<test-source-{next(_counter)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    ns = {"np": np, "jnp": jnp, "__name__": "testsource"}
    ns.update(namespace or {})
    exec(compile(source, filename, "exec"), ns)
    if name is None:
        name = next(
            n
            for n, v in ns.items()
            if isinstance(v, types.FunctionType) and v.__code__.co_filename == filename
        )
    return ns[name]


def jax_version(fn, _done=None):
    """``fn`` with numpy replaced by jax.numpy in its globals, and in the test functions it calls."""
    done = {} if _done is None else _done
    if fn in done:
        return done[fn]
    g = dict(fn.__globals__)
    clone = types.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__, fn.__closure__)
    clone.__kwdefaults__ = fn.__kwdefaults__
    done[fn] = clone
    for k, v in list(g.items()):
        if v is np:
            g[k] = jnp
        elif isinstance(v, types.FunctionType) and (v.__module__ or "").startswith(("tests", "testsource")):
            g[k] = jax_version(v, done)
    return clone


def jax_vjp(fn, args: dict, wrt, seed=None):
    """The reference VJP from jax.vjp of the jax.numpy version of fn (arguments may be pytrees)."""
    jfn = jax_version(fn)

    def f(*w):
        full = dict(args)
        full.update(zip(wrt, w))
        return jfn(**full)

    primals = [jax.tree_util.tree_map(jnp.asarray, args[w]) for w in wrt]
    out, vjp = jax.vjp(f, *primals)
    if seed is None:
        seed = jax.tree_util.tree_map(jnp.ones_like, out)
    return out, vjp(seed)


def fd_vjp(fn, args: dict, wrt, seed=None, eps=1e-6):
    """Central finite differences in float64: d <seed, fn(args)> / d args[w], element by element.
    ``args[w]`` may be a container of arrays; the result has its structure."""

    def as64(v):
        return jax.tree_util.tree_map(lambda a: np.array(a, dtype=np.float64), v)

    args = {k: (as64(v) if k in wrt else v) for k, v in args.items()}
    out = np.asarray(fn(**args), dtype=np.float64)
    seed = np.ones_like(out) if seed is None else np.asarray(seed, dtype=np.float64)
    grads = []
    for w in wrt:
        leaves, tree = jax.tree_util.tree_flatten(args[w])
        leaf_grads = []
        for j, x in enumerate(leaves):
            x = np.asarray(x, dtype=np.float64)
            g = np.zeros_like(x)
            flat = g.reshape(-1)
            for i in range(x.size):

                def at(delta, x=x, i=i, j=j, leaves=leaves, tree=tree, w=w):  # this iteration's
                    moved = x.copy().reshape(-1)
                    moved[i] += delta
                    new_leaves = list(leaves)
                    new_leaves[j] = moved.reshape(x.shape) if x.ndim else np.float64(moved[0])
                    value = jax.tree_util.tree_unflatten(tree, new_leaves)
                    return np.asarray(fn(**{**args, w: value}), dtype=np.float64)

                h = eps * max(1.0, abs(x.reshape(-1)[i]))
                flat[i] = np.sum(seed * (at(h) - at(-h))) / (2 * h)
            leaf_grads.append(g)
        grads.append(jax.tree_util.tree_unflatten(tree, leaf_grads))
    return out, grads


def assert_close(actual, expected, rtol=1e-6, atol=1e-8, what=""):
    """Leaf by leaf (containers must have the same structure); a plain expected list is an array."""
    if not isinstance(actual, (dict, list, tuple)):
        actual, expected = [actual], [np.asarray(expected)]
    a_leaves, a_tree = jax.tree_util.tree_flatten(actual)
    e_leaves, e_tree = jax.tree_util.tree_flatten(expected)
    assert a_tree == e_tree, f"{what}: structure {a_tree} != {e_tree}"
    for a, e in zip(a_leaves, e_leaves):
        a, e = np.asarray(a), np.asarray(e)
        assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=what)


def library_frames(exc) -> list:
    """The frames of ``exc``'s traceback inside sourcegrad (and its rule tables), except those of
    the public API package (``sourcegrad/api/``: ``grad`` and the ``_public`` wrapper re-raise the
    user's errors there, with their own frames as the last): a located error for a mistake in the
    user's code must have none."""
    import os
    import traceback

    import sourcegrad

    root = os.path.dirname(sourcegrad.__file__)
    api = os.path.join(root, "api") + os.sep
    return [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if (f.filename.startswith(root) or f"{os.sep}transforms{os.sep}" in f.filename)
        and not f.filename.startswith(api)
    ]


def assert_hessian_matches_jax(fn, args: dict, name: str) -> None:
    """sourcegrad's Hessian of ``fn`` in its first argument against ``jax.hessian`` of the same
    code on jax.numpy."""
    import sourcegrad

    first = next(iter(args))
    (ours,) = jax.tree_util.tree_leaves(sourcegrad.hessian(fn, wrt=(first,))(**args))
    jfn = jax_version(fn)
    ref = jax.hessian(lambda v: jfn(**{**args, first: v}))(args[first])
    assert_close(ours, ref, rtol=1e-6, atol=1e-9, what=f"{name}: hessian vs jax")
