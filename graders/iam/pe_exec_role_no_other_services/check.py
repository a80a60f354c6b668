"""The execution role cannot act on other services or resources: it serves one model, nothing more.

Played through the IAM engine as the role: managing SageMaker resources or invoking endpoints, passing or changing
roles, changing the network, reading secrets and keys, and stopping the audit trail must all be denied. The network-
interface actions SageMaker documents for VPC-attached models, ECR image pulls and metric publishing are tolerated.
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
    acct = inv.account_id
    legacy = f"arn:aws:iam::{acct}:role/{f['legacy_role_name']}"
    probes = [
        pe.Probe("sagemaker:CreateEndpoint", "*"),
        pe.Probe("sagemaker:UpdateEndpoint", f["endpoint_arn"], label="sagemaker:UpdateEndpoint on its endpoint"),
        pe.Probe("sagemaker:DeleteEndpoint", f["endpoint_arn"], label="sagemaker:DeleteEndpoint on its endpoint"),
        pe.Probe("sagemaker:CreateModel", "*"),
        pe.Probe("sagemaker:InvokeEndpoint", f["endpoint_arn"], label="sagemaker:InvokeEndpoint on its endpoint"),
        pe.Probe("sagemaker:CreatePresignedDomainUrl", "*"),
        pe.Probe("iam:PassRole", legacy, label=f"iam:PassRole of {f['legacy_role_name']}"),
        pe.Probe("iam:PutRolePolicy", str(role["Arn"]), label="iam:PutRolePolicy on itself"),
        pe.Probe("iam:CreateRole", "*"),
        pe.Probe("ec2:AuthorizeSecurityGroupIngress", "*"),
        pe.Probe("ec2:CreateRoute", "*"),
        pe.Probe("ec2:RunInstances", "*"),
        pe.Probe("ec2:DeleteFlowLogs", "*"),
        pe.Probe("kms:Decrypt", "*", label="kms:Decrypt with any key"),
        pe.Probe("secretsmanager:GetSecretValue", "*"),
        pe.Probe("ssm:GetParameter", "*"),
        pe.Probe("cloudtrail:StopLogging", "*"),
        pe.Probe("lambda:InvokeFunction", "*"),
        pe.Probe("dynamodb:Scan", "*"),
    ]
    outcomes = pe.ask(rp, probes, acct)
    evidence = {"role": rp.arn, "policies": list(rp.names), "requests": [o.evidence() for o in outcomes],
                "tolerated": list(pe.VPC_ENI_ACTIONS) + ["ecr image pulls", "cloudwatch:PutMetricData"]}
    allowed = [o for o in outcomes if o.allowed]
    if allowed:
        return ctx.fail("other_services", evidence=evidence, role=name, allowed=pe.listing(allowed, 5))
    return ctx.ok("pass", evidence=evidence, role=name, probed=len(probes))
