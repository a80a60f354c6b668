"""`seclab crypto report`: how every resource of a learner's accounts is protected at rest and in transit."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from seclab.errors import ExitCode, NotFound

# the inventory sections the encryption report reads (organizations / identity center are not needed)
_SECTIONS = ("iam", "kms", "s3", "sagemaker", "ecr", "logs", "cloudtrail", "ec2", "elbv2", "acm")


def _has_evaluation_errors(report: dict[str, Any]) -> bool:
    if report.get("errors"):
        return True
    return any(f.get("code") == "evaluation_error" for r in report.get("resources") or []
               for f in r.get("findings") or [])


def cmd_report(args: argparse.Namespace) -> int:
    from seclab.cli import emit_json
    from seclab.engines.crypto import render_text, report, resolve_key, summary
    from seclab.inventory.collect import collect_account, collect_learner
    from seclab.sim.registry import get_learner

    name = args.learner or os.environ.get("SECLAB_LEARNER") or "default"
    learner = get_learner(name)
    if args.account:
        if args.account not in learner.accounts:
            raise NotFound(f"account {args.account} is not one of learner {name}'s accounts",
                           f"Their accounts: {', '.join(learner.accounts)}.")
        inventory: Any = collect_account(args.account, sections=_SECTIONS)
    else:
        inventory = collect_learner(name, sections=_SECTIONS)
    doc = report(inventory)
    cmk = resolve_key(inventory, args.cmk).arn if args.cmk else None
    if args.format == "json":
        emit_json({**doc, "summary": summary(doc, cmk)})
    else:
        sys.stdout.write(render_text(doc, cmk))
    return ExitCode.EVALUATION if _has_evaluation_errors(doc) else ExitCode.OK


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "crypto", help="encryption at rest and in transit",
        description="How each resource is encrypted at rest and in transit, judged by effect.")
    sub = parser.add_subparsers(dest="crypto_command", metavar="COMMAND", parser_class=type(parser))
    rep = sub.add_parser(
        "report", help="report every resource's encryption at rest and in transit",
        description="Report, for every resource of the learner's accounts, its key at rest (customer-managed, "
                    "AWS-managed, AWS-owned or none, and the key's state) and whether TLS is enforced. "
                    "Exit code 6 when something could not be evaluated.")
    rep.add_argument("--learner", default=None, help="learner name (default: $SECLAB_LEARNER or 'default')")
    rep.add_argument("--account", default=None, help="only this account of the learner (default: all of them)")
    rep.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    rep.add_argument("--cmk", default=None,
                     help="the customer-managed key the summary counts stores against (id, ARN or alias)")
    rep.set_defaults(func=cmd_report)

    def _help(_: argparse.Namespace) -> int:
        parser.print_help()
        return ExitCode.USAGE

    parser.set_defaults(func=_help)
