"""VPC flow logs record all traffic of the application subnet and the model's subnets into CloudWatch Logs.

A flow log covers a subnet when it is attached to that subnet or to its VPC. It must record ALL traffic (accepted
and rejected), deliver to a CloudWatch Logs group (the lab reads records with the logs API) and name a delivery
role, as AWS requires for CloudWatch Logs destinations.
"""

from __future__ import annotations

from typing import Any

from seclab.grading import CheckContext, Finding, check_library


def run(ctx: CheckContext) -> Finding:
    pe = check_library("private_endpoint")
    f, inv = ctx.facts, ctx.inventory
    subnets = [f["app_subnet_id"], *[s for s in (pe.model_subnets(pe.chain(inv, f)) or f["model_subnet_ids"])]]
    subnets = list(dict.fromkeys(subnets))
    relevant = [fl for fl in inv.ec2.flow_logs if fl.get("ResourceId") in (f["vpc_id"], *subnets)]
    evidence = {"flow_logs": [{k: fl.get(k) for k in ("FlowLogId", "ResourceId", "TrafficType",
                                                      "LogDestinationType", "LogGroupName", "LogDestination",
                                                      "DeliverLogsPermissionArn", "FlowLogStatus")}
                              for fl in relevant], "subnets": subnets}
    params = {"vpc": f["vpc_id"], "log_group": f["flow_log_group"], "role": f["flow_logs_role_arn"]}
    if not relevant:
        return ctx.fail("none", evidence=evidence, **params)

    def problem(fl: Any) -> tuple[str, dict[str, Any]] | None:
        fid = fl.get("FlowLogId")
        dest = str(fl.get("LogDestinationType") or "cloud-watch-logs")
        if dest != "cloud-watch-logs":
            return "not_cloudwatch", {"flow_log": fid, "destination": dest}
        traffic = str(fl.get("TrafficType") or "")
        if traffic != "ALL":
            return "traffic_type", {"flow_log": fid, "traffic": traffic,
                                    "missing": "rejected" if traffic == "ACCEPT" else "accepted"}
        if not fl.get("DeliverLogsPermissionArn"):
            return "no_role", {"flow_log": fid}
        return None

    good = [fl for fl in relevant if problem(fl) is None]
    covered = {s for s in subnets if any(fl.get("ResourceId") in (f["vpc_id"], s) for fl in good)}
    if covered == set(subnets):
        best = next((fl for fl in good if fl.get("ResourceId") == f["vpc_id"]), good[0])
        return ctx.ok("pass", evidence=evidence, flow_log=best.get("FlowLogId"), resource=best.get("ResourceId"),
                      group=best.get("LogGroupName"), **params)
    for fl in relevant:
        found = problem(fl)
        if found is not None:
            return ctx.fail(found[0], evidence=evidence, **found[1], **params)
    return ctx.fail("not_covering", evidence=evidence,
                    subnets=", ".join(s for s in subnets if s not in covered), **params)
