"""The invoking application's subnet reaches the endpoint on the model port (8080), as the network engine decides.

The source is a workload in the application subnet carrying the application's security group; the destination is
the endpoint where its VpcConfig places it. When blocked, every blocking component is named.
"""

from __future__ import annotations

from seclab.grading import CheckContext, Finding, check_library


def run(ctx: CheckContext) -> Finding:
    from seclab.engines.net import reach

    pe = check_library("private_endpoint")
    f, inv = ctx.facts, ctx.inventory
    ch, problem = pe.endpoint_chain(ctx)
    if problem is not None:
        return problem
    known = {str(s.get("SubnetId")) for s in inv.ec2.subnets}
    if f["app_subnet_id"] not in known or not any(g.get("GroupId") == f["app_security_group_id"]
                                                  for g in inv.ec2.security_groups):
        return ctx.error("target_missing", subnet=f["app_subnet_id"], group=f["app_security_group_id"])
    bad = [s for s in pe.model_subnets(ch) if s not in known]
    if bad:
        return ctx.fail("unknown_subnet", subnet=bad[0])
    port = int(f["port"])
    answer = reach(inv, {"from": {"subnet": f["app_subnet_id"], "security_groups": [f["app_security_group_id"]]},
                         "to": {"sagemaker_endpoint": f["endpoint_name"]}, "port": port, "protocol": "tcp"})
    params = {"endpoint": f["endpoint_name"], "subnet": f["app_subnet_id"], "cidr": f["app_subnet_cidr"],
              "port": port, "app_sg": f["app_security_group_id"]}
    if answer.get("in_vpc") is False:
        return ctx.fail("not_in_vpc", evidence=answer, **params)
    if not answer.get("reachable"):
        blockers = "; ".join(f"{b['kind'].replace('_', ' ')} {b['component']}: {b['reason']}"
                             for b in answer.get("blocked_by", []))
        return ctx.fail("blocked", evidence=answer, blockers=blockers or "no path found", **params)
    path = " -> ".join(dict.fromkeys(str(h["component"]) for h in answer.get("path", [])))
    return ctx.ok("pass", evidence=answer, path=path, **params)
