"""The migration, object by object: each object recorded at set-up is now SSE-KMS (or DSSE-KMS) under the pipeline
key, as HeadObject reports it (the inventory reads it per object). Missing objects are cmk_objects_intact's."""

from __future__ import annotations

from typing import Any

from seclab.grading import CheckContext, Finding, check_library

_LABEL = {"AES256": "SSE-S3", "aws:kms": "SSE-KMS", "aws:kms:dsse": "DSSE-KMS"}


def run(ctx: CheckContext) -> Finding:
    lib = check_library("cmk_pipeline")
    inv, facts = ctx.inventory, ctx.facts
    recorded: dict[str, list[dict[str, Any]]] = facts["objects"]
    for name in recorded:
        if inv.s3.bucket(name) is None:
            return ctx.error("bucket_missing", bucket=name)
    key = lib.usable_cmk(inv, facts)
    if key is None:
        return ctx.fail("no_key", alias=facts["key_alias"])
    left: list[str] = []
    evidence: list[dict[str, Any]] = []
    count = 0
    for name, items in recorded.items():
        bucket = inv.s3.bucket(name)
        assert bucket is not None
        present = lib.bucket_objects(bucket)
        for item in items:
            obj = present.get(item["key"])
            if obj is None:
                continue
            count += 1
            algorithm = str(obj.get("ServerSideEncryption") or "AES256")
            ok, info = (lib.same_key(inv, obj.get("SSEKMSKeyId"), key.arn)
                        if algorithm in ("aws:kms", "aws:kms:dsse") else (False, None))
            evidence.append({"object": f"s3://{name}/{item['key']}", "ServerSideEncryption": algorithm,
                             "SSEKMSKeyId": obj.get("SSEKMSKeyId"), "pipeline_key": ok})
            if not ok:
                how = _LABEL.get(algorithm, algorithm)
                if algorithm in ("aws:kms", "aws:kms:dsse"):
                    how += f" with {lib.key_label(info, obj.get('SSEKMSKeyId') or 'alias/aws/s3')}"
                left.append(f"s3://{name}/{item['key']} ({how})")
    if left:
        return ctx.fail("left_behind", evidence=evidence, left=len(left), count=count,
                        objects=lib.listing(left, 6), key_arn=key.arn)
    return ctx.ok("pass", evidence=evidence, count=count, key_arn=key.arn)
