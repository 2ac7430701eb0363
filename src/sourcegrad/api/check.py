"""``sourcegrad.check``: compare a generated gradient with finite differences of your own code.

The reference is your function itself, run as plain Python/NumPy in float64 (never through
JAX's tracing): for each differentiated argument, a few random directions ``v`` (seeded, so a
check is deterministic), the central difference ``(L(x + h v) - L(x - h v)) / 2h`` of
``L = <u, f(x)>`` (``u`` a random seed for a non-scalar output) is compared with ``<grad, v>``
from the generated code, run in float64 too.

When the two disagree, the check locates the first line where they part. It cuts your function
after each top-level statement in turn, returning the floating-point variables that statement
assigns, and checks that prefix the same way: its value (generated primal against NumPy) and its
directional derivatives (generated gradient against finite differences). Every prefix before the
divergent statement agrees, so the first prefix that does not names the statement whose forward
or adjoint is wrong; the source map then gives its generated lines. The prefixes keep your
file's line numbers. A divergence inside a loop or an ``if`` is reported as the whole statement.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import textwrap
from dataclasses import dataclass, field

import jax
import numpy as np

__all__ = ["check", "CheckResult", "ArgumentCheck", "Divergence", "GradientCheckError"]


class GradientCheckError(AssertionError):
    """A gradient check failed: the message is the check's report (``CheckResult.assert_ok``)."""


@dataclass
class ArgumentCheck:
    """The worst direction for one argument: relative and absolute error, and both derivatives."""

    name: str
    error: float  # |generated - numeric| / max(|generated|, |numeric|) at the worst direction
    abs_error: float
    generated: float  # <gradient, v> from the generated code
    numeric: float  # central difference of your function along v
    ok: bool


@dataclass
class Divergence:
    """The first statement of your function where the generated code and NumPy disagree."""

    filename: str
    line: int
    end_line: int
    text: str
    kind: str  # "value" (the forward differs) or "derivative" (the adjoint differs)
    detail: str
    generated: dict = field(default_factory=dict)  # section -> [(generated line, its text)]

    def __str__(self) -> str:
        where = f"line {self.line}" + (f"-{self.end_line}" if self.end_line != self.line else "")
        out = [
            f"first divergence: {self.filename}, {where}: {self.text}",
            f"  the {self.kind} differs: {self.detail}",
        ]
        for section, lines in self.generated.items():
            out.append(f"  generated {section} lines:")
            out.extend(f"    {n:>4}  {text}" for n, text in lines)
        return "\n".join(out)


