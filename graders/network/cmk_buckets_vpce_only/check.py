"""The bucket half of the perimeter: data requests evaluated with the IAM engine against each bucket policy from
outside the VPC, from another endpoint, through the scenario's endpoint, and by the perimeter's exceptions."""

from __future__ import annotations

from typing import Any

from seclab.grading import CheckContext, Finding, check_library


def run(ctx: CheckContext) -> Finding:
    lib = check_library("cmk_pipeline")
    inv, facts = ctx.inventory, ctx.facts
    acct = inv.account_id
    eid = str(facts["s3_endpoint_id"])
    key = lib.usable_cmk(inv, facts)
    headers = {lib.SSE_HEADER: "aws:kms", lib.SSE_KEY_HEADER: key.arn if key is not None else "*"}
    exempt = [str(a) for a in facts["perimeter_exempt_arns"]]
    why = {str(facts["steward_role_arn"]): "it loads data from outside the VPC",
           str(facts["learner_arn"]): "it is you, managing the buckets from this notebook"}
    confined = [lib.probes(inv)["account"],
                *(lib.caller(str(facts[k]), acct) for k in ("training_role_arn", "inference_role_arn",
                                                            "key_admin_role_arn"))]
    through = lib.inside(facts)
    elsewhere = {"aws:SourceVpce": lib.OTHER_VPCE, "aws:SourceVpc": "vpc-0000000000000000f"}
    total = 0
    evidence: dict[str, Any] = {"endpoint": eid, "exempt": exempt}
    for name in (str(facts["data_bucket"]), str(facts["artifact_bucket"])):
        bucket = inv.s3.bucket(name)
        if bucket is None:
            return ctx.error("bucket_missing", bucket=name)
        if bucket.policy is None:
            return ctx.fail("no_policy", evidence={"bucket": name, "policy": None}, bucket=name, endpoint=eid,
                            exempt=lib.listing(exempt))
        if not isinstance(bucket.policy, dict):
            return ctx.error("unreadable", bucket=name, detail="the policy is not valid JSON")
        obj = f"{bucket.arn}/{lib.PROBE_OBJECT}"
        requests = [("s3:GetObject", obj, {}), ("s3:PutObject", obj, headers), ("s3:DeleteObject", obj, {}),
                    ("s3:ListBucket", bucket.arn, {})]

        def verdict(p: Any, action: str, res: str, extra: dict[str, str]) -> str:
            return lib.decision(p, action, res, acct, lib.context_for(p, secure=True, extra=extra), bucket.policy)

        try:
            leaks: list[dict[str, str]] = []
            for p in confined:
                for where, extra in (("outside the VPC", {}), (f"another VPC endpoint ({lib.OTHER_VPCE})", elsewhere)):
                    for action, res, hdr in requests:
                        total += 1
                        if verdict(p, action, res, {**extra, **hdr}) != "explicit_deny":
                            leaks.append({"principal": p.label, "action": action, "where": where})
            inside_refused = [{"principal": p.label, "action": a} for p in confined[:3] for a, res, hdr in requests
                              if verdict(p, a, res, {**through, **hdr}) == "explicit_deny"]
            exempt_refused = [{"principal": arn, "action": a} for arn in exempt for a, res, hdr in requests
                              if verdict(lib.caller(arn, acct, lib.arn_kind(arn)), a, res, hdr) == "explicit_deny"]
            total += len(requests) * (3 + len(exempt))
        except lib.EvaluationFailed as exc:
            return ctx.error("unreadable", bucket=name, detail=str(exc))
        evidence[name] = {"outside_not_denied": leaks[:12], "inside_refused": inside_refused,
                          "exceptions_refused": exempt_refused}
        if leaks:
            first = leaks[0]
            return ctx.fail("outside_allowed", evidence=evidence, bucket=name, action=first["action"],
                            principal=first["principal"], where=first["where"], count=len(leaks), endpoint=eid)
        if inside_refused:
            first = inside_refused[0]
            return ctx.fail("inside_refused", evidence=evidence, bucket=name, action=first["action"],
                            principal=first["principal"], endpoint=eid)
        if exempt_refused:
            first = exempt_refused[0]
            return ctx.fail("exempt_refused", evidence=evidence, bucket=name, action=first["action"],
                            principal=first["principal"], why=why.get(first["principal"], "a perimeter exception"))
    return ctx.ok("pass", evidence=evidence, endpoint=eid, evaluated=total,
                  exempt=lib.listing([a.rsplit("/", 1)[-1] for a in exempt]))
