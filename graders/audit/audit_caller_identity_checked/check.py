"""The learner confirmed their identity: a GetCallerIdentity call of theirs is in the account's audit trail."""

from __future__ import annotations

from seclab.grading import CheckContext, Finding


def run(ctx: CheckContext) -> Finding:
    inv = ctx.inventory
    for ev in inv.cloudtrail.events:
        detail = ev.get("CloudTrailEvent") or {}
        if ev.get("EventName") != "GetCallerIdentity" or detail.get("errorCode"):
            continue
        who = detail.get("userIdentity") or {}
        if str(who.get("type", "")).lower() == "seclab":
            continue  # the grader's own calls do not count
        evidence = {"eventTime": str(ev.get("EventTime")), "eventName": "GetCallerIdentity", "arn": who.get("arn")}
        return ctx.ok("pass", evidence=evidence, arn=who.get("arn", "?"), time=str(ev.get("EventTime")))
    return ctx.fail("not_called", evidence={"events_read": len(inv.cloudtrail.events)}, account=inv.account_id)
