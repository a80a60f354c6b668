"""Task 2b: the cross-account MLOps roles' trust policies, judged by evaluating representative callers.

The trust is evaluated on its own (the callers' identity policies are assumed to allow sts:AssumeRole) because the
question is "whom does this door admit?", not "who has a key today". The MLOps role's ability to use the door is
then evaluated with everything that applies (its policies, SCPs, the trust).
"""

from __future__ import annotations

from typing import Any

from seclab.engines.iam import PolicySet, Request, evaluate
from seclab.grading import CheckContext, Finding, check_library

OUTSIDE_ACCOUNT = "210987654321"
OUTSIDE_ORG = "o-outsider0001"


def run(ctx: CheckContext) -> Finding:
    lib = check_library("multi_account")
    p = lib.platform(ctx.org, ctx.facts)
    facts = ctx.facts
    problem = lib.accounts_problem(ctx, p)
    if problem is not None:
        return problem
    shared = facts["shared"]["account_name"]
    role_name = facts["roles"]["mlops_access"]
    mlops = p.mlops_role()
    if mlops is None:
        return ctx.fail("mlops_missing", mlops_name=facts["shared"]["mlops_role"], shared=shared)
    ext = facts["external_id"]
    conditions: set[str] = set()
    for bu in p.bus:
        acct = str(bu.account_id)
        role = next((x for x in p.principals().values() if x.kind == "role" and x.account == acct
                     and x.name == role_name), None)
        if role is None or role.trust is None:
            return ctx.fail("role_missing", role=role_name, account=bu.account_name, mlops=mlops.arn)
        trust_only = PolicySet(identity=[lib.ALLOW_ALL], resource=[role.trust])
        evidence: dict[str, Any] = {"role": role.arn, "trust_policy": role.trust.document}

        def ask(caller: str, caller_account: str, org_id: str | None, external_id: str | None) -> Any:
            c = lib.infer_context(caller, caller_account, region=lib.REGION, org_id=org_id)
            if external_id:
                c["sts:ExternalId"] = external_id
            return evaluate(Request(caller, caller_account, "sts:AssumeRole", role.arn, acct, c), trust_only)

        d = ask(mlops.arn, str(p.shared_id), p.org_id, ext)
        if not d.allowed:
            evidence["decision"] = d.to_dict()
            return ctx.fail("intended_denied", evidence=evidence, role=role_name, account=bu.account_name,
                            mlops=mlops.arn, external_id=ext, reason=lib.deny_text(d))
        others = [(f"arn:aws:iam::{p.shared_id}:role/any-other-role", str(p.shared_id), p.org_id,
                   f"any other role of {shared} (the trust names the whole account)")]
        others += [(f"arn:aws:iam::{o.account_id}:role/{role_name}", str(o.account_id), p.org_id,
                    f"{o.account_name}'s {role_name} (another business unit)") for o in p.bus
                   if o.account_id and o.account_id != acct][:1]
        others.append((f"arn:aws:iam::{acct}:role/any-other-role", acct, p.org_id,
                       f"any other role of {bu.account_name} itself"))
        others.append((f"arn:aws:iam::{OUTSIDE_ACCOUNT}:role/MLOps", OUTSIDE_ACCOUNT, OUTSIDE_ORG,
                       "a role outside your organization (the trust admits \"*\")"))
        for caller, caller_account, org_id, who in others:
            d = ask(caller, caller_account, org_id, ext)
            if d.allowed:
                grant = next((e for e in d.decided_by if e.get("policy", "").startswith("resource")), {})
                evidence["decision"] = d.to_dict()
                return ctx.fail("too_open", evidence=evidence, role=role_name, account=bu.account_name, who=who,
                                statement=f"statement {grant.get('statement')}", mlops=mlops.arn)
        if ask(mlops.arn, str(p.shared_id), OUTSIDE_ORG, None).allowed:
            return ctx.fail("no_condition", evidence=evidence, role=role_name, account=bu.account_name,
                            mlops=mlops.arn, external_id=ext, org_id=p.org_id)
        if not ask(mlops.arn, str(p.shared_id), p.org_id, None).allowed:
            conditions.add("ExternalId")
        if not ask(mlops.arn, str(p.shared_id), OUTSIDE_ORG, ext).allowed:
            conditions.add("aws:PrincipalOrgID")
        full = p.decide(mlops, "sts:AssumeRole", role.arn, acct, role.trust,
                        p.context(mlops.arn, str(p.shared_id), **{"sts:ExternalId": ext}))
        if not full.allowed and not lib.denied_by_region_guardrail(p, full):  # a region SCP is ma_scp_region's
            evidence["decision"] = full.to_dict()
            return ctx.fail("mlops_cannot_assume", evidence=evidence, mlops=mlops.arn, role=role.arn,
                            account=bu.account_name, reason=lib.deny_text(full), role_name=role_name)
    return ctx.ok("pass", evidence={"mlops": mlops.arn, "conditions": sorted(conditions)}, count=len(p.bus),
                  role=role_name, mlops=mlops.arn,
                  conditions=" and ".join(sorted(conditions)) or "a condition")
