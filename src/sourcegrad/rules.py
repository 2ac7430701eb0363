"""Derivative rules: the registry, the template language, and ``register_rule``.

A rule says, for one primitive, how the forward statement prints and what each
differentiable argument's adjoint contribution is, as a Python expression
template. The templates may use:

* the rule's parameter names (replaced by the arguments at the call site),
* ``g``   the incoming adjoint (the accumulator of the result),
* ``ans`` the primal result,
* ``acc`` the accumulator being updated: a template that mentions ``acc``
  replaces the whole update (``acc.at[idx].add(g)``); any other template ``t``
  becomes ``b_x = b_x + t``,
* ``position`` for a sequence parameter (``concatenate(arrays)``), the index of the
  element whose adjoint is being computed,
* ``jnp``, ``lax`` and the helpers of :mod:`sourcegrad.runtime`.

The same rule carries its *tangent* (forward mode, ``sourcegrad.jvp``): ``tangent=`` gives the
contribution of each differentiable argument to the result's tangent, in terms of the
parameters, ``ans`` and ``d_<param>`` (that argument's tangent)::

    defrule("jnp.sin(x)", x="g * jnp.cos(x)", tangent="d_x * jnp.cos(x)")
    defop("multiply", "x * y", x="g * y", y="g * x", tangent=dict(x="d_x * y", y="x * d_y"))

A string is the contribution of the rule's one differentiable parameter; with several, a string
is one *joint* template (a linear function of all the tangents, ``jnp.concatenate(d_arrays)``)
in which an inactive argument's tangent is ``jnp.zeros_like`` of it. The forward pass sums the
contributions of the active arguments only, so an inactive argument costs nothing. A sequence
parameter's ``d_<param>`` is the list of its elements' tangents.

Every template is parsed and its names checked when the rule is registered, and
every differentiable parameter must have exactly one template. The rules
themselves live in ``transforms/`` (shipped as ``sourcegrad.transforms``),
grouped by domain, one table per domain.

Why this is long: this is the whole extension API in one module (the registry, ``defrule``,
``defop``, ``defconst``, ``register_rule``), as autograd keeps its own in one small module, so that
a reader of the rule tables finds every option in one place; the parsing and checking of templates
live in ``rule_templates.py`` and the suggestion for a missing rule in ``suggest.py``.
"""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass, field, replace

from .errors import RuleError
from .rule_templates import parse_template as _parse_template
from .rule_templates import registering_module as _registering_module
from .rule_templates import tangents as _tangents
from .suggest import is_numpy_or_scipy as _is_numpy_or_scipy
from .suggest import suggestion

__all__ = [
    "Param",
    "Rule",
    "defrule",
    "defop",
    "defconst",
    "defmulti",
    "register_rule",
    "lookup",
    "lookup_key",
    "all_rules",
    "objects_of",
    "suggestion",
    "REQUIRED",
]


class _Required:
    def __repr__(self):
        return "REQUIRED"


REQUIRED = _Required()

#: Parameter kinds. "array": differentiable unless constant; "static": must be a
#: static Python value (axis, shape); "nondiff": an array with no adjoint (a
#: condition); "sequence": a list/tuple display of arrays; "index": a subscript.
PARAM_KINDS = ("array", "static", "nondiff", "sequence", "index")


