"""The ``sourcegrad`` command line.

    sourcegrad demo                                  print a generated gradient and check it
    sourcegrad show   path/to/file.py:function [--wrt a,b] [--stages] [--side-by-side]
    sourcegrad emit   path/to/file.py:function -o grad_function.py
    sourcegrad graph  path/to/file.py:function -o graph.svg
    sourcegrad report path/to/file.py:function -o report.html
    sourcegrad bench [suite|scaling] [--json out.json] [--plot out.png]

Errors in the user's code print the located message and exit with status 2,
without a Python traceback.
"""

from __future__ import annotations

import argparse
import importlib.util
import pathlib
import sys

from .errors import SourcegradError

__all__ = ["main", "load_function"]


def load_function(target: str):
    """``path/to/file.py:function`` -> the function object (the file is imported as a module)."""
    path_text, _, name = target.rpartition(":")
    if not path_text or not name:
        raise SystemExit(f"sourcegrad: expected path/to/file.py:function, got {target!r}")
    path = pathlib.Path(path_text)
    if not path.is_file():
        raise SystemExit(f"sourcegrad: no such file: {path}")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent.resolve()))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.pop(0)
    fn = getattr(module, name, None)
    if fn is None:
        raise SystemExit(f"sourcegrad: {path} has no function {name!r}")
    return getattr(fn, "__wrapped__", fn)


def _wrt(text: str | None):
    if not text:
        return 0
    items = tuple(t.strip() for t in text.split(",") if t.strip())
    return items[0] if len(items) == 1 else items


def _cmd_demo(args) -> int:
    from .demo import run

    return run()


def _grad(args):
    from .api import grad

    return grad(load_function(args.target), wrt=_wrt(args.wrt))


def _cmd_show(args) -> int:
    g = _grad(args)
    if args.stages:
        for stage, text in g.stages.items():
            print(f"# ===== stage: {stage} =====")
            print(text)
    else:
        g.show(side_by_side=args.side_by_side)
    return 0


def _cmd_emit(args) -> int:
    text = _grad(args).emit()
    _write(args.output, text)
    return 0


def _cmd_graph(args) -> int:
    g = _grad(args)
    suffix = pathlib.Path(args.output).suffix.lstrip(".") if args.output else "dot"
    data = g.graph("dot" if suffix in ("dot", "gv", "") else suffix)
    _write(args.output, data)
    return 0


def _cmd_report(args) -> int:
    _write(args.output, _grad(args).report())
    return 0


def _write(path, data):
    if not path or path == "-":
        sys.stdout.write(data if isinstance(data, str) else data.decode())
        return
    p = pathlib.Path(path)
    if isinstance(data, str):
        p.write_text(data, encoding="utf-8")
    else:
        p.write_bytes(data)
    print(f"sourcegrad: wrote {p}", file=sys.stderr)


def _cmd_bench(args) -> int:
    import json

    from .bench import loops

    if args.suite == "scaling":
        lengths = (10, 100) if args.quick else loops.LENGTHS
        print(f"# sourcegrad bench scaling: lengths {lengths}, JAX compile limit {args.timeout:.0f} s")
        result = loops.run(lengths, timeout=args.timeout)
        print("\n".join(loops.summary(result)))
    else:
        from .bench import suite

        result = suite.run(timeout=args.timeout, only=args.only.split(",") if args.only else None)
        if args.plot:
            suite.plot(result, args.plot)
            print(f"sourcegrad: wrote {args.plot}", file=sys.stderr)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sourcegrad", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="print a generated gradient and check it against jax.grad")
    def target(p):
        p.add_argument("target", help="path/to/file.py:function")
        p.add_argument("--wrt", help="comma-separated parameter names (default: the first)")
        return p

    show = target(sub.add_parser("show", help="print the generated gradient of file.py:function"))
    show.add_argument("--stages", action="store_true", help="print the source after every stage")
    show.add_argument("--side-by-side", action="store_true",
                      help="each generated line beside the line of your code it comes from")
    emit = target(sub.add_parser("emit", help="write a standalone module (only JAX/NumPy needed)"))
    emit.add_argument("-o", "--output", help="the .py file to write (default: stdout)")
    graph = target(sub.add_parser("graph", help="the dataflow graph: .dot, .svg or .png"))
    graph.add_argument("-o", "--output", help="graph.dot / graph.svg / graph.png (default: DOT to stdout)")
    report = target(sub.add_parser("report", help="a self-contained HTML report"))
    report.add_argument("-o", "--output", help="the .html file to write (default: stdout)")
    bench = sub.add_parser("bench", help="run a benchmark suite and print ratios against JAX")
    bench.add_argument("suite", nargs="?", default="suite", choices=["suite", "scaling"],
                       help="suite: eight workloads against JAX and PyTorch (default); "
                            "scaling: loop gradients at 10..10000 steps")
    bench.add_argument("--quick", action="store_true", help="scaling: fewer sizes")
    bench.add_argument("--only", help="suite: comma-separated workload names")
    bench.add_argument("--plot", help="suite: write a PNG of the ratios")
    bench.add_argument("--timeout", type=float, default=60.0,
                       help="seconds a JAX compilation may take before it counts as failed")
    bench.add_argument("--json", help="also write the measurements to this file")
    return parser


COMMANDS = {"demo": _cmd_demo, "show": _cmd_show, "emit": _cmd_emit, "graph": _cmd_graph,
            "report": _cmd_report, "bench": _cmd_bench}


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except SourcegradError as exc:
        print(f"sourcegrad: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    except SyntaxError as exc:  # the user's file does not even import
        print(f"sourcegrad: {args.target}: {exc}", file=sys.stderr)
        return 2
