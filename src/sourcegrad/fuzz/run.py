"""Run the differential fuzzer: generate, judge, minimize and write reproducers.

Program ``i`` of a run with seed ``S`` is generated from the string ``"S:i"``, so any program
of any run can be regenerated alone (``--start i --n 1``).
"""

from __future__ import annotations

import collections
import importlib.util
import itertools
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import jax.numpy as jnp

from .generate import FEATURES, generate
from .oracle import Outcome, check_function
from .program import FUNCTION, Program, literal

__all__ = ["check_program", "minimize", "run", "Report", "NO_JAX_FEATURES"]

#: Programs with these features change arrays in place: jax.numpy cannot run them.
NO_JAX_FEATURES = {"inplace", "alias", "helper_write"}

_serial = itertools.count()


def _load(source: str, workdir: str, tag: str):
    """Write ``source`` to a new file and import it (sourcegrad reads source from files)."""
    path = os.path.join(workdir, f"fuzz_{tag}_{next(_serial)}.py")
    if not os.path.exists(path):
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(source)
    name = f"sourcegrad_fuzz_{os.path.basename(path)[:-3]}"
    spec = importlib.util.spec_from_file_location(name, path)
    # a path ending in .py always gets a spec with a source loader
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    saved = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = saved
    return module, path


def check_program(program: Program, workdir: str, *, jit: bool = False, tag: str = "p") -> Outcome:
    source = program.source()
    module, path = _load(source, workdir, tag.replace(":", "_"))
    jax_fn = None
    if not program.features() & NO_JAX_FEATURES:
        ns: dict[str, Any] = {"__name__": "sourcegrad_fuzz_jax"}
        exec(compile(source, path, "exec"), ns)
        ns["np"] = jnp
        jax_fn = ns[FUNCTION]
    try:
        return check_function(
            getattr(module, FUNCTION), program.args, program.wrt, path=path, jax_fn=jax_fn, jit=jit
        )
    finally:
        os.unlink(path)


def _paths(nodes, prefix=()):
    """Every statement's position, deepest last: (list index path) tuples."""
    for k, node in enumerate(nodes):
        yield prefix + (k,)
        for part, children in (("body", node.body), ("orelse", node.orelse)):
            yield from _paths(children, prefix + (k, part))


def _without(program: Program, where: str, path, inline: bool = False) -> Program | None:
    """The program without the statement at ``path``; with ``inline``, a compound statement is
    replaced by its body (an ``if`` by its first branch, a loop by one pass of its body)."""
    copy = program.copy()
    nodes = getattr(copy, where)
    for step in path[:-1]:
        nodes = nodes[step] if isinstance(step, int) else getattr(nodes, step)
    node = nodes[path[-1]]
    if inline:
        if not node.body or where != "body":
            return None
        for child in node.body:
            child.defines = tuple(dict.fromkeys(child.defines + node.defines))
        nodes[path[-1] : path[-1] + 1] = node.body
        return copy
    if where == "body" and len(path) == 1 and len(nodes) == 1:
        return None
    if len(path) > 1 and len(nodes) == 1:
        return None  # keep a block non-empty: drop the whole compound statement instead
    del nodes[path[-1]]
    return copy


def minimize(
    program: Program, outcome: Outcome, workdir: str, *, jit: bool = False, budget: int = 80
) -> Program:
    """Drop statements (and helpers) one at a time while the same failure class remains."""
    tries = 0
    changed = True
    while changed and tries < budget:
        changed = False
        for where in ("body", "helpers"):
            candidates = [
                (p, inline)
                for p in reversed(list(_paths(getattr(program, where))))
                for inline in (False, True)
            ]
            for path, inline in candidates:
                if tries >= budget:
                    break
                smaller = _without(program, where, path, inline)
                if smaller is None:
                    continue
                tries += 1
                try:
                    got = check_program(smaller, workdir, jit=jit, tag="min")
                except Exception:
                    continue
                if got.key == outcome.key:
                    program, changed = smaller, True
                    break
            if changed:
                break
    return program


