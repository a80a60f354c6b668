"""`seclab learner add | list | show | remove`: who may use the simulator, with which credentials."""

from __future__ import annotations

import argparse

from seclab.cli import emit_json
from seclab.errors import ExitCode
from seclab.sim import registry


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    learner = subparsers.add_parser("learner", help="add or list learners (each gets credentials and accounts)")
    sub = learner.add_subparsers(dest="learner_command", metavar="ACTION", parser_class=type(learner))
    add = sub.add_parser("add", help="register a learner (idempotent) and print its identity")
    add.add_argument("name")
    add.add_argument("--format", choices=("text", "json"), default="text")
    add.set_defaults(func=_add)
    lst = sub.add_parser("list", help="list learners")
    lst.add_argument("--format", choices=("text", "json"), default="text")
    lst.set_defaults(func=_list)
    show = sub.add_parser("show", help="show one learner (accounts, service limits)")
    show.add_argument("name")
    show.add_argument("--format", choices=("text", "json"), default="text")
    show.set_defaults(func=_show)
    remove = sub.add_parser("remove", help="forget a learner's credentials")
    remove.add_argument("name")
    remove.set_defaults(func=_remove)
    learner.set_defaults(func=lambda args: (learner.print_help(), ExitCode.USAGE)[1])


def _public(lr: registry.Learner) -> dict[str, object]:
    """A learner without the secret (print it with `seclab env`)."""
    return {"name": lr.name, "access_key_id": lr.access_key_id, "home_account": lr.home_account,
            "accounts": list(lr.accounts), "services": None if lr.services is None else list(lr.services)}


def _add(args: argparse.Namespace) -> int:
    lr = registry.add_learner(args.name)
    if args.format == "json":
        emit_json(_public(lr))
    else:
        print(f"learner {lr.name}: account {lr.home_account}, access key {lr.access_key_id} "
              f"(credentials: seclab env --learner {lr.name})")
    return ExitCode.OK


def _list(args: argparse.Namespace) -> int:
    learners = registry.list_learners()
    if args.format == "json":
        emit_json([_public(lr) for lr in learners])
    else:
        for lr in learners:
            extra = f" +{len(lr.accounts) - 1} member accounts" if len(lr.accounts) > 1 else ""
            print(f"{lr.name:24} {lr.home_account}{extra}")
    return ExitCode.OK


def _show(args: argparse.Namespace) -> int:
    lr = registry.get_learner(args.name)
    if args.format == "json":
        emit_json(_public(lr))
    else:
        print(f"learner {lr.name}\n  accounts: {', '.join(lr.accounts)}\n  access key: {lr.access_key_id}\n"
              f"  services: {'all' if lr.services is None else ', '.join(lr.services)}")
    return ExitCode.OK


def _remove(args: argparse.Namespace) -> int:
    registry.remove_learner(args.name)
    print(f"learner {args.name} removed.")
    return ExitCode.OK
