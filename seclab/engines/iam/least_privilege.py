"""Least privilege, scored: what a principal can effectively do compared with what its workload needs.

Why effective rather than textual: `s3:*` on one bucket, `s3:Get*` on `*` and AmazonS3ReadOnlyAccess are three
different excesses, and a Deny or a boundary can cancel any of them; only the evaluator knows. So every candidate
action named by the principal's Allow statements (expanded with policy_sentry) is evaluated, with the same
evaluator and the principal's real PolicySet, on (a) the lab's resources and (b) a synthetic resource of the
same type that is not the lab's ("seclab-other" in the principal's account). An action the workload does not need
that is allowed anywhere is excess; a needed action that is also allowed on the synthetic resource means a
wildcard resource where a specific ARN would do.

Score (0..1, partial credit): (requirements met / requirements) x (1 - sum of penalties, floored at 0). Each
finding carries its penalty; the weights are in PENALTIES and documented there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from seclab.engines.iam import actions as knowledge
from seclab.engines.iam.context import infer_context
from seclab.engines.iam.evaluator import Decision, PolicySet, Request, evaluate
from seclab.engines.iam.inventory import Inventory, account_inventory, load_principal, resource_side
from seclab.engines.iam.policy import Policy, parse_policy
from seclab.errors import InputError

# Penalty weights. Excess by access level is weighted by what the level lets an attacker do: changing permissions
# is worst, writing next, reading data next; listing and tagging are small. Risk categories follow cloudsplaining's
# severities (high: privilege escalation, credentials exposure, resource exposure; medium: data exfiltration).
PENALTIES: dict[str, float] = {
    "excess:Permissions management": 0.25,
    "excess:Write": 0.15,
    "excess:Read": 0.10,
    "excess:Tagging": 0.05,
    "excess:List": 0.03,
    "wildcard_resource": 0.10,
    "missing_condition": 0.15,
    "broad_managed_policy": 0.20,
    "risk:PrivilegeEscalation": 0.30,
    "risk:CredentialsExposure": 0.20,
    "risk:ResourceExposure": 0.20,
    "risk:DataExfiltration": 0.15,
    "unknown_action": 0.0,
}

# AWS managed policies that grant a whole service (or everything): attaching one to a workload role is the
# classic least-privilege failure. Any other AWS managed policy whose name ends in FullAccess or PowerUser is
# flagged too.
BROAD_MANAGED = frozenset(
    f"arn:aws:iam::aws:policy/{n}"
    for n in (
        "AdministratorAccess",
        "PowerUserAccess",
        "IAMFullAccess",
        "AmazonS3FullAccess",
        "AmazonS3ReadOnlyAccess",
        "AmazonSageMakerFullAccess",
        "AmazonEC2FullAccess",
        "AmazonEC2ContainerRegistryFullAccess",
        "AmazonEC2ContainerRegistryPowerUser",
        "AWSKeyManagementServicePowerUser",
        "SecretsManagerReadWrite",
        "CloudWatchFullAccess",
        "AWSLambda_FullAccess",
        "AmazonDynamoDBFullAccess",
        "AmazonVPCFullAccess",
        "ReadOnlyAccess",
    )
)
_BROAD_NAME_RE = re.compile(r"^arn:aws:iam::aws:policy/(?:.*/)?[^/]*(FullAccess|PowerUser|PowerUserAccess)$")
_ARN_SERVICE_RE = re.compile(r"^arn:[^:]+:([^:]+):")
_LABEL_RE = re.compile(r"^(identity|resource|boundary|session|endpoint|scp|rcp)((?:\[\d+\])+)$")


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str  # critical | high | medium | low | info
    message: str
    penalty: float
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "message": self.message, "penalty": self.penalty,
                "evidence": dict(self.evidence)}


@dataclass(frozen=True)
class Requirement:
    action: str
    resource: str
    context: Mapping[str, Any] = field(default_factory=dict)
    conditions: tuple[str, ...] = ()  # condition keys the policy must require for this access
    resource_account: str | None = None

    @staticmethod
    def parse(raw: Mapping[str, Any] | Requirement) -> Requirement:
        if isinstance(raw, Requirement):
            return raw
        if not isinstance(raw, Mapping) or not isinstance(raw.get("action"), str) or not isinstance(
            raw.get("resource"), str
        ):
            raise InputError("a requirement needs 'action' and 'resource' strings",
                             'Example: {"action": "s3:GetObject", "resource": "arn:aws:s3:::models/*"}')
        conds = raw.get("conditions") or raw.get("require_conditions") or ()
        if isinstance(conds, str):
            conds = (conds,)
        return Requirement(raw["action"], raw["resource"], dict(raw.get("context") or {}), tuple(conds),
                           raw.get("resource_account"))


@dataclass(frozen=True)
class LeastPrivilegeReport:
    principal: str
    score: float
    findings: tuple[Finding, ...]
    requirements: tuple[dict[str, Any], ...]  # each requirement with its decision
    excess: Mapping[str, tuple[str, ...]]  # access level -> actions allowed beyond the need
    unconstrained: frozenset[str]  # actions allowed on a resource that is not the lab's
    database: Mapping[str, Any] = field(default_factory=dict)

    @property
    def missing(self) -> list[dict[str, Any]]:
        return [r for r in self.requirements if r["decision"] != "allow"]

    def is_excess(self, action: str) -> bool:
        name = knowledge.canonical(action) or action
        return any(name in acts for acts in self.excess.values())

    def by_code(self, code: str) -> list[Finding]:
        return [f for f in self.findings if f.code == code]

    def to_dict(self, max_actions: int = 200) -> dict[str, Any]:
        return {
            "principal": self.principal,
            "score": self.score,
            "requirements": list(self.requirements),
            "excess": {level: {"count": len(acts), "actions": list(acts[:max_actions]),
                               "truncated": len(acts) > max_actions} for level, acts in self.excess.items()},
            "findings": [f.to_dict() for f in self.findings],
            "database": dict(self.database),
        }

    def summary(self) -> list[str]:
        return [f.message for f in self.findings if f.severity != "info"]


def statement_evidence(ps: PolicySet, entry: Mapping[str, Any]) -> dict[str, Any]:
    """Policy name, statement id and the statement's JSON for one decided_by entry."""
    out: dict[str, Any] = {"policy": entry.get("name") or entry.get("policy"), "statement": entry.get("statement"),
                           "reason": entry.get("reason")}
    m = _LABEL_RE.match(str(entry.get("policy") or ""))
    if m is None:
        return out
    seq: Any = getattr(ps, m.group(1))
    try:
        for idx in re.findall(r"\[(\d+)\]", m.group(2)):
            seq = seq[int(idx)]
    except (IndexError, TypeError):
        return out
    policy = seq if isinstance(seq, Policy) else parse_policy(seq, name=str(entry.get("policy")))
    for s in policy.statements:
        if s.ref == entry.get("statement"):
            out["json"] = dict(s.raw)
            break
    return out


