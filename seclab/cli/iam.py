"""`seclab iam eval CASES.jsonl`: evaluate request cases with seclab's IAM evaluator.

Exit codes: 0 when every line was evaluated, 1 when some line could not be (its output line carries "error"),
2 when the file cannot be read at all (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from seclab.errors import ExitCode, InputError


def _open(path: str) -> TextIO:
    if path == "-":
        return sys.stdin
    try:
        return open(path, encoding="utf-8")  # noqa: SIM115 - closed by the caller
    except FileNotFoundError:
        raise InputError(f"no such file: {path}",
                         "Give a JSON-lines file of cases, or '-' for standard input.") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a directory", "Give a JSON-lines file of cases.") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}", "Check the path and its permissions.") from None


def _text_line(result: dict[str, Any]) -> str:
    if "error" in result:
        return f"{result['id']}\tERROR\t{result['error']}"
    reasons = "; ".join(
        (f"{d['policy']}" + (f" #{d['statement']}" if d.get("statement") is not None else "") + f": {d['reason']}")
        if d.get("policy") else d["reason"]
        for d in result["decided_by"]
    )
    return f"{result['id']}\t{result['decision']}\t{reasons}"


def cmd_eval(args: argparse.Namespace) -> int:
    from seclab.engines.iam.cases import run_lines

    stream = _open(args.cases)
    failed = False
    try:
        try:
            for result in run_lines(stream):
                out = result.to_dict()
                failed = failed or "error" in out
                if args.format == "text":
                    sys.stdout.write(_text_line(out) + "\n")
                else:
                    sys.stdout.write(json.dumps(out) + "\n")
        except UnicodeDecodeError as exc:
            raise InputError(f"{args.cases} is not UTF-8 text ({exc.reason})",
                             "Save the cases as UTF-8 JSON lines.") from None
    finally:
        if stream is not sys.stdin:
            stream.close()
    sys.stdout.flush()
    return ExitCode.NOT_PASSED if failed else ExitCode.OK


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "iam", help="IAM policy evaluation",
        description="Evaluate IAM authorization requests exactly as the AWS documentation describes.")
    sub = parser.add_subparsers(dest="iam_command", metavar="COMMAND", parser_class=type(parser))
    ev = sub.add_parser(
        "eval", help="evaluate request cases (JSON lines)",
        description="Read one request case per line (id, policies, request; 'expected' is ignored) and print, in "
                    "order, one JSON object per line: {id, decision, decided_by}, or {id, error} for a line that "
                    "cannot be evaluated. Exit code 0 when every line was evaluated, 1 when some line failed, "
                    "2 when the file cannot be read.")
    ev.add_argument("cases", help="JSON-lines file of cases, or '-' for standard input")
    ev.add_argument("--format", choices=("jsonl", "text"), default="jsonl", help="output format (default: jsonl)")
    ev.set_defaults(func=cmd_eval)