@dataclass(frozen=True)
class Param:
    name: str
    default: object = REQUIRED
    kind: str = "array"
    varargs: bool = False  # written *name in the signature: takes the remaining positional args

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class Rule:
    key: str  # "sin", "linalg.norm", "add", "getitem", or a user's name
    params: tuple  # Param, in call order
    callee: str | None = None  # how a call-form forward prints: "jnp.sin"
    operator: ast.expr | None = None  # operator-form forward template: x + y
    adjoints: dict = field(default_factory=dict)  # param -> parsed template (ast.expr)
    sources: dict = field(default_factory=dict)  # param -> template text
    tangents: dict = field(default_factory=dict)  # param -> parsed tangent contribution
    joint_tangent: ast.expr | None = None  # one template linear in every d_<param>
    tangent_sources: dict = field(default_factory=dict)  # param (or "*" for joint) -> text
    broadcast: bool = False  # contributions are summed back over broadcast axes
    differentiable: bool = True
    temp: str = ""  # base name of the temporaries this rule produces
    alternate: str | None = None  # rule to use when a sequence parameter gets one array
    positional: int = 1  # how many leading parameters print positionally
    max_positional: int | None = None  # how many a user may pass positionally (None: all)
    user_object: object = None  # for user-registered functions: the callable itself
    helpers: dict = field(default_factory=dict)  # extra names its templates call (user rules)
    domain: str = ""  # the module that registered it ("sourcegrad.transforms.special")
    # a function returning several arrays (``defmulti``): the keys of its parts' rules, one per part
    # (or one for every part, with ``count`` giving how many from the static arguments)
    parts: tuple = ()
    count: object = None  # callable(static arguments by name) -> number of parts
    alone: object = None  # callable(static arguments by name) -> index of the one part returned, or None
    parts_kind: str = "tuple"  # the container NumPy returns: "tuple" or "list"
    part: bool = False  # a part's rule: the forward prints ``callee(...)[part]``
    functions: tuple = ()  # static parameters that take a function, printed as written (rule_jax.py)

    @property
    def has_tangent(self) -> bool:
        """Whether forward mode knows this rule (a rule with no gradient needs no tangent)."""
        return not self.differentiable or bool(self.tangents) or self.joint_tangent is not None

    def param(self, name):
        for p in self.params:
            if p.name == name:
                return p
        return None


_RULES: dict[str, Rule] = {}
_BY_OBJECT: dict = {}  # _identity(obj) -> (obj, rule key); obj kept alive
_USED: set[str] = set()  # keys of rules a transform has read: they can no longer change
_LOADED = False
_OPEN_KEYWORDS: dict = {}  # key -> its rule for a call's keywords (ast.keyword list): rule_jax.defjax


def _parse_signature(signature: str):
    """``"jnp.sum(x, axis=None)"`` -> ("jnp.sum", [Param("x"), Param("axis", None)])."""
    try:
        call = ast.parse(signature, mode="eval").body
    except SyntaxError:
        raise RuleError(f"rule signature {signature!r} does not parse") from None
    if not isinstance(call, ast.Call):
        raise RuleError(f"rule signature {signature!r} must look like a call: name(x, y=default)")
    params = []
    for a in call.args:
        if isinstance(a, ast.Starred) and isinstance(a.value, ast.Name):
            params.append(Param(a.value.id, kind="sequence", varargs=True))
            continue
        if not isinstance(a, ast.Name):
            raise RuleError(f"rule signature {signature!r}: positional parameters must be names")
        params.append(Param(a.id))
    for kw in call.keywords:
        try:
            default = ast.literal_eval(kw.value)
        except ValueError:
            raise RuleError(
                f"rule signature {signature!r}: the default of {kw.arg!r} must be a literal"
            ) from None
        if kw.arg is None:  # **kwargs in a signature: not a parameter a template can name
            raise RuleError(f"rule signature {signature!r}: `**` is not supported")
        params.append(Param(kw.arg, default))
    return ast.unparse(call.func), params, len(call.args)


def _make(
    key,
    params,
    adjoints: dict,
    *,
    callee=None,
    operator=None,
    broadcast=False,
    static=(),
    nondiff=(),
    sequence=(),
    index=(),
    differentiable=True,
    temp=None,
    alternate=None,
    positional=1,
    max_positional=None,
    user_object=None,
    helpers=None,
    tangent=None,
) -> Rule:
    names = [p.name for p in params]
    helpers = dict(helpers or {})
    kinds = {p.name: p.kind for p in params if p.varargs}
    for kind, group in (("static", static), ("nondiff", nondiff), ("sequence", sequence), ("index", index)):
        for name in group:
            if name not in names:
                raise RuleError(f"rule {key!r}: {kind} parameter {name!r} is not in its signature")
            kinds[name] = kind
    params = tuple(Param(p.name, p.default, kinds.get(p.name, "array"), p.varargs) for p in params)
    allowed = set(names) | set(helpers)
    parsed, sources = {}, {}
    for name, text in adjoints.items():
        if name not in names:
            raise RuleError(
                f"rule {key!r}: adjoint given for {name!r}, which is not a parameter "
                f"(parameters: {', '.join(names)})"
            )
        parsed[name] = _parse_template(key, name, text, allowed)
        sources[name] = text
    if differentiable:
        missing = [p.name for p in params if p.kind in ("array", "sequence") and p.name not in parsed]
        if missing:
            raise RuleError(
                f"rule {key!r}: differentiable parameter(s) {', '.join(missing)} have "
                f"no adjoint template; give one, or declare them nondiff=(...) "
                f"or static=(...)"
            )
    tangents, joint, tangent_sources = _tangents(key, params, tangent, allowed)
    return Rule(
        key=key,
        params=params,
        callee=callee,
        operator=operator,
        adjoints=parsed,
        sources=sources,
        tangents=tangents,
        joint_tangent=joint,
        tangent_sources=tangent_sources,
        broadcast=broadcast,
        differentiable=differentiable,
        temp=temp or key.split(".")[-1],
        alternate=alternate,
        positional=positional,
        max_positional=max_positional,
        user_object=user_object,
        helpers=helpers,
    )


