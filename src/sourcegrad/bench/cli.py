"""``sourcegrad bench ...``: the benchmark suites' command line (the parser and the command)."""

from __future__ import annotations

import pathlib
import sys


def command(args) -> int:
    import json

    from . import loops

    result: list | dict  # what the suite measured, written as JSON
    if args.suite == "gradbench":
        from ..gradbench import bench as gradbench_bench

        result = gradbench_bench.run(only=args.only.split(",") if args.only else None)
    elif args.suite == "scaling":
        lengths = (10, 100) if args.quick else loops.LENGTHS
        print(f"# sourcegrad bench scaling: lengths {lengths}, JAX compile limit {args.timeout:.0f} s")
        result = loops.run(lengths, timeout=args.timeout)
        print("\n".join(loops.summary(result)))
    elif args.suite == "while":
        result = loops.run_while((10, 1000) if args.quick else loops.WHILE_LENGTHS)
    elif args.suite == "for":
        result = loops.run_for((10, 1000) if args.quick else loops.WHILE_LENGTHS)
    elif args.suite == "forward":
        from . import forward

        result = forward.run(only=args.only.split(",") if args.only else None, timeout=args.timeout)
    elif args.suite == "small-loops":
        from . import small_loops

        result = small_loops.run(only=args.only.split(",") if args.only else None)
    elif args.suite == "overhead":
        from . import overhead

        result = overhead.run()
    else:
        from . import report as bench_report
        from . import suite

        result = suite.run(timeout=args.timeout, only=args.only.split(",") if args.only else None)
        if args.plot:
            bench_report.plot(result, args.plot)
            print(f"sourcegrad: wrote {args.plot}", file=sys.stderr)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


def add_parser(sub):
    bench = sub.add_parser(
        "bench",
        help="run a benchmark suite and print ratios against JAX",
        description="Run a benchmark suite and print ratios against JAX. Without a suite name: suite.",
    )
    bench.set_defaults(suite="suite", quick=False, only=None, plot=None, timeout=60.0, json=None)
    suites = bench.add_subparsers(
        dest="suite", metavar="{suite,scaling,while,for,gradbench,forward,overhead,small-loops}"
    )
    suite = suites.add_parser(
        "suite",
        help="eight workloads against JAX and PyTorch (default)",
        description="Eight workloads: sourcegrad's gradient against "
        "jax.grad, expert JAX, PyTorch and the primal.",
    )
    suite.add_argument("--only", help="comma-separated workload names")
    suite.add_argument("--plot", help="write a PNG of the ratios")
    scaling = suites.add_parser(
        "scaling",
        help="loop gradients at 10..10000 steps",
        description="Loop gradients at 10..10000 steps against jax.grad.",
    )
    scaling.add_argument("--quick", action="store_true", help="fewer sizes")
    unbounded = suites.add_parser(
        "while",
        help="a while loop's checkpoints against its full tape",
        description="Memory and time of a data-dependent while loop's "
        "gradient, checkpointed and full tape, at 10, 1000 "
        "and 100000 iterations.",
    )
    unbounded.add_argument("--quick", action="store_true", help="10 and 1000 iterations only")
    unbounded.set_defaults(timeout=60.0)
    unbounded.add_argument("--json", help="also write the measurements to this file")
    bounded = suites.add_parser(
        "for",
        help="a for loop's sqrt and binomial checkpoints against its full tape",
        description="Memory and time of a for loop's gradient: full tape, checkpoint='sqrt' and "
        "checkpoint='binomial' (revolve, 32 slots), at 10, 1000 and 100000 iterations.",
    )
    bounded.add_argument("--quick", action="store_true", help="10 and 1000 iterations only")
    bounded.set_defaults(timeout=60.0)
    bounded.add_argument("--json", help="also write the measurements to this file")
    gradbench = suites.add_parser(
        "gradbench", help="GradBench evals: validity, steady state and first call against jax.jit(jax.grad)"
    )
    gradbench.add_argument("--only", help="comma-separated eval names")
    forward = suites.add_parser(
        "forward",
        help="jvp against jax.jvp and hvp against jax.jvp(jax.grad): first call and steady state",
        description="Forward mode and second order on the suite's workloads, against JAX.",
    )
    forward.add_argument("--only", help="comma-separated workload names")
    overhead = suites.add_parser(
        "overhead",
        help="per-call overhead of a gradient call against jax.jit dispatch",
        description="Microseconds per call on 16-element inputs: g(x, w), g.compile()'s callable "
        "and jax.jit(jax.grad), in alternation.",
    )
    overhead.add_argument("--json", help="also write the measurements to this file")
    small = suites.add_parser(
        "small-loops",
        help="loop workloads under XLA's CPU small-while-loop threshold, 1 KiB to 1 MiB",
        description="The suite's loop workloads and GradBench's nested while loops, each setting "
        "of XLA's small-while-loop threshold in a process of its own: sourcegrad, JAX and the "
        "primal side by side (about 5 minutes).",
    )
    small.add_argument("--only", help="comma-separated workload names")
    small.add_argument("--json", help="also write the measurements to this file")
    for p in (suite, scaling, gradbench, forward):
        p.add_argument(
            "--timeout",
            type=float,
            default=60.0,
            help="seconds a JAX compilation may take before it counts as failed",
        )
        p.add_argument("--json", help="also write the measurements to this file")
