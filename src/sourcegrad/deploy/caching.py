"""Fast start in a new process: JAX's persistent compilation cache for the compiled gradients, and
sourcegrad's cache of the generated modules (module_cache.py).

``sourcegrad.enable_compilation_cache()`` points JAX's persistent compilation cache at a folder
(``path``, else ``$SOURCEGRAD_CACHE_DIR/xla``, else ``~/.cache/sourcegrad/xla``, or
``$XDG_CACHE_HOME/sourcegrad/xla``) and caches every compilation, however quick. The generated
code is deterministic (same function, same options, same sourcegrad: same text, same names), so a
new process that compiles the same gradient for the same shapes loads XLA's executable from disk
instead of compiling it. Off by default: it writes to disk, and JAX's cache is process-wide (it
applies to the caller's own jax.jit functions as well).

The same call turns on the disk cache of generated modules (``modules=False`` leaves it off), in
``<path>/modules`` (a subfolder JAX's cache does not read), else ``$SOURCEGRAD_CACHE_DIR/modules``
(``~/.cache/sourcegrad/modules``): a new process then loads each gradient's generated source
instead of transforming the function again. ``clear_cache()`` empties it."""

from __future__ import annotations

import pathlib

import jax

from . import module_cache
from .module_cache import default_cache_dir

__all__ = ["enable_compilation_cache", "default_cache_dir", "clear_cache"]


def enable_compilation_cache(path=None, *, modules: bool = True) -> pathlib.Path:
    """Turn on JAX's persistent compilation cache in ``path`` (default: see the module docstring)
    and, unless ``modules=False``, the cache of generated modules (in ``<path>/modules``, by
    default ``<cache dir>/modules``); returns the XLA folder. Call it before the first
    ``grad(...)`` of the process."""
    folder = pathlib.Path(path) if path is not None else default_cache_dir() / "xla"
    if modules:
        module_cache.enable(folder / "modules" if path is not None else None)
    folder.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return folder


def clear_cache(path=None) -> int:
    """Empty the cache of generated modules (``path``: its folder; default: the folder in use,
    else the default one); returns how many entries it removed. JAX's compilation cache is left
    alone (its entries are keyed by the compiled program: delete its folder to empty it)."""
    return module_cache.clear(path)
