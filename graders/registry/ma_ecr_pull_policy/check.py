"""Task 3b: the repository policy, judged by evaluating pulls and pushes of representative principals.

Each caller's own identity policy is assumed to allow everything: the question is what the repository policy
admits (cross-account access needs both sides, and this is the side the platform team owns). moto stores the
policy but never evaluates it, and cannot serve another account's registry, so this is judged by analysis.
"""

from __future__ import annotations

from seclab.engines.iam import Decision, PolicySet, Request, evaluate
from seclab.grading import CheckContext, Finding, check_library

PULL = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
PUSH = ("ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload",
        "ecr:BatchDeleteImage", "ecr:SetRepositoryPolicy", "ecr:DeleteRepository")
OUTSIDE_ACCOUNT = "210987654321"
OUTSIDE_ORG = "o-outsider0001"


def run(ctx: CheckContext) -> Finding:
    lib = check_library("multi_account")
    p = lib.platform(ctx.org, ctx.facts)
    facts = ctx.facts
    shared = facts["shared"]["account_name"]
    repo_name = facts["shared"]["ecr_repository"]
    role = facts["roles"]["execution"]
    inv = p.inv(p.shared_id)
    if inv is None:
        return ctx.fail("account_missing", account=shared)
    problem = lib.accounts_problem(ctx, p)
    if problem is not None:
        return problem
    repo = next((r for r in inv.ecr.repositories if r.get("repositoryName") == repo_name), None)
    if repo is None:
        return ctx.fail("repo_missing", repo=repo_name, shared=shared)
    if not repo.get("Policy"):
        return ctx.fail("no_policy", repo=repo_name, role=role)
    arn = str(repo.get("repositoryArn"))
    policy = p.policy(repo["Policy"], f"repository policy of {repo_name}")
    policies = PolicySet(identity=[lib.ALLOW_ALL], resource=[policy])
    evidence = {"repository": arn, "policy": repo["Policy"]}
    requests = 0

    def ask(caller: str, account: str, org_id: str | None, action: str) -> Decision:
        nonlocal requests
        requests += 1
        c = lib.infer_context(caller, account, region=lib.REGION, org_id=org_id)
        return evaluate(Request(caller, account, action, arn, str(p.shared_id), c), policies)

    def statement(d: Decision) -> str:
        grant = next((e for e in d.decided_by if str(e.get("policy", "")).startswith("resource")), {})
        return f"statement {grant.get('statement')}"

    pullers = [(f"arn:aws:iam::{b.account_id}:role/{role}", str(b.account_id), f"{b.account_name}'s {role}")
               for b in p.bus]
    for caller, account, who in pullers:
        for action in PULL:
            d = ask(caller, account, p.org_id, action)
            if not d.allowed:
                evidence["decision"] = d.to_dict()
                return ctx.fail("cannot_pull", evidence=evidence, who=who, action=action, reason=lib.deny_text(d))
    # the widest first, so the message names the widest grant
    impostors = [(f"arn:aws:iam::{OUTSIDE_ACCOUNT}:role/anyone", OUTSIDE_ACCOUNT, OUTSIDE_ORG,
                  "a principal outside your organization (\"*\")"),
                 (f"arn:aws:iam::{p.mgmt_id}:role/any-role", p.mgmt_id, p.org_id,
                  "any role of your management account (a grant to the whole organization)")]
    impostors += [(f"arn:aws:iam::{b.account_id}:role/any-other-role", str(b.account_id), p.org_id,
                   f"any role of {b.account_name} (a whole-account grant)") for b in p.bus[:2]]
    for caller, account, org_id, who in impostors:
        for action in PULL:
            d = ask(caller, account, org_id, action)
            if d.allowed:
                evidence["decision"] = d.to_dict()
                return ctx.fail("too_open", evidence=evidence, who=who, action=f"pull ({action})",
                                statement=statement(d), role=role)
    everyone = [(c, a, p.org_id, w) for c, a, w in pullers] + impostors
    for caller, account, org_id, who in everyone:
        for action in PUSH:
            d = ask(caller, account, org_id, action)
            if d.allowed:
                evidence["decision"] = d.to_dict()
                return ctx.fail("push_allowed", evidence=evidence, who=who, action=action, statement=statement(d))
    return ctx.ok("pass", evidence=evidence, repo=repo_name, count=len(pullers), shared=shared, requests=requests)
