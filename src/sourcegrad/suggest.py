"""The ``register_rule`` call suggested for a function that has no derivative rule."""

from __future__ import annotations

import importlib
import inspect

_NOT_PARAMS = {"out", "where", "dtype", "casting", "order", "subok", "signature", "extobj"}


def suggestion(written: str, obj) -> str:
    """A ``register_rule`` call for ``obj`` (called as ``written``) that works once its adjoint
    template is filled in: the parameters NumPy's signature names (no ``out=``), and for a NumPy or
    SciPy function the JAX function the generated code can call (``jax_impl=``)."""
    name = written.split(".")[-1]
    nin = getattr(obj, "nin", None)  # a ufunc: its inputs
    if nin is not None:
        params = ["x"] if nin == 1 else [f"x{i + 1}" for i in range(nin)]
    else:
        try:
            sig = inspect.signature(obj).parameters.values()
            params = [
                p.name
                for p in sig
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                and p.default is p.empty
                and p.name not in _NOT_PARAMS
            ][:3] or ["x"]
        except (TypeError, ValueError):
            params = ["x"]
    adjoints = ", ".join(f'{p}="g * <d {name} / d {p}>"' for p in params)
    impl = ""
    if is_numpy_or_scipy(obj):
        module = getattr(obj, "__module__", None) or "numpy"
        twin = None
        if module.startswith("numpy"):
            twin = _twin(written, obj, "jnp")
        elif module.startswith("scipy."):
            twin = _twin(f"jax.scipy.{module.split('.')[1]}.{name}", obj, None)
        impl = f", jax_impl={twin or '<a JAX function computing the same>'}"
    return f'sourcegrad.register_rule({written}, "{name}({", ".join(params)})", {adjoints}{impl})'


def _twin(written: str, obj, root) -> str | None:
    """The jax.numpy / jax.scipy function named like ``obj``, as it is written, if it exists."""
    import jax.numpy as jnp

    if root == "jnp":
        path = written.split(".", 1)[1] if "." in written else written
        found: object = jnp
        for part in path.split("."):
            found = getattr(found, part, None)
        return f"jnp.{path}" if found is not None else None
    module, _, name = written.rpartition(".")
    try:
        return written if hasattr(importlib.import_module(module), name) else None
    except ImportError:
        return None


def is_numpy_or_scipy(fn) -> bool:
    module = getattr(fn, "__module__", None) or ("numpy" if type(fn).__name__ == "ufunc" else "")
    return module.split(".")[0] in ("numpy", "scipy")
