"""CloudTrail shows only the expected calls by the application's and the execution role, and you reviewed it.

From the account's CloudTrail event history (LookupEvents: management events): every call made with a session of
the application's role or the execution role must be one that role is expected to make, and nobody may assume the
execution role but SageMaker. The learner must also have looked (a LookupEvents call of theirs).
"""

from __future__ import annotations

from typing import Any

from seclab.grading import CheckContext, Finding, check_library

APP_EXPECTED = {"GetCallerIdentity"}
EXEC_EXPECTED = {"GetCallerIdentity", "CreateNetworkInterface", "CreateNetworkInterfacePermission",
                 "DeleteNetworkInterface", "DeleteNetworkInterfacePermission", "DescribeNetworkInterfaces",
                 "DescribeVpcs", "DescribeDhcpOptions", "DescribeSubnets", "DescribeSecurityGroups",
                 "CreateLogGroup", "CreateLogStream", "DescribeLogStreams"}


def _epoch(value: Any) -> float | None:
    """LookupEvents and Describe* times arrive as datetimes, epoch numbers or ISO strings."""
    import datetime as dt

    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def run(ctx: CheckContext) -> Finding:
    pe = check_library("private_endpoint")
    f, inv = ctx.facts, ctx.inventory
    endpoint = pe.chain(inv, f).endpoint
    deployed = _epoch(endpoint.get("CreationTime")) if endpoint else None
    app, exe = str(f["app_role_arn"]), str(f["execution_role_arn"])
    expected = {app: APP_EXPECTED, exe: EXEC_EXPECTED}
    unexpected: list[dict[str, Any]] = []
    reviewed = False
    for ev in inv.cloudtrail.events:
        detail = ev.get("CloudTrailEvent") or {}
        name = str(ev.get("EventName"))
        when = _epoch(ev.get("EventTime")) or _epoch(detail.get("eventTime"))
        if name == "LookupEvents" and pe.is_learner(detail) and deployed is not None and when is not None \
                and when >= deployed - 1:  # a review before the endpoint existed reviewed nothing
            reviewed = True
        issuer = pe.session_issuer(detail)
        who = issuer.rsplit("/", 1)[-1] if issuer else None
        if issuer in expected and name not in expected[issuer]:
            unexpected.append({"role": who, "call": f"{str(detail.get('eventSource', '')).split('.')[0]}:{name}",
                               "time": detail.get("eventTime"), "error": detail.get("errorCode")})
        params = detail.get("requestParameters") or {}
        if name.startswith("AssumeRole") and params.get("roleArn") == exe:
            caller = (detail.get("userIdentity") or {}).get("arn") or "someone"
            unexpected.append({"role": f["execution_role_name"], "call": f"sts:{name} by {caller}",
                               "time": detail.get("eventTime"), "error": detail.get("errorCode")})
    evidence = {"events_read": len(inv.cloudtrail.events), "unexpected": unexpected[:20], "reviewed": reviewed}
    params = {"app_role": f["app_role_name"], "exec_role": f["execution_role_name"], "endpoint": f["endpoint_name"]}
    if unexpected:
        calls = "; ".join(f"{u['call']} as {u['role']} at {u['time']}" + (f" ({u['error']})" if u["error"] else "")
                          for u in unexpected[:4])
        more = f"; and {len(unexpected) - 4} more" if len(unexpected) > 4 else ""
        return ctx.fail("unexpected_calls", evidence=evidence, calls=calls + more, **params)
    if endpoint is None:
        return ctx.fail("endpoint_missing", evidence=evidence, **params)
    if not reviewed:
        return ctx.fail("not_reviewed", evidence=evidence, **params)
    return ctx.ok("pass", evidence=evidence, events=len(inv.cloudtrail.events), **params)
