"""The ``srcgrad`` command line: ``srcgrad show FILE.py:FUNC`` prints generated derivative code."""

from __future__ import annotations

import argparse
import sys
import types
from collections.abc import Sequence
from typing import Any

from . import __version__
from .api import grad, hessian, unoptimized_source
from .errors import SrcGradError
from .files import CLIError, load_module

EXAMPLE = """\
example:
  srcgrad show examples/tanh_slope.py:tanh
  srcgrad show model.py:loss --wrt w,b
  srcgrad explain examples/tanh_slope.py:tanh --at 1.0 -o tanh.html
"""


def parse_target(target: str) -> tuple[str, str]:
    """Split ``FILE.py:FUNC`` (the last colon, so ``C:\\dir\\f.py:g`` works)."""
    path, colon, func = target.rpartition(":")
    if not colon or not path or not func:
        raise CLIError(f"expected FILE.py:FUNC, got {target!r}")
    return path, func


def parse_wrt(text: str | None) -> Any:
    """``"w"`` -> ``"w"``, ``"w,b"`` -> ``("w", "b")``; an all-digit item is a parameter index."""
    if text is None:
        return 0
    items: list[Any] = [int(s) if s.isdigit() else s for s in (s.strip() for s in text.split(","))]
    return items[0] if len(items) == 1 else tuple(items)


def load_function(target: str) -> tuple[types.FunctionType, types.ModuleType]:
    """The function ``FILE.py:FUNC`` names, and the module it was loaded from."""
    path, func_name = parse_target(target)
    module = load_module(path)
    func = getattr(module, func_name, None)
    if not isinstance(func, types.FunctionType):
        defined = [
            n
            for n, v in vars(module).items()
            if isinstance(v, types.FunctionType) and v.__module__ == module.__name__
        ]
        what = "no such name" if func is None else f"it is of type {type(func).__name__}"
        raise CLIError(
            f"{path} has no function {func_name!r} ({what}); its functions: {', '.join(defined) or 'none'}"
        )
    return func, module


def show(args: argparse.Namespace) -> int:
    func, _ = load_function(args.target)
    wrt = parse_wrt(args.wrt)
    if args.raw:
        if args.order != 1 or args.mode != "reverse":
            raise CLIError("--raw shows reverse-mode code of order 1 only")
        return _print(unoptimized_source(func, wrt=wrt))
    if args.order < 1:
        raise CLIError(f"--order must be 1 or more, not {args.order}")
    if args.order == 2:  # forward over reverse, whatever the mode
        derivative = hessian(func, wrt=wrt)
    else:
        derivative = grad(func, wrt=wrt, mode=args.mode)
        for _ in range(args.order - 1):  # differentiate the generated code again
            derivative = grad(derivative, wrt=wrt, mode=args.mode)
    return _print(derivative.source)


def _print(source: str) -> int:
    """Print generated code, highlighted on a terminal when pygments is installed."""
    source = source.rstrip("\n")
    if sys.stdout.isatty():
        try:
            from pygments import highlight
            from pygments.formatters import TerminalFormatter
            from pygments.lexers import PythonLexer

            source = highlight(source, PythonLexer(), TerminalFormatter()).rstrip("\n")
        except ImportError:  # optional: plain text without it
            pass
    print(source)
    return 0


def parse_at(text: str, module: types.ModuleType) -> tuple[tuple, dict]:
    """``--at "np.array([0.5, 1.0]), 2.0"``: the arguments, read as Python in the file's namespace."""
    import numpy

    namespace = {"np": numpy, "numpy": numpy, **vars(module), "_srcgrad_arguments": lambda *a, **k: (a, k)}
    try:
        return eval(f"_srcgrad_arguments({text})", namespace)
    except Exception as exc:
        raise CLIError(f"--at {text!r}: cannot read the arguments: {type(exc).__name__}: {exc}") from None


def explain_command(args: argparse.Namespace) -> int:
    from .explain import explain

    func, module = load_function(args.target)
    positional, keywords = parse_at(args.at, module) if args.at is not None else ((), {})
    page = explain(func, *positional, wrt=parse_wrt(args.wrt), mode=args.mode, **keywords)
    output = args.output or f"{func.__name__}.html"
    if output == "-":
        sys.stdout.write(page.html)
        return 0
    page.save(output)
    print(f"wrote {output}: open it in a browser")
    return 0


def generate_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .listings import generate

    root = Path(args.root)
    stale = generate(root, check=args.check)
    for path in stale:
        print(f"{'stale' if args.check else 'wrote'}: {path.relative_to(root)}")
    if args.check and stale:
        print("run 'srcgrad generate' to update them", file=sys.stderr)
        return 1
    return 0


