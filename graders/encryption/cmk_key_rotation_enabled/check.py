"""The pipeline key has automatic rotation on (the inventory's GetKeyRotationStatus answer)."""

from __future__ import annotations

from seclab.grading import CheckContext, Finding, check_library


def run(ctx: CheckContext) -> Finding:
    lib = check_library("cmk_pipeline")
    alias = str(ctx.facts["key_alias"])
    key = lib.usable_cmk(ctx.inventory, ctx.facts)
    if key is None:
        return ctx.fail("no_key", alias=alias)
    evidence = {"key_arn": key.arn, "alias": alias, "KeyRotationEnabled": key.rotation_enabled}
    if key.rotation_enabled is None:
        return ctx.error("rotation_unknown", evidence=evidence, key_arn=key.arn)
    if not key.rotation_enabled:
        return ctx.fail("rotation_off", evidence=evidence, key_arn=key.arn, alias=alias)
    return ctx.ok("pass", evidence=evidence, key_arn=key.arn, alias=alias)
