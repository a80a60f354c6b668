"""`seclab grade`, `seclab run`, `seclab lab setup|solve|reset`, `seclab labs`, `seclab checks list|explain`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from seclab.errors import ExitCode, UsageError


def default_learner() -> str:
    return os.environ.get("SECLAB_LEARNER") or "default"


def progress(message: str) -> None:
    """Progress for people at a terminal; machine-readable output stays alone on stdout."""
    if sys.stderr.isatty() or os.environ.get("SECLAB_PROGRESS") == "1":
        sys.stderr.write(f"... {message}\n")
        sys.stderr.flush()


def _learner_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--learner", default=None, help="learner name (default: $SECLAB_LEARNER or 'default')")


def _format_arg(p: argparse.ArgumentParser, choices: tuple[str, ...] = ("text", "json", "html")) -> None:
    p.add_argument("--format", choices=choices, default="text", help="output format (default: text)")


def _write(text: str, out: str | None) -> None:
    if out:
        path = Path(out)
        if path.is_dir():
            raise UsageError(f"--out {out} is a directory", "Give a file name.")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:
            raise UsageError(f"cannot write {out}: {exc.strerror}", "Choose a writable path.") from exc
        sys.stderr.write(f"seclab: report written to {out}\n")
    else:
        sys.stdout.write(text)


def cmd_grader(args: argparse.Namespace) -> int:
    from seclab.grading.service import serve

    return serve(sys.stdin, sys.stdout)


def cmd_grade(args: argparse.Namespace) -> int:
    from seclab.grading.labs import get_lab
    from seclab.grading.report import render
    from seclab.grading.runner import grade
    from seclab.grading.service import exit_code
    from seclab.sim.registry import get_learner

    learner = args.learner or default_learner()
    lab = get_lab(args.lab)
    get_learner(learner)
    progress(f"reading {learner}'s account and grading {lab.id}")
    report = grade(lab, learner)
    _write(render(report, args.format), args.out)
    return exit_code(report)


def cmd_run(args: argparse.Namespace) -> int:
    from seclab.grading.labs import get_lab, setup_lab, solve_lab
    from seclab.grading.report import render
    from seclab.grading.runner import grade
    from seclab.grading.service import exit_code
    from seclab.sim import control, registry

    learner = args.learner or default_learner()
    lab = get_lab(args.lab)
    if not control.status().running:
        progress("starting the simulator")
        info = control.start()
        sys.stderr.write(f"seclab: started the simulator at {info.endpoint}; it keeps running "
                         "(seclab sim stop ends it, what was built is kept).\n")
    registry.get_learner(learner) if learner == "default" else registry.add_learner(learner)
    progress(f"setting up {lab.id} for {learner}")
    setup_lab(lab, learner)
    if args.solution:
        progress("applying the reference solution")
        solve_lab(lab, learner)
    progress("grading")
    report = grade(lab, learner)
    _write(render(report, args.format), args.out)
    return exit_code(report)


def cmd_lab_setup(args: argparse.Namespace) -> int:
    from seclab.cli import emit_json
    from seclab.grading.labs import get_lab, setup_lab
    from seclab.sim.registry import get_learner

    learner = args.learner or default_learner()
    lab = get_lab(args.lab)
    get_learner(learner)
    progress(f"setting up {lab.id} for {learner}")
    facts = setup_lab(lab, learner)
    if args.format == "json":
        emit_json(facts)
    else:
        print(f"Lab {lab.id} is set up for {learner}. Scenario facts:")
        for k, v in sorted(facts.items()):
            print(f"  {k}: {v}")
    return 0


def cmd_lab_solve(args: argparse.Namespace) -> int:
    from seclab.grading.labs import get_lab, solve_lab

    learner = args.learner or default_learner()
    lab = get_lab(args.lab)
    progress(f"applying the reference solution of {lab.id} for {learner}")
    solve_lab(lab, learner)
    print(f"Applied the reference solution of {lab.id} for {learner}.")
    return 0


def cmd_lab_reset(args: argparse.Namespace) -> int:
    from seclab.grading.labs import get_lab, reset_lab

    learner = args.learner or default_learner()
    lab = get_lab(args.lab)
    reset_lab(lab, learner)
    print(f"Lab {lab.id} is back at its starting state for {learner}.")
    return 0


def cmd_labs(args: argparse.Namespace) -> int:
    from seclab.cli import emit_json
    from seclab.grading.labs import all_labs

    labs = all_labs()
    if args.format == "json":
        emit_json([{"id": lab.id, "title": lab.title, "level": lab.level, "duration_minutes": lab.duration_minutes,
                    "max_score": lab.max_score, "tasks": len(lab.tasks)} for lab in labs.values()])
        return 0
    for lab in labs.values():
        print(f"{lab.id:<18} {lab.level:<13} {lab.duration_minutes:>3} min  {lab.title}")
    return 0


def cmd_checks_list(args: argparse.Namespace) -> int:
    from seclab.cli import emit_json
    from seclab.grading.checks import all_checks

    checks = all_checks()
    if args.format == "json":
        emit_json([{"id": c.id, "title": c.title, "severity": c.severity, "domain": c.domain}
                   for c in checks.values()])
        return 0
    for c in checks.values():
        print(f"{c.id:<48} {c.severity:<8} {c.title}")
    return 0


def cmd_checks_explain(args: argparse.Namespace) -> int:
    from seclab.grading.checks import get_check

    c = get_check(args.check)
    print(f"{c.title}\n  id: {c.id}   severity: {c.severity}   points: {c.points}\n")
    print(f"What it checks: {c.checks}\n\nWhy it matters: {c.why}\n")
    print(f"How to fix it: {c.remediation.get('summary', '')}\n\nboto3:\n{c.remediation.get('boto3', '')}\n")
    print(f"AWS CLI:\n{c.remediation.get('cli', '')}\n")
    for fw, ids in c.compliance.items():
        print(f"  {fw}: {', '.join(ids)}")
    return 0


def cmd_diagram(args: argparse.Namespace) -> int:
    from seclab.grading.diagram import org_diagram
    from seclab.grading.labs import get_lab, load_facts
    from seclab.inventory.collect import collect_learner

    learner = args.learner or default_learner()
    lab = get_lab(args.lab)
    org = collect_learner(learner)
    module = lab.module("diagram")
    custom = getattr(module, "diagram", None) if module is not None else None
    text = custom(org, load_facts(learner, lab.id) or {}) if callable(custom) else org_diagram(org)
    sys.stdout.write(text)
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("diagram", help="a mermaid diagram of what the learner built (live state)")
    p.add_argument("lab")
    _learner_arg(p)
    p.set_defaults(func=cmd_diagram)

    p = sub.add_parser("grade", help="grade a lab from the simulator's state (out of the learner's kernel)")
    p.add_argument("lab")
    _learner_arg(p)
    _format_arg(p)
    p.add_argument("--out", help="write the report to this file instead of stdout")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("grader", help="a warm grader: answer JSON grade requests on stdin, one per line "
                                      "(what notebooks keep running; see seclab/grading/service.py)")
    p.set_defaults(func=cmd_grader)

    p = sub.add_parser("run", help="start the simulator if needed, set a lab up, optionally solve it, and grade it")
    p.add_argument("lab")
    _learner_arg(p)
    p.add_argument("--solution", action="store_true", help="apply the reference solution before grading")
    _format_arg(p)
    p.add_argument("--out", help="write the report to this file instead of stdout")
    p.set_defaults(func=cmd_run)

    lab = sub.add_parser("lab", help="set up, solve or reset a lab for a learner")
    lab.set_defaults(func=lambda _a: (lab.print_help(), ExitCode.USAGE)[1])
    lsub = lab.add_subparsers(dest="lab_command", metavar="ACTION")
    p = lsub.add_parser("setup", help="seed the lab's starting state (idempotent) and print the scenario facts")
    p.add_argument("lab")
    _learner_arg(p)
    _format_arg(p, ("text", "json"))
    p.set_defaults(func=cmd_lab_setup)
    p = lsub.add_parser("solve", help="apply the lab's reference solution")
    p.add_argument("lab")
    _learner_arg(p)
    p.set_defaults(func=cmd_lab_solve)
    p = lsub.add_parser("reset", help="put the lab back at its starting state")
    p.add_argument("lab")
    _learner_arg(p)
    p.set_defaults(func=cmd_lab_reset)

    p = sub.add_parser("labs", help="list the labs")
    _format_arg(p, ("text", "json"))
    p.set_defaults(func=cmd_labs)

    checks = sub.add_parser("checks", help="list the checks or explain one")
    checks.set_defaults(func=lambda _a: (checks.print_help(), ExitCode.USAGE)[1])
    csub = checks.add_subparsers(dest="checks_command", metavar="ACTION")
    p = csub.add_parser("list", help="list every check")
    _format_arg(p, ("text", "json"))
    p.set_defaults(func=cmd_checks_list)
    p = csub.add_parser("explain", help="what a check evaluates, why it matters and how to fix it")
    p.add_argument("check")
    p.set_defaults(func=cmd_checks_explain)
