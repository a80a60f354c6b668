"""The `seclab` command: a thin layer that parses arguments, calls the library and prints.

Each sibling module registers its own sub-commands with `register(subparsers)`; they are found by walking this
package, so adding a command group touches no list. The CLI holds no logic: every command calls a function of
`seclab.sim`, `seclab.grading`, `seclab.engines` or `seclab.labs`.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import pkgutil
import sys
import traceback
from collections.abc import Sequence
from typing import Any

from seclab import __version__
from seclab.errors import ExitCode, SeclabError

EXIT_CODES_HELP = """exit codes:
  0  success
  1  graded and not passed (grade, run); some input lines could not be evaluated (iam eval)
  2  bad arguments or malformed input
  3  the simulator is not running or not reachable
  4  refused for safety (real AWS, a server seclab did not start, a closed API)
  5  not found (lab, learner, check, resource)
  6  could not evaluate (a check or a query gave ERROR)
  70 internal error (a bug in seclab; rerun with --debug and report it)
"""


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line with exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(ExitCode.USAGE, f"seclab: error: {message}. Try '{self.prog} --help'.\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="seclab",
        description="Hands-on labs for securing ML model hosting on a simulated AWS cloud.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"seclab {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def emit_json(data: Any) -> None:
    """Print one JSON document on stdout (the machine-readable contracts)."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    raw = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in raw  # accepted anywhere on the line, not only before the command
    args = parser.parse_args([a for a in raw if a != "--debug"])
    args.debug = debug
    if not getattr(args, "func", None):
        parser.print_help()
        return ExitCode.OK if args.command is None else ExitCode.USAGE
    try:
        code = args.func(args)
        return int(code or 0)
    except SeclabError as exc:
        if args.debug:
            traceback.print_exc()
        sys.stderr.write(f"seclab: {exc.one_line()}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("seclab: interrupted.\n")
        return 130
    except BrokenPipeError:
        return ExitCode.OK
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, no traceback
        if args.debug:
            traceback.print_exc()
        sys.stderr.write(
            f"seclab: internal error: {type(exc).__name__}: {exc}. Rerun with --debug and report it.\n"
        )
        return ExitCode.INTERNAL


def run() -> None:
    """The `seclab` process.

    A run is short and allocates a great deal that lives until exit (botocore models and answers, the inventory):
    with the default thresholds the cyclic collector scans that heap hundreds of times for garbage that is not
    there, and once more while the interpreter shuts down. Measured on `seclab grade multi-account`: ~0.8 s of
    ~3.8 s. So the process collects less often and freezes its heap before exiting.
    """
    gc.set_threshold(50_000, 20, 100)
    code = main()
    gc.freeze()
    sys.exit(code)