def _service_of(resource: str) -> str | None:
    m = _ARN_SERVICE_RE.match(resource)
    return m.group(1) if m else None


def least_privilege(
    inventory: Inventory,
    principal: str,
    requirements: Sequence[Mapping[str, Any] | Requirement],
    *,
    context: Mapping[str, Any] | None = None,
    other_name: str = "seclab-other",
) -> LeastPrivilegeReport:
    """Score `principal` (a role/user ARN or name in `inventory`) against what its workload needs.

    `requirements`: [{action, resource, context?, conditions?: [condition keys the allowing policy must require,
    e.g. "kms:ViaService"], resource_account?}]. `context` is merged into every request (after the inferred keys).
    """
    reqs = [Requirement.parse(r) for r in requirements]
    pp = load_principal(inventory, principal)
    inv = account_inventory(inventory, pp.account)
    base_ps = pp.policy_set()
    base_ctx = dict(infer_context(pp.arn, pp.account))
    base_ctx.update(context or {})
    findings: list[Finding] = []

    if pp.missing:
        findings.append(Finding("unresolved_policy", "info",
                                f"Policies not in the inventory (not evaluated): {', '.join(pp.missing)}.", 0.0,
                                {"missing": list(pp.missing)}))

    # 1. Requirements: each must be allowed, with the resource's own policy and RCPs in place.
    req_results: list[dict[str, Any]] = []
    sides: dict[str, tuple[PolicySet, str | None]] = {}

    def ps_for(resource: str, action: str, account: str | None) -> tuple[PolicySet, str | None]:
        key = f"{resource}|{action.split(':')[0].lower()}"
        if key not in sides:
            side = resource_side(inventory, resource, action, account=account)
            sides[key] = (base_ps.with_resource(side.policies, side.rcp), side.account or account)
        return sides[key]

    def decide(action: str, resource: str, ps: PolicySet, account: str | None, extra: Mapping[str, Any]) -> Decision:
        ctx = dict(base_ctx)
        ctx.update(extra)
        return evaluate(Request(pp.arn, pp.account, action, resource, account or pp.account, ctx), ps)

    met = 0
    for r in reqs:
        ps, acct = ps_for(r.resource, r.action, r.resource_account)
        d = decide(r.action, r.resource, ps, acct, r.context)
        req_results.append({"action": r.action, "resource": r.resource, "decision": d.decision,
                            "decided_by": d.decided_by})
        if d.allowed:
            met += 1
            for key in r.conditions:
                without = {k: v for k, v in {**base_ctx, **r.context}.items() if k.lower() != key.lower()}
                probes = [("absent", without), ("unexpected", {**without, key: "seclab-unexpected-value"})]
                for label, ctx in probes:
                    d2 = evaluate(Request(pp.arn, pp.account, r.action, r.resource, acct or pp.account, ctx), ps)
                    if d2.allowed:
                        grant = next((e for e in d2.decided_by if e.get("effect") == "Allow"), {})
                        findings.append(Finding(
                            "missing_condition", "high",
                            f"{r.action} on {r.resource} is allowed without requiring {key} (tried with the key "
                            f"{label}); add a condition on {key}.",
                            PENALTIES["missing_condition"],
                            {"key": key, "probe": label, **statement_evidence(ps, grant)}))
                        break
        else:
            findings.append(Finding(
                "missing_permission", "high",
                f"{pp.name} cannot {r.action} on {r.resource}: {d.summary()}.", 0.0,
                {"action": r.action, "resource": r.resource, "decided_by": d.decided_by}))

    # 2. Candidate actions: everything the Allow statements of the identity policies name.
    candidates: dict[str, None] = {}
    named: list[str] = []
    for policy in pp.identity:
        for s in policy.statements:
            if s.effect != "Allow":
                continue
            named += list(s.action or s.not_action or ())
            for a in knowledge.expand_statement_actions(s.action, s.not_action):
                candidates[a] = None
    for u in knowledge.check_actions(dict.fromkeys(named)):
        findings.append(Finding(
            "unknown_action", "info",
            f"{u.action}: {u.reason}" + (f" (did you mean {u.suggestion}?)" if u.suggestion else "") + ".",
            PENALTIES["unknown_action"], {"action": u.action, "suggestion": u.suggestion}))

    required = {r.action.lower() for r in reqs}
    excess: dict[str, list[str]] = {}
    why: dict[str, tuple[Decision, PolicySet]] = {}  # excess action -> the decision that allowed it, for evidence
    unconstrained: set[str] = set()
    wildcard_hits: dict[str, Decision] = {}
    for action in candidates:
        lower = action.lower()
        allowed_other: Decision | None = None
        for arn in knowledge.arn_for(action, region=inv.region, account=pp.account, name=other_name):
            d = decide(action, arn, base_ps, pp.account, {})
            if d.allowed:
                allowed_other = d
                break
        if allowed_other is not None:
            unconstrained.add(action)
        if lower in required:
            broad_need = any(r.resource == "*" for r in reqs if r.action.lower() == lower)
            if allowed_other is not None and not broad_need:
                wildcard_hits[action] = allowed_other
            continue
        hit: tuple[Decision, PolicySet] | None = (allowed_other, base_ps) if allowed_other is not None else None
        if hit is None:
            svc = action.split(":")[0].lower()
            for r in reqs:
                rsvc = _service_of(r.resource)
                if r.resource != "*" and rsvc != svc:
                    continue
                ps, acct = ps_for(r.resource, action, r.resource_account)
                d = decide(action, r.resource, ps, acct, r.context)
                if d.allowed:
                    hit = (d, ps)
                    break
        if hit is not None:
            excess.setdefault(knowledge.access_level(action) or "Unknown", []).append(action)
            why[action] = hit

    levels = {k: tuple(sorted(v)) for k, v in sorted(excess.items())}
    for level, acts in levels.items():
        weight = PENALTIES.get(f"excess:{level}", 0.1)
        penalty = round(weight * min(1.0, 0.5 + 0.1 * len(acts)), 4)
        d, ps = why[acts[0]]
        grant = next((e for e in d.decided_by if e.get("effect") == "Allow"), {})
        findings.append(Finding(
            "excess_actions", "high" if level in ("Permissions management", "Write") else "medium",
            f"{len(acts)} {level} action(s) beyond what the workload needs, e.g. {', '.join(acts[:5])}.",
            penalty, {"access_level": level, "count": len(acts), "actions": list(acts[:50]),
                      **statement_evidence(ps, grant)}))
    for action, d in sorted(wildcard_hits.items()):
        grant = next((e for e in d.decided_by if e.get("effect") == "Allow"), {})
        targets = sorted({r.resource for r in reqs if r.action.lower() == action.lower()})
        findings.append(Finding(
            "wildcard_resource", "medium",
            f"{action} is allowed beyond {', '.join(targets)}: name the specific ARN instead of a wildcard.",
            PENALTIES["wildcard_resource"],
            {"action": action, "needed": targets, **statement_evidence(base_ps, grant)}))

    for parn in pp.attached_managed:
        if parn in BROAD_MANAGED or _BROAD_NAME_RE.match(parn):
            findings.append(Finding(
                "broad_managed_policy", "high",
                f"The AWS managed policy {parn.rsplit('/', 1)[-1]} is attached: it grants far more than the workload "
                "needs; replace it with a policy scoped to the lab's resources.",
                PENALTIES["broad_managed_policy"], {"policy": parn}))

    for category, items in knowledge.risk_categories(unconstrained).items():
        findings.append(Finding(
            f"risk_{_snake(category)}", knowledge.severity(category),
            _risk_message(category, items), PENALTIES.get(f"risk:{category}", 0.1),
            {"category": category, "items": items}))

    total_penalty = sum(f.penalty for f in findings)
    ratio = met / len(reqs) if reqs else 1.0
    score = round(max(0.0, ratio * (1.0 - min(1.0, total_penalty))), 3)
    return LeastPrivilegeReport(pp.arn, score, tuple(findings), tuple(req_results), levels, frozenset(unconstrained),
                                knowledge.database_info())


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _risk_message(category: str, items: list[dict[str, Any]]) -> str:
    if category == knowledge.PRIVILEGE_ESCALATION:
        methods = ", ".join(i["method"] for i in items[:5])
        return f"Privilege escalation is possible without resource constraints ({methods})."
    acts = items[0].get("actions", []) if items else []
    text = {
        knowledge.DATA_EXFILTRATION: "Data exfiltration: read actions on any resource",
        knowledge.CREDENTIALS_EXPOSURE: "Credentials exposure: actions that return credentials",
        knowledge.RESOURCE_EXPOSURE: "Resource exposure: permissions-management actions on any resource",
    }.get(category, category)
    return f"{text} ({', '.join(acts[:5])}{', ...' if len(acts) > 5 else ''})."


def unknown_actions_in(policies: Iterable[Policy]) -> list[knowledge.UnknownAction]:
    """Misspelt or unknown actions named anywhere in `policies` (reported, never dropped)."""
    names: dict[str, None] = {}
    for p in policies:
        for s in p.statements:
            for a in s.action or s.not_action or ():
                names[a] = None
    return knowledge.check_actions(names)

