"""Fast start in a new process: JAX's persistent compilation cache for the compiled gradients.

``sourcegrad.enable_compilation_cache()`` points JAX's persistent compilation cache at a folder
(``path``, else ``$SOURCEGRAD_CACHE_DIR/xla``, else ``~/.cache/sourcegrad/xla``, or
``$XDG_CACHE_HOME/sourcegrad/xla``) and caches every compilation, however quick. The generated
code is deterministic (same function, same options, same sourcegrad: same text, same names), so a
new process that compiles the same gradient for the same shapes loads XLA's executable from disk
instead of compiling it. Off by default: it writes to disk, and JAX's cache is process-wide (it
applies to the caller's own jax.jit functions as well)."""

from __future__ import annotations

import os
import pathlib

import jax

__all__ = ["enable_compilation_cache", "default_cache_dir"]


def default_cache_dir() -> pathlib.Path:
    root = os.environ.get("SOURCEGRAD_CACHE_DIR")
    if root:
        return pathlib.Path(root)
    base = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(base) / "sourcegrad"


def enable_compilation_cache(path=None) -> pathlib.Path:
    """Turn on JAX's persistent compilation cache in ``path`` (default: see the module docstring);
    returns the folder. Call it before the first gradient call of the process."""
    folder = pathlib.Path(path) if path is not None else default_cache_dir() / "xla"
    folder.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return folder
