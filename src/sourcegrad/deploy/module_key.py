"""The key of a cached generated module: a SHA-256 of everything the generated text depends on
(see module_cache.py). A free name bound to something it cannot describe raises ``Uncacheable``."""

from __future__ import annotations

import builtins
import hashlib
import importlib.util
import inspect
import json
import os
import types

import jax
import numpy as np

from .. import pipeline, rules
from .._version import __version__

__all__ = ["key", "user_rules", "Uncacheable", "FORMAT"]

FORMAT = 1
LIBRARIES = ("numpy", "jax", "jaxlib", "sourcegrad", "builtins", "math", "scipy", "operator")
_STAMP: list = []
_MISSING = object()


class Uncacheable(Exception):
    """A free name is bound to something the key cannot describe."""


def key(fn, wrt, options) -> str:
    if not isinstance(fn, types.FunctionType):  # a method reads its instance: not described here
        raise Uncacheable
    code = fn.__code__
    try:
        lines, first = inspect.getsourcelines(fn)
    except (OSError, TypeError):
        raise Uncacheable from None
    parts = {
        "format": FORMAT,
        "sourcegrad": [__version__, _stamp(), jax.__version__],
        "function": [code.co_filename, fn.__module__, fn.__qualname__, first, "".join(lines)],
        "wrt": list(wrt),
        "options": sorted((k, repr(v)) for k, v in options.items()),
        "x64": bool(jax.config.read("jax_enable_x64")),
        "rules": _rules_fingerprint(),
        "names": _names(fn),
    }
    text = json.dumps(parts, sort_keys=True, default=repr)
    if " at 0x" in text:  # an option's repr names an address: no later process could hit it
        raise Uncacheable
    return hashlib.sha256(text.encode()).hexdigest()


def _stamp() -> str:
    """Sourcegrad's files (path, size, modification time) when it runs from a source checkout: an
    edited checkout is a different sourcegrad, whatever its version says. An installed package
    (in site-packages) is its version: its files are not read (about 10 ms of stat calls)."""
    if not _STAMP and os.path.basename(os.path.dirname(_package_root())) in (
        "site-packages",
        "dist-packages",
    ):
        _STAMP.append("installed")
    if not _STAMP:
        roots = [_package_root()]
        spec = importlib.util.find_spec("sourcegrad.transforms")
        roots += list(spec.submodule_search_locations or ()) if spec else []
        h = hashlib.sha256()
        while roots:
            with os.scandir(roots.pop()) as entries:
                for e in sorted(entries, key=lambda e: e.name):
                    if e.is_dir() and e.name != "__pycache__":
                        roots.append(e.path)
                    elif e.name.endswith(".py"):
                        st = e.stat()
                        h.update(f"{e.path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        _STAMP.append(h.hexdigest())
    return _STAMP[0]


def _package_root() -> str:
    return os.path.dirname(pipeline.__file__)


def _identity(obj) -> str:
    module = getattr(obj, "__module__", None) or type(obj).__module__
    return f"{module}.{getattr(obj, '__qualname__', None) or getattr(obj, '__name__', '?')}"


def user_rules() -> list:
    return [r for _, r in sorted(rules.all_rules().items()) if not r.domain.startswith("sourcegrad")]


def _rules_fingerprint() -> list:
    """The rules registered outside sourcegrad's own tables (its tables are in the stamp)."""
    out = []
    for r in user_rules():
        params = [(p.name, p.kind, p.varargs, None if p.required else repr(p.default)) for p in r.params]
        out.append(
            [
                r.key,
                r.domain,
                r.callee,
                params,
                sorted(r.sources.items()),
                sorted(r.tangent_sources.items()),
                [r.broadcast, r.differentiable, r.temp, r.alternate, r.positional, r.max_positional],
                _identity(r.user_object) if r.user_object is not None else None,
                sorted((k, _identity(v)) for k, v in r.helpers.items()),
            ]
        )
        out[-1].append(sorted(_identity(obj) for obj in rules.objects_of(r.key)))
    return out


def _free_names(code, out: set) -> set:
    out.update(code.co_names)
    out.update(code.co_freevars)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _free_names(const, out)
    return out


def _names(fn) -> list:
    """What each free name of ``fn`` is bound to now (closure, then module, then builtins)."""
    closure = {}
    for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ()):
        try:
            closure[name] = cell.cell_contents
        except ValueError:
            closure[name] = _MISSING
    registered = {_identity(r.user_object) for r in user_rules() if r.user_object is not None}
    registered |= {_identity(v) for r in user_rules() for v in r.helpers.values()}
    out = []
    for name in sorted(_free_names(fn.__code__, set())):
        value = closure.get(name, fn.__globals__.get(name, getattr(builtins, name, _MISSING)))
        out.append([name, _describe(value, registered, 0)])
    return out


def _describe(value, registered: set, depth: int):
    if value is _MISSING:
        return "-"
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return [type(value).__name__, repr(value)]
    if isinstance(value, types.ModuleType):
        return ["module", value.__name__]
    if isinstance(value, np.generic) or isinstance(value, (np.ndarray, jax.Array)):
        array = np.ascontiguousarray(np.asarray(value))
        digest = hashlib.sha256(array.tobytes()).hexdigest()
        return ["array", type(value).__name__, str(array.dtype), list(array.shape), digest]
    if isinstance(value, (tuple, list)) and depth < 4:
        return [type(value).__name__, [_describe(v, registered, depth + 1) for v in value]]
    if isinstance(value, dict) and depth < 4 and all(isinstance(k, str) for k in value):
        return ["dict", [[k, _describe(v, registered, depth + 1)] for k, v in sorted(value.items())]]
    if callable(value):
        identity = _identity(value)
        if identity in registered:
            return ["registered", identity]
        if identity.split(".")[0] in LIBRARIES:
            return ["library", identity]
    raise Uncacheable(value)
