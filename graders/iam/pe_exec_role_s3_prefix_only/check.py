"""The execution role reads nothing in S3 beyond the model artifact's own prefix.

Played through the IAM engine as the role: reads of the other objects the set-up placed in the model bucket (another
model, a customer dataset, another team's files), of other buckets, listing the whole bucket and listing every
bucket must all be denied. Each request that is allowed is named with the policy statement that allows it.
"""

from __future__ import annotations

from typing import Any

from seclab.grading import CheckContext, Finding, check_library


def run(ctx: CheckContext) -> Finding:
    pe = check_library("private_endpoint")
    f, inv = ctx.facts, ctx.inventory
    name = str(f["execution_role_name"])
    role, rp, problem = pe.execution_role(ctx)
    if problem is not None:
        return problem
    bucket, audit = f["model_bucket"], f["audit_bucket"]
    context = pe.exec_context(f, inv)

    def get(b: str, key: str, label: str) -> Any:
        return pe.Probe("s3:GetObject", f"arn:aws:s3:::{b}/{key}", context, f"s3:GetObject on {label}")

    def ls(prefix: str, label: str) -> Any:
        return pe.Probe("s3:ListBucket", f"arn:aws:s3:::{bucket}", {**context, "s3:prefix": prefix}, label)

    probes = [
        get(bucket, f["other_model_key"], f"another team's model s3://{bucket}/{f['other_model_key']}"),
        get(bucket, f["dataset_key"], f"the customer dataset s3://{bucket}/{f['dataset_key']}"),
        get(bucket, "other-team/fraud/features.parquet", f"s3://{bucket}/other-team/"),
        get(audit, f"AWSLogs/{inv.account_id}/CloudTrail/trail.json.gz", f"the audit bucket s3://{audit}"),
        get("some-other-bucket", "export.csv", "any other bucket"),
        ls("", f"s3:ListBucket on the whole bucket {bucket}"),
        ls("datasets/", f"s3:ListBucket on s3://{bucket}/datasets/"),
        pe.Probe("s3:ListAllMyBuckets", "*", context, "s3:ListAllMyBuckets (every bucket name in the account)"),
    ]
    outcomes = pe.ask(rp, probes, inv.account_id)
    evidence = {"role": rp.arn, "policies": list(rp.names), "requests": [o.evidence() for o in outcomes]}
    allowed = [o for o in outcomes if o.allowed]
    if allowed:
        return ctx.fail("reads_outside", evidence=evidence, role=name, prefix=f["model_prefix"], bucket=bucket,
                        allowed=pe.listing(allowed))
    return ctx.ok("pass", evidence=evidence, role=name, bucket=bucket, prefix=f["model_prefix"])
