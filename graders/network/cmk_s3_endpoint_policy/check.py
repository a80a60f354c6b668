"""The S3 gateway endpoint's policy as the IAM engine's endpoint gate: the pipeline's requests must pass it and
requests to any other bucket must not (callers' IAM allows everything, so only the endpoint policy decides)."""

from __future__ import annotations

from typing import Any

from seclab.engines.crypto.principals import ALLOW_ALL
from seclab.engines.iam import PolicySet, Request, evaluate
from seclab.grading import CheckContext, Finding

# What AWS applies when a gateway endpoint has no policy of its own: full access.
DEFAULT_POLICY = {"Version": "2008-10-17",
                  "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}


def run(ctx: CheckContext) -> Finding:
    inv, facts = ctx.inventory, ctx.facts
    eid = str(facts["s3_endpoint_id"])
    ep = next((e for e in inv.ec2.vpc_endpoints if e.get("VpcEndpointId") == eid), None)
    if ep is None or str(ep.get("State", "available")).lower() in ("deleted", "deleting"):
        return ctx.error("endpoint_missing", endpoint=eid, vpc=facts["vpc_id"])
    acct, region = inv.account_id, inv.region
    wrong: list[str] = []
    if ep.get("VpcId") != facts["vpc_id"]:
        wrong.append(f"it is in {ep.get('VpcId')}, not {facts['vpc_id']}")
    if ep.get("ServiceName") != f"com.amazonaws.{region}.s3" or ep.get("VpcEndpointType") != "Gateway":
        wrong.append(f"it is a {ep.get('VpcEndpointType')} endpoint for {ep.get('ServiceName')}")
    missing_rt = [rt for rt in facts["private_route_tables"] if rt not in (ep.get("RouteTableIds") or [])]
    if missing_rt:
        wrong.append(f"the private route table(s) {', '.join(missing_rt)} no longer use it")
    if wrong:
        return ctx.fail("wrong_endpoint", evidence={"endpoint": ep}, endpoint=eid, details="; ".join(wrong))
    policy = ep.get("PolicyDocument") or DEFAULT_POLICY
    data, art = f"arn:aws:s3:::{facts['data_bucket']}", f"arn:aws:s3:::{facts['artifact_bucket']}"
    outside = f"arn:aws:s3:::exfiltration-target-{acct[-4:]}"
    needed = [(facts["training_role_arn"], "s3:GetObject", f"{data}/curated/train.csv"),
              (facts["training_role_arn"], "s3:ListBucket", data),
              (facts["training_role_arn"], "s3:PutObject", f"{art}/{facts['training_output_prefix']}model.tar.gz"),
              (facts["inference_role_arn"], "s3:GetObject", f"{art}/models/v0/model.tar.gz")]
    refused = [(role, action, res) for role in (facts["training_role_arn"], facts["inference_role_arn"])
               for action, res in (("s3:GetObject", f"{outside}/stolen.csv"), ("s3:PutObject", f"{outside}/x.csv"),
                                   ("s3:ListBucket", outside), ("s3:PutObject", f"arn:aws:s3:::{facts['trail_bucket']}/x"))]
    try:
        policies = PolicySet(identity=[ALLOW_ALL], endpoint=[policy])

        def decide(role: str, action: str, resource: str) -> str:
            context = {"aws:PrincipalArn": role, "aws:PrincipalAccount": acct, "aws:SecureTransport": "true",
                       "aws:SourceVpce": eid, "aws:SourceVpc": facts["vpc_id"], "aws:PrincipalType": "AssumedRole"}
            return evaluate(Request(role, acct, action, resource, acct, context), policies).decision

        blocked = [f"{a} on {r.split(':::')[-1]} by {p.rsplit('/', 1)[-1]}" for p, a, r in needed
                   if decide(p, a, r) != "allow"]
        leaks = [f"{a} on {r.split(':::')[-1]} by {p.rsplit('/', 1)[-1]}" for p, a, r in refused
                 if decide(p, a, r) == "allow"]
    except Exception as exc:  # noqa: BLE001 - a policy the engine refuses cannot be judged
        return ctx.error("evaluation_error", endpoint=eid, detail=f"{type(exc).__name__}: {exc}")
    evidence: dict[str, Any] = {"endpoint": eid, "PolicyDocument": policy, "pipeline_blocked": blocked,
                                "other_buckets_allowed": leaks}
    if leaks:
        return ctx.fail("open_policy", evidence=evidence, endpoint=eid, example=leaks[0], count=len(leaks),
                        total=len(refused))
    if blocked:
        return ctx.fail("blocks_pipeline", evidence=evidence, endpoint=eid, missing="; ".join(blocked))
    return ctx.ok("pass", evidence=evidence, endpoint=eid, evaluated=len(needed) + len(refused),
                  buckets=f"{facts['data_bucket']} and {facts['artifact_bucket']}")