def reproducer(program: Program, outcome: Outcome) -> str:
    """A standalone file: the program, its arguments, and the check that fails."""
    detail = "\n".join("# " + line for line in outcome.detail.splitlines()[:12])
    args = ",\n".join(f"    {k!r}: {literal(v)}" for k, v in program.args.items())
    return (
        f"# sourcegrad fuzz reproducer: program {program.seed!r}, outcome {outcome.kind}\n"
        f"# class: {outcome.key}\n# features: {', '.join(sorted(program.features()))}\n"
        f"{detail}\n{program.source()}\n\nARGS = {{\n{args},\n}}\nWRT = {program.wrt!r}\n\n"
        f'if __name__ == "__main__":\n'
        f'    import jax\n    jax.config.update("jax_enable_x64", True)\n'
        f"    from sourcegrad.fuzz.oracle import check_function\n"
        f"    print(check_function({FUNCTION}, ARGS, WRT))\n"
    )


@dataclass
class Report:
    counts: collections.Counter = field(default_factory=collections.Counter)
    classes: dict = field(default_factory=dict)  # failure key -> (program seed, file, source)
    located: collections.Counter = field(default_factory=collections.Counter)
    skipped: collections.Counter = field(default_factory=collections.Counter)
    programs: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.programs / self.seconds if self.seconds else 0.0

    def summary(self) -> dict:
        return {
            "programs": self.programs,
            "seconds": round(self.seconds, 1),
            "programs_per_second": round(self.rate, 2),
            "counts": dict(self.counts),
            "failure_classes": {k: v[:2] for k, v in self.classes.items()},
            "located_errors": dict(self.located),
            "skipped": dict(self.skipped),
        }


def run(
    n: int,
    seed: int = 0,
    out: str | None = None,
    *,
    features=FEATURES,
    jit: bool = False,
    start: int = 0,
    minimize_failures: bool = True,
    time_limit: float | None = None,
    log=None,
) -> Report:
    """Fuzz ``n`` programs (or until ``time_limit`` seconds); failures go to ``out``. Worker
    processes: ``parallel.run_parallel`` (``--jobs``)."""
    report = _run_serial(n, seed, out, features, jit, start, minimize_failures, time_limit, log)
    write_summary(report, out)
    return report


def write_summary(report: Report, out: str | None) -> None:
    if out:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "summary.json"), "w", encoding="utf-8") as fh:
            json.dump(report.summary(), fh, indent=2)


def _run_serial(n, seed, out, features, jit, start, minimize_failures, time_limit, log) -> Report:
    report = Report()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sourcegrad-fuzz-") as workdir:
        for i in range(start, start + n):
            if time_limit is not None and time.perf_counter() - t0 > time_limit:
                break
            program = generate(f"{seed}:{i}", features)
            try:
                outcome = check_program(program, workdir, jit=jit, tag=f"{seed}_{i}")
            except Exception as exc:  # the fuzzer's own failure to load the program
                outcome = Outcome("crash", f"fuzzer: {type(exc).__name__}: {exc}", "crash:fuzzer")
            report.programs += 1
            report.counts[outcome.kind] += 1
            if outcome.kind == "located-error":
                report.located[outcome.key] += 1
            elif outcome.kind == "skipped":
                report.skipped[outcome.key] += 1
            elif outcome.failed:
                _record(report, program, outcome, workdir, out, jit, minimize_failures, log)
            if log and report.programs % 100 == 0:
                log(
                    f"{report.programs} programs, {report.programs / (time.perf_counter() - t0):.1f}/s, "
                    f"{dict(report.counts)}"
                )
    report.seconds = time.perf_counter() - t0
    return report


def _class_key(program: Program, outcome: Outcome) -> str:
    """A wrong gradient's class: the in-place features it needs, else all its features."""
    if outcome.kind != "wrong":
        return outcome.key
    features = program.features() - {"straight"}
    core = features & NO_JAX_FEATURES or features
    return f"{outcome.key}[{'+'.join(sorted(core)) or 'straight'}]"


def _record(report, program, outcome, workdir, out, jit, minimize_failures, log):
    key = _class_key(program, outcome)
    if key in report.classes:
        return
    if minimize_failures:
        program = minimize(program, outcome, workdir, jit=jit)
        key = _class_key(program, outcome)
        if key in report.classes:
            return
    path = None
    if out:
        os.makedirs(out, exist_ok=True)
        path = os.path.join(out, f"repro_{len(report.classes):03d}_{program.seed.replace(':', '_')}.py")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(reproducer(program, outcome))
    report.classes[key] = (program.seed, path, program.source())
    if log:
        log(f"new failure class {key} (program {program.seed}) -> {path}")
