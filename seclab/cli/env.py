"""`seclab env [--learner L] [--format shell|json]`: the environment under which boto3 acts as L in the simulator.

Shell format: `eval "$(seclab env)"` sets the variables and unsets any that could route calls to real AWS.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex

from seclab.cli import emit_json
from seclab.errors import ExitCode
from seclab.sim import registry, sessions


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    env = subparsers.add_parser("env", help="print the environment that points boto3 at the simulator as a learner")
    env.add_argument("--learner", default=registry.DEFAULT_LEARNER, help="learner name (default: default)")
    env.add_argument("--region", default="us-east-1", type=_region, help="AWS region (default us-east-1)")
    env.add_argument("--format", choices=("shell", "json"), default="shell")
    env.set_defaults(func=_env)


def _region(text: str) -> str:
    if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d{1,2}", text):
        raise argparse.ArgumentTypeError(f"invalid region {text!r} (e.g. us-east-1)")
    return text


def _env(args: argparse.Namespace) -> int:
    values = sessions.learner_env(args.learner, region=args.region)
    if args.format == "json":
        emit_json(values)
        return ExitCode.OK
    lines = [f"unset {name}" for name in sessions.UNSET_VARS if name in os.environ]
    lines += [f"unset {name}" for name in sorted(os.environ) if name.startswith("AWS_ENDPOINT_URL_")]
    lines += [f"export {key}={shlex.quote(value)}" for key, value in values.items()]
    print("\n".join(lines))
    return ExitCode.OK
