"""The execution role can do what the endpoint needs: read the model artifact and write this endpoint's logs.

Least privilege cuts both ways: a policy so tight that the model cannot download or log is also wrong. Each need is
played through the IAM engine as the role, with the context SageMaker's requests carry from the VPC.
"""

from __future__ import annotations

from seclab.grading import CheckContext, Finding, check_library

STREAM = "AllTraffic/i-0a1b2c3d4e5f60718"


def run(ctx: CheckContext) -> Finding:
    pe = check_library("private_endpoint")
    f, inv = ctx.facts, ctx.inventory
    name = str(f["execution_role_name"])
    role, rp, problem = pe.execution_role(ctx)
    if problem is not None:
        return problem
    region, acct = f["region"], inv.account_id
    bucket, key, group = f["model_bucket"], f["model_artifact_key"], f["endpoint_log_group"]
    stream_arn = f"arn:aws:logs:{region}:{acct}:log-group:{group}:log-stream:{STREAM}"
    context = pe.exec_context(f, inv)
    needs = [
        pe.Probe("s3:GetObject", f"arn:aws:s3:::{bucket}/{key}", context, f"s3:GetObject on s3://{bucket}/{key}"),
        pe.Probe("logs:CreateLogStream", stream_arn, {}, f"logs:CreateLogStream in {group}"),
        pe.Probe("logs:PutLogEvents", stream_arn, {}, f"logs:PutLogEvents in {group}"),
    ]
    outcomes = pe.ask(rp, needs, acct)
    evidence = {"role": rp.arn, "policies": list(rp.names), "requests": [o.evidence() for o in outcomes]}
    missing = [o for o in outcomes if not o.allowed]
    if missing:
        return ctx.fail("missing", evidence=evidence, role=name,
                        missing="; ".join(f"{o.probe.text()} ({o.decision.decision.replace('_', ' ')})"
                                          for o in missing))
    return ctx.ok("pass", evidence=evidence, role=name, bucket=bucket, artifact=key, log_group=group)
