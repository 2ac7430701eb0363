"""The ``sourcegrad`` command line.

    sourcegrad demo                                  print a generated gradient and check it
    sourcegrad show   path/to/file.py:function [--wrt a,b] [--stages] [--side-by-side]
    sourcegrad emit   path/to/file.py:function [--wrt a,b] -o grad_function.py
    sourcegrad emit   --into path/to/file.py:function [--wrt a,b] [--force]; sourcegrad verify file.py
    sourcegrad graph  path/to/file.py:function [--wrt a,b] -o graph.svg
    sourcegrad report path/to/file.py:function [--wrt a,b] -o report.html
    sourcegrad export path/to/file.py:function [--wrt a,b] --shapes "W=f32[784,512] x=f32[B,784]"
                      [--platforms cpu,cuda] -o grad.jaxexport
    sourcegrad bench [suite|scaling|while|gradbench|overhead] [--json out.json] [--plot out.png]

Errors in the user's code print the located message and exit with status 2,
without a Python traceback.
"""

from __future__ import annotations

import argparse
import ast
import importlib.machinery
import importlib.util
import inspect
import os
import pathlib
import sys
import traceback

from .bench import cli as bench_cli
from .deploy import infile_commands
from .errors import SourcegradError

__all__ = ["main", "load_function", "default_wrt"]

EPILOG = (
    "The target file is imported as a module to find the function: its top-level code runs, "
    'as with `python file.py` (guard scripts with `if __name__ == "__main__":`). Without '
    "--wrt, every parameter that can hold floats is differentiated: all but those with an "
    "int, str, bool or None default or annotation, *args/**kwargs, and those used in range()."
)


class UsageError(Exception):
    """A mistake in the command line: printed without a traceback, exit status 2."""


def load_function(target: str):
    """``path/to/file.py:function`` -> the function object (the file is imported as a module,
    which runs its top-level code; any file name is accepted)."""
    path_text, _, name = target.rpartition(":")
    if not path_text or not name:
        raise UsageError(f"expected path/to/file.py:function, got {target!r}")
    path = pathlib.Path(path_text)
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    module_name = path.stem.replace(".", "_").replace("-", "_") or "target"
    loader = importlib.machinery.SourceFileLoader(module_name, str(path))
    spec = importlib.util.spec_from_file_location(module_name, path, loader=loader)
    # a spec made with an explicit loader is never None
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[f"_sourcegrad_target_.{module_name}"] = module  # emit reads defaults there
    sys.path.insert(0, str(path.parent.resolve()))
    try:
        spec.loader.exec_module(module)
    except (SyntaxError, SourcegradError):
        raise
    except Exception as exc:  # the user's top-level code failed: say where, not our frames
        frames = [
            f
            for f in traceback.extract_tb(exc.__traceback__)
            if pathlib.Path(f.filename).resolve() == path.resolve()
        ]
        where = f"{path}:{frames[-1].lineno}: {frames[-1].line}: " if frames else f"{path}: "
        raise UsageError(f"importing {where}{type(exc).__name__}: {exc}") from None
    finally:
        sys.path.pop(0)
    fn = getattr(module, name, None)
    if fn is None:
        raise UsageError(f"{path} has no function {name!r}")
    return getattr(fn, "__wrapped__", fn)


_STATIC_TYPES = (int, str, bool, "int", "str", "bool", type(None), "None")


def default_wrt(fn) -> tuple:
    """The parameters the CLI differentiates without ``--wrt``: every one that can hold floats.

    Left out: parameters whose default is an int, str, bool or None (or a tuple of them), or
    whose annotation is int/str/bool/None; ``*args``/``**kwargs``; and parameters passed to
    ``range()`` in the function (trip counts)."""
    signature = inspect.signature(fn)
    ranged: set[str] = set()
    try:
        tree = ast.parse(inspect.getsource(fn).lstrip())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
                ranged.update(n.id for a in node.args for n in ast.walk(a) if isinstance(n, ast.Name))
    except (OSError, TypeError, SyntaxError):
        pass
    out = []
    for p in signature.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in ranged:
            continue
        if p.annotation is not p.empty and p.annotation in _STATIC_TYPES:
            continue
        if p.default is not p.empty and _static_default(p.default):
            continue
        out.append(p.name)
    return tuple(out)


def _static_default(value) -> bool:
    if isinstance(value, tuple):
        return all(_static_default(v) for v in value)
    return value is None or type(value) in (int, str, bool)


def _wrt(text: str | None, fn):
    if text:
        items = tuple(t.strip() for t in text.split(",") if t.strip())
        return items[0] if len(items) == 1 else items
    chosen = default_wrt(fn)
    if not chosen:
        raise UsageError(
            f"`{fn.__name__}` has no parameter that can hold floats; name the "
            f"parameters to differentiate with --wrt"
        )
    print(
        f"sourcegrad: differentiating `{fn.__name__}` with respect to {', '.join(chosen)} "
        f"(choose with --wrt)",
        file=sys.stderr,
    )
    return chosen[0] if len(chosen) == 1 else chosen


def _grad(args):
    from .api.grad import grad

    fn = load_function(args.target)
    return grad(fn, wrt=_wrt(args.wrt, fn))


def _cmd_demo(args) -> int:
    from .demo import run

    return run()


def _cmd_show(args) -> int:
    from .inspect.show import escape_controls

    g = _grad(args)
    if args.stages:
        for stage, text in g.stages.items():
            print(f"# ===== stage: {stage} =====")
            print(escape_controls(text))
    else:
        g.show(side_by_side=args.side_by_side)
    return 0


