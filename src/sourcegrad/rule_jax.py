"""Rules for the runtime helpers that are pure JAX functions: tangent by ``jax.jvp``, adjoint by
``jax.vjp`` of the helper itself (``defjax``).

Generated gradients call helpers of ``sourcegrad.runtime`` (``eigh_adjoint``, ``svd_adjoint``,
``vjp_of(jnp.cumprod, ...)``, ``transpose_of(jnp.diff, ...)``). Second order normalizes such a
gradient again, so each helper it calls needs a rule. For a helper written in JAX, one rule fits
all: the adjoint of its argument ``i`` is ``vjp_of(helper, g, (args...), i)`` and the tangent
``jvp_of(helper, d_<arg>, (args...), i)`` (JAX differentiates that one call); an argument the
helper is linear in (``linear=``) gets the helper itself as its tangent, which reads better.

``vjp_of``, ``transpose_of`` and ``jvp_of`` take the function they differentiate (``fn``, a static
argument printed as it is written, ``jnp.cumprod``) and its keyword arguments (``**kwargs``):
``keywords=True`` makes one rule per set of keyword names a call passes, each keyword a static
parameter when it is a literal and an array otherwise (``weights=w``, differentiated by name).
"""

from __future__ import annotations

import ast
import functools
from dataclasses import replace

from . import rules
from .errors import RuleError
from .rule_templates import registering_module

__all__ = ["defjax"]


def defjax(
    signature: str, *, static=(), nondiff=(), sequence=(), linear=(), functions=(), keywords=False, **options
):
    """Register a rule for the runtime helper ``signature`` names (``"eigh_adjoint(a, gw, gv,
    UPLO='L')"``), a pure JAX function: every array argument's adjoint and tangent by JAX.
    ``static``, ``nondiff``, ``sequence`` as for ``defrule``; ``functions``: static arguments that
    take a function (``fn`` of ``vjp_of``); ``linear``: arguments the helper is linear in, together
    (``None`` for zero): the tangent of one is the helper applied to it, the others None;
    ``keywords``: the helper takes any keyword arguments (``vjp_of(fn, v, args, k, **kwargs)``);
    ``objects``, ``temp`` as for defrule."""
    callee, params, _ = rules._parse_signature(signature)
    if any(p.varargs for p in params):
        raise RuleError(f"defjax({signature!r}): a helper taking *args is not supported; use defrule")
    spec = dict(
        callee=callee,
        params=params,
        static=tuple(functions) + tuple(static),
        functions=tuple(functions),
        nondiff=tuple(nondiff),
        sequence=tuple(sequence),
        linear=tuple(linear),
        options=options,
        domain=registering_module(),  # a rule made later for a call's keywords keeps it
    )
    rule = _build(spec, ())
    if keywords:
        rules._OPEN_KEYWORDS[rule.key] = functools.partial(_for_keywords, rule.key, spec)
    return rule


def _for_keywords(key: str, spec, keywords) -> rules.Rule:
    """The rule of the helper ``key`` (registered with ``keywords=True``) for a call passing
    ``keywords`` (``ast.keyword`` nodes): made once per set of keyword names and kinds."""
    extra = tuple((kw.arg, _is_literal(kw.value)) for kw in keywords)
    if not extra:
        return rules.lookup_key(key)
    if any(name is None for name, _ in extra):
        raise RuleError(f"`{key}(..., **kwargs)`: pass the keyword arguments one by one")
    made = f"{key}[{', '.join(n + (':static' if s else ':array') for n, s in extra)}]"
    if not rules.has_key(made):
        _build(spec, extra, made)
    return rules.lookup_key(made)


def _is_literal(node) -> bool:
    try:
        ast.literal_eval(node)
        return True
    except ValueError:
        return False


def _build(spec, extra, key=None) -> rules.Rule:
    params = list(spec["params"]) + [rules.Param(name, None) for name, _ in extra]
    static = spec["static"] + tuple(name for name, literal in extra if literal)
    kinds = {n: "static" for n in static} | {n: "nondiff" for n in spec["nondiff"]}
    kinds |= {n: "sequence" for n in spec["sequence"]}
    # the helper's own parameters go positionally (a keyword `k=` would meet vjp_of's own k), the
    # keywords a call of vjp_of/transpose_of passes on to its function by name
    positional = [p.name for p in spec["params"]]
    named = [name for name, _ in extra]
    args = f"({', '.join(positional)}{',' * (len(positional) == 1)})"
    kw = "".join(f", {n}={n}" for n in named)
    callee = spec["callee"]
    adjoints, tangents = {}, {}
    for p in params:
        if kinds.get(p.name, "array") not in ("array", "sequence"):
            continue
        at = positional.index(p.name) if p.name in positional else repr(p.name)
        item = "[position]" if kinds.get(p.name) == "sequence" else ""
        adjoints[p.name] = f"vjp_of({callee}, g, {args}, {at}{kw}){item}"
        if p.name in spec["linear"]:  # linear together: the others are None (zero)
            moved = [f"d_{n}" if n == p.name else "None" if n in spec["linear"] else n for n in positional]
            tangents[p.name] = f"{callee}({', '.join(moved)}{kw})"
        else:
            tangents[p.name] = f"jvp_of({callee}, d_{p.name}, {args}, {at}{kw})"
    options = dict(spec["options"])
    objects = options.pop("objects", ())
    rule = rules._make(
        key or rules._key_of(callee),
        params,
        adjoints,
        callee=callee,
        static=static,
        nondiff=spec["nondiff"],
        sequence=spec["sequence"],
        positional=sum(p.required for p in spec["params"]),
        tangent=tangents or None,
        **options,
    )
    rule = rules._install(replace(rule, functions=spec["functions"]), () if key else objects)
    rules._RULES[rule.key] = rule = replace(rule, domain=spec["domain"])
    return rule
