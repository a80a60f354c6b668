"""The S3 gateway endpoint's policy admits the model bucket and nothing else.

Played through the IAM engine with the endpoint policy as a further gate (and the caller's own policies allowing
everything, so only the endpoint policy decides): reading the model artifact must pass; reading or writing any
other bucket, including an attacker's, must not.
"""

from __future__ import annotations

from typing import Any

from seclab.grading import CheckContext, Finding, check_library

ATTACKER_ACCOUNT = "999988887777"
ATTACKER_BUCKET_POLICY = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::attacker-exfil-bucket/*"}]}


def run(ctx: CheckContext) -> Finding:
    from seclab.engines.iam import PolicySet

    pe = check_library("private_endpoint")
    f, inv = ctx.facts, ctx.inventory
    gws = pe.vpc_endpoints(inv, f, f["s3_service_name"], "Gateway")
    if not gws:
        return ctx.fail("missing", vpc=f["vpc_id"], service=f["s3_service_name"], bucket=f["model_bucket"])
    bucket, acct = f["model_bucket"], inv.account_id
    caller = str(f["execution_role_arn"])
    evidence: dict[str, Any] = {"endpoints": []}
    for gw in gws:
        vid = str(gw.get("VpcEndpointId"))
        policy = gw.get("PolicyDocument")
        if policy is None:
            return ctx.fail("other_buckets", evidence={"VpcEndpointId": vid, "PolicyDocument": None},
                            endpoint_id=vid, bucket=bucket, allowed="every request (it has no endpoint policy)")
        ps = PolicySet(identity=[pe.ALLOW_ALL], endpoint=[policy])
        ctx_keys = {"aws:SourceVpce": vid, "aws:SourceVpc": f["vpc_id"]}
        kinds = {"endpoint": "the endpoint policy", "identity": "the caller's policy"}

        def probe(action: str, resource: str, label: str) -> Any:
            return pe.Probe(action, resource, ctx_keys, label)

        need = pe.ask_with(caller, acct, acct, ps, [probe("s3:GetObject", f"arn:aws:s3:::{bucket}/"
                                                          f"{f['model_artifact_key']}", "s3:GetObject on the model "
                                                                                        "artifact")], kinds)[0]
        # An attacker's bucket in another account welcomes anyone's writes: only the endpoint policy can stop them.
        open_bucket = PolicySet(identity=[pe.ALLOW_ALL], endpoint=[policy], resource=[ATTACKER_BUCKET_POLICY])
        others = pe.ask_with(caller, acct, ATTACKER_ACCOUNT, open_bucket, [
            probe("s3:PutObject", "arn:aws:s3:::attacker-exfil-bucket/dump.tar", "s3:PutObject to an attacker's "
                                                                                 "bucket in another account"),
        ], kinds)
        others += pe.ask_with(caller, acct, acct, ps, [
            probe("s3:GetObject", "arn:aws:s3:::some-other-bucket/data.csv", "s3:GetObject from another bucket"),
            probe("s3:ListBucket", "arn:aws:s3:::some-other-bucket", "s3:ListBucket of another bucket"),
            probe("s3:GetObject", f"arn:aws:s3:::{f['audit_bucket']}/AWSLogs/{acct}/x.json.gz",
                  f"s3:GetObject from the audit bucket {f['audit_bucket']}")], kinds)
        evidence["endpoints"].append({"VpcEndpointId": vid, "PolicyDocument": policy,
                                      "requests": [o.evidence() for o in [need, *others]]})
        allowed = [o for o in others if o.allowed]
        if allowed:
            return ctx.fail("other_buckets", evidence=evidence, endpoint_id=vid, bucket=bucket,
                            allowed=pe.listing(allowed))
        if not need.allowed:
            return ctx.fail("blocks_model", evidence=evidence, endpoint_id=vid, bucket=bucket,
                            reason=need.decision.summary())
    return ctx.ok("pass", evidence=evidence, endpoint_id=", ".join(str(g.get("VpcEndpointId")) for g in gws),
                  bucket=bucket)
