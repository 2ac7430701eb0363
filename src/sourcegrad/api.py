"""The public API: ``grad``, ``value_and_grad``, and the :class:`GradFunction` they return."""

from __future__ import annotations

import functools
import inspect

import jax
import jax.numpy as jnp
import numpy as np

from . import runtime
from .errors import SeedError, SourcegradError, TapeOverflowError, UnsupportedSyntaxError, WrtError
from .frontend.parse import parse_function
from .pipeline import Transformed, transform
from .normal.structs import kind_of

__all__ = ["grad", "value_and_grad", "GradFunction", "CompiledGrad"]

_RESERVED_KEYWORDS = ("seed", "accumulate")


def _public(fn):
    """Re-raise sourcegrad's errors from the API boundary, without the library's frames."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except runtime.SeedError as exc:
            raise SeedError(str(exc)).with_traceback(None) from None
        except SourcegradError as exc:
            raise exc.with_traceback(None) from None
    return wrapper


def _is_static(value) -> bool:
    """Python ints, bools, strings, None and tuples of them are compile-time constants."""
    if value is None or isinstance(value, (bool, int, str)) and not isinstance(value, np.generic):
        return True
    if isinstance(value, tuple):
        return all(_is_static(v) for v in value)
    return False


class GradFunction:
    """The gradient of a Python function, made by :func:`grad`.

    Call it like the original function (plus ``seed=`` and ``accumulate=``) to
    get the gradient; read :attr:`source` for the code that computes it.
    """

    def __init__(self, fn, wrt=0, *, return_value: bool = False, max_iter: int | None = None,
                 checkpoint=None, while_checkpoints: int | None = None):
        functools.update_wrapper(self, fn)
        self._fn = fn
        self._signature = inspect.signature(fn)
        self._params = tuple(p.name for p in self._signature.parameters.values())
        self._wrt_single = not isinstance(wrt, (tuple, list))
        self.wrt = self._resolve_wrt(wrt)
        self._return_value = return_value
        self._max_iter = max_iter
        self._checkpoint = checkpoint
        self._while_checkpoints = while_checkpoints
        self._variants: dict = {}   # static parameter names -> Transformed
        self._jitted: dict = {}
        self._compiled: dict = {}
        self._deferred = None  # an error that the first call's argument kinds may resolve
        self._transformed: Transformed | None = self._default_variant()
        self._check_reserved()

    # ----- construction -----
    def _resolve_wrt(self, wrt) -> tuple:
        items = tuple(wrt) if isinstance(wrt, (tuple, list)) else (wrt,)
        if not items:
            raise WrtError("wrt is empty: name at least one parameter to differentiate with respect to")
        names = []
        positional = [p.name for p in self._signature.parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        for item in items:
            if isinstance(item, int) and not isinstance(item, bool):
                if not -len(positional) <= item < len(positional):
                    raise WrtError(f"wrt={item} is out of range: `{self._fn.__name__}` has "
                                   f"{len(positional)} positional parameters ({', '.join(positional)})")
                name = positional[item]
            elif isinstance(item, str):
                if item not in self._params:
                    raise WrtError(f"wrt names `{item}`, which is not a parameter of "
                                   f"`{self._fn.__name__}` (parameters: {', '.join(self._params)})")
                name = item
            else:
                raise WrtError(f"wrt takes parameter positions (int) or names (str); got {item!r}")
            kind = self._signature.parameters[name].kind
            if kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
                raise WrtError(f"wrt names `{name}`, a *args/**kwargs parameter; name a plain one")
            if name in names:
                raise WrtError(f"wrt names `{name}` twice")
            names.append(name)
        return tuple(names)

    def _default_variant(self) -> Transformed:
        """Transform now, so unsupported code fails at decoration: parameters with int/str/bool
        defaults or annotations are assumed static, the others arrays; if that cannot be right
        (``range(n)`` with an unannotated ``n``), every non-differentiated parameter is static."""
        kinds = []
        for p in self._signature.parameters.values():
            static = p.name not in self.wrt and (
                (p.default is not p.empty and _is_static(p.default))
                or p.annotation in (int, str, bool, "int", "str", "bool"))
            kinds.append("static" if static else "array")
        try:
            return self._variant(tuple(kinds))
        except UnsupportedSyntaxError as exc:
            if getattr(exc, "kind_dependent", False):  # e.g. params.items(): wait for the call
                self._deferred = exc
                return None
            if not getattr(exc, "binding_time", False):
                raise
            everything = tuple("array" if p in self.wrt else "static" for p in self._params)
            try:
                return self._variant(everything)
            except UnsupportedSyntaxError:
                raise exc from None

    def _current(self) -> Transformed:
        if self._transformed is None:
            raise UnsupportedSyntaxError(
                f"the generated code of `{self._fn.__name__}` depends on what its arguments are "
                f"(arrays or containers); call it once first. Transforming with every argument an "
                f"array failed: {self._deferred.msg}", filename=self._deferred.filename,
                line=self._deferred.lineno, col=(self._deferred.offset or 1) - 1,
                text=self._deferred.text or "")
        return self._transformed

    def _variant(self, kinds: tuple) -> Transformed:
        """The transform for one kind of each argument: static, array, or a container layout
        (made once, then cached)."""
        t = self._variants.get(kinds)
        if t is None:
            t = self._variants[kinds] = transform(
                self._fn, self.wrt, param_kinds=dict(zip(self._params, kinds)),
                max_iter=self._max_iter, checkpoint=self._checkpoint,
                while_checkpoints=self._while_checkpoints)
        self._transformed = t
        return t

    def _check_reserved(self):
        for name in _RESERVED_KEYWORDS:
            if name in self._params:
                parsed = parse_function(self._fn)
                node = next(a for a in ast_args(parsed.node) if a.arg == name)
                raise parsed.locate(node).error(
                    f"the parameter name `{name}` clashes with the `{name}=` keyword of the "
                    f"gradient function", "rename the parameter")

    # ----- what the user reads -----
    @property
    def source(self) -> str:
        """The generated module: the normal-form primal and its gradient. Exactly the code that
        runs (for the static arguments of the latest call)."""
        return self._current().source

    @property
    def stages(self) -> dict:
        """The source after each pipeline stage: source, normalized, activity, reversed, simplified."""
        return self._current().stages

    @property
    def source_map(self):
        return self._current().source_map

    @property
    def filename(self) -> str:
        """The name under which the generated source is registered with linecache."""
        return self._current().filename

    def __repr__(self):
        return f"<sourcegrad.grad of {self._fn.__qualname__} wrt {', '.join(self.wrt)}>"

    # ----- inspecting -----
    def show(self, side_by_side: bool = False, color: bool | None = None, file=None) -> None:
        """Print the generated code, highlighted in a terminal (plain text otherwise); with
        ``side_by_side``, each generated line beside the line of your code it comes from."""
        from .inspect.show import show
        show(self._current(), side_by_side, color, file)

    def _repr_html_(self) -> str:
        from .inspect.show import CSS, highlight_html
        return f"<style>{CSS}</style>{highlight_html(self._current().source)}"

    def lines_for(self, user_line: int) -> dict:
        """The generated lines computing one line of your file: {"forward": [...], "backward": [...]}."""
        return self._current().source_map.generated_lines(user_line)

    def line_of(self, generated_line: int) -> int | None:
        """The line of your file a generated line comes from (None for generated scaffolding)."""
        return self._current().source_map.user_line(generated_line)

    def graph(self, format: str = "dot"):
        """The forward dataflow and backward accumulation: DOT text, or SVG/PNG bytes (``dot``)."""
        from .inspect.graph import build_graph, render, to_dot
        dot = to_dot(build_graph(self._current()))
        return dot if format == "dot" else render(dot, format)

    def report(self, path=None) -> str:
        """A self-contained HTML page: your function and the gradient linked line to line, and
        the graph. Written to ``path`` if given; returned either way."""
        from .inspect.report import html_report
        text = html_report(self._current())
        if path is not None:
            import pathlib
            pathlib.Path(path).write_text(text, encoding="utf-8")
        return text

    def emit(self, path=None) -> str:
        """The gradient as a standalone module that imports only JAX and NumPy."""
        from .backend.standalone import standalone_module
        t = self._current()
        kinds = next((k for k, v in self._variants.items() if v is t), ())
        static = tuple(i for i, k in enumerate(kinds) if k == "static")
        text = standalone_module(t, static)
        if path is not None:
            import pathlib
            pathlib.Path(path).write_text(text, encoding="utf-8")
        return text

    # ----- calling -----
    def _bind(self, args, kwargs):
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{self._fn.__name__}(): {exc}") from None
        bound.apply_defaults()
        values = [bound.arguments[p] for p in self._params]
        for name in self.wrt:
            i = self._params.index(name)
            values[i] = self._check_wrt_value(name, values[i])
        kinds = tuple("array" if p in self.wrt and kind_of(v) == "static" else kind_of(v)
                      for p, v in zip(self._params, values))
        static = tuple(i for i, k in enumerate(kinds) if k == "static")
        return values, static, self._variant(kinds)

    def _check_wrt_value(self, name, value):
        def check(leaf):
            if isinstance(leaf, (bool, int)) and not isinstance(leaf, float):
                raise WrtError(f"`{name}` is a Python {type(leaf).__name__}; gradients are "
                               f"defined for floating-point inputs only. Pass a float "
                               f"({float(leaf)!r}) or remove `{name}` from wrt")
            dtype = jnp.result_type(leaf)
            if not jnp.issubdtype(dtype, jnp.inexact):
                raise WrtError(f"`{name}` has dtype {dtype}; gradients are defined for "
                               f"floating-point inputs only (sourcegrad does not return zeros "
                               f"for integers). Convert it with `.astype(float)` or remove "
                               f"`{name}` from wrt")
            return jnp.asarray(leaf) if isinstance(leaf, float) else leaf
        return jax.tree_util.tree_map(check, value)

    def _accumulators(self, accumulate):
        if accumulate is None:
            return None
        acc = (accumulate,) if self._wrt_single else tuple(accumulate)
        if len(acc) != len(self.wrt):
            raise WrtError(f"accumulate= must hold one accumulator per wrt input "
                           f"({', '.join(self.wrt)}); got {len(acc)}")
        return acc

    def _check_seed(self, transformed, seed):
        if seed is None and transformed.output_is_tuple:
            raise SeedError(f"`{self._fn.__name__}` returns a tuple; pass seed= a tuple with one "
                            f"array per output (zeros for outputs to ignore)")
        return seed

    def _jit(self, transformed, static, kind="grad"):
        key = (kind, static, id(transformed))  # each variant is kept alive in self._variants
        fn = self._jitted.get(key)
        if fn is None:
            target = transformed.grad_fn if kind == "grad" else transformed.primal_fn
            fn = self._jitted[key] = jax.jit(target, static_argnums=static)
        return fn

    def _results(self, transformed, out):
        """(value, gradients) from the generated function's outputs; reports tape overflow."""
        if transformed.gradient.meta.get("has_status"):
            value, grads, overflow = out
            if bool(overflow):
                loops = ", ".join(f"line {line} (max_iter={n})"
                                  for line, n in transformed.gradient.meta["while_loops"])
                raise TapeOverflowError(
                    f"a while loop of `{self._fn.__name__}` was still running when its tape was "
                    f"full, so its gradient would be wrong; while loops: {loops}. Raise its "
                    f"bound: the `# sourcegrad: max_iter=N` comment on the loop's line, or, for loops "
                    f"without that comment (it takes precedence), grad(max_iter=N)")
        else:
            value, grads = out
        return value, (grads[0] if self._wrt_single else tuple(grads))

    def _run(self, args, kwargs, seed, accumulate):
        values, static, t = self._bind(args, kwargs)
        out = self._jit(t, static)(*values, self._check_seed(t, seed), self._accumulators(accumulate))
        return self._results(t, out)

    @_public
    def __call__(self, *args, seed=None, accumulate=None, **kwargs):
        """The gradient(s) at these arguments. ``seed``: the output's gradient (required for a
        non-scalar output); ``accumulate``: gradients to add this call's gradients to."""
        value, grads = self._run(args, kwargs, seed, accumulate)
        return (value, grads) if self._return_value else grads

    @_public
    def value_and_grad(self, *args, seed=None, accumulate=None, **kwargs):
        """``(f(*args), gradient)`` from one run of the generated code."""
        return self._run(args, kwargs, seed, accumulate)

    @_public
    def primal(self, *args, **kwargs):
        """The function's value, computed by the generated (normal-form) primal, compiled."""
        values, static, t = self._bind(args, kwargs)
        return self._jit(t, static, "primal")(*values)

    @_public
    def compile(self, *args, seed=None, accumulate=None, **kwargs) -> "CompiledGrad":
        """Compile ahead of time for these arguments (arrays or ``jax.ShapeDtypeStruct``).

        The result is callable with arguments of the same shapes and dtypes and
        can be inspected (``as_text()``, ``cost_analysis()``,
        ``memory_analysis()``). Compiling again for the same shapes, dtypes and
        static values returns the cached object; other shapes compile anew.
        """
        values, static, t = self._bind(args, kwargs)
        acc = self._accumulators(accumulate)
        seed = self._check_seed(t, seed)
        key = (static, tuple(values[i] for i in static), _signature_of(
            [v for i, v in enumerate(values) if i not in static]), _signature_of(seed),
            _signature_of(acc))
        hit = self._compiled.get(key)
        if hit is None:
            compiled = self._jit(t, static).lower(*values, seed, acc).compile()
            hit = self._compiled[key] = CompiledGrad(self, compiled, static, t,
                                                     [values[i] for i in static])
        return hit

    @property
    def compiled_count(self) -> int:
        """How many ahead-of-time compilations this function holds in its cache."""
        return len(self._compiled)


