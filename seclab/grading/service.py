"""A warm grader: `seclab grader` answers grade requests on stdin, one JSON line in, one JSON line out.

Why: every "check my progress" cell used to start `seclab grade` afresh, and a new process pays Python's start-up,
the imports, the botocore clients and the IAM action database before it reads a single resource (~1.3 s of a 2.8 s
multi-account grade; ~0.9 s of a 1.1 s private-endpoint one). A notebook keeps one grader per kernel instead; it is
still a process of its own, out of the learner's kernel, and reads the simulator's state afresh for every request.
Nothing in a request is executed: it names a lab, a learner and a format, each checked like the CLI's arguments.

Request:  {"lab": "private-endpoint", "learner": "alice", "format": "json"}
Response: {"exit": 0, "report": "<the report in that format>"}  or  {"exit": 3, "error": "<one line>"}
`exit` is what `seclab grade` would have exited with. End of input ends the grader.
"""

from __future__ import annotations

import json
import threading
import traceback
from collections.abc import Iterable
from typing import Any, TextIO

from seclab.errors import ExitCode, SeclabError

FORMATS = ("json", "text", "html")


def exit_code(report: Any) -> int:
    """What `seclab grade` exits with for this report: an ERROR anywhere wins over a plain fail."""
    if report.errors:
        return int(ExitCode.EVALUATION)
    return int(ExitCode.OK if report.passed else ExitCode.NOT_PASSED)


def answer(request: Any) -> dict[str, Any]:
    """Grade one request; every failure is an answer, never an exception."""
    from seclab.grading.labs import get_lab
    from seclab.grading.report import render
    from seclab.grading.runner import grade
    from seclab.sim.registry import get_learner

    if not isinstance(request, dict):
        return {"exit": int(ExitCode.USAGE), "error": "a request is a JSON object: {\"lab\": ..., \"learner\": ...}"}
    lab_id, learner, fmt = request.get("lab"), request.get("learner", "default"), request.get("format", "json")
    if not isinstance(lab_id, str) or not isinstance(learner, str) or fmt not in FORMATS:
        return {"exit": int(ExitCode.USAGE),
                "error": f"a request needs \"lab\" and \"learner\" strings and a \"format\" in {', '.join(FORMATS)}"}
    try:
        lab = get_lab(lab_id)
        get_learner(learner)
        report = grade(lab, learner)
        return {"exit": exit_code(report), "report": render(report, fmt)}
    except SeclabError as exc:
        return {"exit": int(exc.exit_code), "error": exc.one_line()}
    except Exception as exc:  # noqa: BLE001 - one bad request must not end the grader
        traceback.print_exc()
        return {"exit": int(ExitCode.INTERNAL), "error": f"internal error: {type(exc).__name__}: {exc}"}


def warm_up() -> None:
    """What every first grade pays, paid before anyone asks: the grading modules, the IAM action database and the
    botocore clients the collector uses. Best effort: a simulator that is not running yet only means less is warm."""
    try:
        from seclab.engines.iam import actions
        from seclab.grading import report, runner  # noqa: F401 - imported for their import cost
        from seclab.inventory import collect

        actions.all_actions()
        collect.warm_clients()
    except Exception:  # noqa: BLE001, S110 - warming is an optimisation; a request reports any real problem
        pass


def serve(lines: Iterable[str], out: TextIO, warm: bool = True) -> int:
    """Answer each request line until the input ends; returns the exit code for the grader itself (0).

    With `warm`, the first grade's fixed costs are paid in the background while the grader waits for its first
    request (a notebook starts its grader when the Lab is created, long before the first check)."""
    if warm:
        threading.Thread(target=warm_up, name="grader-warm-up", daemon=True).start()
    for line in lines:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except ValueError:
            response: dict[str, Any] = {"exit": int(ExitCode.USAGE), "error": "a request line is not JSON"}
        else:
            response = answer(request)
        out.write(json.dumps(response) + "\n")
        out.flush()
    return 0
