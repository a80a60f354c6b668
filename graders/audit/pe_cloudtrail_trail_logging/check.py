"""A CloudTrail trail is logging the account's management events, reads and writes.

Event selectors are read as CloudTrail applies them: no selectors means management events (read and write); basic
selectors need IncludeManagementEvents with ReadWriteType All; advanced selectors need a Management category
selector that does not filter out reads or writes.
"""

from __future__ import annotations

from typing import Any

from seclab.grading import CheckContext, Finding


def _management(trail: Any) -> str | None:
    """None when the trail records read and write management events, else what it misses."""
    sel = trail.get("EventSelectors") or {}
    advanced = sel.get("AdvancedEventSelectors") or []
    basic = sel.get("EventSelectors")
    if advanced:
        for a in advanced:
            fields = {str(x.get("Field")): x for x in a.get("FieldSelectors", []) or []}
            cat = fields.get("eventCategory", {})
            if "Management" in (cat.get("Equals") or []) and "readOnly" not in fields:
                return None
        return "read and write"
    if basic is None or basic == []:
        return None
    for b in basic:
        if b.get("IncludeManagementEvents", True) in (True, "true") and str(b.get("ReadWriteType", "All")) == "All":
            return None
    kinds = {str(b.get("ReadWriteType", "All")) for b in basic if b.get("IncludeManagementEvents", True)}
    return "read" if kinds == {"WriteOnly"} else "write" if kinds == {"ReadOnly"} else "read and write"


def run(ctx: CheckContext) -> Finding:
    f, inv = ctx.facts, ctx.inventory
    trails = list(inv.cloudtrail.trails)
    params = {"trail": f["trail_name"], "bucket": f["audit_bucket"]}
    evidence = {"trails": [{"Name": t.get("Name"), "S3BucketName": t.get("S3BucketName"),
                            "IsMultiRegionTrail": t.get("IsMultiRegionTrail"),
                            "IsLogging": (t.get("Status") or {}).get("IsLogging"),
                            "EventSelectors": t.get("EventSelectors")} for t in trails]}
    if not trails:
        return ctx.fail("no_trail", evidence=evidence, **params)
    logging = [t for t in trails if (t.get("Status") or {}).get("IsLogging")]
    if not logging:
        return ctx.fail("not_logging", evidence=evidence, name=trails[0].get("Name"), **params)
    missing = {str(t.get("Name")): _management(t) for t in logging}
    good = [name for name, miss in missing.items() if miss is None]
    if not good:
        name, miss = next(iter(missing.items()))
        return ctx.fail("no_management_events", evidence=evidence, name=name, missing=miss, **params)
    trail = next(t for t in logging if t.get("Name") == good[0])
    return ctx.ok("pass", evidence=evidence, name=good[0], target=trail.get("S3BucketName"), **params)
