"""The execution role's CloudWatch Logs access is limited to writing this endpoint's own log group.

Played through the IAM engine as the role: writing to or reading other log groups (the application's, another
endpoint's, the VPC flow logs), deleting or shortening the retention of log groups, and changing log resource
policies must all be denied.
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
    region, acct = f["region"], inv.account_id

    def group(g: str) -> str:
        return f"arn:aws:logs:{region}:{acct}:log-group:{g}"

    def stream(g: str) -> str:
        return f"{group(g)}:log-stream:s1"

    own, app, flows = f["endpoint_log_group"], f["app_log_group"], f["flow_log_group"]
    other_endpoint = "/aws/sagemaker/Endpoints/another-teams-endpoint"
    probes = [
        pe.Probe("logs:PutLogEvents", stream(app), {}, f"logs:PutLogEvents into the application's log group {app}"),
        pe.Probe("logs:CreateLogStream", stream(other_endpoint), {}, f"logs:CreateLogStream in {other_endpoint}"),
        pe.Probe("logs:GetLogEvents", stream(app), {}, f"logs:GetLogEvents from {app}"),
        pe.Probe("logs:FilterLogEvents", group(flows), {}, f"logs:FilterLogEvents on the flow logs {flows}"),
        pe.Probe("logs:DeleteLogGroup", group(own), {}, f"logs:DeleteLogGroup on its own group {own}"),
        pe.Probe("logs:DeleteLogGroup", group(flows), {}, f"logs:DeleteLogGroup on the flow logs {flows}"),
        pe.Probe("logs:DeleteLogStream", stream(own), {}, "logs:DeleteLogStream in its own group"),
        pe.Probe("logs:PutRetentionPolicy", group(own), {}, "logs:PutRetentionPolicy on its own group"),
        pe.Probe("logs:PutResourcePolicy", "*", {}, "logs:PutResourcePolicy"),
    ]
    outcomes = pe.ask(rp, probes, acct)
    evidence = {"role": rp.arn, "policies": list(rp.names), "requests": [o.evidence() for o in outcomes]}
    allowed = [o for o in outcomes if o.allowed]
    if allowed:
        return ctx.fail("too_broad", evidence=evidence, role=name, allowed=pe.listing(allowed), log_group=own,
                        region=region, account=acct)
    return ctx.ok("pass", evidence=evidence, role=name, log_group=own)
