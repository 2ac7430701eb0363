"""``--jobs N``: a run split across worker processes, for the long run on a machine with cores.

The programs are cut into chunks of consecutive indices; each worker process (started with
``spawn``: JAX's threads do not survive a fork) checks whole chunks with the serial runner, and
keeps its kernel caches warm from one chunk to the next. Program ``i`` is generated from
``"S:i"`` whichever process checks it, so the outcomes, and the counts, are the ones a single
process gives; reproducers are named after their program, so workers never write the same file.
A failure class two workers both meet is minimized by both and reported once. ``summary.json``
is rewritten after every chunk, so a run stopped early keeps its counts.
"""

from __future__ import annotations

import multiprocessing
import time

from .generate import FEATURES
from .run import Report, _run_serial, write_summary

__all__ = ["run_parallel", "CHUNK"]

#: Programs per chunk: small enough to balance the workers, large enough that handing out a
#: chunk costs nothing next to checking it.
CHUNK = 25


def _init(x64: bool) -> None:
    import jax

    jax.config.update("jax_enable_x64", x64)


def _chunk(task):
    first, count, seed, out, deadline, options = task
    left = None if deadline is None else deadline - time.time()
    if left is not None and left <= 0:
        return None
    return _run_serial(
        count,
        seed,
        out,
        options["features"],
        options["jit"],
        first,
        options["minimize_failures"],
        left,
        None,
    )


def run_parallel(
    n,
    seed=0,
    out=None,
    *,
    jobs=2,
    features=FEATURES,
    jit=False,
    start=0,
    minimize_failures=True,
    time_limit=None,
    log=None,
) -> Report:
    """``run`` (see ``run.py``) with ``jobs`` worker processes; the same outcomes."""
    import jax

    options = dict(features=tuple(features), jit=jit, minimize_failures=minimize_failures)
    t0 = time.perf_counter()
    deadline = None if time_limit is None else time.time() + time_limit
    tasks = [
        (first, min(CHUNK, start + n - first), seed, out, deadline, options)
        for first in range(start, start + n, CHUNK)
    ]
    report = Report()
    context = multiprocessing.get_context("spawn")
    with context.Pool(jobs, initializer=_init, initargs=(bool(jax.config.read("jax_enable_x64")),)) as pool:
        for part in pool.imap_unordered(_chunk, tasks):
            if part is None:
                continue
            new = [key for key in part.classes if key not in report.classes]
            _merge(report, part)
            report.seconds = time.perf_counter() - t0
            write_summary(report, out)  # a long run stopped early keeps its counts so far
            if log:
                for key in new:
                    log(f"new failure class {key} (program {part.classes[key][0]}) -> {part.classes[key][1]}")
                rate = report.programs / (time.perf_counter() - t0)
                log(f"{report.programs} programs, {rate:.1f}/s, {dict(report.counts)}")
    report.seconds = time.perf_counter() - t0
    write_summary(report, out)
    return report


def _merge(report, part) -> None:
    report.programs += part.programs
    report.counts.update(part.counts)
    report.located.update(part.located)
    report.skipped.update(part.skipped)
    for key, value in part.classes.items():
        report.classes.setdefault(key, value)
