"""Checks: one small declared unit each (graders/<domain>/<id>/check.yaml + check.py), found by walking graders/.

Why this shape: the learner-facing text (messages, why it matters, remediation, compliance) lives beside the logic
in data a content author can read, is validated when loaded, and adding a check touches no registry. Check modules
are loaded by path under a private module name, so nothing in graders/ can collide with an installed package.
"""

from __future__ import annotations

import importlib.util
import re
import string
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from seclab.errors import InputError, NotFound
from seclab.paths import graders_dir


class Status(str, Enum):
    PASS = "PASS"
    FAIL = "FAIL"
    ERROR = "ERROR"
    NOT_APPLICABLE = "NOT_APPLICABLE"


SEVERITIES = ("critical", "high", "medium", "low", "info")
FRAMEWORKS = ("nist_csf", "iso27001", "soc2", "cis_aws")
_ID = re.compile(r"^[a-z][a-z0-9_]{2,80}$")
_REQUIRED = ("id", "title", "severity", "points", "checks", "why", "messages", "remediation", "compliance")


@dataclass(frozen=True)
class CheckSpec:
    """A check's declaration (check.yaml) plus its run function (check.py)."""

    id: str
    title: str
    severity: str
    points: int
    checks: str
    why: str
    messages: Mapping[str, str]
    remediation: Mapping[str, str]
    compliance: Mapping[str, tuple[str, ...]]
    domain: str
    path: Path
    run: Callable[[Any], Any] = field(repr=False, compare=False)
    reads: tuple[str, ...] = ()  # inventory sections the check depends on; if one failed to load -> ERROR

    def message(self, key: str, params: Mapping[str, Any]) -> str:
        template = self.messages.get(key)
        if template is None:
            raise KeyError(f"check {self.id} has no message {key!r}")
        return string.Formatter().vformat(template, (), _SafeParams(params))


class _SafeParams(dict):  # type: ignore[type-arg]
    """Missing message parameters render as <name> instead of raising: a typo in a message must not crash grading."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)

    def __missing__(self, key: str) -> str:
        return f"<{key}>"


# libyaml's safe loader when PyYAML was built with it: the same plain-data-only rules as yaml.SafeLoader, and parsing
# the ~60 check and lab files that every `seclab grade` reads drops from ~0.4 s to ~0.05 s.
_FastSafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_yaml(text: str) -> Any:
    """Parse seclab's own YAML (checks, labs, compliance maps): plain data only, never Python objects."""
    return yaml.load(text, Loader=_FastSafeLoader)  # a SafeLoader (C or Python)


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = safe_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({exc})", "Fix the file's syntax.") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping at the top level", "See ARCHITECTURE.md, Checks.")
    return data


