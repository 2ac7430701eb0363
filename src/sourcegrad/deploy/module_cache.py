"""A disk cache of generated modules: a new process loads a gradient's generated source instead of
running the transform (parse, normalize, AD, lower) again.

Off by default; ``enable_compilation_cache()`` turns it on with JAX's persistent cache (entries in
``<cache dir>/modules``), or the environment variable ``SOURCEGRAD_MODULE_CACHE`` (``1``: the default
folder, else a folder). An entry is one JSON file: the generated source text and the few facts a
``GradFunction`` needs to run it (function names, the gradient's meta flags, the source map, the
module names it binds). Nothing is unpickled: a hit runs the cached text, as a miss runs the text
the transform wrote. The folder must be writable by you only, like any folder of code you run.

The key is a SHA-256 of everything the generated text depends on: the function's source lines,
file, qualified name and first line; sourcegrad's version and a stamp of its installed files; the
user-registered rules; the options (wrt, argument kinds, max_iter, checkpoint, while_checkpoints);
JAX's x64 flag; and what each free name of the function (and of its nested defs) is now: a module
by name, a number or string by value, an array by dtype, shape and contents, a NumPy/JAX/sourcegrad
function by name, a registered function by name. A name bound to anything else (one of the user's
own functions, which the transform would read the source of; an object) makes the function
uncacheable: it is transformed every time, as without the cache.

Writes go to a temporary file renamed over the entry (atomic; concurrent processes write the same
bytes). A missing, unreadable or malformed entry is a miss. ``stats`` counts hits and misses.
"""

from __future__ import annotations

import json
import os
import pathlib
import tempfile
import threading
import time

from .. import pipeline, rules
from ..backend import emit
from ..normal import ir, walk
from . import module_key

__all__ = ["enable", "disable", "folder", "clear", "stats", "transform", "CachedTransform"]

#: hits, misses (transformed and written), uncacheable (transformed, not written), broken (an entry
#: that could not be read: a miss), and the milliseconds spent making keys, transforming, loading
stats = {
    "hits": 0,
    "misses": 0,
    "uncacheable": 0,
    "broken": 0,
    "key_ms": 0.0,
    "transform_ms": 0.0,
    "load_ms": 0.0,
}

_STATE: dict = {"folder": None}


# ----- switching on and off -----
def default_cache_dir() -> pathlib.Path:
    """``$SOURCEGRAD_CACHE_DIR``, else ``$XDG_CACHE_HOME/sourcegrad``, else ``~/.cache/sourcegrad``."""
    root = os.environ.get("SOURCEGRAD_CACHE_DIR")
    if root:
        return pathlib.Path(root)
    base = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(base) / "sourcegrad"


def enable(path=None) -> pathlib.Path:
    target = pathlib.Path(path) if path is not None else default_cache_dir() / "modules"
    target.mkdir(parents=True, exist_ok=True)
    _STATE["folder"] = target
    return target


def disable() -> None:
    _STATE["folder"] = False


def folder() -> pathlib.Path | None:
    """The cache folder in use, or None when the cache is off."""
    if _STATE["folder"] is None:  # not set by a call: the environment decides, once
        value = os.environ.get("SOURCEGRAD_MODULE_CACHE", "")
        if value in ("", "0"):
            _STATE["folder"] = False
        else:
            enable(None if value == "1" else value)
    return _STATE["folder"] or None


def clear(path=None) -> int:
    """Remove the cached modules in ``path`` (default: the folder in use, else the default
    folder); returns how many entries were removed."""
    target = pathlib.Path(path) if path is not None else (folder() or default_cache_dir() / "modules")
    removed = 0
    for entry in target.glob("*/*.json"):
        try:
            entry.unlink()
            removed += 1
        except FileNotFoundError:  # another process removed it first
            pass
    return removed


# ----- the transform, through the cache -----
def transform(fn, wrt, **options):
    """``pipeline.transform(fn, wrt, **options)``, or its result loaded from the cache."""
    where = folder()
    if where is None:
        return pipeline.transform(fn, wrt, **options)
    start = time.perf_counter()
    try:
        key = module_key.key(fn, wrt, options)
    except module_key.Uncacheable:
        key = None
    stats["key_ms"] += (time.perf_counter() - start) * 1e3
    if key is not None:
        start = time.perf_counter()
        hit = _load(where, key, fn, wrt, options)
        if hit is not None:
            stats["hits"] += 1
            stats["load_ms"] += (time.perf_counter() - start) * 1e3
            return hit
    start = time.perf_counter()
    out = pipeline.transform(fn, wrt, **options)
    stats["transform_ms"] += (time.perf_counter() - start) * 1e3
    entry = _entry(out, fn, key) if key is not None else None
    if entry is None:
        stats["uncacheable"] += 1
    else:
        stats["misses"] += 1
        _write(where, key, entry)
    return out


