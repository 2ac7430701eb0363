"""Reading a rule's templates: each adjoint or tangent is one Python expression over the rule's
parameters, ``g``/``ans``/``acc``/``position``, the tangents ``d_<param>``, ``jnp``/``lax``/``jax``
and the helpers of ``sourcegrad.runtime``; anything else is a ``RuleError`` when the rule is made."""

from __future__ import annotations

import ast
import builtins
import sys
import types

from . import runtime
from .errors import RuleError

_TEMPLATE_GLOBALS = {"g", "ans", "acc", "position", "jnp", "lax", "jax"}


def helper_names() -> set[str]:
    return set(runtime.__all__)


def parse_template(rule_key: str, param: str, text: str, allowed: set, what: str = "adjoint") -> ast.expr:
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        raise RuleError(
            f"rule {rule_key!r}: the {what} of {param!r} does not parse: {text!r} ({exc.msg})"
        ) from None
    unknown = sorted(
        {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        - allowed
        - _TEMPLATE_GLOBALS
        - helper_names()
        - set(dir(builtins))
    )
    if unknown:
        raise RuleError(
            f"rule {rule_key!r}: the {what} of {param!r} ({text!r}) uses "
            f"{', '.join(unknown)}, which is neither a parameter of the rule, "
            f"g, ans, acc, jnp, lax nor a helper of sourcegrad.runtime"
        )
    return tree


def tangents(key, params, tangent, allowed):
    """(per-argument tangent contributions, joint template, their texts) of a rule."""
    if tangent is None:
        return {}, None, {}
    diff = [p.name for p in params if p.kind in ("array", "sequence")]
    allowed = allowed | {f"d_{p.name}" for p in params} | {"ans"}
    if isinstance(tangent, str) and len(diff) != 1:
        return {}, parse_template(key, "*", tangent, allowed, "tangent"), {"*": tangent}
    if isinstance(tangent, str):
        tangent = {diff[0]: tangent}
    unknown = [k for k in tangent if k not in diff]
    if unknown:
        raise RuleError(
            f"rule {key!r}: tangent given for {', '.join(unknown)}, which is not a "
            f"differentiable parameter (they are: {', '.join(diff) or 'none'})"
        )
    missing = [p for p in diff if p not in tangent]
    if missing:
        raise RuleError(
            f"rule {key!r}: differentiable parameter(s) {', '.join(missing)} have no "
            f"tangent contribution; give tangent=dict({missing[0]}=...)"
        )
    parsed = {p: parse_template(key, p, text, allowed, "tangent") for p, text in tangent.items()}
    return parsed, None, dict(tangent)


def registering_module() -> str:
    """The module whose code called defrule/defop/defconst/register_rule."""
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") in (
        "sourcegrad.rules",
        "sourcegrad.rule_jax",
        __name__,
    ):
        frame = frame.f_back
    return frame.f_globals.get("__name__", "") if frame is not None else ""