@dataclass
class CheckResult:
    """What :func:`check` found. ``ok``; ``errors`` (argument -> worst relative error);
    ``arguments`` (details); ``divergence`` (where the two first differ, or None)."""

    function: str
    arguments: list
    value_error: float
    rtol: float
    atol: float
    directions: int
    divergence: Divergence | None = None
    notes: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every direction of every argument, and the value, agree within tolerance."""
        return all(a.ok for a in self.arguments) and self.value_error <= self.rtol

    @property
    def errors(self) -> dict:
        """{argument name: its worst relative error over the directions}."""
        return {a.name: a.error for a in self.arguments}

    def assert_ok(self) -> CheckResult:
        """Raise :class:`GradientCheckError` with this report if the check failed."""
        if not self.ok:
            raise GradientCheckError("\n" + str(self))
        return self

    def __repr__(self) -> str:
        errors = ", ".join(f"{k}: {v:.2g}" for k, v in self.errors.items())
        where = f", diverges at line {self.divergence.line}" if self.divergence else ""
        return f"<CheckResult of {self.function}: {'ok' if self.ok else 'FAILED'} ({errors}){where}>"

    def __str__(self) -> str:
        head = (
            f"gradient check of `{self.function}`: {'ok' if self.ok else 'FAILED'} "
            f"({self.directions} random directions per argument, rtol={self.rtol:g}, "
            f"atol={self.atol:g})"
        )
        out = [head]
        for a in self.arguments:
            out.append(
                f"  {a.name}: worst relative error {a.error:.3g} (generated {a.generated:.10g}, "
                f"finite differences {a.numeric:.10g}){'' if a.ok else '  <-- differs'}"
            )
        if self.value_error > self.rtol:
            out.append(
                f"  value: the generated primal differs from your function by "
                f"{self.value_error:.3g} (relative)"
            )
        if self.divergence is not None:
            out.append(str(self.divergence))
        out.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(out)


def check(
    fn,
    *args,
    wrt=None,
    directions: int = 3,
    random_state: int = 0,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    locate: bool = True,
    raise_on_failure: bool = False,
    **kwargs,
) -> CheckResult:
    """Check the generated gradient of ``fn`` at ``args`` against float64 central differences
    of ``fn`` itself, run as plain NumPy.

    ``fn`` is your function or a :func:`grad` of it (then its ``wrt`` is the default). For each
    argument in ``wrt`` (positions or names, as in ``grad``; default the first), ``directions``
    random directions drawn with ``random_state`` are compared; a direction passes when
    ``|generated - numeric| <= atol + rtol * max(|generated|, |numeric|)``. ``eps``: the
    finite-difference step, relative to the argument's largest entry. ``locate``: on failure,
    find the first statement where the two diverge (re-transforms prefixes of the function).
    ``raise_on_failure``: raise :class:`GradientCheckError` instead of returning a failed result.
    Keyword arguments other than these are passed to ``fn``.
    """
    from .grad import GradFunction, grad

    options = {}
    if isinstance(fn, GradFunction):
        wrt = fn.wrt if wrt is None else wrt
        options = {
            "max_iter": getattr(fn, "_max_iter", None),
            "checkpoint": getattr(fn, "_checkpoint", None),
            "while_checkpoints": getattr(fn, "_while_checkpoints", None),
        }
        fn = fn._fn
    wrt = 0 if wrt is None else wrt
    g = grad(fn, wrt=tuple(wrt) if isinstance(wrt, (tuple, list)) else (wrt,), **options)
    bound = inspect.signature(fn).bind(*args, **kwargs)
    bound.apply_defaults()
    for name in g.wrt:
        bound.arguments[name] = jax.tree_util.tree_map(_float64, bound.arguments[name])
    settings = dict(directions=directions, eps=eps, rtol=rtol, atol=atol)
    with jax.enable_x64(True):
        rng = np.random.default_rng(random_state)
        arguments, value_error = _measure(fn, g, bound, rng, **settings)
        result = CheckResult(fn.__name__, arguments, value_error, rtol, atol, directions)
        if not result.ok and locate:
            _locate(fn, g, bound, random_state, result, options, settings)
    if raise_on_failure:
        result.assert_ok()
    return result


def _float64(leaf):
    array = np.asarray(leaf)
    if np.iscomplexobj(array):
        raise TypeError("sourcegrad.check compares real gradients; got a complex input")
    return np.asarray(array, dtype=np.float64)


def _call(fn, bound, replace=None):
    """``fn`` on the bound arguments (fresh copies of the arrays: NumPy code may write into them)."""
    arguments = dict(bound.arguments, **(replace or {}))
    arguments = {
        k: jax.tree_util.tree_map(lambda v: v.copy() if isinstance(v, np.ndarray) else v, v)
        for k, v in arguments.items()
    }
    call = inspect.BoundArguments(bound.signature, arguments)
    return fn(*call.args, **call.kwargs)


def _leaves(tree):
    return [np.asarray(x, dtype=np.float64) for x in jax.tree_util.tree_leaves(tree)]


def _measure(fn, g, bound, rng, *, directions, eps, rtol, atol):
    """Per wrt argument, the worst direction; and the relative error of the generated value."""
    value = _call(fn, bound)
    leaves, structure = jax.tree_util.tree_flatten(value)
    single = len(leaves) == 1 and np.size(leaves[0]) == 1
    seeds = [np.ones(np.shape(x)) if single else rng.standard_normal(np.shape(x)) for x in leaves]
    seed = None if single else jax.tree_util.tree_unflatten(structure, seeds)

    def loss(replace):
        out = _leaves(_call(fn, bound, replace))
        return sum(float(np.sum(u * y)) for u, y in zip(seeds, out))

    generated_value, grads = g.value_and_grad(*bound.args, seed=seed, **bound.kwargs)
    value_error = _relative(_leaves(generated_value), _leaves(value))
    results = []
    for name, gradient in zip(g.wrt, grads):
        x = bound.arguments[name]
        x_leaves, x_structure = jax.tree_util.tree_flatten(x)
        h = eps * max(1.0, max((float(np.max(np.abs(a))) for a in x_leaves if np.size(a)), default=1.0))
        worst = None
        for _ in range(directions):
            v = [rng.standard_normal(np.shape(a)) for a in x_leaves]
            plus = jax.tree_util.tree_unflatten(x_structure, [a + h * d for a, d in zip(x_leaves, v)])
            minus = jax.tree_util.tree_unflatten(x_structure, [a - h * d for a, d in zip(x_leaves, v)])
            numeric = (loss({name: plus}) - loss({name: minus})) / (2 * h)
            generated = sum(float(np.sum(gl * d)) for gl, d in zip(_leaves(gradient), v))
            diff, scale = abs(generated - numeric), max(abs(generated), abs(numeric))
            badness = diff / (atol + rtol * scale)
            if worst is None or badness > worst[0]:
                worst = (
                    badness,
                    ArgumentCheck(
                        name, diff / scale if scale else 0.0, diff, generated, numeric, badness <= 1.0
                    ),
                )
        results.append(worst[1])
    return results, value_error


def _relative(generated, reference) -> float:
    if len(generated) != len(reference):
        return float("inf")
    worst = 0.0
    for a, b in zip(generated, reference):
        if np.shape(a) != np.shape(b):
            return float("inf")
        if not np.array_equal(np.isfinite(a), np.isfinite(b)):
            return float("inf")
        finite = np.isfinite(b)
        diff = np.max(np.abs(a - b)[finite], initial=0.0)
        scale = max(np.max(np.abs(b)[finite], initial=0.0), 1e-300)
        worst = max(worst, float(diff / scale) if diff > 1e-12 * scale else 0.0)
    return worst


# ----- locating the first divergent statement -----


def _assigned(stmt) -> list:
    """Names a top-level statement assigns (not inside nested defs), in order of appearance."""
    names: list[str] = []

    def visit(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id not in names:
            names.append(node.id)
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store):
            base = node.value
            while isinstance(base, (ast.Subscript, ast.Attribute)):
                base = base.value
            if isinstance(base, ast.Name) and base.id not in names:
                names.append(base.id)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(stmt)
    return names


def _is_float(value) -> bool:
    leaves = jax.tree_util.tree_leaves(value)
    return bool(leaves) and all(
        isinstance(x, (float, np.floating, np.ndarray, jax.Array))
        and not isinstance(x, bool)
        and np.issubdtype(np.asarray(x).dtype, np.floating)
        for x in leaves
    )


def _prefix(fn, file_lines, fdef, stop, returned, tag):
    """``fn`` cut after the statement ending at line ``stop``, returning ``returned`` (a Python
    expression), compiled from text that keeps the file's line numbers."""
    def_line = fdef.lineno
    indent = len(file_lines[def_line - 1]) - len(file_lines[def_line - 1].lstrip())
    body_line = file_lines[fdef.body[0].lineno - 1]
    body_indent = body_line[: len(body_line) - len(body_line.lstrip())][indent:]
    kept = [
        line[indent:] if line[:indent].strip() == "" else line for line in file_lines[def_line - 1 : stop]
    ]
    text = "\n" * (def_line - 1) + "".join(kept).rstrip("\n") + f"\n{body_indent}return {returned}\n"
    filename = f"<sourcegrad check: {fn.__name__} through line {stop} ({tag})>"
    linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
    namespace = dict(fn.__globals__)
    for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ()):
        namespace[name] = cell.cell_contents
    exec(compile(text, filename, "exec"), namespace)  # noqa: S102 - the user's own lines
    return namespace[fn.__name__], filename


