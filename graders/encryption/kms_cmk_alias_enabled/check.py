"""The lab's alias resolves to an enabled, symmetric, customer-managed key (resolved by the encryption engine)."""

from __future__ import annotations

from seclab.engines.crypto import resolve_key
from seclab.grading import CheckContext, Finding


def run(ctx: CheckContext) -> Finding:
    inv = ctx.inventory
    alias = str(ctx.facts[ctx.params.get("alias_fact", "key_alias")])
    if not any(a.get("AliasName") == alias for a in inv.kms.aliases):
        return ctx.fail("alias_missing", evidence={"aliases": sorted(a.get("AliasName") for a in inv.kms.aliases
                                                                       if not str(a.get("AliasName")).startswith("alias/aws/"))},
                        alias=alias, account=inv.account_id)
    key = resolve_key(inv, alias)
    evidence = {"alias": alias, "key_arn": key.arn, "key_kind": key.key_kind, "key_state": key.key_state}
    if key.key_kind != "customer_managed":
        return ctx.fail("not_customer_managed", evidence=evidence, alias=alias, key_arn=key.arn,
                        key_kind=str(key.key_kind).replace("_", "-"))
    if key.key_state != "Enabled":
        return ctx.fail("not_enabled", evidence=evidence, alias=alias, key_arn=key.arn, key_state=key.key_state)
    record = next((k for k in inv.kms.keys if k.arn == key.arn), None)
    usage = (record.metadata.get("KeyUsage"), record.metadata.get("KeySpec")) if record else (None, None)
    if record is not None and (usage[0] not in (None, "ENCRYPT_DECRYPT") or usage[1] not in (None, "SYMMETRIC_DEFAULT")):
        return ctx.fail("wrong_usage", evidence=evidence, alias=alias, key_arn=key.arn, usage="/".join(map(str, usage)))
    return ctx.ok("pass", evidence=evidence, alias=alias, key_arn=key.arn)
