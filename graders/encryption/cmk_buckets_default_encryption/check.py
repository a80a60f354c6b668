"""Both buckets' default encryption: the pipeline key (references resolved by the encryption engine) plus Bucket
Keys, bucket by bucket."""

from __future__ import annotations

from seclab.grading import CheckContext, Finding, check_library

_LABEL = {"AES256": "SSE-S3 (AES256)", "aws:kms": "SSE-KMS", "aws:kms:dsse": "DSSE-KMS"}


def run(ctx: CheckContext) -> Finding:
    lib = check_library("cmk_pipeline")
    inv, facts = ctx.inventory, ctx.facts
    names = [str(facts["data_bucket"]), str(facts["artifact_bucket"])]
    for name in names:
        if inv.s3.bucket(name) is None:
            return ctx.error("bucket_missing", bucket=name)
    key = lib.usable_cmk(inv, facts)
    if key is None:
        return ctx.fail("no_key", alias=facts["key_alias"])
    problems: list[str] = []
    evidence: dict[str, object] = {"key_arn": key.arn}
    algorithms: set[str] = set()
    for name in names:
        bucket = inv.s3.bucket(name)
        assert bucket is not None
        rules = (bucket.encryption or {}).get("Rules") or []
        evidence[name] = bucket.encryption
        if not rules:
            problems.append(f"{name} has no default encryption")
            continue
        sse = rules[0].get("ApplyServerSideEncryptionByDefault") or {}
        algorithm = str(sse.get("SSEAlgorithm") or "")
        if algorithm not in ("aws:kms", "aws:kms:dsse"):
            problems.append(f"{name} uses {_LABEL.get(algorithm, algorithm or 'nothing')}")
            continue
        ref = sse.get("KMSMasterKeyID")
        ok, info = lib.same_key(inv, ref, key.arn)
        if not ref:
            problems.append(f"{name} uses {_LABEL[algorithm]} without naming a key (that is the AWS-managed "
                            "aws/s3 key)")
            continue
        if not ok:
            problems.append(f"{name} uses {_LABEL[algorithm]} with {lib.key_label(info, ref)}")
            continue
        if algorithm == "aws:kms" and not rules[0].get("BucketKeyEnabled"):
            problems.append(f"{name} uses the pipeline key but S3 Bucket Keys are off")
            continue
        algorithms.add(_LABEL[algorithm])
    if problems:
        return ctx.fail("problems", evidence=evidence, details="; ".join(problems), key_arn=key.arn)
    return ctx.ok("pass", evidence=evidence, key_arn=key.arn, algorithms=" / ".join(sorted(algorithms)))
