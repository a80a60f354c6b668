"""Who can use the pipeline key, and how: the encryption engine's key-policy analysis (requests evaluated by the IAM
engine), compared with the scenario's pipeline roles and the two services the pipeline uses."""

from __future__ import annotations

from seclab.engines.crypto import analyze_key_policy
from seclab.grading import CheckContext, Finding, check_library


def _short(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _acts(direct: list, via: dict) -> list[str]:
    return [*direct, *(f"{a} via {s.split('.')[0]}" for s, acts in via.items() for a in acts)]


def run(ctx: CheckContext) -> Finding:
    lib = check_library("cmk_pipeline")
    inv, facts = ctx.inventory, ctx.facts
    key = lib.usable_cmk(inv, facts)
    if key is None:
        return ctx.fail("no_key", alias=facts["key_alias"])
    region = inv.region
    learner = str(facts["learner_arn"])
    principals = [*lib.inventory_principals(inv), lib.caller(learner, inv.account_id, "user", identity=())]
    result = analyze_key_policy(inv, key, principals=principals)
    errors = [f["message"] for f in result["findings"] if f.get("severity") == "error"]
    if errors:
        return ctx.error("evaluation_error", evidence=result, key_arn=key.arn, detail="; ".join(errors))
    users = {u["principal"]: u for u in result["users"]}
    evidence = {"key_arn": key.arn, "users": result["users"], "via_services": result["via_services"],
                "any_principal_in_account": result.get("any_principal_in_account"),
                "external_can_use": result["external_can_use"], "anonymous_can_use": result["anonymous_can_use"]}
    if result["external_can_use"] or result["anonymous_can_use"]:
        who = "anyone, without credentials" if result["anonymous_can_use"] else "principals of other accounts"
        return ctx.fail("external_use", evidence=evidence, key_arn=key.arn, who=who)
    anyone = result.get("any_principal_in_account") or {}
    open_acts = _acts(list(anyone.get("direct") or []), dict(anyone.get("via_services") or {}))
    if open_acts:
        return ctx.fail("open_to_account", evidence=evidence, key_arn=key.arn, account=inv.account_id,
                        detail=lib.listing(open_acts, 4))
    pipeline = [str(a) for a in facts["pipeline_role_arns"]]
    admins = {str(facts["key_admin_role_arn"]), learner}  # their use is cmk_key_admins_separated's business
    others = [p for p in users if p not in pipeline and p not in admins]
    if others:
        detail = "; ".join(f"{_short(p)}: {lib.listing(_acts(users[p]['direct'], users[p]['via_services']), 3)}"
                           for p in others)
        return ctx.fail("other_users", evidence=evidence, key_arn=key.arn, who=lib.listing([_short(p) for p in others]),
                        detail=detail, pipeline=lib.listing([_short(p) for p in pipeline]))
    direct = [p for p in pipeline if p in users and users[p]["direct"]]
    if direct:
        detail = "; ".join(f"{_short(p)}: {lib.listing(users[p]['direct'], 3)}" for p in direct)
        return ctx.fail("direct_use", evidence=evidence, key_arn=key.arn, who=lib.listing([_short(p) for p in direct]),
                        detail=detail, region=region)
    allowed = {f"s3.{region}.amazonaws.com", f"sagemaker.{region}.amazonaws.com"}
    services = sorted({s for p in pipeline if p in users for s in users[p]["via_services"]})
    extra = [s for s in services if s not in allowed]
    if extra:
        return ctx.fail("other_services", evidence=evidence, key_arn=key.arn, services=lib.listing(extra),
                        region=region)
    training = str(facts["training_role_arn"])
    can = {a for acts in (users.get(training, {}).get("via_services") or {}).values() for a in acts}
    missing = [a for a in ("kms:Decrypt", "kms:GenerateDataKey") if a not in can]
    if missing:
        return ctx.fail("pipeline_cannot_use", evidence=evidence, key_arn=key.arn, role=_short(training),
                        missing=" or ".join(a.split(":")[1] for a in missing))
    return ctx.ok("pass", evidence=evidence, key_arn=key.arn,
                  users=lib.listing([_short(p) for p in pipeline if p in users]),
                  services=lib.listing([s.split(".")[0].replace("s3", "S3").replace("sagemaker", "SageMaker")
                                        for s in services]))
