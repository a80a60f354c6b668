"""Orientation set-up: nothing to break yet, only names. The learner builds everything.

The names come from the learner's seed, so two learners on one simulator never collide on a global S3 name.
"""

from __future__ import annotations

from typing import Any


def setup(ctx: Any) -> dict[str, Any]:
    suffix = f"{ctx.seed % 10**8:08d}"
    return {
        "bucket": f"orientation-{ctx.learner[:20]}-{suffix}",
        "key_alias": f"alias/orientation-{suffix}",
    }


def reset(ctx: Any, facts: dict[str, Any]) -> None:
    """Delete what the learner built, so set-up starts clean."""
    s3 = ctx.client("s3")
    kms = ctx.client("kms")
    try:
        for obj in s3.list_objects_v2(Bucket=facts["bucket"]).get("Contents", []):
            s3.delete_object(Bucket=facts["bucket"], Key=obj["Key"])
        s3.delete_bucket(Bucket=facts["bucket"])
    except s3.exceptions.ClientError:
        pass
    for alias in kms.list_aliases().get("Aliases", []):
        if alias["AliasName"] == facts["key_alias"]:
            kms.delete_alias(AliasName=alias["AliasName"])
            kms.schedule_key_deletion(KeyId=alias["TargetKeyId"], PendingWindowInDays=7)
