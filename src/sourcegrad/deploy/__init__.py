"""Deploying a gradient with JAX: as the reverse rule of a JAX function (``custom_vjp``,
jaxnative.py), as a serialized ``jax.export`` artifact (exporting.py), and with JAX's persistent
compilation cache and a disk cache of the generated modules for a fast start in a new process
(caching.py, module_cache.py)."""

from .caching import clear_cache, enable_compilation_cache
from .jaxnative import custom_vjp

__all__ = ["custom_vjp", "enable_compilation_cache", "clear_cache"]