def cache_command(args: argparse.Namespace) -> int:
    from . import cache

    if args.action == "clear":
        print(f"removed {cache.clear_disk()} entries")
        return 0
    state = cache.info()
    if state["location"] is None:
        print("the disk cache is off (SRCGRAD_CACHE=0, or its directory cannot be used)")
        return 0
    print(f"location: {state['location']}\nentries:  {state['entries']}\nsize:     {state['bytes']} bytes")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="srcgrad",
        description="Differentiate numpy functions by source transformation and show the generated code.",
        epilog=EXAMPLE + "\nrun 'srcgrad show --help' for the options of show.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"srcgrad {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    show_parser = commands.add_parser(
        "show",
        help="print the generated gradient source of a function in a file",
        description="Print the Python source that srcgrad.grad generates for FUNC in FILE.py.\n"
        "FILE.py is imported (its directory first on sys.path), so module-level code in it runs.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    show_parser.add_argument("target", metavar="FILE.py:FUNC", help="the file and the function in it")
    show_parser.add_argument(
        "--wrt",
        metavar="NAME[,NAME]",
        help="parameter(s) to differentiate with respect to, by name or index (default: the first)",
    )
    show_parser.add_argument(
        "--mode",
        choices=("reverse", "forward"),
        default="reverse",
        help="reverse (adjoints, the default) or forward (tangents, one pass per input element)",
    )
    show_parser.add_argument(
        "--order",
        type=int,
        default=1,
        metavar="N",
        help="2: the Hessian (forward over reverse); 3 or more: grad of grad of ... (default: 1)",
    )
    show_parser.add_argument(
        "--raw",
        action="store_true",
        help="the reverse-mode code before optimization: every adjoint the chain rule gives",
    )
    show_parser.set_defaults(run=show)
    explain_parser = commands.add_parser(
        "explain",
        help="write an HTML page: the function beside its derivative, lines linked, values at a point",
        description="Write one self-contained HTML page (no network): FUNC on the left, its generated "
        "derivative on the right, each line linked to the lines generated from it; with --at, the value "
        "every generated line computes at that point and the gradient there.",
        epilog="example:\n  srcgrad explain examples/tanh_slope.py:tanh --at 1.0 -o tanh.html\n"
        '  srcgrad explain model.py:loss --at "np.array([0.5, 1.0]), 2.0" --wrt w',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    explain_parser.add_argument("target", metavar="FILE.py:FUNC", help="the file and the function in it")
    explain_parser.add_argument(
        "--at",
        metavar="ARGS",
        help='the arguments, as Python (np and the file\'s names are known), e.g. 1.0 or "np.ones(3), y=2.0"',
    )
    explain_parser.add_argument(
        "--wrt",
        metavar="NAME[,NAME]",
        help="parameter(s) to differentiate with respect to, by name or index (default: the first)",
    )
    explain_parser.add_argument(
        "--mode", choices=("reverse", "forward"), default="reverse", help="reverse (the default) or forward"
    )
    explain_parser.add_argument(
        "-o",
        "--output",
        metavar="PAGE.html",
        help="where to write the page (default: FUNC.html; - for stdout)",
    )
    explain_parser.set_defaults(run=explain_command)
    generate_parser = commands.add_parser(
        "generate",
        help="rewrite generated/ and the README listings from examples/",
        description="Write the generated derivative code of every function in examples/ to generated/, "
        "one file per function and mode, and refresh the listings in README.md.",
        epilog="example:\n  srcgrad generate          # in the repository's root\n  srcgrad generate --check  # exit 1 if anything is stale",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    generate_parser.add_argument("--check", action="store_true", help="only list stale files; exit 1 if any")
    generate_parser.add_argument("--root", default=".", help="the repository's root (default: .)")
    generate_parser.set_defaults(run=generate_command)
    cache_parser = commands.add_parser(
        "cache",
        help="show or clear the on-disk cache of generated code",
        description="The disk cache keeps generated code between processes: $SRCGRAD_CACHE_DIR, "
        "else ~/.cache/srcgrad; SRCGRAD_CACHE=0 turns it off, SRCGRAD_CACHE_SIZE sets its size in bytes.",
        epilog="example:\n  srcgrad cache info\n  srcgrad cache clear",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cache_parser.add_argument(
        "action", choices=("info", "clear"), help="info: where, how many, how big; clear: empty it"
    )
    cache_parser.set_defaults(run=cache_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (CLIError, SrcGradError) as exc:
        print(f"srcgrad: error: {exc}", file=sys.stderr)
        return 2
