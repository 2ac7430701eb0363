"""``python -m sourcegrad.fuzz --n 100000 --seed 0 --out DIR``: the long differential run."""

from __future__ import annotations

import argparse
import functools
import sys

from .generate import FEATURES


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sourcegrad.fuzz",
        description="Differential fuzzing of sourcegrad against NumPy (float64 finite "
        "differences) and jax.grad. Exit status 1 when a program gives a wrong "
        "gradient or crashes.",
    )
    parser.add_argument("--n", type=int, default=1000, help="how many programs (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="the run's seed (default 0)")
    parser.add_argument("--start", type=int, default=0, help="index of the first program")
    parser.add_argument("--out", default=None, help="folder for reproducers and summary.json")
    parser.add_argument(
        "--features",
        default=",".join(FEATURES),
        help=f"comma-separated features to use (default: all of {', '.join(FEATURES)})",
    )
    parser.add_argument("--exclude", default="", help="comma-separated features to leave out")
    parser.add_argument(
        "--jit",
        action="store_true",
        help="compile each gradient with jax.jit (default: run it eagerly, faster for one call per program)",
    )
    parser.add_argument("--time-limit", type=float, default=None, help="stop after this many seconds")
    parser.add_argument(
        "--jobs", type=int, default=1, help="worker processes (default 1); the outcomes do not change"
    )
    parser.add_argument("--no-minimize", action="store_true", help="write failures unminimized")
    parser.add_argument(
        "--float32",
        action="store_true",
        help="leave JAX's x64 mode off (the oracles are float64; expect noise)",
    )
    args = parser.parse_args(argv)
    features = [f for f in args.features.split(",") if f and f not in args.exclude.split(",")]
    unknown = set(features) - set(FEATURES)
    if unknown:
        parser.error(f"unknown features {sorted(unknown)}; known: {', '.join(FEATURES)}")
    if not args.float32:
        import jax

        jax.config.update("jax_enable_x64", True)
    from .parallel import run_parallel
    from .run import run

    def log(line):
        print(line, file=sys.stderr, flush=True)

    runner = run if args.jobs <= 1 else functools.partial(run_parallel, jobs=args.jobs)
    report = runner(
        args.n,
        args.seed,
        args.out,
        features=features,
        jit=args.jit,
        start=args.start,
        minimize_failures=not args.no_minimize,
        time_limit=args.time_limit,
        log=log,
    )
    summary = report.summary()
    print(
        f"{report.programs} programs in {summary['seconds']} s ({summary['programs_per_second']} programs/s)"
    )
    for kind in ("ok", "located-error", "wrong", "crash", "skipped"):
        print(f"  {kind:14} {report.counts.get(kind, 0)}")
    for key, (seed, path, _) in report.classes.items():
        print(f"  failure class {key}: program {seed}" + (f" -> {path}" if path else ""))
    return 1 if report.counts.get("wrong") or report.counts.get("crash") else 0


if __name__ == "__main__":
    sys.exit(main())
