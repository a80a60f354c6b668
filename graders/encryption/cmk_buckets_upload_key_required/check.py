"""Uploads to both buckets, evaluated with the IAM engine against each bucket policy: every upload that would not
end up under the pipeline key must be an explicit Deny, and one under the pipeline key must not be denied.

Callers come from inside the VPC endpoint (and the data steward, exempt from the perimeter, from outside), so a
perimeter rule neither hides a missing upload rule nor makes a correct upload look refused.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from seclab.grading import CheckContext, Finding, check_library

_WHAT = {
    "sse_s3": "SSE-S3 (AES256) uploads",
    "kms_without_key_id": "SSE-KMS uploads that name no key (they get the AWS-managed aws/s3 key)",
    "kms_other_key": "SSE-KMS uploads with another key",
    "kms_aws_managed_alias": "SSE-KMS uploads naming alias/aws/s3",
    "dsse_other_key": "DSSE-KMS uploads with another key",
    "no_header": "uploads without an encryption header (the bucket's default is not the pipeline key)",
}


def _default_is(lib: ModuleType, inv: Any, bucket: Any, key_arn: str) -> tuple[bool, str]:
    rules = (bucket.encryption or {}).get("Rules") or []
    sse = (rules[0].get("ApplyServerSideEncryptionByDefault") or {}) if rules else {}
    algorithm = str(sse.get("SSEAlgorithm") or "AES256")
    ok = algorithm in ("aws:kms", "aws:kms:dsse") and lib.same_key(inv, sse.get("KMSMasterKeyID"), key_arn)[0]
    return ok, algorithm


def run(ctx: CheckContext) -> Finding:
    lib = check_library("cmk_pipeline")
    inv, facts = ctx.inventory, ctx.facts
    acct, region = inv.account_id, inv.region
    key = lib.usable_cmk(inv, facts)
    if key is None:
        return ctx.fail("no_key", alias=facts["key_alias"])
    other = f"arn:aws:kms:{region}:{acct}:key/{lib.OTHER_KEY_ID}"
    steward = lib.caller(str(facts["steward_role_arn"]), acct)
    training = lib.caller(str(facts["training_role_arn"]), acct)
    callers = [(lib.probes(inv)["account"], lib.inside(facts)), (training, lib.inside(facts)), (steward, {})]
    evidence: dict[str, Any] = {"key_arn": key.arn}
    for name in (str(facts["data_bucket"]), str(facts["artifact_bucket"])):
        bucket = inv.s3.bucket(name)
        if bucket is None:
            return ctx.error("bucket_missing", bucket=name)
        if bucket.policy is None:
            return ctx.fail("no_policy", evidence={"bucket": name, "policy": None}, bucket=name, key_arn=key.arn)
        if not isinstance(bucket.policy, dict):
            return ctx.error("unreadable", bucket=name, detail="the policy is not valid JSON")
        default_ok, algorithm = _default_is(lib, inv, bucket, key.arn)
        good_algorithm = "aws:kms:dsse" if algorithm == "aws:kms:dsse" else "aws:kms"
        bad = {
            "sse_s3": {lib.SSE_HEADER: "AES256"},
            "kms_without_key_id": {lib.SSE_HEADER: "aws:kms"},
            "kms_other_key": {lib.SSE_HEADER: "aws:kms", lib.SSE_KEY_HEADER: other},
            "kms_aws_managed_alias": {lib.SSE_HEADER: "aws:kms",
                                      lib.SSE_KEY_HEADER: f"arn:aws:kms:{region}:{acct}:alias/aws/s3"},
            "dsse_other_key": {lib.SSE_HEADER: "aws:kms:dsse", lib.SSE_KEY_HEADER: other},
        }
        if not default_ok:
            bad["no_header"] = {}
        good = {lib.SSE_HEADER: good_algorithm, lib.SSE_KEY_HEADER: key.arn}
        obj = f"{bucket.arn}/{lib.PROBE_OBJECT}"
        probes: dict[str, Any] = {}
        try:
            leaks: list[str] = []
            for case, headers in bad.items():
                verdicts = {p.label: lib.decision(p, "s3:PutObject", obj, acct,
                                                  lib.context_for(p, secure=True, extra={**where, **headers}),
                                                  bucket.policy) for p, where in callers}
                probes[case] = {"headers": headers, "decisions": verdicts}
                if any(v != "explicit_deny" for v in verdicts.values()):
                    leaks.append(case)
            refused = None
            for p, where in callers[:2]:  # from inside: the perimeter rule has its own check
                verdict = lib.decision(p, "s3:PutObject", obj, acct,
                                       lib.context_for(p, secure=True, extra={**where, **good}), bucket.policy)
                probes.setdefault("pipeline_key", {"headers": good, "decisions": {}})["decisions"][p.label] = verdict
                if verdict == "explicit_deny" and refused is None:
                    refused = p.label
        except lib.EvaluationFailed as exc:
            return ctx.error("unreadable", bucket=name, detail=str(exc))
        evidence[name] = probes
        if leaks:
            what = lib.listing([_WHAT[c] for c in leaks], 6)
            return ctx.fail("leaks", evidence=evidence, bucket=name, what=what, key_arn=key.arn)
        if refused is not None:
            return ctx.fail("refuses_good", evidence=evidence, bucket=name, key_arn=key.arn,
                            algorithm="DSSE-KMS" if good_algorithm == "aws:kms:dsse" else "SSE-KMS",
                            principal=refused)
    return ctx.ok("pass", evidence=evidence, key_arn=key.arn)
