"""Writes docs/errors.md and docs/api.md from the docstrings (tests/test_docs.py checks them), and
docs/coverage.md from the rule registry (tests/test_coverage_page.py checks it).

Run: python docs/gen_reference.py
"""

import ast
import importlib
import inspect
import pathlib
import textwrap

import sourcegrad
from sourcegrad import errors
from sourcegrad.inspect.graph import GraphvizMissing

HERE = pathlib.Path(__file__).parent


def _doc(obj) -> str:
    return textwrap.dedent(inspect.getdoc(obj) or "").strip()


def render_errors() -> str:
    out = ["# Errors", "",
           "Every error sourcegrad raises derives from `sourcegrad.SourcegradError` and from the",
           "built-in exception it resembles. Errors about your source name the file, line and column",
           "and show the line with a caret. This page is generated from the error classes' docstrings",
           "(`docs/gen_reference.py`).", ""]
    classes = [getattr(errors, name) for name in errors.__all__] + [GraphvizMissing]
    for cls in classes:
        bases = ", ".join(b.__name__ for b in cls.__bases__)
        out += [f"## {cls.__name__}", "", f"*Derives from: {bases}.*", "", _doc(cls), ""]
    return "\n".join(out)


def _signature(fn) -> str:
    try:
        return str(inspect.signature(fn))
    except (TypeError, ValueError):
        return "(...)"


def render_api() -> str:
    out = ["# API reference", "",
           "Generated from the docstrings (`docs/gen_reference.py`). Everything here is importable",
           "from `sourcegrad`.", ""]
    for name in ("grad", "value_and_grad", "jvp", "jacfwd", "jacrev", "hessian", "hvp", "register_rule",
                 "stop_gradient", "check"):
        fn = getattr(sourcegrad, name)
        out += [f"## `{name}{_signature(fn)}`", "", _doc(fn), ""]
    out += ["## `no_grad`", "", _doc(sourcegrad.no_grad), ""]
    for cls in (sourcegrad.GradFunction, sourcegrad.CompiledGrad, sourcegrad.CheckResult):
        out += [f"## `{cls.__name__}`", "", _doc(cls), ""]
        for attr, member in inspect.getmembers(cls):
            if attr.startswith("_") and attr != "__call__":
                continue
            target = member.fget if isinstance(member, property) else member
            if not callable(target) or not _doc(target):
                continue
            label = f"{attr}" if isinstance(member, property) else f"{attr}{_signature(target)}"
            out += [f"### `{cls.__name__}.{label}`", "", _doc(target), ""]
    return "\n".join(out)


def _name(obj, key) -> str:
    """How a user writes the function: np.sin, jnp.sin, scipy.special.erf, scipy.stats.norm.pdf."""
    if inspect.ismethod(obj):
        owner = "jax.scipy" if type(obj.__self__).__module__.startswith("jax") else "scipy"
        return f"{owner}.{key[len('scipy.'):]}" if key.startswith("scipy.") else key
    module = getattr(obj, "__module__", None) or ""
    name = getattr(obj, "__name__", key.split(".")[-1])
    if module == "builtins":
        return name
    if module.startswith("sourcegrad"):
        return f"sourcegrad.{name}"
    if module.startswith("jax._src.lax"):
        return f"jax.lax.{name}"
    if module.startswith("jax.numpy") or module.startswith("jax._src.numpy"):
        root = "jnp"
    elif module.startswith("numpy"):
        root = "np"
    elif module.startswith(("jax.scipy", "jax._src.scipy")):
        root = "jax.scipy"
    elif module.startswith("scipy"):
        root = "scipy"
    else:
        return f"{module}.{name}" if module else name
    if root in ("np", "jnp") and not key.startswith("scipy."):
        import jax.numpy as jnp
        import numpy as np

        base = np if root == "np" else jnp
        for path in (key, ".".join(key.split(".")[:-1] + [name]), f"linalg.{name}", name):
            found = base
            for part in path.split("."):
                found = getattr(found, part, None)
            if found is obj:
                return f"{root}.{path}"
        return f"{root}.{name}"
    return f"{root}.{key[len('scipy.'):]}" if key.startswith("scipy.") else f"{root}.{name}"


def _no_names(rule) -> str:
    return "(one part of the call above)" if rule.part else "(operator, method or attribute)"


def _forward(rule) -> str:
    params = []
    for p in rule.params:
        if rule.part and p.name == "part":
            continue
        text = f"*{p.name}" if p.varargs else p.name
        params.append(text if p.required else f"{text}={p.default!r}")
    if rule.callee:
        return f"{rule.callee}({', '.join(params)})" + ("[part]" if rule.part else "")
    return ast.unparse(rule.operator)


def render_coverage() -> str:
    from sourcegrad import rules, transforms

    out = ["# Coverage", "",
           "Every function sourcegrad has a derivative rule for, by domain, generated from the rule",
           "registry (`docs/gen_reference.py`; `sourcegrad.rules.all_rules()`). *Applies to* lists the",
           "names a function may be called by; *Adjoint* says what flows back to each differentiable",
           "argument (*constant* marks a function with no gradient). Anything else is a located",
           "`MissingRuleError`: see [Limitations](limitations.md) and `sourcegrad.register_rule`.", ""]
    by_domain: dict = {}
    for key, rule in sorted(rules.all_rules().items()):
        if rule.user_object is not None:  # registered by a user (or a test) with register_rule
            continue
        if "[" in key:  # made while transforming, for one call's keywords (rule_jax._for_keywords)
            continue
        by_domain.setdefault(rule.domain, []).append(rule)
    total = 0
    for module_name in sorted(by_domain, key=lambda m: (not m.startswith(transforms.__name__), m)):
        module = importlib.import_module(module_name) if module_name else None
        title = module_name.rsplit(".", 1)[-1] if module_name else "other"
        summary = (_doc(module).splitlines() or [""])[0] if module else ""
        out += [f"## {title}", "", summary, "", "| Rule | Forward | Applies to | Adjoint |",
                "| --- | --- | --- | --- |"]
        for rule in by_domain[module_name]:
            names = sorted({_name(o, rule.key) for o in rules.objects_of(rule.key)})
            adjoint = ("<br>".join(f"{p}: `{t}`" for p, t in rule.sources.items())
                       if rule.differentiable else "constant")
            if rule.parts:  # a function that returns several arrays: each part has its rule
                adjoint = "one rule per part: " + ", ".join(f"`{k}`" for k in dict.fromkeys(rule.parts))
            cell = lambda s: s.replace("|", "\\|")  # noqa: E731
            out.append(f"| `{rule.key}` | `{cell(_forward(rule))}` | "
                       f"{', '.join(f'`{n}`' for n in names) or _no_names(rule)} | "
                       f"{cell(adjoint)} |")
            total += 1
        out.append("")
    out.insert(7, f"{total} rules in all.\n")
    return "\n".join(out)


def main():
    (HERE / "coverage.md").write_text(render_coverage())
    (HERE / "errors.md").write_text(render_errors())
    (HERE / "api.md").write_text(render_api())


if __name__ == "__main__":
    main()
