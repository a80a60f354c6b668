"""Findings on a service role's trust policy: only the expected service, and only for the expected account.

Why semantic checks: a trust policy is "right" when sagemaker.amazonaws.com can assume the role for a job in the
learner's account, and nobody else can, in particular not the same service acting for another account (the
confused-deputy problem, IAM User Guide confused-deputy.html). Those are three evaluator questions; the structural
scan on top names the offending statement for feedback ("Principal * in statement 0", "the whole account
111122223333 is trusted").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from seclab.engines.iam.evaluator import PolicySet, Request, evaluate
from seclab.engines.iam.inventory import account_of, document
from seclab.engines.iam.least_privilege import Finding
from seclab.engines.iam.patterns import glob_match
from seclab.engines.iam.policy import parse_policy
from seclab.engines.iam.principals import normalise_aws_principal
from seclab.errors import InputError

_OUTSIDER = "999999999999"
_ASSUME = ("sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity")
PENALTIES = {
    "any_principal": 1.0,
    "any_principal_with_conditions": 0.5,
    "not_principal": 1.0,
    "whole_account": 0.4,
    "other_account": 0.5,
    "unexpected_principal": 0.3,
    "other_service": 0.3,
    "federated_principal": 0.3,
    "missing_source_condition": 0.4,
    "source_arn_not_checked": 0.15,
    "service_cannot_assume": 1.0,
}


@dataclass(frozen=True)
class TrustReport:
    role: str
    expected_service: str
    source_account: str
    score: float
    findings: tuple[Finding, ...]
    decisions: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.findings

    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "expected_service": self.expected_service, "source_account": self.source_account,
                "score": self.score, "ok": self.ok, "findings": [f.to_dict() for f in self.findings],
                "decisions": dict(self.decisions)}


def _assume_action(patterns: tuple[str, ...] | None, negate: bool) -> bool:
    hit = any(glob_match(p, a, ignore_case=True) for p in patterns or () for a in _ASSUME)
    return not hit if negate else hit


def trust_policy_findings(
    role_record: Mapping[str, Any],
    expected_service: str,
    source_account: str,
    *,
    source_arn: str | None = None,
    region: str = "us-east-1",
) -> TrustReport:
    """Check a role's trust policy admits `expected_service` (e.g. sagemaker.amazonaws.com) for `source_account`
    only, with aws:SourceAccount / aws:SourceArn conditions, and flags `*`, whole-account principals, other
    accounts, other services and federated principals. `source_arn` is the workload's ARN (a training job, an
    endpoint); when given, the policy must also reject another resource of the same account."""
    if not isinstance(role_record, Mapping) or "AssumeRolePolicyDocument" not in role_record:
        raise InputError("the role record has no AssumeRolePolicyDocument",
                         "Pass a RoleDetail record from the IAM inventory.")
    role_arn = str(role_record.get("Arn") or "")
    account = account_of(role_arn) or source_account
    name = f"trust policy of {role_record.get('RoleName', role_arn)}"
    policy = parse_policy(document(role_record["AssumeRolePolicyDocument"], name), name=name)
    findings: list[Finding] = []
    service = expected_service.lower()

    for s in policy.statements:
        if s.effect != "Allow" or not _assume_action(s.action or s.not_action, s.action is None):
            continue
        ev = {"policy": name, "statement": s.ref, "json": dict(s.raw)}
        if s.not_principal is not None:
            findings.append(Finding(
                "not_principal", "critical",
                f"Statement {s.ref} allows everyone except the listed principals to assume the role.",
                PENALTIES["not_principal"], ev))
            continue
        p = s.principal
        if p is None:
            continue
        if p.star:
            code = "any_principal_with_conditions" if s.conditions else "any_principal"
            findings.append(Finding(code, "critical" if code == "any_principal" else "medium",
                                    f"Statement {s.ref} lets any principal ('*') assume the role"
                                    + (" (only its conditions restrict it)." if s.conditions else "."),
                                    PENALTIES[code], ev))
        for value in p.aws:
            norm = normalise_aws_principal(value)
            if norm.startswith("acct:"):
                acct = norm[5:]
                if acct == account:
                    findings.append(Finding(
                        "whole_account", "high",
                        f"Statement {s.ref} trusts the whole account {acct}: any principal there with sts:AssumeRole "
                        "can become this role.", PENALTIES["whole_account"], ev))
                else:
                    findings.append(Finding("other_account", "high",
                                            f"Statement {s.ref} trusts another account ({acct}).",
                                            PENALTIES["other_account"], ev))
            else:
                findings.append(Finding("unexpected_principal", "medium",
                                        f"Statement {s.ref} trusts {value}; only {expected_service} should assume "
                                        "this service role.", PENALTIES["unexpected_principal"], ev))
        for svc in p.service:
            if svc.lower() != service:
                findings.append(Finding("other_service", "medium", f"Statement {s.ref} also trusts the service {svc}.",
                                        PENALTIES["other_service"], ev))
        for fed in p.federated:
            findings.append(Finding("federated_principal", "medium",
                                    f"Statement {s.ref} trusts the identity provider {fed}.",
                                    PENALTIES["federated_principal"], ev))

    ps = PolicySet(resource=[policy])
    svc_prefix = service.split(".")[0]
    own_arn = source_arn or f"arn:aws:{svc_prefix}:{region}:{source_account}:seclab-workload/expected"
    other_arn = f"arn:aws:{svc_prefix}:{region}:{_OUTSIDER}:seclab-workload/other"

    def decide(ctx: dict[str, str]) -> Any:
        return evaluate(Request(expected_service, None, "sts:AssumeRole", role_arn or "*", account, ctx), ps)

    expected = decide({"aws:SourceAccount": source_account, "aws:SourceArn": own_arn})
    bare = decide({})
    foreign = decide({"aws:SourceAccount": _OUTSIDER, "aws:SourceArn": other_arn})
    decisions = {"expected": expected.decision, "no_source_keys": bare.decision, "other_account": foreign.decision}
    if not expected.allowed:
        findings.append(Finding("service_cannot_assume", "high",
                                f"{expected_service} cannot assume the role for account {source_account}: "
                                f"{expected.summary()}.", PENALTIES["service_cannot_assume"],
                                {"decided_by": expected.decided_by}))
    elif bare.allowed or foreign.allowed:
        findings.append(Finding("missing_source_condition", "high",
                                f"{expected_service} can assume the role on behalf of any account: require "
                                f"aws:SourceAccount = {source_account} (and aws:SourceArn) in the trust policy.",
                                PENALTIES["missing_source_condition"],
                                {"decided_by": (foreign if foreign.allowed else bare).decided_by}))
    if source_arn and expected.allowed:
        if "/" in source_arn:
            sibling = f"{source_arn.rsplit('/', 1)[0]}/seclab-other-workload"
        else:
            sibling = source_arn + "-other"
        d = decide({"aws:SourceAccount": source_account, "aws:SourceArn": sibling})
        decisions["other_resource_same_account"] = d.decision
        if d.allowed:
            findings.append(Finding("source_arn_not_checked", "low",
                                    f"The trust policy does not pin aws:SourceArn to {source_arn}.",
                                    PENALTIES["source_arn_not_checked"], {"decided_by": d.decided_by}))
    score = round(max(0.0, 1.0 - min(1.0, sum(f.penalty for f in findings))), 3)
    return TrustReport(role_arn, expected_service, source_account, score, tuple(findings), decisions)
