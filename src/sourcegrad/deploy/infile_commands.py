"""The command line of the in-file gradient: ``sourcegrad emit --into file.py:fn`` and
``sourcegrad verify file.py ...``. cli.py hands :func:`run` its ``load_function`` and ``wrt``
(how the command line finds a function and the parameters to differentiate); deploy/infile.py
does the editing, and is what imports LibCST, on first use.

The checker of in-file gradients is ``verify``, not ``check``: ``sourcegrad.check`` is the
finite-difference gradient checker, and ``sourcegrad check file.py:fn`` is the name it would have
on the command line.
"""

from __future__ import annotations

import pathlib
import sys

from . import infile

__all__ = ["add_arguments", "run"]


def add_arguments(sub, emit, epilog: str) -> None:
    """``emit``'s --into and --force, and the ``verify`` command."""
    emit.add_argument(
        "--into",
        action="store_true",
        help="write the gradient into FILE.py itself, just after FUNCTION (or refresh it there)",
    )
    emit.add_argument("--force", action="store_true", help="with --into: overwrite a block edited by hand")
    verify = sub.add_parser(
        "verify",
        help="exit 1 when a gradient written with emit --into is stale",
        description="Regenerate each gradient written into FILE.py by `emit --into` and exit 1 "
        "naming each that is out of date (its function, sourcegrad's version or the block "
        "changed); 0 when all are current. For CI and pre-commit. (`check` is the name of "
        "sourcegrad.check, the finite-difference checker.)",
        epilog=epilog,
    )
    verify.add_argument("files", nargs="+", metavar="FILE.py", help="the files (imported: their code runs)")
    verify.add_argument("--fix", action="store_true", help="refresh the stale gradients instead")
    verify.add_argument(
        "--force", action="store_true", help="with --fix: also overwrite blocks edited by hand"
    )


def run(args, load_function, wrt) -> int:
    """``emit --into`` or ``verify``, with the command line's ways to load a function and to
    choose its ``wrt``."""

    def make_for(path):
        def make(name, wrt_text):  # (function name, "W,b" or None) -> (function, Transformed)
            from ..api.grad import grad

            fn = load_function(f"{path}:{name}")
            return fn, grad(fn, wrt=wrt(wrt_text, fn))._current()

        return make

    if args.command == "verify":
        args.target = args.files[0]  # what the command line's error messages name
        return verify(args, make_for)
    return emit_into(args, make_for)


def emit_into(args, make_for) -> int:
    if args.output:
        raise infile.InFileError("--into writes into the function's own file: give no -o")
    path_text, _, name = args.target.rpartition(":")
    if not path_text or not name:
        raise infile.InFileError(f"--into expects path/to/file.py:function, got {args.target!r}")
    path = _existing(path_text)
    text, done = infile.place(path, name, args.wrt, make_for(path), force=args.force)
    if done != "unchanged":
        _write_source(path, text)
    print(f"sourcegrad: {path}: the gradient of `{name}` {done}", file=sys.stderr)
    return 0


def verify(args, make_for) -> int:
    """Exit 1 naming each stale in-file gradient (0 when all are current); --fix refreshes them."""
    failed = 0
    for path_text in args.files:
        path = _existing(path_text)
        make = make_for(path)
        for block, why in infile.stale(path, make):
            fp = block.fingerprint
            where = f"{path}:{block.line}: {block.name} (the gradient of `{fp['function']}`)"
            if not why:
                continue
            gone = any(w.endswith(infile.GONE) for w in why)
            if args.fix and not gone and (args.force or infile.EDITED not in why):
                text, _ = infile.place(path, fp["function"], fp["wrt"], make, force=True)
                _write_source(path, text)
                print(f"sourcegrad: {where} refreshed: {'; '.join(why)}", file=sys.stderr)
                continue
            failed += 1
            if gone:
                fix = "delete the block, or bring the function back"
            elif args.fix:
                fix = "give --force to overwrite it"
            else:
                fix = f"refresh it with: sourcegrad emit --into {path}:{fp['function']} --wrt {fp['wrt']}"
            print(f"sourcegrad: {where} is stale: {'; '.join(why)}; {fix}", file=sys.stderr)
    return 1 if failed else 0


def _existing(path_text: str) -> pathlib.Path:
    path = pathlib.Path(path_text)
    if not path.is_file():
        raise infile.InFileError(f"no such file: {path}")
    return path


def _write_source(path: pathlib.Path, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8", newline="") as f:  # the text keeps the file's newlines
            f.write(text)
    except OSError as exc:
        raise infile.InFileError(f"cannot write {path}: {exc.strerror or exc}") from None
