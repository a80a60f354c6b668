"""The execution role carries no AWS managed policy: its permissions are its own, written for this endpoint.

AWS managed policies (AmazonSageMakerFullAccess, AmazonS3ReadOnlyAccess, AmazonEC2ContainerRegistryReadOnly, ...)
are written for every customer, grant far more than one endpoint needs and change when AWS updates them. Inline and
customer-managed policies are both fine.
"""

from __future__ import annotations

from seclab.grading import CheckContext, Finding, check_library


def run(ctx: CheckContext) -> Finding:
    pe = check_library("private_endpoint")
    f, inv = ctx.facts, ctx.inventory
    name = str(f["execution_role_name"])
    role = inv.iam.role(name)
    if role is None:
        return ctx.fail("role_missing", role=name, account=inv.account_id)
    attached = [dict(a) for a in role.get("AttachedManagedPolicies", []) or []]
    inline = [str(p.get("PolicyName")) for p in role.get("RolePolicyList", []) or []]
    aws = [a for a in attached if str(a.get("PolicyArn", "")).startswith(pe.AWS_MANAGED_PREFIX)]
    evidence = {"role": role.get("Arn"), "AttachedManagedPolicies": attached, "inline_policies": inline}
    if aws:
        return ctx.fail("aws_managed", evidence=evidence, role=name,
                        policies=", ".join(str(a.get("PolicyName")) for a in aws))
    own = inline + [str(a.get("PolicyName")) for a in attached]
    return ctx.ok("pass", evidence=evidence, role=name, policies=", ".join(own) or "none")