def _function_node(fn):
    filename = inspect.getsourcefile(fn) or inspect.getfile(fn)
    lines, first = inspect.getsourcelines(fn)
    tree = ast.parse(textwrap.dedent("".join(lines)))
    fdef = tree.body[0]
    ast.increment_lineno(tree, first - 1)
    return filename, linecache.getlines(filename), fdef


def _locate(fn, g, bound, random_state, result, options, settings):
    from ..errors import SourcegradError
    from .grad import grad

    try:
        filename, file_lines, fdef = _function_node(fn)
    except (OSError, TypeError, SyntaxError, IndexError) as exc:
        result.notes.append(f"cannot locate the divergence: the source cannot be read ({exc})")
        return
    if not isinstance(fdef, ast.FunctionDef) or fdef.body[0].lineno == fdef.lineno:
        result.notes.append("cannot locate the divergence in a one-line function")
        return
    cache_names = []
    try:
        for stmt in fdef.body:
            if any(isinstance(n, (ast.Return, ast.Yield)) for n in ast.walk(stmt)):
                break  # the statements after an early return cannot be cut off cleanly
            names = _assigned(stmt)
            if not names:
                continue
            probe, name = _prefix(fn, file_lines, fdef, stmt.end_lineno, "locals()", "probe")
            cache_names.append(name)
            values = _call(probe, bound)
            floats = [n for n in names if n in values and _is_float(values[n])]
            if not floats:
                continue
            returned = floats[0] if len(floats) == 1 else "(" + ", ".join(floats) + ",)"
            cut, name = _prefix(fn, file_lines, fdef, stmt.end_lineno, returned, "check")
            cache_names.append(name)
            try:
                gp = grad(cut, wrt=g.wrt, **options)
                rng = np.random.default_rng(random_state)
                arguments, value_error = _measure(cut, gp, bound, rng, **settings)
            except SourcegradError as exc:
                result.notes.append(
                    f"line {stmt.lineno} was not checked on its own: {str(exc).splitlines()[0]}"
                )
                continue
            bad = [a for a in arguments if not a.ok]
            if value_error > settings["rtol"] or bad:
                result.divergence = _divergence(
                    g, filename, file_lines, stmt, floats, value_error > settings["rtol"], value_error, bad
                )
                return
        result.notes.append(
            "no single statement diverges on its own: the difference comes from "
            "how the statements combine (or from the return)"
        )
    finally:
        for name in cache_names:
            linecache.cache.pop(name, None)


def _divergence(g, filename, file_lines, stmt, names, value_differs, value_error, bad):
    if value_differs:  # the forward already differs: the derivatives then differ too, usually
        kind = "value"
        detail = (
            f"the generated forward computes {', '.join(names)} with a relative error of "
            f"{value_error:.3g} against your function run by NumPy"
        )
    else:
        kind = "derivative"
        detail = f"the derivative of {', '.join(names)}, along a random direction:" + "".join(
            f"\n    d/d{a.name}: generated {a.generated:.10g}, finite differences {a.numeric:.10g}"
            for a in bad
        )
    source = g.source.split("\n")
    primal = g.__wrapped__.__name__
    generated: dict = {}
    for gen, user, function, section in g.source_map.entries:
        if stmt.lineno <= user <= stmt.end_lineno and function != primal:  # the gradient's lines
            generated.setdefault(section, []).append(gen)
    listing = {s: [(n, source[n - 1].strip()) for n in sorted(ns)] for s, ns in generated.items()}
    return Divergence(
        filename, stmt.lineno, stmt.end_lineno, file_lines[stmt.lineno - 1].strip(), kind, detail, listing
    )