# ----- entries -----
def _entry(t, fn, key: str) -> dict | None:
    """What a later process needs to run ``t``'s text, or None when that cannot be written down."""
    reads = []
    for owner, name, _ in t.module_reads:
        if owner is not fn:  # read by one of the user's functions it calls: not cached
            return None
        reads.append(name)
    used = {
        s.value.op
        for s in walk.statements(t.normal.body)
        if isinstance(s, ir.Assign) and isinstance(s.value, ir.Prim)
    }
    return {
        "format": module_key.FORMAT,
        "key": key,
        "source": t.source,
        "filename": t.filename,
        "user_filename": t.parsed.filename,
        "source_map": [list(e) for e in t.source_map.entries],
        "wrt": list(t.wrt),
        "wrt_leaves": list(t.wrt_leaves),
        "primal": t.primal.name,
        "gradient": t.gradient.name,
        "meta": {k: _encode(v) for k, v in t.gradient.meta.items() if _encodable(v)},
        "reads": reads,
        "bound": sorted(t.namespace_globals),
        "rules": sorted(used),
    }


def _encodable(v) -> bool:
    if v is None or isinstance(v, (bool, int, float, str)):
        return True
    if isinstance(v, (tuple, list)):
        return all(_encodable(x) for x in v)
    return False


def _encode(v):
    if isinstance(v, list):
        return [_encode(x) for x in v]
    return {"tuple": [_encode(x) for x in v]} if isinstance(v, tuple) else v


def _decode(v):
    if isinstance(v, dict):
        return tuple(_decode(x) for x in v["tuple"])
    return [_decode(x) for x in v] if isinstance(v, list) else v


def _path(where: pathlib.Path, key: str) -> pathlib.Path:
    return where / key[:2] / f"{key}.json"


def _write(where: pathlib.Path, key: str, entry: dict) -> None:
    target = _path(where, key)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(entry, f)
            os.replace(tmp, target)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:  # a full or read-only disk: the cache is an optimization
        pass


def _load(where: pathlib.Path, key: str, fn, wrt, options):
    try:
        text = _path(where, key).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        stats["broken"] += 1
        return None
    try:
        entry = json.loads(text)
        if entry.get("format") != module_key.FORMAT or entry.get("key") != key:
            raise ValueError("not this entry")
        return CachedTransform(entry, fn, lambda: pipeline.transform(fn, wrt, **options))
    except _NotHere:
        return None
    except Exception:  # noqa: BLE001 - a partial or corrupted entry is a miss, never a crash
        stats["broken"] += 1
        return None


class _NotHere(Exception):
    """A name the cached code binds is not where it was (a miss, not a broken entry)."""


def _bound_value(fn, name: str):
    closure = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
    if name in closure:
        try:
            return closure[name].cell_contents
        except ValueError:
            raise _NotHere from None
    if name in fn.__globals__:
        return fn.__globals__[name]
    for r in module_key.user_rules():
        if r.user_object is not None and r.callee and r.callee.split(".")[0] == name:
            return r.user_object
        if name in r.helpers:
            return r.helpers[name]
    raise _NotHere


class _Meta(dict):
    """The gradient's meta flags from the entry; any other key comes from a full transform."""

    def __init__(self, data: dict, owner: CachedTransform):
        super().__init__(data)
        self._owner = owner

    def __missing__(self, key):
        return self._owner.full().gradient.meta[key]

    def get(self, key, default=None):
        return self[key] if key in self else self._owner.full().gradient.meta.get(key, default)


class _Head:
    """A generated function's name (and meta); anything else from a full transform."""

    def __init__(self, owner: CachedTransform, which: str, name: str, meta=None):
        self._owner, self._which, self.name = owner, which, name
        if meta is not None:
            self.meta = meta

    def __getattr__(self, attr):
        if attr.startswith("_"):
            raise AttributeError(attr)
        return getattr(getattr(self._owner.full(), self._which), attr)


class CachedTransform:
    """A transform loaded from the cache: what a call needs (the loaded text, its source map, the
    module values it read); what only inspection needs (``stages``, the IR, ``parsed``) comes from
    running the transform on first use."""

    cached = True

    def __init__(self, entry: dict, fn, rebuild):
        for k in entry["rules"]:  # mark them used, as the transform would
            if not rules.has_key(k):
                raise _NotHere
            rules.lookup_key(k)
        bound = {name: _bound_value(fn, name) for name in entry["bound"]}
        self.source: str = entry["source"]
        self.filename: str = entry["filename"]
        self.source_map = emit.SourceMap([tuple(e) for e in entry["source_map"]])
        self.wrt = tuple(entry["wrt"])
        self.wrt_leaves = tuple(entry["wrt_leaves"])
        self.namespace_globals = bound
        self.module_reads = tuple((fn, name, _bound_value(fn, name)) for name in entry["reads"])
        meta = _Meta({k: _decode(v) for k, v in entry["meta"].items()}, self)
        self.gradient = _Head(self, "gradient", entry["gradient"], meta)
        self.primal = _Head(self, "primal", entry["primal"])
        self._rebuild = rebuild
        self._full = None
        self._lock = threading.Lock()
        module_name = f"sourcegrad.generated.{self.primal.name}"
        self.namespace = emit.load(self.source, self.filename, bound, module_name)
        emit.release_with(self, self.filename)

    @property
    def grad_fn(self):
        return self.namespace[self.gradient.name]

    @property
    def primal_fn(self):
        return self.namespace[self.primal.name]

    @property
    def output_is_tuple(self) -> bool:
        return bool(self.gradient.meta.get("output_is_tuple"))

    def full(self):
        """The transform's own result (made once, on first need)."""
        with self._lock:
            if self._full is None:
                self._full = self._rebuild()
            return self._full

    def __getattr__(self, attr):
        if attr.startswith("_"):
            raise AttributeError(attr)
        return getattr(self.full(), attr)