def _install(rule: Rule, objects=()) -> Rule:
    rule = replace(rule, domain=_registering_module())
    replaced = {rule.key} | {
        _BY_OBJECT[_identity(o)][1]
        for o in objects
        if _identity(o) in _BY_OBJECT and _same(_BY_OBJECT[_identity(o)][0], o)
    }
    used = sorted(replaced & _USED)
    if used:
        raise RuleError(
            f"the rule {used[0]!r} was already used to make a gradient; registering it again now "
            f"would reach only gradients made later, and a gradient object made before (which "
            f"transforms again for each new signature) would mix the two rules. Register rules "
            f"before the first grad(...) that uses them; to try another derivative, register it "
            f"for a new function (a wrapper with another name) and make a new grad object"
        )
    _RULES[rule.key] = rule
    for obj in objects:
        _BY_OBJECT[_identity(obj)] = (obj, rule.key)
    return rule


def _numpy_objects(path: str):
    """``numpy.<path>`` and ``jax.numpy.<path>``, where they exist; for ``scipy.<path>``,
    ``scipy.<path>`` and ``jax.scipy.<path>`` (``scipy.special.erf``, ``scipy.stats.norm.pdf``)."""
    import jax.numpy as jnp
    import numpy as np

    if path.startswith("scipy."):
        import importlib

        import jax.scipy  # noqa: F401

        package, _, rest = path[len("scipy.") :].partition(".")
        roots: list = []
        for name in (f"scipy.{package}", f"jax.scipy.{package}"):
            try:
                roots.append(importlib.import_module(name))
            except ImportError:
                continue
        path = rest
    else:
        roots = [np, jnp]
    out = []
    for root in roots:
        obj: object = root
        for part in path.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                break
        if obj is not None:
            out.append(obj)
    return out


def _identity(obj):
    """What a rule is found by: the object, or for a bound method (``scipy.stats.norm.pdf``, a new
    object at each attribute read) its instance and function."""
    if inspect.ismethod(obj):
        return (id(obj.__self__), id(obj.__func__))
    return id(obj)


def defrule(signature: str, *, aliases=(), **options) -> Rule:
    """Register a NumPy-style function rule (used by ``transforms/``).

    ``signature`` is the forward call as it prints, with parameter defaults:
    ``"jnp.sum(x, axis=None, keepdims=False)"``. The rule's key is the callee
    without ``jnp.`` and it applies to ``numpy.<key>`` and ``jax.numpy.<key>``
    (plus ``aliases``, more dotted paths under numpy/jax.numpy). Keyword
    options: adjoint templates by parameter name, and ``broadcast``, ``static``,
    ``nondiff``, ``sequence``, ``temp``, ``alternate``.
    """
    callee, params, positional = _parse_signature(signature)
    key = _key_of(callee)
    adjoints = {k: v for k, v in options.items() if k in {p.name for p in params}}
    extra = {k: v for k, v in options.items() if k not in adjoints}
    objects = list(extra.pop("objects", ()))
    extra.setdefault("positional", positional)
    rule = _make(key, params, adjoints, callee=callee, **extra)
    for path in (key, *aliases):
        objects.extend(_numpy_objects(path))
    return _install(rule, objects)


def _key_of(callee: str) -> str:
    for prefix in ("jnp.", "lax.", "jax."):
        if callee.startswith(prefix):
            return callee[len(prefix) :]
    return callee


