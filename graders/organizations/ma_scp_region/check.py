"""Task 5a: the region guardrail, proven by evaluating requests through the SCP levels for every principal.

moto stores SCPs but never enforces them, so the proof is analysis: the IAM engine applies every level (root,
OUs, account) exactly as AWS documents SCP evaluation.
"""

from __future__ import annotations

from typing import Any

from seclab.grading import CheckContext, Finding, check_library

GLOBAL = (("iam:CreateRole", "arn:aws:iam::{account}:role/probe"), ("sts:AssumeRole", "arn:aws:iam::{account}:role/probe"),
          ("organizations:DescribeOrganization", "*"), ("support:DescribeCases", "*"))


def _regional(account: str, region: str, bucket: str) -> list[tuple[str, str]]:
    return [("ec2:RunInstances", f"arn:aws:ec2:{region}:{account}:instance/*"),
            ("s3:GetObject", f"arn:aws:s3:::{bucket}/probe.csv"),
            ("sagemaker:InvokeEndpoint", f"arn:aws:sagemaker:{region}:{account}:endpoint/probe")]


def _operator_hint(p: Any) -> str:
    """Name an attached SCP that tests aws:RequestedRegion with a positive operator (the classic inversion)."""
    o = p.organization
    for pol in (o.policies if o else ()):
        if pol.get("Type") != "SERVICE_CONTROL_POLICY" or not pol.get("Targets"):
            continue
        statements = (pol.get("Content") or {}).get("Statement") or []
        for st in statements if isinstance(statements, list) else [statements]:
            if not isinstance(st, dict) or st.get("Effect") != "Deny":
                continue
            for op, keys in (st.get("Condition") or {}).items():
                if isinstance(keys, dict) and any(str(k).lower() == "aws:requestedregion" for k in keys) \
                        and "Not" not in str(op):
                    return (f" Note: the SCP {pol.get('Name')} tests aws:RequestedRegion with {op}, so its Deny "
                            "matches the approved regions and lets every other region through.")
    return ""


def run(ctx: CheckContext) -> Finding:
    lib = check_library("multi_account")
    p = lib.platform(ctx.org, ctx.facts)
    facts = ctx.facts
    problem = lib.accounts_problem(ctx, p)
    if problem is not None:
        return problem
    approved = list(facts["approved_regions"])
    hint = _operator_hint(p)
    forbidden = list(facts["forbidden_region_probes"])
    buckets = {str(b.account_id): b.bucket for b in p.bus}
    accounts = [str(b.account_id) for b in p.bus] + [str(p.shared_id)]
    actors = lib.bu_actors(p, accounts)
    requests = 0
    for who in actors:
        acct = str(who.account)
        bucket = buckets.get(acct, f"shared-services-probe-{acct}")
        for region in forbidden:
            for action, resource in _regional(acct, region, bucket):
                d = lib.scp_decision(p, who, action, resource, region)
                requests += 1
                if d.decision != "explicit_deny":
                    return ctx.fail("forbidden_allowed", evidence={"decision": d.to_dict()}, action=action,
                                    region=region, who=who.label, approved=", ".join(approved), hint=hint)
        for region in approved:
            for action, resource in _regional(acct, region, bucket):
                d = lib.scp_decision(p, who, action, resource, region)
                requests += 1
                if not d.allowed:
                    return ctx.fail("approved_denied", evidence={"decision": d.to_dict()}, action=action,
                                    region=region, who=who.label, decision=d.decision.replace("_", " "),
                                    reason=lib.deny_text(d))
        for action, resource in GLOBAL:
            d = lib.scp_decision(p, who, action, resource.format(account=acct), forbidden[0])
            requests += 1
            if d.decision == "explicit_deny":
                return ctx.fail("global_denied", evidence={"decision": d.to_dict()}, action=action, who=who.label,
                                region=forbidden[0], reason=lib.deny_text(d))
    return ctx.ok("pass", approved=", ".join(approved), principals=len(actors), accounts=len(accounts),
                  requests=requests, evidence={"requests": requests, "principals": [a.label for a in actors]})
