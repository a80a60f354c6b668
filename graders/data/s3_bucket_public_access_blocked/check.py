"""All four S3 public access block settings are on for the lab's bucket."""

from __future__ import annotations

from seclab.grading import CheckContext, Finding

SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def run(ctx: CheckContext) -> Finding:
    name = str(ctx.facts[ctx.params.get("bucket_fact", "bucket")])
    bucket = ctx.inventory.s3.bucket(name)
    if bucket is None:
        return ctx.fail("bucket_missing", bucket=name)
    pab = bucket.public_access_block
    if not pab:
        return ctx.fail("no_block", evidence={"PublicAccessBlockConfiguration": None}, bucket=name)
    off = [s for s in SETTINGS if not pab.get(s)]
    if off:
        return ctx.fail("partial", evidence={"PublicAccessBlockConfiguration": pab}, bucket=name,
                        off=", ".join(off), verb="is" if len(off) == 1 else "are")
    return ctx.ok("pass", evidence={"PublicAccessBlockConfiguration": pab}, bucket=name)
