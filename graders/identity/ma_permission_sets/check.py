"""Task 2a: each business-unit permission set, judged by effect as the role it gives in its account.

Requests are evaluated with the identity policies alone (SCPs are the guardrail checks' business): the role's own
work in its own account must be allowed; requests on another business unit's resources are asked as if that
resource's policy were wide open, so only the permission set's own policy decides (the question is "how far
does this set reach if anything else is ever misconfigured?").
"""

from __future__ import annotations

from typing import Any

from seclab.engines.iam import PolicySet, Request, evaluate
from seclab.grading import CheckContext, Finding, check_library

DEFAULT_NEEDS = {
    "DataScientist": ["s3:GetObject object", "s3:PutObject object", "s3:ListBucket bucket",
                      "sagemaker:CreateTrainingJob training-job"],
    "MLEngineer": ["s3:GetObject object", "sagemaker:CreateModel model", "sagemaker:CreateEndpoint endpoint"],
}
OUTSIDE_ACCOUNT = "210987654321"


def _resource(kind: str, bucket: str, account: str) -> str:
    if kind == "object":
        return f"arn:aws:s3:::{bucket}/probe/model.tar.gz"
    if kind == "bucket":
        return f"arn:aws:s3:::{bucket}"
    return f"arn:aws:sagemaker:us-east-1:{account}:{kind}/probe"


