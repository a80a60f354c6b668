"""`seclab net reach|exposure|probe`: the network engine from the command line.

Reads the learner's state with seclab's admin identity (the home account, or --account), and the learner's whole
organization when the path leads into another of their accounts. Unknown ids exit 5 with one line; malformed
queries exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from seclab.errors import InputError, NotFound

SECTIONS = ["ec2", "sagemaker"]


def _document(value: str, what: str) -> Any:
    """A JSON document given inline or as @file."""
    text = value
    if value.startswith("@"):
        path = value[1:]
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise InputError(f"cannot read {what} file {path}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InputError(f"the {what} is not valid JSON: {exc}",
                         f"Pass --{what} as a JSON object or as @file.json.") from None


def _with_inventory(args: argparse.Namespace, fn: Callable[[Any], Any]) -> Any:
    """Run `fn` on the narrowest inventory that answers: one account first, the organization when the answer
    needs another account of the learner (an id it does not hold, a peering or attachment into another VPC)."""
    from seclab.engines.net import model_of
    from seclab.inventory import collect
    from seclab.sim import registry

    learner = registry.get_learner(args.learner)
    account = args.account or learner.home_account
    if account not in learner.accounts:
        raise NotFound(f"learner {learner.name!r} does not own account {account}",
                       f"Their accounts: {', '.join(learner.accounts)}.")
    inventory = collect.collect_account(account, sections=SECTIONS)
    many = len(learner.accounts) > 1
    if many and model_of(inventory).foreign_vpcs:
        return fn(collect.collect_learner(learner.name, sections=SECTIONS))
    try:
        return fn(inventory)
    except NotFound:
        if not many:
            raise
    return fn(collect.collect_learner(learner.name, sections=SECTIONS))


def _emit(data: Any, fmt: str, render: Callable[[Any], str]) -> None:
    from seclab.cli import emit_json

    if fmt == "text":
        sys.stdout.write(render(data) + "\n")
    else:
        emit_json(data)


def cmd_reach(args: argparse.Namespace) -> int:
    from seclab.engines.net import parse_query, reach, text

    query = _document(args.query, "query")
    parse_query(query)  # malformed input fails before the simulator is read
    result = _with_inventory(args, lambda inv: reach(inv, query))
    _emit(result, args.format, text)
    return 0


def cmd_exposure(args: argparse.Namespace) -> int:
    from seclab.engines.net import exposure, exposure_text

    destination = _document(args.destination, "destination")
    if not isinstance(destination, dict):
        raise InputError("the destination must be a JSON object", 'e.g. {"sagemaker_endpoint": "NAME"}')
    result = _with_inventory(args, lambda inv: exposure(inv, destination, args.port, args.protocol))
    _emit(result, args.format, exposure_text)
    return 0


def _probe_text(data: dict[str, Any]) -> str:
    from seclab.engines.net import text

    lines = [f"Probe: {data['action']}", text(data["answer"])]
    if data.get("written") is not None:
        lines.append(f"Flow-log records written: {data['written']['written']}")
        for s in data["written"]["streams"]:
            lines.append(f"  {s['account']} {s['log_group']} / {s['log_stream']}: {s['events']} event(s)")
    for r in data["records"]:
        lines.append(f"  {r['log_group']} {r['log_stream']}: {r['message']}")
    for n in data.get("notes", []):
        lines.append(f"Note: {n}.")
    return "\n".join(lines)


def cmd_probe(args: argparse.Namespace) -> int:
    from seclab.effects import flowlogs
    from seclab.engines.net import parse_query, probe

    query = _document(args.query, "query")
    parse_query(query)
    result = _with_inventory(args, lambda inv: probe(inv, query))
    data = result.to_dict()
    data["written"] = None if args.dry_run else flowlogs.write(args.learner, result)
    _emit(data, args.format, _probe_text)
    return 0


QUERY_HELP = ('JSON object (or @file): {"from": SRC, "to": DST, "port": N, "protocol": "tcp"|"udp"|"-1"}; '
              'SRC is {"internet": true}, {"ip": "198.51.100.7"}, {"subnet": ID, "security_groups": [IDS]} or '
              '{"eni": ID}; DST is {"subnet": ID, "security_groups": [IDS]}, {"eni": ID}, {"vpc_endpoint": ID} or '
              '{"sagemaker_endpoint": NAME}')


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "net", help="network reachability, exposure and probes",
        description="Answer network questions about a learner's VPCs: can SRC reach DST, who can reach DST, and "
                    "play a connection so that VPC Flow Logs record it.")
    sub = parser.add_subparsers(dest="net_command", metavar="COMMAND", parser_class=type(parser))

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--learner", default="default", help="learner name (default: default)")
        p.add_argument("--account", help="account to read (default: the learner's home account)")
        p.add_argument("--format", choices=("json", "text"), default="json", help="output format (default: json)")

    r = sub.add_parser("reach", help="can SRC reach DST on a port? if not, every component that blocks it",
                       description="Decide whether a connection is possible and explain the path, or list every "
                                   "component that blocks it.")
    common(r)
    r.add_argument("--query", required=True, help=QUERY_HELP)
    r.set_defaults(func=cmd_reach)

    e = sub.add_parser("exposure", help="who can reach DST: the internet, which CIDRs, subnets, ports",
                       description="Summarise who reaches a destination: from the internet (ports, source CIDRs) "
                                   "and from which subnets (ports, security groups needed).")
    common(e)
    e.add_argument("--destination", required=True, help="a DST JSON object (or @file), as in reach")
    e.add_argument("--port", type=int, help="only this port")
    e.add_argument("--protocol", choices=("tcp", "udp"), help="only this protocol (default: tcp and udp)")
    e.set_defaults(func=cmd_exposure)

    p = sub.add_parser("probe", help="play one connection and write the VPC Flow Log records it leaves",
                       description="Play one connection attempt through the engine and write, for every flow log "
                                   "on the VPCs, subnets or interfaces involved, the records AWS would write "
                                   "(default format, version 2) to its CloudWatch Logs group.")
    common(p)
    p.add_argument("--query", required=True, help=QUERY_HELP)
    p.add_argument("--dry-run", action="store_true", help="build the records but write nothing")
    p.set_defaults(func=cmd_probe)
