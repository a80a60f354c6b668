"""Only SageMaker, acting for this account, can assume the endpoint's execution role (the trust policy, judged by the IAM engine).

Requests are played against the role's trust policy: SageMaker for this account must be allowed; other services, IAM
principals of this or another account, anonymous callers and SageMaker acting for another account must not.
"""

from __future__ import annotations

from typing import Any

from seclab.grading import CheckContext, Finding, check_library

OTHER_ACCOUNT = "111122223333"
OTHER_SERVICES = ("ec2.amazonaws.com", "lambda.amazonaws.com", "ecs-tasks.amazonaws.com", "glue.amazonaws.com")


def run(ctx: CheckContext) -> Finding:
    from seclab.engines.iam import PolicySet

    pe = check_library("private_endpoint")
    f, inv = ctx.facts, ctx.inventory
    name = str(f["execution_role_name"])
    role = inv.iam.role(name)
    if role is None:
        return ctx.fail("role_missing", evidence={"roles": sorted(str(r.get("RoleName")) for r in inv.iam.roles)},
                        role=name, account=inv.account_id)
    trust = role.get("AssumeRolePolicyDocument")
    acct, arn, region = inv.account_id, str(role["Arn"]), str(f["region"])
    kinds = {"resource": "trust policy", "identity": "the caller's own policy"}
    trust_only = PolicySet(resource=[trust])
    with_identity = PolicySet(identity=[pe.ALLOW_ALL], resource=[trust])
    assume = "sts:AssumeRole"
    ours = {"aws:SourceAccount": acct, "aws:SourceArn": f"arn:aws:sagemaker:{region}:{acct}:model/{f['model_name']}"}

    others: list[Any] = []
    for svc in OTHER_SERVICES:
        others += pe.ask_with(svc, None, acct, trust_only, [pe.Probe(assume, arn, {"aws:SourceAccount": acct}, svc)],
                              kinds)
    for principal, p_acct, label in ((f"arn:aws:iam::{acct}:user/developer", acct, "any IAM user of your account"),
                                     (f"arn:aws:iam::{OTHER_ACCOUNT}:role/outsider", OTHER_ACCOUNT,
                                      f"a role in another account ({OTHER_ACCOUNT})")):
        others += pe.ask_with(principal, p_acct, acct, with_identity, [pe.Probe(assume, arn, {}, label)], kinds)
    others += pe.ask_with("*", None, acct, trust_only, [pe.Probe(assume, arn, {}, "anonymous callers")], kinds)
    allowed_others = [o for o in others if o.allowed]
    ours_outcome = pe.ask_with("sagemaker.amazonaws.com", None, acct, trust_only,
                               [pe.Probe(assume, arn, ours, "SageMaker acting for your account")], kinds)[0]
    deputy = pe.ask_with("sagemaker.amazonaws.com", None, acct, trust_only, [pe.Probe(
        assume, arn, {"aws:SourceAccount": OTHER_ACCOUNT,
                      "aws:SourceArn": f"arn:aws:sagemaker:{region}:{OTHER_ACCOUNT}:model/someone-elses-model"},
        f"SageMaker acting for another account ({OTHER_ACCOUNT})")], kinds)[0]
    evidence = {"role": arn, "AssumeRolePolicyDocument": trust,
                "requests": [o.evidence() for o in [ours_outcome, deputy, *others]]}
    if allowed_others:
        return ctx.fail("other_principals", evidence=evidence, role=name,
                        who=", ".join(o.probe.text() for o in allowed_others),
                        by="; ".join(dict.fromkeys(o.by for o in allowed_others)))
    if not ours_outcome.allowed:
        return ctx.fail("sagemaker_denied", evidence=evidence, role=name, account=acct,
                        reason=ours_outcome.decision.summary())
    if deputy.allowed:
        return ctx.fail("no_source_account", evidence=evidence, role=name, account=acct, other=OTHER_ACCOUNT,
                        by=deputy.by)
    return ctx.ok("pass", evidence=evidence, role=name, account=acct)
