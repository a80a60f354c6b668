"""The flow-log records show the verification probes: an accepted connection from the app subnet to the model port
and a rejected one from elsewhere, and the learner has read them.

Records are parsed with each flow log's own format, from `inventory.logs.events` (log group -> FilterLogEvents
records). While the collector does not read log events, the check falls back to the groups' stored bytes as
evidence that records exist; the accept/reject detail is then not checked, and the evidence says so.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from seclab.grading import CheckContext, Finding, check_library

DEFAULT_FORMAT = ("${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} "
                  "${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}")
READ_CALLS = {"FilterLogEvents", "GetLogEvents", "StartQuery", "StartLiveTail"}


def _records(message: str, fmt: str) -> dict[str, str]:
    names = re.findall(r"\$\{([a-z0-9-]+)\}", fmt) or re.findall(r"\$\{([a-z0-9-]+)\}", DEFAULT_FORMAT)
    return dict(zip(names, message.split()))


def _in(nets: list[Any], text: str | None) -> bool:
    try:
        addr = ipaddress.ip_address(str(text))
    except ValueError:
        return False
    return any(addr.version == n.version and addr in n for n in nets)


def _groups_read(events: Any, groups: set[str]) -> bool:
    pe = check_library("private_endpoint")
    for ev in events:
        detail = ev.get("CloudTrailEvent") or {}
        if ev.get("EventName") not in READ_CALLS or not pe.is_learner(detail) or detail.get("errorCode"):
            continue
        params = detail.get("requestParameters") or {}
        named = {params.get("logGroupName"), params.get("logGroupIdentifier")}
        named |= set(params.get("logGroupNames") or []) | set(params.get("logGroupIdentifiers") or [])
        if named & groups or any(str(n).endswith(f":log-group:{g}") for n in named if n for g in groups):
            return True
    return False


def run(ctx: CheckContext) -> Finding:
    pe = check_library("private_endpoint")
    f, inv = ctx.facts, ctx.inventory
    port = int(f["port"])
    model_subnets = pe.model_subnets(pe.chain(inv, f)) or list(f["model_subnet_ids"])
    flows = [fl for fl in inv.ec2.flow_logs
             if fl.get("ResourceId") in (f["vpc_id"], *model_subnets)
             and str(fl.get("LogDestinationType") or "cloud-watch-logs") == "cloud-watch-logs"
             and fl.get("LogGroupName")]
    params = {"endpoint": f["endpoint_name"], "port": port, "app_cidr": f["app_subnet_cidr"],
              "log_group": f["flow_log_group"]}
    if not flows:
        return ctx.fail("no_flow_logs", **params)
    groups = {str(fl["LogGroupName"]): str(fl.get("LogFormat") or DEFAULT_FORMAT) for fl in flows}
    group_text = ", ".join(sorted(groups))
    cidrs = {str(s.get("SubnetId")): s.get("CidrBlock") for s in inv.ec2.subnets}
    model_nets = [ipaddress.ip_network(cidrs[s]) for s in model_subnets if cidrs.get(s)]
    app_net = [ipaddress.ip_network(f["app_subnet_cidr"])]
    all_events = getattr(inv.logs, "events", None)
    evidence: dict[str, Any] = {"log_groups": sorted(groups)}
    if isinstance(all_events, Mapping):
        accepted = rejected = None
        count = 0
        for group, fmt in groups.items():
            for ev in all_events.get(group, ()) or ():
                count += 1
                r = _records(str(ev.get("message", "")), fmt)
                if str(r.get("dstport")) != str(port) or not _in(model_nets, r.get("dstaddr")):
                    continue
                if r.get("action") == "ACCEPT" and _in(app_net, r.get("srcaddr")) and accepted is None:
                    accepted = ev.get("message")
                if r.get("action") == "REJECT" and not _in(app_net, r.get("srcaddr")) and rejected is None:
                    rejected = ev.get("message")
        evidence.update(records=count, accepted=accepted, rejected=rejected)
        if count == 0:
            return ctx.fail("no_records", evidence=evidence, groups=group_text, **params)
        if accepted is None:
            return ctx.fail("no_accept", evidence=evidence, groups=group_text, **params)
        if rejected is None:
            return ctx.fail("no_reject", evidence=evidence, groups=group_text, **params)
    else:
        stored = {str(g.get("logGroupName")): int(g.get("storedBytes") or 0) for g in inv.logs.log_groups}
        evidence.update(stored_bytes={g: stored.get(g, 0) for g in groups},
                        note="the inventory carries no log events: record contents were not checked")
        if not any(stored.get(g, 0) > 0 for g in groups):
            return ctx.fail("no_records", evidence=evidence, groups=group_text, **params)
    if not _groups_read(inv.cloudtrail.events, set(groups)):
        return ctx.fail("not_read", evidence=evidence, groups=group_text, **params)
    return ctx.ok("pass", evidence=evidence, groups=group_text, **params)
