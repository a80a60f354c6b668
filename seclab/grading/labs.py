"""Labs: a manifest (lab.yaml), scenario set-up, reference solution and notebook in labs/<lab>/.

Why: every lab is declared the same way (tasks -> checks -> points, passing percentage, allowed services), so the
runner, the notebooks, the nbgrader course and the take-home report all read one source. Set-up records the
scenario facts (names and ids of what it created) grader-side, so checks grade those targets, not look-alikes.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from seclab.errors import InputError, NotFound
from seclab.paths import labs_dir, state_dir

from .checks import checks_named, safe_yaml
from .context import LabContext

_LAB_ID = re.compile(r"^[a-z][a-z0-9-]{1,62}$")
ALWAYS_ALLOWED = ("sts",)


@dataclass(frozen=True)
class CheckRef:
    id: str
    points: int
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Task:
    id: str
    title: str
    checks: tuple[CheckRef, ...]
    hints: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lab:
    id: str
    title: str
    level: str
    summary: str
    duration_minutes: int
    passing_percentage: int
    services: tuple[str, ...]
    notebook: str
    tasks: tuple[Task, ...]
    path: Path

    @property
    def max_score(self) -> int:
        return sum(c.points for t in self.tasks for c in t.checks)

    def task_of(self, check_id: str) -> Task | None:
        for t in self.tasks:
            if any(c.id == check_id for c in t.checks):
                return t
        return None

    def module(self, name: str) -> ModuleType | None:
        """The lab's setup.py / solution.py, loaded by path under a private name (our content, not learner's)."""
        path = self.path / f"{name}.py"
        if not path.exists():
            return None
        spec = importlib.util.spec_from_file_location(f"seclab_labs.{self.id.replace('-', '_')}.{name}", path)
        if spec is None or spec.loader is None:
            raise InputError(f"{path}: cannot be loaded", "")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # registered before running: dataclasses look their module up
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(spec.name, None)
            raise
        return module


def _manifest_error(path: Path, what: str) -> InputError:
    return InputError(f"{path}: {what}", "See ARCHITECTURE.md, Labs.")


def load_lab(folder: Path) -> Lab:
    path = folder / "lab.yaml"
    try:
        data = safe_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise NotFound(f"{folder.name}: no lab.yaml", "List the labs with: seclab labs") from exc
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({exc})", "Fix the manifest's syntax.") from exc
    if not isinstance(data, dict):
        raise _manifest_error(path, "expected a mapping")
    for key in ("id", "title", "passing_percentage", "tasks", "services"):
        if key not in data:
            raise _manifest_error(path, f"missing {key}")
    lab_id = str(data["id"])
    if lab_id != folder.name or not _LAB_ID.match(lab_id):
        raise _manifest_error(path, f"id {lab_id!r} must be kebab-case and equal the folder name")
    tasks: list[Task] = []
    seen: set[str] = set()
    for t in data["tasks"] or []:
        if not isinstance(t, dict) or "id" not in t or "checks" not in t:
            raise _manifest_error(path, "each task needs an id and checks")
        refs: list[CheckRef] = []
        for c in t["checks"]:
            c = {"id": c} if isinstance(c, str) else c
            cid = str(c.get("id"))
            try:
                known = checks_named([cid])
            except NotFound:
                raise _manifest_error(path, f"task {t['id']} names unknown check {cid!r}") from None
            if cid in seen:
                raise _manifest_error(path, f"check {cid} appears twice")
            seen.add(cid)
            refs.append(CheckRef(cid, int(c.get("points", known[cid].points)), dict(c.get("params") or {})))
        tasks.append(Task(str(t["id"]), str(t.get("title", t["id"])), tuple(refs),
                          tuple(str(h) for h in t.get("hints", []) or [])))
    pp = int(data["passing_percentage"])
    if not 0 < pp <= 100:
        raise _manifest_error(path, "passing_percentage must be 1..100")
    return Lab(
        id=lab_id,
        title=str(data["title"]),
        level=str(data.get("level", "")),
        summary=str(data.get("summary", "")).strip(),
        duration_minutes=int(data.get("duration_minutes", 30)),
        passing_percentage=pp,
        services=tuple(str(s) for s in data["services"]),
        notebook=str(data.get("notebook", f"{lab_id}.ipynb")),
        tasks=tuple(tasks),
        path=folder,
    )


def all_labs() -> dict[str, Lab]:
    out: dict[str, Lab] = {}
    for manifest in sorted(labs_dir().glob("*/lab.yaml")):
        lab = load_lab(manifest.parent)
        out[lab.id] = lab
    return out


def get_lab(lab_id: str) -> Lab:
    folder = labs_dir() / lab_id
    if not _LAB_ID.match(lab_id) or not (folder / "lab.yaml").exists():
        names = ", ".join(sorted(all_labs())) or "none"
        raise NotFound(f"no lab named {lab_id!r}", f"Available labs: {names}.")
    return load_lab(folder)


# ------------------------------------------------------------------------------------------------ facts store


def seed_for(learner: str, lab: str) -> int:
    """Per learner and lab, stable: two learners' scenarios differ, one learner's never changes."""
    return int.from_bytes(hashlib.sha256(f"{learner}/{lab}".encode()).digest()[:6], "big")


def _facts_path(learner: str, lab: str) -> Path:
    folder = state_dir() / "labs" / learner
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder / f"{lab}.json"


def save_facts(learner: str, lab: str, facts: Mapping[str, Any]) -> None:
    path = _facts_path(learner, lab)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        json.dump(facts, fh, indent=2, sort_keys=True, default=str)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def load_facts(learner: str, lab: str) -> dict[str, Any] | None:
    path = _facts_path(learner, lab)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InputError(f"{path}: the lab's recorded facts are not valid JSON",
                         f"Run: seclab lab setup {lab} --learner {learner}") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: the lab's recorded facts are malformed", f"Run: seclab lab setup {lab}")
    return data


def lab_context(lab: Lab, learner: str) -> LabContext:
    from seclab.sim.registry import get_learner

    rec = get_learner(learner)
    return LabContext(lab=lab.id, learner=learner, account_id=rec.home_account, seed=seed_for(learner, lab.id))


def _limit_services(lab: Lab, learner: str) -> None:
    from seclab.sim import registry

    setter = getattr(registry, "set_allowed_services", None)
    if setter is not None:
        setter(learner, sorted(_with_aliases({*lab.services, *ALWAYS_ALLOWED})))


def _with_aliases(services: set[str]) -> set[str]:
    """Add each service's signing name and siblings sharing it (elbv2 and elb both sign as elasticloadbalancing),
    so a lab that lists boto3 client names allows exactly those APIs however the gateway names them."""
    import botocore.session

    session = botocore.session.get_session()
    out = set(services)
    for name in services:
        try:
            model = session.get_service_model(name)
        except Exception:  # noqa: BLE001 - an unknown name stays as written; the gateway refuses it
            continue
        out.add(model.signing_name)
        if model.signing_name == "elasticloadbalancing":
            out.update({"elb", "elbv2"})
    return out


def setup_lab(lab: Lab, learner: str) -> dict[str, Any]:
    """Seed the lab's starting state (idempotent) and record the scenario facts grader-side."""
    module = lab.module("setup")
    if module is None or not callable(getattr(module, "setup", None)):
        raise InputError(f"{lab.path}/setup.py defines no setup(ctx)", "")
    _limit_services(lab, learner)
    ctx = lab_context(lab, learner)
    facts = dict(module.setup(ctx) or {})
    facts.setdefault("account_id", ctx.account_id)
    facts.setdefault("region", ctx.region)
    facts.setdefault("learner", learner)
    facts.setdefault("lab", lab.id)
    save_facts(learner, lab.id, facts)
    return facts


def require_facts(lab: Lab, learner: str) -> dict[str, Any]:
    facts = load_facts(learner, lab.id)
    if facts is None:
        raise NotFound(f"lab {lab.id} is not set up for learner {learner}",
                       f"Run: seclab lab setup {lab.id} --learner {learner}")
    return facts


def solve_lab(lab: Lab, learner: str) -> None:
    module = lab.module("solution")
    if module is None or not callable(getattr(module, "solve", None)):
        raise InputError(f"{lab.path}/solution.py defines no solve(ctx, facts)", "")
    facts = require_facts(lab, learner)
    module.solve(lab_context(lab, learner), facts)


def reset_lab(lab: Lab, learner: str) -> dict[str, Any]:
    """Undo the learner's work: the lab's reset() if it has one, then set-up again."""
    module = lab.module("setup")
    facts = load_facts(learner, lab.id)
    if module is not None and callable(getattr(module, "reset", None)) and facts is not None:
        module.reset(lab_context(lab, learner), facts)
    return setup_lab(lab, learner)
