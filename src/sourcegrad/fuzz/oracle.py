"""Judge one function: sourcegrad's gradient against NumPy's float64 finite differences and jax.grad.

:func:`check_function` is the whole oracle; it works on any function, so a reproducer file (or a
user) can call it directly. The outcome is one of

* ``ok``: value and gradient agree with NumPy (and with ``jax.grad`` where it runs);
* ``located-error``: a :class:`~sourcegrad.SourcegradError` that names a line of the user's file
  and whose traceback holds no frames from inside sourcegrad;
* ``wrong``: the value or gradient differs beyond tolerance (a defect);
* ``crash``: any other exception, or an error without location (a defect);
* ``skipped``: the oracle itself is undefined here (NumPy overflowed, or the point is a kink
  where the one-sided differences disagree); not counted as a result.
"""

from __future__ import annotations

import builtins
import keyword
import os
import re
import traceback
import warnings
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

import sourcegrad
from sourcegrad.errors import InternalError, SourcegradError

__all__ = ["Outcome", "check_function", "classify_error", "library_frames"]

_PACKAGE = os.path.dirname(os.path.abspath(sourcegrad.__file__))
_FUZZ = os.path.join(_PACKAGE, "fuzz")
_API = os.path.join(_PACKAGE, "api") + os.sep  # the public API re-raises the user's errors

RTOL = 1e-5  # gradient against finite differences, relative to the magnitudes involved
JAX_RTOL = 1e-6  # gradient against jax.grad, per leaf
VALUE_RTOL = 1e-8


@dataclass
class Outcome:
    kind: str  # ok, located-error, wrong, crash, skipped
    detail: str = ""
    key: str = ""  # the failure class: outcome plus what distinguishes it

    @property
    def failed(self) -> bool:
        return self.kind in ("wrong", "crash")


def _transforms_dir():
    try:
        import sourcegrad.transforms as t

        return os.path.dirname(os.path.abspath(t.__file__))
    except ImportError:  # pragma: no cover - a broken install
        return None


_INSIDE = tuple(d for d in (_PACKAGE, _transforms_dir()) if d)


