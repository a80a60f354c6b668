"""The key's use in the audit trail (events whose request names the pipeline key, however it was spelled) and the
learner's own LookupEvents call filtered on the key or on KMS."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from seclab.engines.crypto import resolve_key
from seclab.grading import CheckContext, Finding
from seclab.inventory.model import AccountInventory

_KEYLIKE = re.compile(r"^(arn:aws[\w-]*:kms:|alias/)|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_CRYPTO = {"Encrypt", "Decrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncrypt", "CreateGrant"}


def _strings(node: Any, depth: int = 0) -> Iterator[str]:
    if depth > 12:
        return
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for v in node.values():
            yield from _strings(v, depth + 1)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v, depth + 1)


def _names_key(inv: AccountInventory, params: Any, key_arn: str, cache: dict[str, bool]) -> bool:
    for text in _strings(params):
        if not _KEYLIKE.search(text):
            continue
        if text not in cache:
            cache[text] = resolve_key(inv, text).arn == key_arn
        if cache[text]:
            return True
    return False


def run(ctx: CheckContext) -> Finding:
    inv, facts = ctx.inventory, ctx.facts
    info = resolve_key(inv, str(facts["key_alias"]))
    if info.key_kind != "customer_managed" or not info.exists or not info.arn:
        return ctx.fail("no_key", alias=facts["key_alias"])
    key_arn = info.arn
    names = {key_arn, str(info.key_id), *info.aliases,
             *(f"arn:aws:kms:{inv.region}:{inv.account_id}:{a}" for a in info.aliases)}
    cache: dict[str, bool] = {}
    uses: list[dict[str, Any]] = []
    lookups: list[dict[str, Any]] = []
    for ev in inv.cloudtrail.events:
        detail = ev.get("CloudTrailEvent") or {}
        if not isinstance(detail, dict) or detail.get("errorCode"):
            continue
        who = detail.get("userIdentity") or {}
        if str(who.get("type", "")).lower() == "seclab":
            continue
        source, event = detail.get("eventSource"), detail.get("eventName")
        params = detail.get("requestParameters") or {}
        if source == "cloudtrail.amazonaws.com" and event == "LookupEvents":
            for attr in params.get("lookupAttributes") or []:
                k, v = attr.get("attributeKey"), attr.get("attributeValue")
                if (k == "EventSource" and v == "kms.amazonaws.com") or (k == "ResourceName" and v in names) \
                        or (k == "ResourceType" and v == "AWS::KMS::Key") or (k == "EventName" and v in _CRYPTO):
                    lookups.append({"time": detail.get("eventTime"), "filter": f"{k}={v}", "by": who.get("arn")})
            continue
        if _names_key(inv, params, key_arn, cache):
            uses.append({"time": detail.get("eventTime"), "event": f"{source.split('.')[0]}:{event}",
                         "by": who.get("arn")})
    evidence = {"key_arn": key_arn, "events_naming_key": uses[:15], "count": len(uses), "lookups": lookups[:5],
                "events_read": len(inv.cloudtrail.events)}
    if not uses:
        return ctx.fail("no_events", evidence=evidence, key_arn=key_arn)
    kinds = sorted({u["event"] for u in uses})
    examples = ", ".join(kinds[:4]) + (f" and {len(kinds) - 4} more kinds" if len(kinds) > 4 else "")
    if not lookups:
        return ctx.fail("no_lookup", evidence=evidence, count=len(uses), examples=examples)
    return ctx.ok("pass", evidence=evidence, count=len(uses), examples=examples, lookup=lookups[0]["filter"])