def _signature_of(tree):
    leaves, structure = jax.tree_util.tree_flatten(tree)
    return structure, tuple((tuple(jnp.shape(x)), str(jnp.result_type(x))) for x in leaves)


def ast_args(fdef):
    a = fdef.args
    return [*a.posonlyargs, *a.args, *a.kwonlyargs]


class CompiledGrad:
    """An ahead-of-time compiled gradient: call it, or inspect what XLA made of it."""

    def __init__(self, owner: GradFunction, compiled, static, transformed, static_values=()):
        self._owner = owner
        self._compiled = compiled
        self._static = static
        self._static_values = tuple(static_values)
        self._transformed = transformed
        self._n_params = len(owner._params)
        self._has_status = bool(transformed.gradient.meta.get("has_status"))

    @_public
    def __call__(self, *args, seed=None, accumulate=None, **kwargs):
        if not kwargs and seed is None and accumulate is None and len(args) == self._n_params \
                and not self._owner._return_value \
                and tuple(args[i] for i in self._static) == self._static_values:
            # the fast path: the executable itself checks the shapes and dtypes of the arrays
            dynamic = [a for i, a in enumerate(args) if i not in self._static]
            out = self._compiled(*dynamic, None, None)
            if self._has_status:  # a while loop's tape overflow must still raise
                return self._owner._results(self._transformed, out)[1]
            grads = out[1]
            return grads[0] if self._owner._wrt_single else tuple(grads)
        values, static, _ = self._owner._bind(args, kwargs)
        if static != self._static:
            raise WrtError("this compiled gradient was made for other static arguments; "
                           "call .compile() again")
        dynamic = [v for i, v in enumerate(values) if i not in static]
        out = self._compiled(*dynamic, seed, self._owner._accumulators(accumulate))
        value, grads = self._owner._results(self._transformed, out)
        return (value, grads) if self._owner._return_value else grads

    def as_text(self) -> str:
        """The optimized XLA HLO text of the compiled gradient."""
        return self._compiled.as_text()

    def cost_analysis(self) -> dict:
        """XLA's estimate: flops, transcendentals, bytes accessed."""
        cost = self._compiled.cost_analysis()
        return cost[0] if isinstance(cost, list) else cost

    def memory_analysis(self):
        """XLA's memory statistics (argument, output and temporary bytes)."""
        return self._compiled.memory_analysis()

    @property
    def jax_compiled(self):
        return self._compiled


