"""Separation of duties on the pipeline key, judged by the encryption engine's key-policy analysis (every answer is
a request evaluated by the IAM engine against the key policy and each principal's own IAM policies)."""

from __future__ import annotations

from seclab.engines.crypto import analyze_key_policy
from seclab.grading import CheckContext, Finding, check_library


def _uses(u: dict) -> list[str]:
    acts = list(u.get("direct") or [])
    for svc, actions in (u.get("via_services") or {}).items():
        acts += [f"{a} via {svc.split('.')[0]}" for a in actions]
    return acts + [f"{a} by grant" for a in u.get("by_grant") or []]


def run(ctx: CheckContext) -> Finding:
    lib = check_library("cmk_pipeline")
    inv, facts = ctx.inventory, ctx.facts
    key = lib.usable_cmk(inv, facts)
    if key is None:
        return ctx.fail("no_key", alias=facts["key_alias"])
    learner = str(facts["learner_arn"])
    principals = [*lib.inventory_principals(inv), lib.caller(learner, inv.account_id, "user", identity=())]
    result = analyze_key_policy(inv, key, principals=principals)
    errors = [f["message"] for f in result["findings"] if f.get("severity") == "error"]
    if errors:
        return ctx.error("evaluation_error", evidence=result, key_arn=key.arn, detail="; ".join(errors))
    admins = {a["principal"]: a["actions"] for a in result["administrators"]}
    users = {u["principal"]: u for u in result["users"]}
    evidence = {"key_arn": key.arn, "administrators": result["administrators"], "users": result["users"],
                "admins_who_can_use": result["admins_who_can_use"]}
    admin_role = str(facts["key_admin_role_arn"])
    if "kms:PutKeyPolicy" not in admins.get(admin_role, []):
        return ctx.fail("admin_cannot_administer", evidence=evidence, key_arn=key.arn, admin_role=admin_role)
    both = [p for p in result["admins_who_can_use"]]
    if both:
        detail = "; ".join(f"{p.rsplit('/', 1)[-1]}: {lib.listing(_uses(users[p]), 3)}" for p in both if p in users)
        return ctx.fail("admins_can_use", evidence=evidence, key_arn=key.arn,
                        who=lib.listing([p.rsplit("/", 1)[-1] for p in both]), detail=detail)
    pipeline = [str(a) for a in facts["pipeline_role_arns"]]
    managing = [p for p in pipeline if admins.get(p)]
    if managing:
        detail = "; ".join(f"{p.rsplit('/', 1)[-1]}: {lib.listing(admins[p], 3)}" for p in managing)
        return ctx.fail("users_can_administer", evidence=evidence, key_arn=key.arn,
                        who=lib.listing([p.rsplit("/", 1)[-1] for p in managing]), detail=detail)
    names = [p.rsplit("/", 1)[-1] for p in admins]
    return ctx.ok("pass", evidence=evidence, key_arn=key.arn, admins=lib.listing(names))
