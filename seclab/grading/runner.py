"""Grade a lab: collect the inventory once, run each declared check over it, score, and build the report.

Why here and not in the notebook: the authoritative grade is computed in its own process from simulator state,
never from the learner's kernel. A check that raises, runs too long or cannot see its inputs is ERROR, never PASS.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from seclab import __version__
from seclab.inventory.collect import collect_learner
from seclab.inventory.model import OrgInventory

from .checks import CheckSpec, Status, checks_named
from .context import CheckContext, Finding
from .labs import Lab, require_facts

CHECK_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class CheckResult:
    spec: CheckSpec
    task: str
    status: Status
    points: int
    max_points: int
    message: str
    evidence: Any
    key: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.spec.id,
            "title": self.spec.title,
            "task": self.task,
            "status": self.status.value,
            "points": self.points,
            "max_points": self.max_points,
            "severity": self.spec.severity,
            "message": self.message,
            "message_key": self.key,
            "evidence": self.evidence,
            "why": self.spec.why,
            "remediation": dict(self.spec.remediation),
            "compliance": {k: list(v) for k, v in self.spec.compliance.items()},
        }


@dataclass(frozen=True)
class Report:
    lab: Lab
    learner: str
    results: tuple[CheckResult, ...]
    generated_at: str

    @property
    def score(self) -> int:
        return sum(r.points for r in self.results)

    @property
    def max_score(self) -> int:
        return sum(r.max_points for r in self.results)

    @property
    def passed(self) -> bool:
        if self.max_score == 0:
            return False
        return self.score * 100 >= self.lab.passing_percentage * self.max_score

    @property
    def errors(self) -> list[CheckResult]:
        return [r for r in self.results if r.status is Status.ERROR]

    def to_json(self) -> dict[str, Any]:
        tasks = []
        for t in self.lab.tasks:
            mine = [r for r in self.results if r.task == t.id]
            tasks.append({
                "id": t.id, "title": t.title,
                "score": sum(r.points for r in mine), "max_score": sum(r.max_points for r in mine),
                "done": bool(mine) and all(r.status is Status.PASS for r in mine),
            })
        return {
            "lab": self.lab.id,
            "learner": self.learner,
            "score": self.score,
            "max_score": self.max_score,
            "passed": self.passed,
            "passing_percentage": self.lab.passing_percentage,
            "generated_at": self.generated_at,
            "seclab_version": __version__,
            "tasks": tasks,
            "checks": [r.to_json() for r in self.results],
        }


def _run_one(spec: CheckSpec, ctx: CheckContext) -> Finding:
    """Run a check with a time budget; exceptions and overruns become ERROR findings."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["finding"] = spec.run(ctx)
        except Exception as exc:  # noqa: BLE001 - any failure of a check is "could not evaluate"
            box["exc"] = exc

    worker = threading.Thread(target=target, daemon=True, name=f"check-{spec.id}")
    worker.start()
    worker.join(CHECK_TIMEOUT_S)
    if worker.is_alive():
        return Finding(Status.ERROR, "_timeout", {"seconds": CHECK_TIMEOUT_S})
    if "exc" in box:
        exc = box["exc"]
        return Finding(Status.ERROR, "_exception", {"error": f"{type(exc).__name__}: {exc}"})
    finding = box.get("finding")
    if not isinstance(finding, Finding):
        return Finding(Status.ERROR, "_exception", {"error": f"check returned {type(finding).__name__}, not a Finding"})
    return finding


_BUILTIN_MESSAGES = {
    "_timeout": "This check could not be evaluated: it ran longer than {seconds} s. Tell your instructor.",
    "_exception": "This check could not be evaluated ({error}). Tell your instructor; your work is not lost.",
    "_collection": "This check could not be evaluated because part of your account could not be read: {error}.",
}


def _message(spec: CheckSpec, finding: Finding) -> str:
    if finding.key in _BUILTIN_MESSAGES:
        return _BUILTIN_MESSAGES[finding.key].format(**finding.params)
    try:
        return spec.message(finding.key, finding.params)
    except KeyError:
        return f"{finding.status.value}: {finding.key} ({dict(finding.params)})"


def grade_inventory(lab: Lab, learner: str, org: OrgInventory, facts: Mapping[str, Any]) -> Report:
    """The pure part of grading: the same inventory and facts always give the same report."""
    checks = checks_named(ref.id for task in lab.tasks for ref in task.checks)
    results: list[CheckResult] = []
    for task in lab.tasks:
        for ref in task.checks:
            spec = checks[ref.id]
            ctx = CheckContext(org=org, facts=facts, params=ref.params, learner=learner, lab=lab.id)
            broken = [e for inv in org.accounts().values() for e in inv.failed(*spec.reads)] if spec.reads else []
            finding = (Finding(Status.ERROR, "_collection", {"error": "; ".join(broken)}) if broken
                       else _run_one(spec, ctx))
            if finding.key not in _BUILTIN_MESSAGES and finding.key not in spec.messages:
                finding = Finding(Status.ERROR, "_exception",
                                  {"error": f"check {spec.id} used undeclared message {finding.key!r}"})
            points = ref.points if finding.status is Status.PASS else 0
            results.append(CheckResult(spec, task.id, finding.status, points, ref.points,
                                       _message(spec, finding), _jsonable(finding.evidence), finding.key))
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    return Report(lab=lab, learner=learner, results=tuple(results), generated_at=now)


def sections_for(lab: Lab) -> list[str] | None:
    """The inventory sections the lab's checks declare they read (None: read everything). Reading only those keeps
    grading fast; a check that declares nothing gets the whole account."""
    checks = checks_named(ref.id for task in lab.tasks for ref in task.checks)
    wanted: set[str] = set()
    for task in lab.tasks:
        for ref in task.checks:
            reads = checks[ref.id].reads
            if not reads:
                return None
            wanted.update(r.split(".", 1)[0] for r in reads)
    return sorted(wanted)


def grade(lab: Lab, learner: str) -> Report:
    facts = require_facts(lab, learner)
    org = collect_learner(learner, sections=sections_for(lab))
    return grade_inventory(lab, learner, org, facts)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if hasattr(value, "to_json"):
        return _jsonable(value.to_json())
    return str(value)