def grad(fn=None, *, wrt=0, max_iter: int | None = None, checkpoint=None, while_checkpoints=None):
    """The gradient of ``fn`` with respect to ``wrt``, by source transformation.

    ``wrt`` is a parameter position or name, or a tuple of them (default: the
    first parameter, as ``jax.grad``). One gives one gradient, a tuple gives a
    tuple. Use as ``grad(f)``, ``@grad`` or ``@grad(wrt=("W", "b"))``. The
    function is transformed immediately, so unsupported code fails here, with
    its location; ``.source`` shows the generated code. ``max_iter``: the tape
    length of data-dependent ``while`` loops that have no
    ``# sourcegrad: max_iter=N`` comment. ``checkpoint``: ``"sqrt"`` (or a segment length)
    to store only every segment's start of the function's top-level ``for`` loops and
    recompute their tapes in the backward pass (less memory, about twice the forward work);
    a loop can ask for it with a ``# sourcegrad: checkpoint=sqrt`` comment. A data-dependent
    ``while`` loop without ``max_iter`` keeps ``while_checkpoints`` copies of its state (default
    32; per loop: ``# sourcegrad: checkpoints=N``) and recomputes its iterations from them.
    """
    if fn is None:
        return functools.partial(grad, wrt=wrt, max_iter=max_iter, checkpoint=checkpoint,
                                 while_checkpoints=while_checkpoints)
    return _make(fn, wrt, False, max_iter, checkpoint, while_checkpoints)


def value_and_grad(fn=None, *, wrt=0, max_iter: int | None = None, checkpoint=None,
                   while_checkpoints=None):
    """Like :func:`grad`, but calling the result returns ``(value, gradient)``."""
    if fn is None:
        return functools.partial(value_and_grad, wrt=wrt, max_iter=max_iter, checkpoint=checkpoint,
                                 while_checkpoints=while_checkpoints)
    return _make(fn, wrt, True, max_iter, checkpoint, while_checkpoints)


def _make(fn, wrt, return_value, max_iter, checkpoint=None, while_checkpoints=None):
    try:
        return GradFunction(fn, wrt, return_value=return_value, max_iter=max_iter,
                            checkpoint=checkpoint, while_checkpoints=while_checkpoints)
    except SourcegradError as exc:
        raise exc.with_traceback(None) from None
