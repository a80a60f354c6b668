"""The lab's bucket defaults to SSE-KMS with the lab's customer-managed key (keys resolved by the crypto engine)."""

from __future__ import annotations

from seclab.engines.crypto import resolve_key
from seclab.grading import CheckContext, Finding


def run(ctx: CheckContext) -> Finding:
    inv = ctx.inventory
    bucket_name = str(ctx.facts[ctx.params.get("bucket_fact", "bucket")])
    expected = resolve_key(inv, str(ctx.facts[ctx.params.get("alias_fact", "key_alias")]))
    expected_label = expected.arn if expected.exists else str(ctx.facts[ctx.params.get("alias_fact", "key_alias")])
    bucket = inv.s3.bucket(bucket_name)
    if bucket is None:
        return ctx.fail("bucket_missing", bucket=bucket_name)
    rules = (bucket.encryption or {}).get("Rules", [])
    default = rules[0].get("ApplyServerSideEncryptionByDefault", {}) if rules else {}
    evidence = {"bucket": bucket_name, "ServerSideEncryptionConfiguration": bucket.encryption}
    algorithm = default.get("SSEAlgorithm")
    if not algorithm:
        return ctx.fail("no_default", evidence=evidence, bucket=bucket_name, expected_key=expected_label)
    if algorithm == "AES256":
        return ctx.fail("sse_s3", evidence=evidence, bucket=bucket_name, expected_key=expected_label)
    ref = default.get("KMSMasterKeyID") or "alias/aws/s3"
    key = resolve_key(inv, ref)
    evidence["resolved_key"] = {"arn": key.arn, "kind": key.key_kind, "state": key.key_state}
    if key.key_kind == "aws_managed":
        return ctx.fail("aws_managed", evidence=evidence, bucket=bucket_name, key_arn=key.arn or ref,
                        expected_key=expected_label)
    if not key.exists or key.key_state != "Enabled":
        return ctx.fail("key_unusable", evidence=evidence, bucket=bucket_name, key_ref=ref,
                        key_state=key.key_state or "missing", expected_key=expected_label)
    if not expected.exists or key.arn != expected.arn:
        return ctx.fail("other_key", evidence=evidence, bucket=bucket_name, key_arn=key.arn, expected_key=expected_label)
    return ctx.ok("pass", evidence=evidence, bucket=bucket_name, key_arn=key.arn)
