"""The invoking application's role may call sagemaker:InvokeEndpoint on this endpoint, and nothing else probed.

The set-up gave the application's role AmazonSageMakerFullAccess ("to make it work"). Played through the IAM
engine as the role: invoking this endpoint (from the VPC, through the runtime interface endpoint if there is one)
must be allowed; invoking other endpoints, managing SageMaker, passing roles and reading the model bucket must not.
"""

from __future__ import annotations

from typing import Any

from seclab.grading import CheckContext, Finding, check_library


def run(ctx: CheckContext) -> Finding:
    pe = check_library("private_endpoint")
    f, inv = ctx.facts, ctx.inventory
    name = str(f["app_role_name"])
    role = inv.iam.role(name)
    if role is None:
        return ctx.error("target_missing", role=name)
    rp = pe.role_policies(inv, role)
    if rp.missing_managed:  # permissions we cannot read must not turn into a free PASS
        return ctx.error("policy_unreadable", role=name, policies=", ".join(rp.missing_managed))
    acct, region = inv.account_id, f["region"]
    context: dict[str, Any] = {"aws:SourceVpc": f["vpc_id"]}
    runtime = pe.vpc_endpoints(inv, f, f["runtime_service_name"], "Interface")
    if runtime:
        context["aws:SourceVpce"] = runtime[0].get("VpcEndpointId")
    own = pe.ask(rp, [pe.Probe("sagemaker:InvokeEndpoint", f["endpoint_arn"], context,
                               f"sagemaker:InvokeEndpoint on {f['endpoint_arn']}")], acct)[0]
    other_ep = f"arn:aws:sagemaker:{region}:{acct}:endpoint/another-teams-endpoint"
    probes = [
        pe.Probe("sagemaker:InvokeEndpoint", other_ep, context, "sagemaker:InvokeEndpoint on other endpoints"),
        pe.Probe("sagemaker:CreateEndpoint", "*", context),
        pe.Probe("sagemaker:UpdateEndpoint", f["endpoint_arn"], context, "sagemaker:UpdateEndpoint on its endpoint"),
        pe.Probe("sagemaker:DeleteEndpoint", f["endpoint_arn"], context, "sagemaker:DeleteEndpoint on its endpoint"),
        pe.Probe("sagemaker:CreateModel", "*", context),
        pe.Probe("sagemaker:CreatePresignedDomainUrl", "*", context),
        pe.Probe("iam:PassRole", f["execution_role_arn"], context, "iam:PassRole of the execution role"),
        pe.Probe("s3:GetObject", f"arn:aws:s3:::{f['model_bucket']}/{f['model_artifact_key']}", context,
                 "s3:GetObject on the model artifact"),
        pe.Probe("s3:GetObject", f"arn:aws:s3:::{f['model_bucket']}/{f['dataset_key']}", context,
                 "s3:GetObject on the customer dataset"),
    ]
    outcomes = pe.ask(rp, probes, acct)
    evidence = {"role": rp.arn, "policies": list(rp.names),
                "requests": [o.evidence() for o in [own, *outcomes]]}
    allowed = [o for o in outcomes if o.allowed]
    params = {"role": name, "endpoint_arn": f["endpoint_arn"]}
    if allowed:
        return ctx.fail("too_broad", evidence=evidence, allowed=pe.listing(allowed), **params)
    if not own.allowed:
        return ctx.fail("cannot_invoke", evidence=evidence, reason=own.decision.summary(), **params)
    return ctx.ok("pass", evidence=evidence, **params)