def _cmd_emit(args) -> int:
    if args.into:  # the gradient in the function's own file: deploy/infile_commands.py
        return infile_commands.run(args, load_function, _wrt)
    _check_output(args)
    _write(args.output, _grad(args).emit())
    return 0


def _cmd_graph(args) -> int:
    _check_output(args)
    g = _grad(args)
    suffix = pathlib.Path(args.output).suffix.lstrip(".") if args.output else "dot"
    data = g.graph("dot" if suffix in ("dot", "gv", "") else suffix)
    _write(args.output, data)
    return 0


def _cmd_report(args) -> int:
    _check_output(args)
    _write(args.output, _grad(args).report())
    return 0


def _cmd_export(args) -> int:
    from .deploy.exporting import parse_shapes

    if not args.output or args.output == "-":
        raise UsageError("export writes a binary jax.export artifact: give -o grad.jaxexport")
    _check_output(args)
    fn = load_function(args.target)
    shapes = parse_shapes(args.shapes, list(inspect.signature(fn).parameters))
    missing = [
        p.name
        for p in inspect.signature(fn).parameters.values()
        if p.name not in shapes and p.default is p.empty
    ]
    if missing:
        raise UsageError(
            f"--shapes gives no shape for {', '.join(missing)}; add name=dtype[dims] "
            f"(such as f32[B,784]) or name=value for a static argument"
        )
    from .api.grad import grad

    g = grad(fn, wrt=_wrt(args.wrt, fn))
    platforms = tuple(p.strip() for p in args.platforms.split(",") if p.strip())
    _write(args.output, g.export(platforms=platforms, **shapes))
    return 0


def _check_output(args):
    """Refuse, before any work, an output path that cannot or must not be written."""
    if not args.output or args.output == "-":
        return
    out = pathlib.Path(args.output)
    source = pathlib.Path(args.target.rpartition(":")[0])
    if out.is_dir():
        raise UsageError(f"-o {out}: is a directory; give a file name")
    if not out.parent.is_dir():
        raise UsageError(f"-o {out}: the directory {out.parent} does not exist")
    if out.exists() and source.exists() and os.path.samefile(out, source):
        raise UsageError(
            f"-o {out} is the file of {args.target}: refusing to overwrite your "
            f"source; choose another output file"
        )


def _write(path, data):
    if not path or path == "-":
        sys.stdout.write(data if isinstance(data, str) else data.decode())
        return
    p = pathlib.Path(path)
    try:
        if isinstance(data, str):
            p.write_text(data, encoding="utf-8")
        else:
            p.write_bytes(data)
    except OSError as exc:
        raise UsageError(f"cannot write {p}: {exc.strerror or exc}") from None
    print(f"sourcegrad: wrote {p}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sourcegrad", description=__doc__.split("\n\n")[0], epilog=EPILOG)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="print a generated gradient and check it against jax.grad")

    def target(name, help):
        p = sub.add_parser(name, help=help, description=help, epilog=EPILOG)
        p.add_argument(
            "target", help="path/to/file.py:function (the file is imported: its top-level code runs)"
        )
        p.add_argument(
            "--wrt",
            help="comma-separated parameter names (default: every parameter that can hold floats, see below)",
        )
        return p

    show = target("show", "print the generated gradient of file.py:function")
    show.add_argument("--stages", action="store_true", help="print the source after every stage")
    show.add_argument(
        "--side-by-side",
        action="store_true",
        help="each generated line beside the line of your code it comes from",
    )
    emit = target("emit", "write a standalone module (only JAX/NumPy needed)")
    emit.add_argument("-o", "--output", help="the .py file to write (default: stdout)")
    infile_commands.add_arguments(sub, emit, EPILOG)  # emit --into and verify
    graph = target("graph", "the dataflow graph: .dot, .svg or .png (SVG/PNG need Graphviz's dot)")
    graph.add_argument("-o", "--output", help="graph.dot / graph.svg / graph.png (default: DOT to stdout)")
    report = target("report", "a self-contained HTML report")
    report.add_argument("-o", "--output", help="the .html file to write (default: stdout)")
    export = target("export", "write the gradient as a serialized jax.export artifact")
    export.add_argument(
        "--shapes",
        required=True,
        help="every parameter as name=dtype[dims] (dims may be symbols: "
        '"W=f32[784,512] x=f32[B,784]") or name=value for a static one',
    )
    export.add_argument("--platforms", default="cpu", help="comma-separated: cpu,cuda,rocm,tpu")
    export.add_argument("-o", "--output", help="the artifact to write (.jaxexport)")
    bench_cli.add_parser(sub)
    return parser


COMMANDS = {
    "demo": _cmd_demo,
    "show": _cmd_show,
    "emit": _cmd_emit,
    "verify": lambda args: infile_commands.run(args, load_function, _wrt),
    "graph": _cmd_graph,
    "report": _cmd_report,
    "bench": bench_cli.command,
    "export": _cmd_export,
}


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from .inspect.show import escape_controls

    def say(text):  # messages quote lines of the user's file: never let them drive the terminal
        print(f"sourcegrad: {escape_controls(str(text))}", file=sys.stderr)

    try:
        code = COMMANDS[args.command](args)
        sys.stdout.flush()  # a closed pipe fails here, inside the try, not at interpreter exit
        return code
    except UsageError as exc:
        say(exc)
        return 2
    except SourcegradError as exc:
        say(f"{type(exc).__name__}: {exc}")
        return 2
    except SyntaxError as exc:  # the user's file does not even import
        say(f"{args.target}: {exc}")
        return 2
    except BrokenPipeError:  # `sourcegrad show ... | head`: the reader has seen enough
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that flushing stdout at exit raises nothing
        return 0
