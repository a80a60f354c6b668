"""Task 5b: the approved-key guardrail, proven by evaluating requests through the SCP levels.

A request naming the approved key that is denied only by the region guardrail (a statement on
aws:RequestedRegion) is left to ma_scp_region, so one broken guardrail is reported once.
"""

from __future__ import annotations

from typing import Any

from seclab.grading import CheckContext, Finding, check_library

OTHER_KEY = "arn:aws:kms:{region}:{account}:key/00000000-0000-4000-8000-000000000000"


def run(ctx: CheckContext) -> Finding:
    lib = check_library("multi_account")
    p = lib.platform(ctx.org, ctx.facts)
    facts = ctx.facts
    problem = lib.accounts_problem(ctx, p)
    if problem is not None:
        return problem
    region = facts["approved_regions"][0]
    requests = 0
    principals = 0
    for bu in p.bus:
        key = p.key_arn(bu)
        if key is None:
            return ctx.fail("key_missing", account=bu.account_name, alias=bu.facts["key_alias"])
        acct = str(bu.account_id)
        other = OTHER_KEY.format(region=region, account=acct)
        sm = "sagemaker:VolumeKmsKey"
        s3k = "s3:x-amz-server-side-encryption-aws-kms-key-id"
        cases: list[tuple[str, str, str, dict[str, Any], bool, str]] = []
        for action, kind in (("sagemaker:CreateTrainingJob", "training-job"),
                             ("sagemaker:CreateEndpointConfig", "endpoint-config")):
            res = f"arn:aws:sagemaker:{region}:{acct}:{kind}/probe"
            cases += [(action, res, "without a volume key", {}, False, sm),
                      (action, res, f"with another key ({other})", {sm: other}, False, sm),
                      (action, res, "", {sm: key}, True, sm)]
        obj = f"arn:aws:s3:::{bu.bucket}/probe/model.tar.gz"
        cases += [("s3:PutObject", obj, "without an encryption key header", {}, False, s3k),
                  ("s3:PutObject", obj, "with SSE-S3 (AES256)", {"s3:x-amz-server-side-encryption": "AES256"}, False,
                   s3k),
                  ("s3:PutObject", obj, f"with another key ({other})",
                   {"s3:x-amz-server-side-encryption": "aws:kms", s3k: other}, False, s3k),
                  ("s3:PutObject", obj, "", {"s3:x-amz-server-side-encryption": "aws:kms", s3k: key}, True, s3k)]
        actors = lib.bu_actors(p, [acct])
        principals += len(actors)
        for who in actors:
            for action, resource, how, extra, approved, condition_key in cases:
                d = lib.scp_decision(p, who, action, resource, region, extra)
                requests += 1
                if approved:
                    if not d.allowed and not lib.denied_by_region_guardrail(p, d):
                        return ctx.fail("approved_denied", evidence={"decision": d.to_dict()}, action=action,
                                        who=who.label, key_arn=key, decision=d.decision.replace("_", " "),
                                        reason=lib.deny_text(d))
                elif d.decision != "explicit_deny" or lib.denied_by_region_guardrail(p, d):
                    return ctx.fail("not_denied", evidence={"decision": d.to_dict()}, action=action, who=who.label,
                                    how=how, condition_key=condition_key, key_arn=key)
    return ctx.ok("pass", evidence={"requests": requests}, principals=principals, count=len(p.bus),
                  requests=requests)
