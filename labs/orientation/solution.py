"""Orientation reference solution (instructor-only): the same steps as the notebook's solution cells."""

from __future__ import annotations

from typing import Any


def solve(ctx: Any, facts: dict[str, Any]) -> None:
    ctx.client("sts").get_caller_identity()

    kms = ctx.client("kms")
    existing = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    if facts["key_alias"] in existing:
        key_arn = kms.describe_key(KeyId=facts["key_alias"])["KeyMetadata"]["Arn"]
    else:
        key = kms.create_key(Description="Orientation lab key")["KeyMetadata"]
        kms.create_alias(AliasName=facts["key_alias"], TargetKeyId=key["KeyId"])
        key_arn = key["Arn"]

    s3 = ctx.client("s3")
    bucket = facts["bucket"]
    if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
            "BucketKeyEnabled": True,
        }]},
    )
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={"BlockPublicAcls": True, "IgnorePublicAcls": True,
                                        "BlockPublicPolicy": True, "RestrictPublicBuckets": True},
    )
