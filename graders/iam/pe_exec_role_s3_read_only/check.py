"""The execution role cannot change or delete anything in S3, including its own model artifact.

Played through the IAM engine as the role: overwriting, deleting or re-permissioning the artifact, and changing or
deleting the bucket, must all be denied. This is what s3:* (even on the right prefix) gets wrong.
"""

from __future__ import annotations

from seclab.grading import CheckContext, Finding, check_library


def run(ctx: CheckContext) -> Finding:
    pe = check_library("private_endpoint")
    f, inv = ctx.facts, ctx.inventory
    name = str(f["execution_role_name"])
    role, rp, problem = pe.execution_role(ctx)
    if problem is not None:
        return problem
    bucket, key = f["model_bucket"], f["model_artifact_key"]
    obj, b = f"arn:aws:s3:::{bucket}/{key}", f"arn:aws:s3:::{bucket}"
    context = pe.exec_context(f, inv)
    probes = [
        pe.Probe("s3:PutObject", obj, context, "s3:PutObject over the model artifact"),
        pe.Probe("s3:DeleteObject", obj, context, "s3:DeleteObject of the model artifact"),
        pe.Probe("s3:PutObjectAcl", obj, context, "s3:PutObjectAcl on the model artifact"),
        pe.Probe("s3:PutBucketPolicy", b, context, f"s3:PutBucketPolicy on {bucket}"),
        pe.Probe("s3:DeleteBucket", b, context, f"s3:DeleteBucket on {bucket}"),
    ]
    outcomes = pe.ask(rp, probes, inv.account_id)
    evidence = {"role": rp.arn, "policies": list(rp.names), "requests": [o.evidence() for o in outcomes]}
    allowed = [o for o in outcomes if o.allowed]
    if allowed:
        return ctx.fail("writes", evidence=evidence, role=name, allowed=pe.listing(allowed))
    return ctx.ok("pass", evidence=evidence, role=name, bucket=bucket)
