"""Plain-HTTP requests to both buckets, evaluated with the IAM engine against each bucket policy.

The callers' own IAM policies allow everything, so only the bucket policy can refuse. Requests come from inside
the VPC endpoint too, and uploads carry the right encryption headers, so a perimeter or an upload rule cannot hide
a missing TLS rule.
"""

from __future__ import annotations

from typing import Any

from seclab.engines.crypto.s3 import TLS_REQUESTS
from seclab.grading import CheckContext, Finding, check_library


def run(ctx: CheckContext) -> Finding:
    lib = check_library("cmk_pipeline")
    inv, facts = ctx.inventory, ctx.facts
    acct = inv.account_id
    key = lib.usable_cmk(inv, facts)
    requests: list[tuple[str, str, dict[str, str]]] = list(TLS_REQUESTS)
    if key is not None:
        requests.append(("s3:PutObject", "object", {lib.SSE_HEADER: "aws:kms", lib.SSE_KEY_HEADER: key.arn}))
    probe = lib.probes(inv)
    named = [str(facts[k]) for k in ("training_role_arn", "inference_role_arn", "steward_role_arn",
                                     "key_admin_role_arn")] + [str(facts["learner_arn"])]
    callers: list[tuple[Any, dict[str, str]]] = [(probe["account"], {}), (probe["account"], lib.inside(facts)),
                                                 (probe["external"], {}), (probe["anonymous"], {})]
    for arn in named:
        p = lib.caller(arn, acct, lib.arn_kind(arn))
        callers += [(p, {}), (p, lib.inside(facts))]
    total = 0
    evidence: dict[str, Any] = {}
    for name in (str(facts["data_bucket"]), str(facts["artifact_bucket"])):
        bucket = inv.s3.bucket(name)
        if bucket is None:
            return ctx.error("bucket_missing", bucket=name)
        if bucket.policy is None:
            return ctx.fail("no_policy", evidence={"bucket": name, "policy": None}, bucket=name)
        if not isinstance(bucket.policy, dict):
            return ctx.error("unreadable", bucket=name, detail="the policy is not valid JSON")
        resources = {"bucket": bucket.arn, "object": f"{bucket.arn}/{lib.PROBE_OBJECT}"}
        missed: list[dict[str, Any]] = []
        try:
            for p, where in callers:
                for action, target, extra in requests:
                    context = lib.context_for(p, secure=False, extra={**where, **extra})
                    verdict = lib.decision(p, action, resources[target], acct, context, bucket.policy)
                    total += 1
                    if verdict != "explicit_deny":
                        missed.append({"principal": p.label, "action": action, "resource": resources[target],
                                       "through_vpc_endpoint": bool(where), "headers": extra, "decision": verdict})
        except lib.EvaluationFailed as exc:
            return ctx.error("unreadable", bucket=name, detail=str(exc))
        evidence[name] = {"not_denied": missed[:12], "not_denied_count": len(missed)}
        if missed:
            first = missed[0]
            return ctx.fail("not_denied", evidence=evidence, bucket=name, action=first["action"],
                            resource=first["resource"], principal=first["principal"],
                            decision=first["decision"].replace("_", " "), count=len(missed), evaluated=total,
                            actions=", ".join(sorted({m["action"] for m in missed})))
    return ctx.ok("pass", evidence=evidence, evaluated=total)