def defop(key: str, template: str, *, numpy_name: str | None = None, **options) -> Rule:
    """Register an operator rule whose forward prints as an expression: ``defop("add", "x + y", ...)``.

    The template's free names are its parameters, in order of appearance, unless ``params``
    names them (then the template may also call ``jnp`` and the helpers of the runtime).
    ``numpy_name``: the NumPy function that means the same (``np.add``).
    """
    try:
        tree = ast.parse(template, mode="eval").body
    except SyntaxError:
        raise RuleError(f"rule {key!r}: operator template {template!r} does not parse") from None
    seen = list(options.pop("params", ()))
    if seen:
        _parse_template(key, "the forward", template, set(seen))
    else:
        for n in sorted(
            (n for n in ast.walk(tree) if isinstance(n, ast.Name)), key=lambda n: (n.lineno, n.col_offset)
        ):
            if n.id not in seen:
                seen.append(n.id)
    defaults = options.pop("defaults", {})
    params = [Param(n, defaults.get(n, REQUIRED)) for n in seen]
    adjoints = {k: v for k, v in options.items() if k in seen}
    extra = {k: v for k, v in options.items() if k not in adjoints}
    objects = list(extra.pop("objects", ()))
    rule = _make(key, params, adjoints, operator=tree, positional=len(params), **extra)
    return _install(rule, [*objects, *(_numpy_objects(numpy_name) if numpy_name else ())])


def defconst(signature: str, *, aliases=(), **options) -> Rule:
    """Register a function whose result is a constant for the backward pass (argmax, shape, sign)."""
    callee, params, positional = _parse_signature(signature)
    key = _key_of(callee)
    objects = list(options.pop("objects", ()))
    options.setdefault("positional", positional)
    rule = _make(key, params, {}, callee=callee, differentiable=False, **options)
    if not callee.startswith("lax."):
        for path in (key, *aliases):
            objects.extend(_numpy_objects(path))
    return _install(rule, objects)


def defmulti(
    signature: str, parts, *, names, count=None, alone=None, kind="tuple", aliases=(), objects=(), **shared
) -> Rule:
    """Register a NumPy function that returns several arrays (``slogdet``, ``eigh``, ``split``).

    Each part is a rule of its own, keyed ``<key>.<name>``, whose forward prints
    ``callee(...)[part]`` (``part`` is a static parameter every part's templates may read): ``g``
    in its adjoint is that part's cotangent, ``ans`` that part's value, so a call's adjoint is the
    sum of its used parts' adjoints and a part the function never reads costs nothing.
    ``parts``: one dict of options per part (adjoint templates by parameter, ``tangent=``,
    ``differentiable=False`` for a part that is a constant), or, with ``count`` (a function of the
    static arguments, by name, giving the number of parts), one dict used for every part.
    ``alone``: a function of the static arguments giving the index of the one part a call returns
    as a plain array (``svd(a, compute_uv=False)`` is ``s``), or None. Both may refuse a call with
    ``ValueError(message, how to fix)``, which becomes a located error.
    ``names``: the parts' names (their temporaries' base names); ``shared``: options of every part
    (``static=``, ``positional=``). ``kind``: the container NumPy returns ("tuple" or "list")."""
    callee, params, positional = _parse_signature(signature)
    key = _key_of(callee)
    shared.setdefault("positional", positional)
    static = tuple(shared.pop("static", ())) + ("part",)
    with_part = [*params, Param("part", 0)]
    keys = []
    for name, options in zip(names, parts):
        options = dict(options)
        adjoints = {k: v for k, v in options.items() if k in {p.name for p in params}}
        extra = {k: v for k, v in options.items() if k not in adjoints}
        extra.setdefault("temp", name)
        rule = _make(f"{key}.{name}", with_part, adjoints, callee=callee, static=static, **shared, **extra)
        _install(replace(rule, part=True))
        keys.append(rule.key)
    whole = _make(key, params, {}, callee=callee, differentiable=False, static=static[:-1], **shared)
    whole = replace(whole, parts=tuple(keys), count=count, alone=alone, parts_kind=kind)
    found = list(objects)
    for path in (key, *aliases):
        found.extend(_numpy_objects(path))
    return _install(whole, found)