def run(ctx: CheckContext) -> Finding:
    lib = check_library("multi_account")
    p = lib.platform(ctx.org, ctx.facts)
    facts = ctx.facts
    problem = lib.accounts_problem(ctx, p)
    if problem is not None:
        return problem
    if ctx.inventory.identity_center is None:
        return ctx.error("idc_missing")
    needs = {**DEFAULT_NEEDS, **dict(ctx.params.get("needs") or {})}
    psets = list(p.permission_sets().values())
    by_name = {str(ps.get("Name")): ps for ps in psets}
    assignments = p.assignments()
    bu_accounts = {str(b.account_id): b for b in p.bus}
    requests = 0
    count = 0

    wanted = [(bu, role) for bu in p.bus for role in facts["bu_roles"]]
    absent = [bu.facts["permission_sets"][role] for bu, role in wanted
              if bu.facts["permission_sets"][role] not in by_name and role not in by_name]
    if absent:
        return ctx.fail("ps_missing", evidence={"permission_sets": sorted(by_name)}, missing=", ".join(absent))

    for bu, role in wanted:
        name = bu.facts["permission_sets"][role]
        ps = by_name.get(name) or by_name[role]  # a per-BU set, or one shared set scoped with policy variables
        ps_arn = str(ps.get("PermissionSetArn"))
        where = {str(a.get("AccountId")) for a in assignments if a.get("PermissionSetArn") == ps_arn}
        evidence: dict[str, Any] = {"permission_set": ps.get("Name"), "assigned_in": sorted(p.label(a) for a in where)}
        if bu.account_id not in where:
            return ctx.fail("not_assigned", evidence=evidence, ps=ps.get("Name"), account=bu.account_id,
                            bu=bu.name, group=bu.facts["groups"][role])
        if ps.get("Name") == name:
            elsewhere = sorted(p.label(a) for a in where if a in bu_accounts and a != bu.account_id)
            if elsewhere:
                return ctx.fail("assigned_elsewhere", evidence=evidence, ps=name, bu=bu.name,
                                accounts=", ".join(elsewhere))
        acct = str(bu.account_id)
        docs, notes = p.permission_set_policies(ps, acct)
        if notes:
            return ctx.fail("unverifiable", evidence=evidence, ps=ps.get("Name"), notes="; ".join(notes))
        arn = p.sso_role_arn(acct, ps)
        own = PolicySet(identity=docs)
        open_resource = PolicySet(identity=docs, resource=[lib.OPEN_RESOURCE])

        def ask(action: str, resource: str, account: str, policies: PolicySet, extra: dict[str, Any]) -> Any:
            nonlocal requests
            requests += 1
            c = p.context(arn, acct, **{"aws:ResourceAccount": account, "s3:ResourceAccount": account})
            c.update(extra)
            return evaluate(Request(arn, acct, action, resource, account, c), policies)

        probes: list[tuple[str, str, str, str, PolicySet]] = []
        for other in p.bus:
            if other.name == bu.name or other.account_id is None:
                continue
            oa = str(other.account_id)
            why = f"which belongs to {other.name}"
            okey = p.key_arn(other) or f"arn:aws:kms:us-east-1:{oa}:key/00000000-0000-4000-8000-000000000000"
            probes += [
                ("s3:GetObject", _resource("object", other.bucket, oa), oa, why, open_resource),
                ("s3:PutObject", _resource("object", other.bucket, oa), oa, why, open_resource),
                ("s3:ListBucket", _resource("bucket", other.bucket, oa), oa, why, open_resource),
                ("kms:Decrypt", okey, oa, why, open_resource),
                ("sagemaker:CreateTrainingJob", _resource("training-job", "", oa), oa, why, open_resource),
                ("sagemaker:InvokeEndpoint", _resource("endpoint", "", oa), oa, why, open_resource),
                ("sts:AssumeRole", f"arn:aws:iam::{oa}:role/{facts['roles']['mlops_access']}", oa, why,
                 open_resource),
            ]
        probes += [
            ("s3:GetObject", "arn:aws:s3:::any-bucket-outside-the-platform/data.csv", OUTSIDE_ACCOUNT,
             "a bucket outside the platform", open_resource),
            ("iam:CreateRole", f"arn:aws:iam::{acct}:role/new-role", acct,
             "which lets it create roles with any permissions (privilege escalation)", own),
            ("iam:PutRolePolicy", f"arn:aws:iam::{acct}:role/{facts['roles']['mlops_access']}", acct,
             "which lets it rewrite roles' permissions (privilege escalation)", own),
            ("iam:AttachRolePolicy", f"arn:aws:iam::{acct}:role/{facts['roles']['execution']}", acct,
             "which lets it attach any policy to a role (privilege escalation)", own),
        ]
        for action, resource, account, why, policies in probes:
            d = ask(action, resource, account, policies, {})
            if d.allowed:
                grant = next((e for e in d.decided_by if e.get("policy", "").startswith("identity")), {})
                statement = f"statement {grant.get('statement')} of {grant.get('name', 'its policy')}"
                evidence["decision"] = d.to_dict()
                return ctx.fail("too_broad", evidence=evidence, ps=ps.get("Name"), account=p.label(acct),
                                action=action, resource=resource, why=why, statement=statement, bu=bu.name)
        key = p.key_arn(bu)
        kms_ctx = {"sagemaker:VolumeKmsKey": key} if key else {}
        lacking = []
        for need in needs.get(role, []):
            action, kind = need.split()
            if not ask(action, _resource(kind, bu.bucket, acct), acct, own, kms_ctx).allowed:
                lacking.append(action)
        if lacking:
            return ctx.fail("too_tight", evidence=evidence, ps=ps.get("Name"), role=role, bu=bu.name,
                            missing=", ".join(lacking))

        count += 1

    admin = facts["platform_admin"]
    admin_ps = by_name.get(admin["permission_set"])
    shared = facts["shared"]["account_name"]
    where = {str(a.get("AccountId")) for a in assignments
             if admin_ps is not None and a.get("PermissionSetArn") == admin_ps.get("PermissionSetArn")}
    if admin_ps is None or p.shared_id not in where:
        return ctx.fail("admin_missing", admin=admin["permission_set"], shared=shared, group=admin["group"])
    wrong = sorted(p.label(a) for a in where if a in bu_accounts)
    if wrong:
        return ctx.fail("admin_misassigned", evidence={"assigned_in": wrong}, admin=admin["permission_set"],
                        accounts=", ".join(wrong), shared=shared)
    return ctx.ok("pass", evidence={"permission_sets": sorted(by_name), "requests": requests}, count=count,
                  requests=requests, admin=admin["permission_set"], shared=shared)