def library_frames(exc: BaseException) -> list:
    """The traceback frames of ``exc`` inside sourcegrad (its API boundary and the fuzzer excluded)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return [
        f
        for f in frames
        if os.path.abspath(f.filename).startswith(_INSIDE)
        and not os.path.abspath(f.filename).startswith(_FUZZ)
        and not os.path.abspath(f.filename).startswith(_API)
    ]


def _normalize(message: str) -> str:
    first = message.strip().splitlines()[0] if message.strip() else ""
    first = re.sub(r"^\S+:\d+:\d+: ", "", first)
    first = re.sub(r"`[^`]*`|'[^']*'|\"[^\"]*\"", "`_`", first)
    first = re.sub(r"\(\d[\d, ]*\)|\d+(\.\d+)?", "N", first)
    return first[:90]


def classify_error(exc: BaseException, path: str, n_lines: int) -> Outcome:
    """located-error, or crash with the reason the error is not a located one."""
    name = type(exc).__name__
    text = str(exc)
    key = f"{name}: {_normalize(text)}"
    if not isinstance(exc, SourcegradError) or isinstance(exc, InternalError):
        where = traceback.extract_tb(exc.__traceback__)
        last = f" at {os.path.basename(where[-1].filename)}:{where[-1].lineno}" if where else ""
        return Outcome("crash", f"{name}{last}: {text[:2000]}", f"crash:{key}")
    inner = library_frames(exc)
    if inner:
        return Outcome(
            "crash", f"{name} raised with library frames {inner[-3:]}: {text[:2000]}", f"crash:frames:{key}"
        )
    line = getattr(exc, "lineno", None) if getattr(exc, "filename", None) == path else None
    match = re.search(re.escape(path) + r":(\d+)", text)
    line = line or (int(match.group(1)) if match else None)
    if line is None or not 1 <= line <= n_lines:
        return Outcome(
            "crash", f"{name} names no line of the program: {text[:2000]}", f"crash:unlocated:{key}"
        )
    foreign = _foreign_names(text, path)
    if foreign:
        return Outcome(
            "crash",
            f"{name} names {', '.join(foreign)}, not in the program: {text[:2000]}",
            f"crash:internal-name:{key}",
        )
    return Outcome("located-error", f"{name}: {text[:2000]}", f"located:{key}")


def _foreign_names(text: str, path: str) -> list[str]:
    """Identifiers quoted in an error's first line (what and why) that the program never spells:
    internal temporaries (``h1_out``, ``mul_2``) leaking into a message meant for the user."""
    try:
        with open(path, encoding="utf-8") as fh:
            known = set(re.findall(r"[A-Za-z_]\w*", fh.read()))
    except OSError:
        return []
    first = re.sub(r"^\S+:\d+:\d+: ", "", text.strip().splitlines()[0] if text.strip() else "")
    quoted = re.findall(r"`([^`]*)`", first)
    words = {w for q in quoted for w in re.findall(r"(?<![.\w])[A-Za-z_]\w*", q)}
    return sorted(w for w in words - known if not keyword.iskeyword(w) and not hasattr(builtins, w))


# ----- NumPy, the truth -----
def _copy(tree):
    return jax.tree_util.tree_map(lambda x: x.copy() if isinstance(x, np.ndarray) else x, tree)


def _as_jax(tree):
    return jax.tree_util.tree_map(
        lambda x: jnp.asarray(x) if isinstance(x, (np.ndarray, np.floating)) else x, tree
    )


def _call_numpy(fn, args: dict) -> float:
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        out = fn(**_copy(args))
        value = float(out)
    if not np.isfinite(value):
        raise FloatingPointError("non-finite value")
    return value


def _moved(args, wrt, directions, t):
    moved = dict(args)
    for name, d in zip(wrt, directions):
        moved[name] = jax.tree_util.tree_map(lambda x, e: x + t * e, args[name], d)
    return moved


def _directions(args, wrt, rng):
    return [
        jax.tree_util.tree_map(
            lambda x: (
                np.float64(rng.standard_normal()) if np.ndim(x) == 0 else rng.standard_normal(np.shape(x))
            ),
            args[name],
        )
        for name in wrt
    ]


def _dot(grads, directions) -> tuple[float, float]:
    """<grads, directions> and the sum of |g * d| (the scale of the sum)."""
    total = scale = 0.0
    for g, d in zip(grads, directions):
        for a, b in zip(jax.tree_util.tree_leaves(g), jax.tree_util.tree_leaves(d)):
            prod = np.asarray(a, dtype=np.float64) * np.asarray(b, dtype=np.float64)
            total += float(np.sum(prod))
            scale += float(np.sum(np.abs(prod)))
    return total, scale


# ----- the references -----
def _jax_grads(jax_fn, args, wrt):
    def f(*w):
        return jax_fn(**{**args, **dict(zip(wrt, w))})

    primals = [jax.tree_util.tree_map(jnp.asarray, args[name]) for name in wrt]
    with jax.disable_jit():  # op by op: a few cached kernels instead of a compile per program
        return jax.grad(f, argnums=tuple(range(len(wrt))))(*primals)


def _structure_matches(ours, theirs) -> bool:
    # jaxlib's stubs leave PyTreeDef's comparison unresolved; it defines __eq__
    return all(
        jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)  # type: ignore[operator]
        for a, b in zip(ours, theirs)
    )


def check_function(
    fn,
    args: dict,
    wrt,
    *,
    path: str | None = None,
    jax_fn=None,
    jit: bool = False,
    seed: int = 0,
    directions: int = 2,
) -> Outcome:
    """Compare ``sourcegrad.value_and_grad(fn, wrt=wrt)`` at ``args`` with NumPy and jax.grad.

    ``path`` is the file the function lives in (for checking error locations; default: its code's
    file). ``jax_fn``: the same function on jax.numpy, or None to skip that comparison.
    """
    wrt = tuple(wrt)
    path = path or fn.__code__.co_filename
    try:
        with open(path, encoding="utf-8") as fh:
            n_lines = len(fh.read().splitlines())
    except OSError:
        n_lines = 10**9
    try:
        value = _call_numpy(fn, args)
    except Exception as exc:  # the program is outside NumPy's domain at this point
        return Outcome("skipped", f"NumPy: {type(exc).__name__}: {exc}", "skipped:numpy")
    try:
        gf = sourcegrad.value_and_grad(fn, wrt=wrt)
        if jit:
            ours_value, grads = gf(**_copy(args))
        else:  # what jit does to NumPy arguments, without compiling
            with jax.disable_jit():
                ours_value, grads = gf(**_as_jax(args))
    except Exception as exc:
        return classify_error(exc, path, n_lines)
    finally:
        _forget(path)
    try:
        return _compare(fn, args, wrt, value, ours_value, grads, jax_fn, seed, directions)
    except Exception as exc:  # the gradient's structure or values cannot be compared
        return Outcome(
            "crash",
            f"comparing the results: {type(exc).__name__}: {exc}",
            f"crash:compare:{type(exc).__name__}",
        )


def _rounding(value: float, step: float) -> float:
    """How far float64 rounding alone can move a central difference with this step at a value of
    this size (a few ulps of f, over 2 * step): past the tolerance, the difference judges nothing
    (a program whose value is 1e19 gives a difference of exactly 0 for any slope below 1e4)."""
    return 4 * np.finfo(np.float64).eps * (1 + abs(value)) / (2 * step)


def _compare(fn, args, wrt, value, ours_value, grads, jax_fn, seed, n_dirs) -> Outcome:
    ours_value = float(np.asarray(ours_value))
    if not abs(ours_value - value) <= VALUE_RTOL * (1 + abs(value)):
        return Outcome("wrong", f"value {ours_value!r}, NumPy gives {value!r}", "wrong:value")
    rng = np.random.default_rng(seed)
    for _ in range(n_dirs):
        dirs = _directions(args, wrt, rng)
        phi = lambda t, dirs=dirs: _call_numpy(fn, _moved(args, wrt, dirs, t))  # noqa: E731
        try:
            fd = (phi(1e-5) - phi(-1e-5)) / 2e-5
            fd_fine = (phi(1e-6) - phi(-1e-6)) / 2e-6
        except Exception as exc:
            return Outcome("skipped", f"NumPy near the point: {exc}", "skipped:numpy")
        ours, scale = _dot(grads, dirs)
        if _rounding(value, 1e-6) > RTOL * (1 + abs(fd) + scale):
            return Outcome(
                "skipped",
                f"finite differences cannot resolve a slope at |f| = {abs(value):.3g} (rounding alone "
                f"moves them by {_rounding(value, 1e-6):.3g})",
                "skipped:resolution",
            )
        if abs(fd - fd_fine) > 1e-6 * (1 + abs(fd) + scale):
            return Outcome("skipped", "finite differences do not converge (a kink nearby)", "skipped:kink")
        if abs(ours - fd) > RTOL * (1 + abs(fd) + scale):
            right = (phi(1e-6) - value) / 1e-6
            left = (value - phi(-1e-6)) / 1e-6
            if abs(right - left) > 1e-4 * (1 + abs(fd) + scale):
                return Outcome("skipped", "the point is a kink (one-sided slopes differ)", "skipped:kink")
            return Outcome("wrong", f"<grad, d> = {ours!r}, finite differences give {fd!r}", "wrong:grad")
    if jax_fn is None:
        return Outcome("ok")
    try:
        theirs = _jax_grads(jax_fn, args, wrt)
    except Exception:  # the program does not run under jax.numpy
        return Outcome("ok", "jax.grad did not run")
    if not _structure_matches(grads, theirs):
        return Outcome(
            "wrong",
            f"gradient structure {jax.tree_util.tree_structure(tuple(grads))}, "
            f"jax.grad gives {jax.tree_util.tree_structure(tuple(theirs))}",
            "wrong:structure",
        )
    for a, b in zip(jax.tree_util.tree_leaves(tuple(grads)), jax.tree_util.tree_leaves(theirs)):
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if a.shape != b.shape:
            return Outcome("wrong", f"gradient shape {a.shape}, jax.grad gives {b.shape}", "wrong:shape")
        if np.max(np.abs(a - b), initial=0.0) > JAX_RTOL * (1 + np.max(np.abs(b), initial=0.0)):
            # jax.grad is a second opinion: trust it where it agrees with finite differences
            dirs = _directions(args, wrt, rng)
            fd = (
                _call_numpy(fn, _moved(args, wrt, dirs, 1e-6))
                - _call_numpy(fn, _moved(args, wrt, dirs, -1e-6))
            ) / 2e-6
            jx, scale = _dot(theirs, dirs)
            if abs(jx - fd) <= RTOL * (1 + abs(fd) + scale) and _rounding(value, 1e-6) <= RTOL * (
                1 + abs(fd) + scale
            ):
                return Outcome(
                    "wrong", f"gradient leaf {a.tolist()}, jax.grad gives {b.tolist()}", "wrong:grad-vs-jax"
                )
    return Outcome("ok")


def _forget(path: str) -> None:
    """Drop the program's (and its generated code's) linecache entries: a long run stays bounded."""
    import linecache

    stem = os.path.splitext(os.path.basename(path))[0]
    for name in [n for n in linecache.cache if n == path or stem in n]:
        linecache.cache.pop(name, None)