def register_rule(fn, signature: str, *, jax_impl=None, **adjoints) -> Rule:
    """Teach sourcegrad the derivative of your own function. One call::

        def softplus(x):
            return jnp.logaddexp(x, 0.0)

        sourcegrad.register_rule(softplus, "softplus(x)", x="g * jax.nn.sigmoid(x)")

    ``signature`` names the parameters (with literal defaults for optional
    ones); each keyword gives the adjoint template of one differentiable
    parameter, in terms of the parameters, ``g`` (the incoming gradient) and
    ``ans`` (the result). Declare non-differentiable parameters with
    ``static=("axis",)`` or ``nondiff=("mask",)``; set ``broadcast=True`` for
    functions that broadcast their arguments. The generated code calls ``fn`` on JAX
    arrays; for a function that cannot take them (a NumPy or SciPy function,
    ``np.i0``), name the JAX function that computes the same with ``jax_impl=``::

        sourcegrad.register_rule(np.i0, "i0(x)", x="g * jax.scipy.special.i1(x)", jax_impl=jnp.i0)

    Registering the same function again
    replaces its rule, until a gradient has used it: then it is refused (``RuleError``),
    since gradient objects made before would mix the old and the new rule. Templates may
    call your own functions, passed as ``helpers={"name": fn}``.
    ``tangent="d_x * jax.nn.sigmoid(x)"`` gives its forward-mode rule (for ``sourcegrad.jvp``),
    in terms of the parameters, ``ans`` and ``d_<param>``.
    """
    callee, params, positional = _parse_signature(signature)
    name = callee.split(".")[-1]
    hit = _BY_OBJECT.get(_identity(fn))
    used = hit is not None and _same(hit[0], fn) and hit[1] in _USED  # _install says why it is refused
    # (its results are named <name>_value: a temporary named like the function would hide it)
    if jax_impl is None and _is_numpy_or_scipy(fn) and not used:
        raise RuleError(
            f"register_rule({name}): {getattr(fn, '__module__', None) or 'numpy'}."
            f"{getattr(fn, '__name__', name)} cannot run on the JAX arrays of the generated "
            f"code; name the JAX function that computes the same: jax_impl=jnp.{name} "
            f"(or jax.scipy.special.{name}, or your own function)"
        )
    callee = name  # the generated module binds the implementation under this name

    key = f"{getattr(fn, '__module__', None) or ''}.{getattr(fn, '__qualname__', name)}"

    options = {
        k: adjoints.pop(k)
        for k in ("static", "nondiff", "broadcast", "sequence", "helpers", "tangent")
        if k in adjoints
    }
    rule = _make(
        key,
        params,
        adjoints,
        callee=callee,
        positional=positional,
        user_object=fn if jax_impl is None else jax_impl,
        temp=f"{name}_value",
        **options,
    )
    return _install(rule, [fn])


def _same(a, b) -> bool:
    if inspect.ismethod(a) and inspect.ismethod(b):
        return a.__self__ is b.__self__ and a.__func__ is b.__func__
    return a is b


def _ensure_loaded():
    global _LOADED
    if not _LOADED:
        _LOADED = True
        from . import transforms  # noqa: F401  (registers every built-in rule)


def lookup(obj, keywords=()) -> Rule | None:
    """The rule for a Python object (``numpy.sin``, ``jnp.sum``, a user's registered function);
    ``keywords``: the call's ``ast.keyword`` nodes, for a helper that takes any (``vjp_of``)."""
    _ensure_loaded()
    hit = _BY_OBJECT.get(_identity(obj))
    if hit is None or not _same(hit[0], obj):
        return None
    _USED.add(hit[1])
    if hit[1] in _OPEN_KEYWORDS:
        return _OPEN_KEYWORDS[hit[1]](keywords)
    return _RULES[hit[1]]


def lookup_key(key: str) -> Rule:
    """The rule registered under ``key``; a transform reads rules here and through ``lookup``,
    which mark them used (a used rule cannot be registered again)."""
    _ensure_loaded()
    rule = _RULES[key]
    _USED.add(key)
    return rule


def has_key(key: str) -> bool:
    _ensure_loaded()
    return key in _RULES


def objects_of(key: str) -> list:
    """The Python objects a rule applies to (``numpy.sin``, ``jax.numpy.sin``), in registration order."""
    _ensure_loaded()
    return [obj for obj, k in _BY_OBJECT.values() if k == key]


def all_rules() -> dict[str, Rule]:
    _ensure_loaded()
    return dict(_RULES)