def _load_module(check_id: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"seclab_graders.{check_id}", path)
    if spec is None or spec.loader is None:
        raise InputError(f"{path}: cannot be loaded as a Python module", "Check the file.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # registered before running: dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - a broken check is one clear error naming it
        del sys.modules[spec.name]
        raise InputError(f"{path}: cannot be loaded ({type(exc).__name__}: {exc})", "Fix the check's code.") from exc
    return module


def load_check(folder: Path) -> CheckSpec:
    """Load and validate one check folder; every problem is one InputError naming the file and the field."""
    meta_path = folder / "check.yaml"
    code_path = folder / "check.py"
    meta = _load_yaml(meta_path)
    missing = [k for k in _REQUIRED if k not in meta]
    if missing:
        raise InputError(f"{meta_path}: missing field(s) {', '.join(missing)}", "See ARCHITECTURE.md, Checks.")
    cid = str(meta["id"])
    if not _ID.match(cid) or cid != folder.name:
        raise InputError(f"{meta_path}: id {cid!r} must be snake_case and equal the folder name {folder.name!r}",
                         "Rename the folder or the id.")
    if meta["severity"] not in SEVERITIES:
        raise InputError(f"{meta_path}: severity {meta['severity']!r} is not one of {', '.join(SEVERITIES)}", "")
    if not isinstance(meta["points"], int) or meta["points"] < 0:
        raise InputError(f"{meta_path}: points must be a non-negative integer", "")
    title = str(meta["title"])
    if len(title) > 150 or title.lower().startswith("ensure"):
        raise InputError(f"{meta_path}: title must be at most 150 characters and not start with 'Ensure'", "")
    messages = meta["messages"]
    if not isinstance(messages, dict) or "pass" not in messages:
        raise InputError(f"{meta_path}: messages must be a mapping with at least a 'pass' message", "")
    remediation = meta["remediation"]
    if not isinstance(remediation, dict) or not {"summary", "boto3", "cli"} <= remediation.keys():
        raise InputError(f"{meta_path}: remediation needs summary, boto3 and cli", "")
    compliance = meta["compliance"]
    if not isinstance(compliance, dict) or not compliance:
        raise InputError(f"{meta_path}: compliance must map frameworks to control IDs", "")
    unknown = [k for k in compliance if k not in FRAMEWORKS]
    if unknown:
        raise InputError(f"{meta_path}: unknown compliance framework(s) {unknown}", f"Use {', '.join(FRAMEWORKS)}.")
    if not code_path.exists():
        raise InputError(f"{folder}: check.py is missing", "Each check is check.yaml + check.py.")
    module = _load_module(cid, code_path)
    run = getattr(module, "run", None)
    if not callable(run):
        raise InputError(f"{code_path}: defines no run(ctx) function", "")
    return CheckSpec(
        id=cid,
        title=title,
        severity=str(meta["severity"]),
        points=int(meta["points"]),
        checks=str(meta["checks"]).strip(),
        why=str(meta["why"]).strip(),
        messages={str(k): str(v).strip() for k, v in messages.items()},
        remediation={str(k): str(v).rstrip() for k, v in remediation.items()},
        compliance={str(k): tuple(str(x) for x in (v or [])) for k, v in compliance.items()},
        domain=folder.parent.name,
        path=folder,
        reads=tuple(str(x) for x in meta.get("reads", []) or []),
        run=run,
    )


_CACHE: dict[Path, dict[str, CheckSpec]] = {}
_BY_ID: dict[tuple[Path, str], CheckSpec] = {}
_LIBS: dict[Path, ModuleType] = {}


def check_library(name: str, root: Path | None = None) -> ModuleType:
    """A helper module shared by several checks: graders/_lib/<name>.py, loaded once by path under a private name.

    Why: checks of one lab share derived facts (e.g. "the endpoint's model, subnets and security groups"); keeping
    that in one module avoids each check re-deriving it, and loading by path keeps graders/ out of sys.path.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise InputError(f"bad check library name {name!r}", "Use a snake_case module name under graders/_lib/.")
    path = ((root or graders_dir()) / "_lib" / f"{name}.py").resolve()
    if path not in _LIBS:
        if not path.exists():
            raise InputError(f"no check library {path}", "Create it or fix the name.")
        _LIBS[path] = _load_module(f"_lib_{name}", path)
    return _LIBS[path]


def all_checks(root: Path | None = None) -> dict[str, CheckSpec]:
    """Every check under graders/, keyed by id. Duplicate ids are an error."""
    base = (root or graders_dir()).resolve()
    if base in _CACHE:
        return _CACHE[base]
    found: dict[str, CheckSpec] = {}
    for meta in sorted(base.glob("*/*/check.yaml")):
        spec = load_check(meta.parent)
        if spec.id in found:
            raise InputError(f"duplicate check id {spec.id}: {found[spec.id].path} and {spec.path}", "Ids are unique.")
        found[spec.id] = spec
    _CACHE[base] = found
    return found


def checks_named(ids: Iterable[str], root: Path | None = None) -> dict[str, CheckSpec]:
    """Only the named checks, keyed by id; an unknown id is NotFound, an id in two domains is an error.

    Why not all_checks(): grading or loading a lab needs its own dozen checks, and loading every check (YAML and
    module) costs ~0.1 s that `seclab grade`, run from every check-my-progress cell, would pay each time.
    """
    base = (root or graders_dir()).resolve()
    every = _CACHE.get(base)
    out: dict[str, CheckSpec] = {}
    for cid in ids:
        if every is not None and cid in every:
            out[cid] = every[cid]
            continue
        if (base, cid) not in _BY_ID:
            if not _ID.match(cid):
                raise NotFound(f"no check named {cid!r}", "Check ids are snake_case; list them with: seclab checks list")
            folders = sorted(m.parent for m in base.glob(f"*/{cid}/check.yaml"))
            if not folders:
                raise NotFound(f"no check named {cid!r}", "List them with: seclab checks list")
            if len(folders) > 1:
                raise InputError(f"duplicate check id {cid}: {folders[0]} and {folders[1]}", "Ids are unique.")
            _BY_ID[(base, cid)] = load_check(folders[0])
        out[cid] = _BY_ID[(base, cid)]
    return out


def get_check(check_id: str) -> CheckSpec:
    checks = all_checks()
    if check_id not in checks:
        raise NotFound(f"no check named {check_id!r}", "List them with: seclab checks list")
    return checks[check_id]


def compliance_catalogue(root: Path | None = None) -> dict[str, dict[str, str]]:
    """framework -> {control id -> title}, from graders/compliance/<framework>.yaml."""
    base = (root or graders_dir()) / "compliance"
    out: dict[str, dict[str, str]] = {}
    for fw in FRAMEWORKS:
        path = base / f"{fw}.yaml"
        if path.exists():
            data = _load_yaml(path)
            controls = data.get("controls", {})
            out[fw] = {str(k): str(v) for k, v in controls.items()}
    return out
